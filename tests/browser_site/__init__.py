"""Browser checks of the built site: no foreign requests, offline copy, accessibility."""
