# `make run` and `make test` create the virtual environment on first use, from the hashed locks.
# The first Python 3.11+ on PATH (override: make PYTHON=/path/to/python3.12 ...).
PYTHON ?= $(shell for p in python3 python3.13 python3.12 python3.11; do \
  command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  2>/dev/null && { echo $$p; break; }; done)
VENV ?= .venv
BIN := $(VENV)/bin
# Maintainer and CI tools (uv writes the locks, pip-audit checks them), kept out of .venv.
TOOLS ?= .venv-tools
TOOLS_BIN := $(TOOLS)/bin
# `make lock` keeps every pin it can; `make lock LOCK_FLAGS=--upgrade` (or
# LOCK_FLAGS='--upgrade-package aiohttp') moves them. One universal resolution for Python 3.11+
# (markers where a dependency differs by version or platform), every file's hash.
LOCK_FLAGS ?=
UV_COMPILE = $(TOOLS_BIN)/uv pip compile --quiet --universal --python-version 3.11 \
  --generate-hashes --custom-compile-command 'make lock' $(LOCK_FLAGS)

.PHONY: run test lint bench migrate lock audit clean

define need_python
	@test -n "$(PYTHON)" || { echo "Python 3.11 or newer is needed (none found on PATH)" >&2; exit 1; }
	@$(PYTHON) -m venv $(1) || { echo "could not create $(1): on Debian/Ubuntu install python3-venv" >&2; exit 1; }
endef

# Every dependency, pip and setuptools included, comes from the lock with its hash checked; the
# project itself is then installed without dependencies and built with the locked setuptools.
$(BIN)/.installed: pyproject.toml requirements-test.lock
	$(call need_python,$(VENV))
	$(BIN)/python -m pip install -q --require-hashes -r requirements-test.lock
	$(BIN)/python -m pip install -q --no-deps --no-build-isolation -e .
	touch $@

$(TOOLS_BIN)/.installed: requirements-tools.lock
	$(call need_python,$(TOOLS))
	$(TOOLS_BIN)/python -m pip install -q --require-hashes -r requirements-tools.lock
	touch $@

run: $(BIN)/.installed
	$(BIN)/python -m bot

# CI (.ci/run) calls exactly this: the audit of the locks, then the checks and the suite.
test: $(BIN)/.installed audit
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest

# Regenerates the three locks from pyproject.toml and requirements/*.in (needs PyPI).
lock: $(TOOLS_BIN)/.installed
	$(UV_COMPILE) pyproject.toml requirements/build.in -o requirements.lock
	$(UV_COMPILE) pyproject.toml requirements/build.in --extra test -c requirements.lock \
	  -o requirements-test.lock
	$(UV_COMPILE) requirements/tools.in -o requirements-tools.lock

# Known vulnerabilities in any pinned release (needs PyPI); run by .ci/run.
audit: $(TOOLS_BIN)/.installed
	$(TOOLS_BIN)/python .ci/audit.py requirements.lock requirements-test.lock requirements-tools.lock

bench: $(BIN)/.installed
	$(BIN)/python -m tests.bench

migrate: $(BIN)/.installed
	$(BIN)/python -m bot migrate

clean:
	rm -rf $(VENV) $(TOOLS)
