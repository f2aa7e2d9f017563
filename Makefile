# Python Modules, Hands-On — every command builds its own pinned virtual
# environment in .venv/ first (from pyproject.toml + constraints.txt).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The sandboxed kernels' own environment: world-readable (the sandbox's uids
# cannot enter /root), built from Debian's python3. course/sandbox.py looks
# for it at the same place (COURSE_KERNEL_VENV).
KERNEL_PYTHON ?= /usr/bin/python3
KERNEL_VENV   ?= /opt/python-modules-hands-on/kernel
KSTAMP        := $(KERNEL_VENV)/.installed-$(shell cksum < constraints.txt | cut -d' ' -f1)
export COURSE_KERNEL_VENV := $(KERNEL_VENV)

.PHONY: help demo test lint build check record lab bench lock clean sandbox

help:
	@echo "make demo    build release/ and grade the bundled demo class (start here)"
	@echo "make test    the whole test suite (lint, unit, notebooks, release, grading, robustness, browser)"
	@echo "make sandbox install what grading in the sandbox needs (bubblewrap, kernel venv), then try it"
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

# The demo class is bundled and trusted: where the sandbox cannot be set up,
# it is graded without it, and the output says so.
demo: $(STAMP)
	@$(MAKE) --no-print-directory sandbox || true
	$(BIN)/course build
	@if $(BIN)/course sandbox >/dev/null 2>&1; then $(BIN)/course demo; else \
	  echo "NOTE: no sandbox on this machine (see above): grading the bundled, trusted demo class WITHOUT it (--unsafe-no-sandbox). Student work must not be graded like this." >&2; \
	  $(BIN)/course demo --unsafe-no-sandbox; fi

sandbox: $(STAMP)
	@command -v bwrap >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian's bubblewrap (the sandbox)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends bubblewrap >/dev/null; \
	  else echo "error: bubblewrap (bwrap) is not installed, and only root with apt-get can install it here" >&2; exit 1; fi; }
	@$(MAKE) --no-print-directory $(KSTAMP)
	$(BIN)/course sandbox

# The stamp's name holds constraints.txt's checksum, so the shared kernel
# environment is rebuilt only when the pins change, not because a fresh
# clone's constraints.txt is newer (a rebuild under another checkout's running
# grading would pull its kernels' Python away).
$(KSTAMP): | $(STAMP)
	@test -x $(KERNEL_PYTHON) || { echo "error: $(KERNEL_PYTHON) not found: the sandbox's kernels need a system Python (set KERNEL_PYTHON=...)" >&2; exit 1; }
	@test ! -e $(KERNEL_VENV) -o -f $(KERNEL_VENV)/pyvenv.cfg || { echo "error: $(KERNEL_VENV) exists and is not a virtual environment; not touching it" >&2; exit 1; }
	$(KERNEL_PYTHON) -m venv --clear --without-pip $(KERNEL_VENV)
	$(BIN)/python -m pip --python $(KERNEL_VENV)/bin/python install --quiet -c constraints.txt ipykernel ipywidgets
	chmod -R a+rX $(KERNEL_VENV)
	@touch $@

test: $(STAMP) sandbox
	$(BIN)/ruff check course tests benchmarks
	$(BIN)/ruff format --check course tests benchmarks
	$(BIN)/python -m pytest --durations=15

build: $(STAMP)
	$(BIN)/course build

check: $(STAMP)
	$(BIN)/course check

record: $(STAMP)
	$(BIN)/course record

lab: $(STAMP)
	$(BIN)/course lab

bench: $(STAMP) sandbox
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
