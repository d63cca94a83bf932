"""«Полезно» / «Не про меня»: one vote per subscriber and item; a second press changes it."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from bot.storage.database import Database
from bot.storage.db import utcnow
from bot.storage.schema import item_feedback


class FeedbackRepository:
    def __init__(self, engine: Database) -> None:
        self._engine = engine

    async def record(
        self, item_id: int, chat_id: int, useful: bool, now: datetime | None = None
    ) -> None:
        now = now or utcnow()
        f = item_feedback.c
        update = (
            item_feedback.update()
            .where(f.item_id == item_id, f.chat_id == chat_id)
            .values(useful=useful, created_at=now)
        )
        async with self._engine.begin() as conn:
            if (await conn.execute(update)).rowcount:
                return
        try:
            async with self._engine.begin() as conn:
                await conn.execute(
                    item_feedback.insert().values(
                        item_id=item_id, chat_id=chat_id, useful=useful, created_at=now
                    )
                )
        except IntegrityError:  # a double tap raced us to the first vote
            async with self._engine.begin() as conn:
                await conn.execute(update)

    async def counts(self, item_id: int) -> tuple[int, int]:
        """(useful, not for me) votes for the item."""
        f = item_feedback.c
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                sa.select(f.useful, sa.func.count()).where(f.item_id == item_id).group_by(f.useful)
            )
            by_vote = {bool(useful): n for useful, n in rows}
        return by_vote.get(True, 0), by_vote.get(False, 0)
