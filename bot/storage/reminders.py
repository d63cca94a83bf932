"""«Напомнить» presses: who wants to hear about which event the day before."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from bot.storage.database import Database
from bot.storage.db import utcnow
from bot.storage.schema import items, reminders


class ReminderRepository:
    def __init__(self, engine: Database) -> None:
        self._engine = engine

    async def add(self, item_id: int, chat_id: int, now: datetime | None = None) -> bool:
        """False if this chat already asked about this event."""
        try:
            async with self._engine.begin() as conn:
                await conn.execute(
                    reminders.insert().values(
                        item_id=item_id, chat_id=chat_id, created_at=now or utcnow()
                    )
                )
        except IntegrityError:
            return False
        return True

    async def due(self, starts_from: datetime, starts_before: datetime) -> dict[int, list[int]]:
        """Unsent reminders for events starting in [from, before): item id → chat ids."""
        query = (
            sa.select(reminders.c.item_id, reminders.c.chat_id)
            .join(items, items.c.id == reminders.c.item_id)
            .where(
                reminders.c.sent_at.is_(None),
                items.c.starts_at >= starts_from,
                items.c.starts_at < starts_before,
            )
            .order_by(reminders.c.item_id, reminders.c.chat_id)
        )
        found: dict[int, list[int]] = defaultdict(list)
        async with self._engine.connect() as conn:
            for item_id, chat_id in await conn.execute(query):
                found[item_id].append(chat_id)
        return dict(found)

    async def mark_sent(self, item_id: int, chat_ids: Sequence[int], now: datetime) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                reminders.update()
                .where(reminders.c.item_id == item_id, reminders.c.chat_id.in_(chat_ids))
                .values(sent_at=now)
            )

    async def count_for(self, item_id: int) -> int:
        async with self._engine.connect() as conn:
            return (
                await conn.execute(
                    sa.select(sa.func.count()).where(reminders.c.item_id == item_id)
                )
            ).scalar_one()

    async def remove(self, item_id: int, chat_id: int) -> bool:
        """False if there was nothing to cancel."""
        async with self._engine.begin() as conn:
            result = await conn.execute(
                reminders.delete().where(
                    reminders.c.item_id == item_id, reminders.c.chat_id == chat_id
                )
            )
        return bool(result.rowcount)

    async def set_for(self, chat_id: int, item_ids: Sequence[int]) -> set[int]:
        """Which of these events this chat will be reminded of."""
        if not item_ids:
            return set()
        query = sa.select(reminders.c.item_id).where(
            reminders.c.chat_id == chat_id, reminders.c.item_id.in_(list(item_ids))
        )
        async with self._engine.connect() as conn:
            return {row[0] for row in await conn.execute(query)}
