"""Build and cache the LUMI-login-node test container (entry point: image/build.py)."""
