# Python Modules, Hands-On — every command builds its own pinned virtual
# environment in .venv/ first (from pyproject.toml + constraints.txt).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: help demo test lint build check record lab bench lock clean

help:
	@echo "make demo    build release/ and grade the bundled demo class (start here)"
	@echo "make test    the whole test suite (lint, unit, notebooks, release, grading)"
	@echo "make build   regenerate release/ from source/"
	@echo "make check   lint source/, check release/ is in sync, run the validator"
	@echo "make record  re-execute source notebooks and store their outputs"
	@echo "make lab     JupyterLab on the student notebooks in release/"
	@echo "make bench   grading throughput: course grade vs stock nbgrader and the nbclient floor (slow; BENCH_ARGS=\"--students-per-lesson 3\" for a smoke run)"
	@echo "make lock    re-pin constraints.txt from a fresh install (review the diff)"

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "error: Python 3.11+ is needed (found: $$($(PYTHON) --version 2>&1)); set PYTHON=..." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	@touch $@

demo: $(STAMP)
	$(BIN)/course build
	$(BIN)/course demo

test: $(STAMP)
	$(BIN)/ruff check course tests
	$(BIN)/ruff format --check course tests
	$(BIN)/python -m pytest

build: $(STAMP)
	$(BIN)/course build

check: $(STAMP)
	$(BIN)/course check

record: $(STAMP)
	$(BIN)/course record

lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=release $(if $(filter 0,$(shell id -u)),--allow-root,)

bench: $(STAMP)
	$(BIN)/python -m benchmarks.grading $(BENCH_ARGS)

lock:
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet '.[test]'
	{ echo "# Exact versions of everything the course installs (pip constraints)."; \
	  echo "# Regenerate: make lock   (then review the diff)"; \
	  .venv-lock/bin/python -m pip freeze --exclude-editable | grep -v '^python-modules-hands-on'; } > constraints.txt
	rm -rf .venv-lock

clean:
	rm -rf $(VENV) build *.egg-info
