# The canonical commands. `make serve` and `make test` are the README's two commands.
PORT ?= 8080
DATA_DIR ?= ./openee-data
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: serve test lint typecheck unit e2e bench bench-tiles readme clean chromium

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Installed-marker files: re-install when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

serve: $(VENV)/.installed
	$(BIN)/openee serve --port $(PORT) --data-dir $(DATA_DIR)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

unit: $(VENV)/.installed-test
	$(BIN)/pytest -m "not e2e"

e2e: $(VENV)/.installed-test chromium
	$(BIN)/pytest -m e2e

# The map page's browser test drives Debian's Chromium: installed here if missing.
chromium:
	bash scripts/chromium.sh

test: lint typecheck chromium
	$(BIN)/pytest

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $@ $(VENV)/.installed-test $(VENV)/.installed

# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE (set on some machines) slow numpy: unset for timing only.
bench: $(VENV)/.installed-bench
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(BIN)/python bench/compute_pixels.py $(BENCH_ARGS)

bench-tiles: $(VENV)/.installed-bench
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(BIN)/python bench/tiles.py $(BENCH_ARGS)

readme: $(VENV)/.installed
	$(BIN)/python -m openee.readme README.md

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
