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
# Real interpreters for the other supported versions (course/pythons.py):
# Debian sid's python3.13, 3.14 and 3.15 in a root filesystem made by
# debootstrap, and one kernel environment per version made by that
# interpreter, all world-readable, outside the repository (shared by
# checkouts). 3.11 is the host's (KERNEL_VENV); 3.12 is not in Debian sid.
PYTHONS_DIR      ?= /opt/python-modules-hands-on/pythons
PYTHONS_VERSIONS := 3.13 3.14 3.15
PYTHONS_MIRROR   ?= $(shell { sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/debian.sources; \
                      sed -n 's/^deb[[:space:]]\{1,\}\([^[:space:]]*\).*/\1/p' /etc/apt/sources.list; } 2>/dev/null | head -n1 | cut -d' ' -f1)
PSTAMP := $(PYTHONS_DIR)/.installed-python$(shell echo $(PYTHONS_VERSIONS) | tr ' ' -)-constraints$(shell cksum < constraints.txt | cut -d' ' -f1)
export COURSE_PYTHONS_DIR := $(PYTHONS_DIR)
# JupyterHub for a class (deploy/; README "Running a class on JupyterHub"):
# one environment for the hub, every user's server and the root grading
# wrapper, world-readable, from the system's Python (deploy/build-env).
# `make test-hub` builds and uses its own, never a deployed one.
HUB_PYTHON      ?= /usr/bin/python3
HUB_PREFIX      ?= /opt/python-modules-hands-on/hub
TEST_HUB_PREFIX ?= /opt/python-modules-hands-on/hub-test

.PHONY: help demo test test-fast test-packages venv-packages lint build check record lab bench lock clean sandbox
.PHONY: pythons test-pythons test-reviews
.PHONY: hub-env test-hub

help:
	@echo "make demo    build release/ and grade the bundled demo class (start here)"
	@echo "make test    the whole test suite, in stages (lint, unit, notebooks and release, CLI and grading with the robustness and cheating corpus, browser)"
	@echo "make test-fast lint and the tests that start no kernel, nbgrader, sandbox or browser (the edit loop; under a minute)"
	@echo "make sandbox install what grading in the sandbox needs (bubblewrap, kernel venv), then try it"
	@echo "make pythons build Python 3.13, 3.14 and 3.15 (Debian sid, debootstrap) with kernel venvs in $(PYTHONS_DIR)"
	@echo "make test-pythons every source notebook on 3.11, 3.13, 3.14 and 3.15 and the graded demo class on 3.13-3.15 (make test grades it on 3.11; one table)"
	@echo "make test-reviews grade the independent reviewers' correct and wrong answers (tests/reviews/) on 3.11 and 3.15, with catch rates"
	@echo "make hub-env build JupyterHub's environment for a class in $(HUB_PREFIX) (root; then see README)"
	@echo "make test-hub JupyterHub with real local users and nbgrader's exchange, end to end (root; creates and removes users)"
	@echo "make build   regenerate release/ from source/"
	@echo "make check   lint source/, check release/ is in sync, run the validator"
	@echo "make record  re-execute source notebooks and store their outputs"
	@echo "make lab     JupyterLab for a student, on their own copies of the lessons (workspace/)"
	@echo "make bench   grading throughput: course grade vs stock nbgrader and the nbclient floor (slow; BENCH_ARGS=\"--students-per-lesson 3\" for a smoke run)"
	@echo "make lock    re-pin constraints.txt from a fresh install (review the diff)"

