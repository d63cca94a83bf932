"""The SQLite handle: blocks wait their turn for a connection, never fail for want of one."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.storage.database import Database, SqliteDatabase
from bot.storage.db import create_engine

metadata = sa.MetaData()
notes = sa.Table(
    "notes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("text", sa.String, nullable=False),
)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = create_engine(f"sqlite:///{tmp_path}/n.db", connections=2)
    assert isinstance(database, SqliteDatabase)
    async with database.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield database
    await database.dispose()


async def test_a_burst_larger_than_the_pool_waits_and_every_write_lands(db: Database) -> None:
    async def write(n: int) -> None:
        async with db.begin() as conn:
            await conn.execute(notes.insert().values(id=n, text=f"заметка {n}"))
            await asyncio.sleep(0)  # hold the connection across a switch, as handlers do

    await asyncio.gather(*(write(n) for n in range(300)))
    async with db.connect() as conn:
        count = (await conn.execute(sa.select(sa.func.count()).select_from(notes))).scalar_one()
    assert count == 300


async def test_a_block_inside_a_block_does_not_wait_for_the_outer_ones_connection(
    db: Database,
) -> None:
    async def nested(n: int) -> str:
        async with db.connect() as outer:
            await outer.execute(sa.select(notes))
            async with db.begin() as inner:
                await inner.execute(notes.insert().values(id=n, text=f"вложенная {n}"))
            row = (await outer.execute(sa.select(notes.c.text).where(notes.c.id == n))).one()
            return str(row.text)

    # Both connections of the pool are held by outer blocks; the inner ones still get theirs.
    found = await asyncio.wait_for(asyncio.gather(nested(1), nested(2)), 10)
    assert list(found) == ["вложенная 1", "вложенная 2"]


async def test_a_failed_write_is_rolled_back_and_the_connection_serves_the_next_block(
    db: Database,
) -> None:
    async def twice() -> None:
        async with db.begin() as conn:
            await conn.execute(notes.insert().values(id=1, text="первая"))
            await conn.execute(notes.insert().values(id=1, text="дубль"))

    with pytest.raises(sa.exc.IntegrityError):
        await twice()
    for _ in range(3):  # every connection of the pool, in turn
        async with db.begin() as conn:
            await conn.execute(notes.insert().values(text="после ошибки"))
    async with db.connect() as conn:
        texts = list((await conn.execute(sa.select(notes.c.text))).scalars())
    assert texts == ["после ошибки"] * 3


async def test_a_cancelled_write_leaves_nothing_open_for_the_next_block(db: Database) -> None:
    started = asyncio.Event()

    async def slow() -> None:
        async with db.begin() as conn:
            await conn.execute(notes.insert().values(id=7, text="не дописана"))
            started.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(slow())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with db.begin() as conn:  # would wait on SQLite's write lock if the insert were open
        await conn.execute(notes.insert().values(id=8, text="дописана"))
    async with db.connect() as conn:
        ids = list((await conn.execute(sa.select(notes.c.id))).scalars())
    assert ids == [8]


async def test_streamed_rows_come_in_chunks_and_all_arrive(db: Database) -> None:
    async with db.begin() as conn:
        await conn.execute(notes.insert(), [{"id": n, "text": str(n)} for n in range(1, 1201)])
    async with db.connect() as conn:
        rows = await conn.stream(sa.select(notes.c.id).order_by(notes.c.id))
        seen = [row.id async for row in rows]
    assert seen == list(range(1, 1201))


async def test_a_write_waits_off_the_loop_while_another_process_holds_the_lock(
    db: Database, tmp_path: Path
) -> None:
    async with db.begin() as conn:  # both connections opened
        await conn.execute(notes.insert().values(id=1, text="первая"))
    other = sqlite3.connect(tmp_path / "n.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process's write in progress

    async def write() -> None:
        async with db.begin() as conn:
            await conn.execute(notes.insert().values(id=2, text="вторая"))

    task = asyncio.create_task(write())
    for _ in range(20):
        await asyncio.sleep(0)
    # Waiting, not failed and not holding the loop (on the loop it would have failed at once,
    # with a busy timeout there the loop would have stood still for it).
    assert not task.done()
    other.execute("COMMIT")
    other.close()
    await asyncio.wait_for(task, 30)
    async with db.connect() as conn:
        ids = list((await conn.execute(sa.select(notes.c.id).order_by(notes.c.id))).scalars())
    assert ids == [1, 2]


async def test_a_write_cancelled_while_it_waits_for_the_lock_lands_nothing(
    db: Database, tmp_path: Path
) -> None:
    async with db.begin() as conn:
        await conn.execute(notes.insert().values(id=1, text="первая"))
    other = sqlite3.connect(tmp_path / "n.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")

    async def write(n: int) -> None:
        async with db.begin() as conn:
            await conn.execute(notes.insert().values(id=n, text=f"заметка {n}"))

    waiting = asyncio.create_task(write(2))
    for _ in range(20):
        await asyncio.sleep(0)
    waiting.cancel()  # the bot stops, say, while the statement waits in the thread
    after = asyncio.create_task(write(3))
    for _ in range(20):
        await asyncio.sleep(0)
    other.execute("COMMIT")  # the cancelled block's rollback waits behind its statement
    other.close()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(waiting, 30)
    await asyncio.wait_for(after, 30)
    async with db.connect() as conn:
        ids = list((await conn.execute(sa.select(notes.c.id).order_by(notes.c.id))).scalars())
    assert ids == [1, 3]
