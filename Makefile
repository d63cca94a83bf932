# Infozona bot. `make run` starts the bot, `make test` runs the whole test suite, `make test-fast`
# its unit and storage part.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run migrate test test-fast lint format audit check clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamps remember what was installed, and are redone when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/python -m bot run

migrate: $(VENV)/.installed
	$(BIN)/python -m bot migrate

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest

# Unit and storage tests only (no emulator, no bot process): the quick loop while editing.
test-fast: $(VENV)/.installed-dev
	$(BIN)/python -m pytest tests/unit tests/storage

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
