"""The updates the web workers have handled: a re-sent update_id is handled once."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from bot.storage.database import Database
from bot.storage.schema import handled_updates


class HandledUpdates:
    def __init__(self, engine: Database) -> None:
        self._engine = engine

    async def seen(self, update_id: int) -> bool:
        async with self._engine.connect() as conn:
            found = await conn.execute(
                sa.select(handled_updates.c.update_id).where(
                    handled_updates.c.update_id == update_id
                )
            )
            return found.first() is not None

    async def remember(self, update_id: int, now: datetime) -> bool:
        """False if another worker remembered it first."""
        try:
            async with self._engine.begin() as conn:
                await conn.execute(
                    handled_updates.insert().values(update_id=update_id, handled_at=now)
                )
        except IntegrityError:
            return False
        return True

    async def prune(self, before: datetime) -> int:
        async with self._engine.begin() as conn:
            result = await conn.execute(
                handled_updates.delete().where(handled_updates.c.handled_at < before)
            )
            return int(result.rowcount or 0)


async def ping(engine: Database) -> None:
    """One round trip to the database (the balancer's /healthz); raises when it is down."""
    async with engine.connect() as conn:
        await conn.execute(sa.text("SELECT 1"))
