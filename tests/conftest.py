"""Fixtures for every scope; the harness itself lives in tests/support/."""

from pathlib import Path

import pytest

from tests.support.databases import drop_scratch_databases
from tests.support.harness import emu, running_bot

__all__ = ["emu", "running_bot"]

TESTS = Path(__file__).resolve().parent
# A test's folder is its scope: `-m unit`, `-m "not e2e"`; `make test-fast` runs unit + storage.
SCOPES = ("unit", "storage", "e2e")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        path = item.path.resolve()
        if path.is_relative_to(TESTS) and (scope := path.relative_to(TESTS).parts[0]) in SCOPES:
            item.add_marker(scope)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    drop_scratch_databases()  # the PostgreSQL databases of `make test-pg`; nothing on SQLite
