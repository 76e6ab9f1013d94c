# banso: `make demo` sets up and serves a demo; `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO_DIR ?= banso-demo
DEMO_SEED ?= 42
# The demo's history ends today, so that its latest scores are about the present.
DEMO_TODAY ?= $(shell date +%F)
export PIP_DISABLE_PIP_VERSION_CHECK := 1

VENDOR := src/banso/web/static/vendor
VENDOR_STAMP := $(VENDOR)/.installed-stamp
# Debian packages the browser tests need: the browser and a Japanese font for its pages.
BROWSER_PACKAGES := chromium fonts-ipafont-gothic

.PHONY: install vendor browser demo demo-data serve test lint typecheck bench clean

install: $(STAMP) $(VENDOR_STAMP)

$(STAMP): pyproject.toml
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# Front-end libraries (htmx, Chart.js) from the npm registry, pinned in package-lock.json.
vendor: $(VENDOR_STAMP)

$(VENDOR_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js node_modules/chart.js/dist/chart.umd.min.js $(VENDOR)/
	@touch $@

# Debian's chromium for the browser tests (never a downloaded browser).
browser:
	@if ! test -x /usr/bin/chromium || ! fc-list :lang=ja | grep -q .; then \
		echo "installing $(BROWSER_PACKAGES) from Debian"; \
		SUDO=$$(test "$$(id -u)" = 0 || echo sudo); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $(BROWSER_PACKAGES) >/dev/null; \
	fi

demo-data: install
	BANSO_DATA_DIR=$(DEMO_DIR) $(BIN)/banso init
	BANSO_DATA_DIR=$(DEMO_DIR) $(BIN)/banso demo --seed $(DEMO_SEED) --today $(DEMO_TODAY) --if-empty
	@# The pipeline: weekly metrics and health scores over the last year (once; refreshing again is safe).
	@test -f $(DEMO_DIR)/.metrics-stamp || { \
		BANSO_DATA_DIR=$(DEMO_DIR) $(BIN)/banso refresh --from $$(date -d '$(DEMO_TODAY) -364 days' +%F) --to $(DEMO_TODAY) --every 7d && \
		touch $(DEMO_DIR)/.metrics-stamp; }

demo: demo-data
	@BANSO_DATA_DIR=$(DEMO_DIR) $(BIN)/banso demo --if-empty  # prints the login again
	BANSO_DATA_DIR=$(DEMO_DIR) $(BIN)/banso serve --host 127.0.0.1 --port 8000

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: install
	$(BIN)/mypy src

test: install browser lint typecheck
	$(BIN)/pytest --cov --cov-report=term

bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) $(DEMO_DIR) $(VENDOR) node_modules test-output .pytest_cache .mypy_cache .ruff_cache .coverage
