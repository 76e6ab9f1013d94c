# banso: `make demo` sets up and serves a demo; `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO_DIR ?= banso-demo
DEMO_SEED ?= 42
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install demo demo-data serve test lint typecheck bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo-data: install
	BANSO_DATA_DIR=$(DEMO_DIR) $(BIN)/banso init
	BANSO_DATA_DIR=$(DEMO_DIR) $(BIN)/banso demo --seed $(DEMO_SEED) --if-empty

demo: demo-data
	BANSO_DATA_DIR=$(DEMO_DIR) $(BIN)/banso serve --host 127.0.0.1 --port 8000

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: install
	$(BIN)/mypy src

test: install lint typecheck
	$(BIN)/pytest --cov --cov-report=term

bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .mypy_cache .ruff_cache .coverage
