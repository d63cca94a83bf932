"""The worker lock: one holder per database, free again the moment its holder is gone."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.storage.db import create_engine
from bot.storage.leadership import FileLeadership, PostgresLeadership, leadership_for
from tests.support.databases import on_postgres, postgres_url, sqlite_url


async def test_on_sqlite_one_process_holds_the_lock_until_it_lets_go(tmp_path: Path) -> None:
    engine = create_engine(sqlite_url(tmp_path))
    first, second = leadership_for(engine, "a:1:x"), leadership_for(engine, "b:2:y")
    assert isinstance(first, FileLeadership)
    assert await first.try_acquire() and await first.confirm()
    assert not await second.try_acquire()
    await first.release()
    assert not await first.confirm()
    assert await second.try_acquire()
    await second.release()
    await engine.dispose()


async def test_on_sqlite_a_killed_holder_frees_the_lock(tmp_path: Path) -> None:
    """The kernel drops a dead process's flock: a standby takes over without a stale file."""
    lock = tmp_path / "infozona.db.worker-lock"
    holder = await asyncio.create_subprocess_exec(
        sys.executable, "-c",
        "import fcntl, time\n"
        f"f = open({str(lock)!r}, 'a+'); fcntl.flock(f, fcntl.LOCK_EX)\n"
        "print('held', flush=True); time.sleep(60)",
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert holder.stdout is not None
        assert (await holder.stdout.readline()).strip() == b"held"
        standby = FileLeadership(lock, "b:2:y")
        assert not await standby.try_acquire()
        holder.kill()
        await holder.wait()
        assert await standby.try_acquire()
        await standby.release()
    finally:
        if holder.returncode is None:
            holder.kill()
            await holder.wait()


needs_postgres = pytest.mark.skipif(
    not on_postgres(), reason="the advisory lock is PostgreSQL's (make test-pg)"
)


@needs_postgres
async def test_on_postgres_the_lock_is_freed_when_its_session_dies() -> None:
    url = postgres_url("leadership")
    first = PostgresLeadership(url, "a:1:x", key=os.getpid())
    second = PostgresLeadership(url, "b:2:y", key=os.getpid())
    try:
        assert await first.try_acquire() and await first.confirm()
        assert not await second.try_acquire()
        # The holder's session ends as if its process was killed or its machine cut off.
        admin = create_engine(url)
        async with admin.begin() as conn:
            await conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = :name"
                ),
                {"name": "infozona worker a:1:x"},
            )
        await admin.dispose()
        assert await second.try_acquire()
        assert not await first.confirm()  # the old holder learns it lost the lock
        assert not await first.try_acquire()
    finally:
        await first.release()
        await second.release()
