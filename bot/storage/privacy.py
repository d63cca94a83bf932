"""Erasing a subscriber everywhere, and the «forgotten» list that a restore re-applies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import sqlalchemy as sa

from bot.storage.database import Connection, Database
from bot.storage.db import as_utc
from bot.storage.schema import (
    audit_log,
    deliveries,
    forgotten,
    fsm_states,
    item_feedback,
    questions,
    reminders,
    subscribers,
)


async def erase_chat(conn: Connection, chat_id: int) -> bool:
    """Everything of this chat, in the caller's transaction; False if it wasn't a subscriber."""
    result = await conn.execute(subscribers.delete().where(subscribers.c.chat_id == chat_id))
    await conn.execute(reminders.delete().where(reminders.c.chat_id == chat_id))
    await conn.execute(fsm_states.delete().where(fsm_states.c.chat_id == chat_id))
    # Delivery rows and votes stay as anonymous counts for the editors' reports.
    await conn.execute(
        deliveries.update().where(deliveries.c.chat_id == chat_id).values(chat_id=None)
    )
    await conn.execute(
        item_feedback.update().where(item_feedback.c.chat_id == chat_id).values(chat_id=None)
    )
    # A question keeps its number, date and who answered when (the editors' record of work);
    # what was asked, by whom and the answer to it go.
    await conn.execute(
        questions.update()
        .where(questions.c.chat_id == chat_id)
        .values(
            chat_id=None, text="", asker_role=None, asker_org_kind=None, asker_org_name=None,
            answer=None,
        )
    )  # fmt: skip
    # Refusals of editor actions to this person (forged buttons, editor commands). Editors' own
    # actions stay: they are the IMC's record of who published what.
    await conn.execute(
        audit_log.delete().where(audit_log.c.actor_id == chat_id, audit_log.c.allowed.is_(False))
    )
    return bool(result.rowcount)


class PrivacyRepository:
    def __init__(self, engine: Database) -> None:
        self._engine = engine

    async def forget(self, chat_id: int, key_hash: str, now: datetime) -> bool:
        """Erase the chat and, if it was a subscriber, put it on the forgotten list, at once."""
        async with self._engine.begin() as conn:
            existed = await erase_chat(conn, chat_id)
            if existed:
                await _remember(conn, key_hash, now)
        return existed

    async def erase(self, chat_id: int) -> bool:
        async with self._engine.begin() as conn:
            return await erase_chat(conn, chat_id)

    async def forgotten(self) -> dict[str, datetime]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(sa.select(forgotten.c.key_hash, forgotten.c.forgotten_at))
            return {key: as_utc(at) or at for key, at in rows}

    async def remember(self, entries: dict[str, datetime]) -> None:
        """Merge entries into the list (a restore carries the current list over the backup's)."""
        async with self._engine.begin() as conn:
            for key_hash, at in entries.items():
                await _remember(conn, key_hash, at)

    async def subscribers_since(self) -> AsyncIterator[tuple[int, datetime]]:
        """Every subscriber's chat id and when they subscribed, streamed."""
        async with self._engine.connect() as conn:
            rows = await conn.stream(sa.select(subscribers.c.chat_id, subscribers.c.created_at))
            async for chat_id, created_at in rows:
                yield chat_id, as_utc(created_at) or created_at


async def _remember(conn: Connection, key_hash: str, at: datetime) -> None:
    """The latest forget of a chat wins: whoever subscribed after it is someone new."""
    known = (
        await conn.execute(
            sa.select(forgotten.c.forgotten_at).where(forgotten.c.key_hash == key_hash)
        )
    ).scalar_one_or_none()
    if known is None:
        await conn.execute(forgotten.insert().values(key_hash=key_hash, forgotten_at=at))
    elif (as_utc(known) or known) < at:
        await conn.execute(
            forgotten.update().where(forgotten.c.key_hash == key_hash).values(forgotten_at=at)
        )
