# Two commands for newcomers: `make serve` and `make test`. CI runs `make test`.
VENV := .venv
PY := $(VENV)/bin/python
export NO_MKDOCS_2_WARNING := 1

.PHONY: serve test build bench container

# The virtual environment is rebuilt whenever requirements.txt changes.
$(VENV)/.installed: requirements.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

serve: $(VENV)/.installed
	$(VENV)/bin/mkdocs serve --dev-addr 127.0.0.1:8000

build: $(VENV)/.installed
	$(VENV)/bin/mkdocs build --strict

# Test files (and pages) in parallel; pytest.ini's --dist loadfile keeps one page's blocks in
# one worker, in order, in the page's one shell. `make test PYTEST_WORKERS=0` runs serially.
PYTEST_WORKERS ?= auto

# Builds (or reuses) the snippet container first, so a cold build's time is printed on its own.
test: container
	$(PY) -m pytest -n $(PYTEST_WORKERS)

bench: $(VENV)/.installed
	$(PY) benchmarks/run.py

# The snippet container (a LUMI login node in miniature): build it, or reuse the cache.
container: $(VENV)/.installed
	scripts/install-debian-packages.sh
	$(PY) -m image.build

# The copy to read from disk (file://), search and widget included: open site-offline/index.html.
.PHONY: offline links
offline: $(VENV)/.installed
	OFFLINE=true $(VENV)/bin/mkdocs build --strict --site-dir site-offline

# Links to other websites, against the real web (cached a day in .cache/external-links/).
links: build
	$(PY) scripts/check_external_links.py

# Which cited source files changed since their pinned commit (data/sources.yaml), page by page.
# Reads clones at $(SOURCES_DIR)/OWNER/NAME when SOURCES_DIR is set; otherwise clones them
# into .cache/sources (needs the network). Exit 0: nothing changed, 1: changes, 2: unreadable.
.PHONY: check-sources update-source-pins
check-sources: $(VENV)/.installed
	$(PY) scripts/check_sources.py

# After rereading the claims a report listed: move the pins of KEYS (all sources when empty).
update-source-pins: $(VENV)/.installed
	$(PY) scripts/check_sources.py --update-pins $(KEYS)
