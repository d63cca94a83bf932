"""The PostgreSQL path: the same repositories over `create_engine("postgresql+asyncpg://…")`.

Against the real server on 127.0.0.1:5432 (database `test`, trust auth; BENCH_POSTGRES_URL
overrides), each test in a schema of its own that is dropped afterwards (other sessions use the
database too). Skipped only when nothing answers on that address.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.content.models import ALL_TOPICS, Role, Topic
from bot.storage.database import Database
from bot.storage.db import create_engine, migrate
from bot.storage.dialogs import DialogStateRepository
from bot.storage.schema import metadata, subscribers
from bot.storage.subscribers import SubscriberRepository

URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
POOL = 4


def _answers(url: str) -> str | None:
    """None when the server accepts connections, else why not."""
    parsed = make_url(url)
    address = (parsed.host or "127.0.0.1", parsed.port or 5432)
    try:
        socket.create_connection(address, timeout=2).close()
    except OSError as error:
        return f"PostgreSQL at {address[0]}:{address[1]} does not answer: {error}"
    return None


def _in_schema(db: AsyncEngine, schema: str) -> None:
    """Every connection of `db` works in `schema`; set on asyncpg's own connection, outside any
    transaction, so the pool's rollback on return keeps it."""

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.run_async(lambda c: c.execute(f'SET search_path TO "{schema}"'))

    sa.event.listen(db.sync_engine, "connect", on_connect)


@pytest.fixture
async def pg() -> AsyncIterator[AsyncEngine]:
    """A database migrated to head in a scratch schema, dropped afterwards."""
    if reason := _answers(URL):
        pytest.skip(reason)
    schema = f"test_pg_path_{uuid.uuid4().hex[:12]}"
    admin = create_engine(URL)
    assert isinstance(admin, AsyncEngine)
    async with admin.begin() as conn:
        await conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    db = create_engine(URL, connections=POOL)
    assert isinstance(db, AsyncEngine)
    _in_schema(db, schema)
    try:
        await migrate(db)
        yield db
    finally:
        await db.dispose()
        async with admin.begin() as conn:
            await conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        await admin.dispose()


async def test_the_migrations_make_the_schema_the_code_declares(pg: AsyncEngine) -> None:
    async with pg.connect() as conn:
        tables = await conn.run_sync(lambda c: set(sa.inspect(c).get_table_names()))
        drift = await conn.run_sync(
            lambda c: compare_metadata(MigrationContext.configure(c), metadata)
        )
    assert set(metadata.tables) <= tables
    assert drift == []


async def test_a_subscriber_registers_is_read_back_and_updated(pg: Database) -> None:
    people = SubscriberRepository(pg)

    first = await people.register(501, name="Анна Петровна", username="anna", source="qr")
    again = await people.register(501, name="Анна Петровна", username="anna", source=None)
    assert first.created and not again.created
    read = await people.get(501)
    assert read is not None
    assert (read.name, read.username, read.topics) == ("Анна Петровна", "anna", ALL_TOPICS)
    assert read.created_at is not None and read.created_at.utcoffset() is not None

    updated = await people.set_topics(501, {Topic.EVENTS})
    await people.set_role(501, Role.METHODIST)
    assert updated is not None and updated.topics == {Topic.EVENTS}
    read = await people.get(501)
    assert read is not None
    assert (read.topics, read.role) == (frozenset({Topic.EVENTS}), Role.METHODIST)
    assert await people.get(502) is None


async def test_a_dialog_state_is_put_and_got(pg: Database) -> None:
    dialogs = DialogStateRepository(pg)
    key = "fsm:123456789:501:501:default"

    assert await dialogs.get(key) == (None, {})
    await dialogs.put(key, 501, state="Question:text")
    await dialogs.put(key, 501, data={"тема": "события", "page": 2})
    assert await dialogs.get(key) == ("Question:text", {"тема": "события", "page": 2})
    await dialogs.put(key, 501, state=None)
    assert await dialogs.get(key) == (None, {"тема": "события", "page": 2})


async def test_fifty_blocks_at_once_on_a_pool_of_four_all_complete(pg: AsyncEngine) -> None:
    people = SubscriberRepository(pg)
    for chat_id in range(1, 51):
        await people.register(chat_id, name=f"u{chat_id}", username=None, source=None)
    held: list[int] = []

    async def toggle(chat_id: int) -> None:
        async with pg.begin() as conn:
            held.append(pg.sync_engine.pool.checkedout())  # type: ignore[attr-defined]
            await conn.execute(
                subscribers.update()
                .where(subscribers.c.chat_id == chat_id)
                .values(topics="events")
            )
            await asyncio.sleep(0)  # hold the connection across a switch, as handlers do
            await conn.execute(sa.select(subscribers.c.topics).where(subscribers.c.chat_id == 1))

    # More blocks than connections: the burst waits its turn, none fails for want of one.
    await asyncio.gather(*(toggle(chat_id) for chat_id in range(1, 51)))

    assert len(held) == 50 and max(held) == POOL
    for chat_id in range(1, 51):
        subscriber = await people.get(chat_id)
        assert subscriber is not None and subscriber.topics == {Topic.EVENTS}
