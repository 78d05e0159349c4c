# The one way to set up, run, test, benchmark and lint Weerbaar.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
export TF_CPP_MIN_LOG_LEVEL := 3
export RASA_TELEMETRY_ENABLED := false
export SQLALCHEMY_SILENCE_UBER_WARNING := 1

# python3.10 on PATH when it really runs (a pyenv shim may not), else pyenv's own 3.10.
PYTHON310 := $(shell \
	if python3.10 -c 'import sys' >/dev/null 2>&1; then echo python3.10; \
	elif command -v pyenv >/dev/null 2>&1; then ls -d "$$(pyenv root)"/versions/3.10.*/bin/python 2>/dev/null | sort -V | tail -n 1; \
	fi)

.PHONY: help run test bench lint model venv

help:
	@echo "make run    start the bot (local chat when no tokens are set)"
	@echo "make test   run the test suite"
	@echo "make bench  run the benchmarks (JSON in bench-results.json)"
	@echo "make lint   ruff, mypy and the architecture contracts (import-linter)"

# Installs the pinned dependencies again only when requirements.lock changed.
$(VENV)/.installed: requirements.lock
	@if [ -z "$(PYTHON310)" ]; then echo "Python 3.10 not found: install python3.10 (or 'pyenv install 3.10') and run make again." >&2; exit 1; fi
	@if [ -x $(PY) ] && ! $(PY) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; then rm -rf $(VENV); fi
	@[ -x $(PY) ] || $(PYTHON310) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip check
	@touch $@

venv: $(VENV)/.installed

# Trains only when nlu/ data or config.yml changed (the model is cached by their hash).
model: venv
	@$(PY) -m nlu train

run: model
	$(PY) -m bot run

test: model
	$(PY) -m pytest

bench: model
	$(PY) -m bench

lint: venv
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(VENV)/bin/lint-imports --no-cache
