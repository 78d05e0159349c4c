# The one way to set up, run, test, benchmark and lint Weerbaar.
# Two environments: .venv (Python 3.13) runs the bot; .venv-nlu (Python 3.10) holds Rasa and
# trains, evaluates and serves the NLU model.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
NLU_VENV := .venv-nlu
NLU_PY := $(NLU_VENV)/bin/python
export TF_CPP_MIN_LOG_LEVEL := 3
export RASA_TELEMETRY_ENABLED := false

# pythonX.Y on PATH when it really runs (a pyenv shim may not), else pyenv's newest X.Y.
find_python = $(shell \
	if python$(1) -c 'import sys' >/dev/null 2>&1; then echo python$(1); \
	elif command -v pyenv >/dev/null 2>&1; then ls -d "$$(pyenv root)"/versions/$(1).*/bin/python 2>/dev/null | sort -V | tail -n 1; \
	fi)
PYTHON313 := $(call find_python,3.13)
PYTHON310 := $(call find_python,3.10)

.PHONY: help run test bench lint model venv

help:
	@echo "make run    start the bot (local chat when no tokens are set)"
	@echo "make test   run the test suite"
	@echo "make bench  run the benchmarks (JSON in bench-results.json)"
	@echo "make lint   ruff, mypy and the architecture contracts (import-linter)"

# $(1) folder, $(2) Python, $(3) its version, $(4) lock file: (re)install only when the lock
# changed or the folder holds another Python.
define make_venv
	@if [ -z "$(2)" ]; then echo "Python $(3) not found: install python$(3) (or 'pyenv install $(3)') and run make again." >&2; exit 1; fi
	@if [ -x $(1)/bin/python ] && ! $(1)/bin/python -c 'import sys; sys.exit(sys.version_info[:2] != tuple(map(int, "$(3)".split("."))))' 2>/dev/null; then rm -rf $(1); fi
	@[ -x $(1)/bin/python ] || $(2) -m venv $(1)
	$(1)/bin/python -m pip install --quiet --disable-pip-version-check -r $(4)
	$(1)/bin/python -m pip check
	@touch $@
endef

$(VENV)/.installed: requirements.lock
	$(call make_venv,$(VENV),$(PYTHON313),3.13,requirements.lock)

$(NLU_VENV)/.installed: requirements-nlu.lock
	$(call make_venv,$(NLU_VENV),$(PYTHON310),3.10,requirements-nlu.lock)

venv: $(VENV)/.installed $(NLU_VENV)/.installed

# Trains (in .venv-nlu) only when nlu/ data or config.yml changed (the model is cached by their hash).
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
