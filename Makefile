# Two entry points for a fresh machine: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

SHELL := /bin/bash

.PHONY: demo test test-fast lint lint-js test-js test-wandb-range bench bench-smoke clean

$(STAMP): pyproject.toml js/package.json
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

/usr/bin/chromium:
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null

## Set up, then run the example notebook headless in a real kernel (offline W&B) and print its job.
demo: $(STAMP)
	$(BIN)/python notebooks/demo.py

## Set up (Python, the lab extension, Chromium), check types and format, then run every test:
## the kernel and server tests two at a time (pytest-xdist), the browser tests one by one; then the
## W&B-facing tests on the oldest and the newest tested wandb.
test: $(STAMP) /usr/bin/chromium lint lint-js test-js
	@start=$$(date +%s); \
	$(BIN)/python -m pytest -q -p no:cacheprovider -n 2 -m "not browser" && \
	$(BIN)/python -m pytest -q -p no:cacheprovider -m browser; \
	status=$$?; echo "test suite: $$(( $$(date +%s) - start )) s"; exit $$status
	$(MAKE) --no-print-directory test-wandb-range

## Python checks: ruff lint, ruff format, mypy (strict on the core modules; settings in pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## The panel's unit tests (vitest): its model, and its W&B type helpers on the cases Python runs too.
test-js: $(STAMP)
	cd js && npm run --silent test

## The W&B-facing tests on the oldest supported and the newest tested wandb, each in its own
## virtualenv under .nox/ (noxfile.py says how).
test-wandb-range: $(STAMP)
	$(BIN)/nox

## ESLint and Prettier on js/ (the JupyterLab extension template's settings, in js/package.json).
lint-js: $(STAMP)
	cd js && npm run --silent lint:check

## Everything but the browser tests.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider -m "not browser"

## Benchmarks against the reference tools (prints tables of medians and ratios).
bench: $(STAMP)
	$(BIN)/python bench/run_all.py

bench-smoke: $(STAMP)
	$(BIN)/python bench/run_all.py --smoke

clean:
	rm -rf $(VENV) .nox jupyter_jobs/labextension js/node_modules js/lib build dist *.egg-info
