# Infozona bot. `make run` starts the bot, `make test` runs the whole test suite, `make test-fast`
# its unit and storage part, `make lock` remakes the lock files after pyproject.toml changed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Exact versions, with their hashes, of everything installed: requirements.lock for the bot,
# requirements-dev.lock for the bot and its tests and checks. Made from pyproject.toml's ranges
# by `make lock` (the command is in each file's header); tests/unit/test_lock.py fails when a
# dependency of pyproject.toml is missing from them.
LOCK := requirements.lock
DEV_LOCK := requirements-dev.lock
PIP_COMPILE := $(BIN)/pip-compile --quiet --strip-extras --generate-hashes \
	--no-emit-index-url --no-emit-find-links $(LOCK_ARGS)

.PHONY: run migrate test test-pg test-fast lint format audit check clean lock

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamps remember what was installed, and are redone when a lock file or pyproject.toml
# changes. The dependencies come from the lock only; the project itself is installed on top
# without resolving anything (--no-deps).
$(VENV)/.installed: $(LOCK) pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.installed-dev: $(DEV_LOCK) pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r $(DEV_LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@ $(VENV)/.installed

# After a change of the dependencies in pyproject.toml: the pins for what is new, the others
# kept (pip-tools, from the dev lock); `make lock LOCK_ARGS=--upgrade` moves every pin to the
# newest release within the ranges. Commit both files.
lock: $(VENV)/.installed-dev
	$(PIP_COMPILE) --output-file=$(LOCK) pyproject.toml
	$(PIP_COMPILE) --allow-unsafe --extra=dev --output-file=$(DEV_LOCK) pyproject.toml

run: $(VENV)/.installed
	$(BIN)/python -m bot run

migrate: $(VENV)/.installed
	$(BIN)/python -m bot migrate

test: $(VENV)/.installed-dev
	env -u TEST_DATABASE_URL $(BIN)/python -m pytest

# The same suite on PostgreSQL: each test gets a fresh database on that server (dropped at the
# end); tests of what only SQLite has stay on SQLite. The server must be running.
TEST_DATABASE_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/test
test-pg: $(VENV)/.installed-dev
	TEST_DATABASE_URL='$(TEST_DATABASE_URL)' $(BIN)/python -m pytest

# Unit and storage tests only (no emulator, no bot process): the quick loop while editing.
test-fast: $(VENV)/.installed-dev
	env -u TEST_DATABASE_URL $(BIN)/python -m pytest tests/unit tests/storage

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-logo

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Known vulnerabilities in everything .venv has (runtime and dev); skipped with a note, not
# failed, when the vulnerability data can't be reached.
audit: $(VENV)/.installed-dev
	$(BIN)/python .ci/audit.py

check: lint test

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache *.egg-info