# Debian packages: installed with apt when run as root, else one line naming them.
# $(call apt,PACKAGES,WHY)
define apt
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian's$$missing ($(2))"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else echo "error: $(2) need Debian's$$missing: run \`apt-get install$$missing\` as root" >&2; exit 1; fi; fi
endef

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "error: Python 3.11+ is needed (found: $$($(PYTHON) --version 2>&1)); set PYTHON=..." >&2; exit 1; }
	@$(PYTHON) -c 'import ensurepip' 2>/dev/null || { command -v dpkg >/dev/null && $(MAKE) --no-print-directory venv-packages; } || \
	  { echo "error: $(PYTHON) cannot make virtual environments (on Debian: apt-get install python3-venv)" >&2; exit 1; }
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

pythons: $(STAMP)
	@$(MAKE) --no-print-directory $(PSTAMP)

# The stamp's name says what is built: the versions and constraints.txt's checksum.
$(PSTAMP): | $(STAMP)
	@command -v debootstrap >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian's debootstrap (make pythons)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null; \
	  else echo "error: debootstrap is not installed: run \`apt-get install debootstrap\` as root" >&2; exit 1; fi; }
	@rm -f $(PYTHONS_DIR)/.installed-*
	$(BIN)/python -m course.pythons build --dir $(PYTHONS_DIR) --constraints constraints.txt --mirror '$(PYTHONS_MIRROR)' $(PYTHONS_VERSIONS)
	@touch $@

# Real interpreters: the unit tests that need them (they fail, not skip, here),
# then every source notebook per version and the demo class's grading on 3.13,
# 3.14 and 3.15 (`make test` grades the same class on the host's 3.11:
# tests/test_grading.py; `python -m tests.pythons` alone grades on all four).
test-pythons: $(STAMP) sandbox pythons
	COURSE_REQUIRE_PYTHONS=1 $(BIN)/python -m pytest -m pythons tests/unit/test_pythons.py
	$(BIN)/python -m tests.pythons --skip-grading-on 3.11 $(TEST_PYTHONS_ARGS)

# The independent reviewers' answers (tests/reviews/round*/, written seeing only
# release/), graded on the host's 3.11 and on 3.15: every wrong answer must lose
# points and every correct one keep full marks (catch rates printed per lesson).
test-reviews: $(STAMP) sandbox pythons
	$(BIN)/python -m tests.reviews $(TEST_REVIEWS_ARGS)
	$(BIN)/python -m tests.reviews --python 3.15 $(TEST_REVIEWS_ARGS)

venv-packages:
	$(call apt,python3-venv,virtual environments)

# What the browser tests need: Debian's Chromium (Playwright drives
# /usr/bin/chromium; it never downloads a browser) and a font.
test-packages:
	$(call apt,chromium fonts-dejavu-core,the browser tests)

# The whole suite, in stages that stop at the first one that fails. Every
# test file belongs to exactly one stage (tests/unit/test_layout.py checks).
test: $(STAMP) sandbox test-packages
	@echo "== 1/5 lint"
	$(BIN)/ruff check course tests benchmarks deploy
	$(BIN)/ruff format --check course tests benchmarks deploy
	@echo "== 2/5 unit tests"
	$(BIN)/python -m pytest tests/unit -m "not pythons" --durations=5
	@echo "== 3/5 notebooks (nbval) and release/"
	$(BIN)/python -m pytest tests/test_nbval.py tests/test_release.py --durations=5
	@echo "== 4/5 command line, and a whole class graded (the robustness and cheating corpus included)"
	$(BIN)/python -m pytest tests/test_cli.py tests/test_grading.py --durations=5
	@echo "== 5/5 JupyterLab in Chromium"
	$(BIN)/python -m pytest tests/browser --durations=5

# The edit loop: lint and every test that starts no kernel, no nbgrader, no
# sandbox and no browser (under a minute).
test-fast: $(STAMP)
	$(BIN)/ruff check course tests benchmarks deploy
	$(BIN)/ruff format --check course tests benchmarks deploy
	$(BIN)/python -m pytest -q -m "not (slow or kernel or nbgrader or sandbox or browser or pythons)" tests/unit tests/test_cli.py

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

# Re-pin from a fresh install of every extra (tests and the hub). Pins that
# the hub's older system Python cannot install (soupsieve 4.x needs 3.11.5+)
# are replaced there by deploy/constraints-override.txt, not here.
lock:
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet '.[test,hub]'
	{ echo "# Exact versions of everything the course installs (pip constraints)."; \
	  echo "# Regenerate: make lock   (then review the diff)"; \
	  .venv-lock/bin/python -m pip freeze --exclude-editable | grep -v '^python-modules-hands-on'; } > constraints.txt
	rm -rf .venv-lock

clean:
	rm -rf $(VENV) build *.egg-info

hub-env: $(STAMP) sandbox
	HUB_PYTHON=$(HUB_PYTHON) deploy/build-env $(HUB_PREFIX) "$(BIN)/python -m pip"

# A class on JupyterHub on 127.0.0.1 with local users that the test creates
# and removes (tests/hub/): release -> fetch -> submit -> collect -> grade ->
# feedback, and what students may not read.
test-hub: $(STAMP) sandbox
	$(BIN)/ruff check deploy tests/hub
	$(BIN)/ruff format --check deploy tests/hub
	HUB_PYTHON=$(HUB_PYTHON) deploy/build-env $(TEST_HUB_PREFIX) "$(BIN)/python -m pip"
	COURSE_TEST_HUB_PREFIX=$(TEST_HUB_PREFIX) $(BIN)/python -m pytest tests/hub
