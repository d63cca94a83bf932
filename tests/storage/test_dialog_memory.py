"""Dialog states: keys known to hold no dialog cost no database work, and never hide one."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bot.storage.database import SqliteDatabase
from bot.storage.db import create_engine, migrate
from bot.storage.dialogs import DialogStateRepository

KEY = "fsm:1:42:42:default"


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[SqliteDatabase]:
    database = create_engine(f"sqlite:///{tmp_path}/d.db")
    assert isinstance(database, SqliteDatabase)
    await migrate(database)
    yield database
    await database.dispose()


def statements(db: SqliteDatabase) -> list[str]:
    seen: list[str] = []

    @sa.event.listens_for(db.sync_engine, "before_cursor_execute")
    def _seen(*args: Any) -> None:
        if not args[2].startswith("PRAGMA"):  # a connection's own set-up
            seen.append(args[2])

    return seen


async def test_someone_in_no_dialog_is_read_once_and_clearing_writes_nothing(
    db: SqliteDatabase,
) -> None:
    dialogs = DialogStateRepository(db, remember_empty=True)
    seen = statements(db)
    assert await dialogs.get(KEY) == (None, {})
    assert len(seen) == 1
    for _ in range(3):  # the next updates of the same person, each with a /start's clear()
        assert await dialogs.get(KEY) == (None, {})
        await dialogs.put(KEY, 42, state=None)
        await dialogs.put(KEY, 42, data={})
    assert len(seen) == 1


async def test_a_dialog_begun_after_is_seen_and_its_end_is_learnt_again(
    db: SqliteDatabase,
) -> None:
    dialogs = DialogStateRepository(db, remember_empty=True)
    await dialogs.get(KEY)
    await dialogs.put(KEY, 42, state="Profile:org_name")
    await dialogs.put(KEY, 42, data={"flow": "settings"})
    assert await dialogs.get(KEY) == ("Profile:org_name", {"flow": "settings"})
    await dialogs.put(KEY, 42, state=None)
    await dialogs.put(KEY, 42, data={})
    assert await dialogs.get(KEY) == (None, {})
    seen = statements(db)
    assert await dialogs.get(KEY) == (None, {})
    assert seen == []


async def test_a_read_that_a_write_overtook_does_not_remember_its_stale_empty(
    db: SqliteDatabase,
) -> None:
    dialogs = DialogStateRepository(db, remember_empty=True)
    read_done = threading.Event()
    write_done = threading.Event()

    @sa.event.listens_for(db.sync_engine, "after_cursor_execute")
    def _hold_the_read(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("SELECT") and not write_done.is_set():
            read_done.set()
            write_done.wait(10)  # in the read's thread (a first read opens the connection there)

    reading = asyncio.create_task(dialogs.get(KEY))
    await asyncio.to_thread(read_done.wait, 10)
    await dialogs.put(KEY, 42, state="Profile:org_name")  # lands while the read is out
    write_done.set()
    assert await reading == (None, {})  # what the database had when it was read
    assert await dialogs.get(KEY) == ("Profile:org_name", {})


async def test_without_memory_every_read_goes_to_the_database(db: SqliteDatabase) -> None:
    dialogs = DialogStateRepository(db)
    seen = statements(db)
    await dialogs.get(KEY)
    await dialogs.get(KEY)
    assert len(seen) == 2
