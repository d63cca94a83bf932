"""handled_updates: an update id is remembered once, and forgotten after its age."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.storage.db import create_engine, migrate
from bot.storage.updates import HandledUpdates, ping
from tests.support.databases import scratch_url

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


async def test_remembered_once_and_pruned_by_age(tmp_path: Path) -> None:
    engine = create_engine(scratch_url(tmp_path))
    try:
        await migrate(engine)
        await ping(engine)
        handled = HandledUpdates(engine)
        assert not await handled.seen(10)
        assert await handled.remember(10, NOW - timedelta(days=3))
        assert not await handled.remember(10, NOW)  # another worker was first
        assert await handled.remember(11, NOW)
        assert await handled.seen(10) and await handled.seen(11)
        assert await handled.prune(NOW - timedelta(days=2)) == 1
        assert not await handled.seen(10) and await handled.seen(11)
    finally:
        await engine.dispose()
