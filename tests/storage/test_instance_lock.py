"""The single-instance lock of a SQLite database (`python -m bot run` takes it)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.storage.instance import DatabaseBusyError, Holder, InstanceLock, lock_path

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def test_the_lock_file_sits_next_to_the_sqlite_database_only() -> None:
    assert lock_path("sqlite+aiosqlite:///data/infozona.db") == Path("data/infozona.db.lock")
    assert lock_path("sqlite+aiosqlite:///:memory:") is None
    # Several processes on PostgreSQL are the city-scale issue's business, not a file lock's.
    assert lock_path("postgresql+asyncpg://bot@db/infozona") is None


def test_a_held_lock_names_its_holder_and_is_free_again_once_released(tmp_path: Path) -> None:
    path = tmp_path / "infozona.db.lock"
    first = InstanceLock(path)
    first.acquire("python -m bot run", T0)
    with pytest.raises(DatabaseBusyError) as busy:
        InstanceLock(path).acquire("python -m bot run", T0)
    assert busy.value.database == str(tmp_path / "infozona.db")
    assert busy.value.holder == Holder(os.getpid(), T0, "python -m bot run")
    first.release()
    again = InstanceLock(path)
    again.acquire("python -m bot migrate", T0)
    again.release()
