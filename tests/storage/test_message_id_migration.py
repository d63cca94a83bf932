"""Migration 0007: the message ids the engine stores become text, and back again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.storage.database import Database
from bot.storage.db import create_engine, downgrade, migrate
from tests.support.databases import scratch_url


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Database]:
    engine = create_engine(scratch_url(tmp_path, "m"))
    yield engine
    await engine.dispose()


async def ids(engine: Database) -> tuple[list[object], list[object]]:
    async with engine.connect() as conn:
        deliveries = (
            await conn.execute(sa.text("SELECT message_id FROM deliveries ORDER BY id"))
        ).scalars()
        progress = (
            await conn.execute(sa.text("SELECT progress_message_id FROM campaigns ORDER BY id"))
        ).scalars()
        return list(deliveries), list(progress)


async def variants(engine: Database) -> int:
    async with engine.connect() as conn:
        count = await conn.execute(sa.text("SELECT count(*) FROM campaign_variants"))
        return int(count.scalar_one())


async def test_telegram_ids_become_text_and_come_back(engine: Database) -> None:
    await migrate(engine, "0006")
    async with engine.begin() as conn:
        await conn.execute(
            sa.text(
                "INSERT INTO campaigns (id, key, kind, title, status, total, "
                "progress_message_id, created_at) "
                "VALUES (1, 'post:1', 'post', 'x', 'done', 2, 4242, '2026-03-02 09:00:00')"
            )
        )
        await conn.execute(
            sa.text(
                "INSERT INTO campaign_variants (id, campaign_id, signature, parts) "
                "VALUES (1, 1, 'single', '[]')"
            )
        )
        await conn.execute(
            sa.text(
                "INSERT INTO deliveries (id, campaign_id, chat_id, status, attempts, parts_sent, "
                "next_attempt_at, message_id) VALUES "
                "(1, 1, 501, 'sent', 1, 1, '2026-03-02 09:00:00', 9007199254740993), "
                "(2, 1, 502, 'blocked', 1, 0, '2026-03-02 09:00:00', NULL)"
            )
        )

    await migrate(engine)
    # Recreating campaigns (SQLite's batch mode) cascaded nothing into the rows that reference it.
    assert await ids(engine) == (["9007199254740993", None], ["4242"])
    assert await variants(engine) == 1

    # Another messenger's id cannot go back to an integer column: it is dropped.
    async with engine.begin() as conn:
        await conn.execute(sa.text("UPDATE deliveries SET message_id = 'max-17' WHERE id = 2"))
    await downgrade(engine, "0006")
    assert await ids(engine) == ([9007199254740993, None], [4242])
    assert await variants(engine) == 1
