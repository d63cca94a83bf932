"""Subscribers: who receives Infozona, and what they asked for."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from bot.content.models import (
    ALL_TOPICS,
    Frequency,
    OrgKind,
    Role,
    Subscriber,
    SubscriberStatus,
    Topic,
)
from bot.storage.database import Database
from bot.storage.db import as_utc, utcnow
from bot.storage.privacy import erase_chat
from bot.storage.schema import subscribers


def encode_topics(topics: Iterable[Topic]) -> str:
    return ",".join(sorted(t.value for t in topics))


def decode_topics(text: str) -> frozenset[Topic]:
    return frozenset(Topic(code) for code in text.split(",") if code in Topic._value2member_map_)


def _to_subscriber(row: sa.Row[Any]) -> Subscriber:
    return Subscriber(
        chat_id=row.chat_id,
        name=row.name,
        username=row.username,
        role=Role(row.role) if row.role else None,
        org_kind=OrgKind(row.org_kind) if row.org_kind else None,
        org_name=row.org_name,
        topics=decode_topics(row.topics),
        frequency=Frequency(row.frequency),
        status=SubscriberStatus(row.status),
        source=row.source,
        created_at=as_utc(row.created_at),
        updated_at=as_utc(row.updated_at),
        onboarded_at=as_utc(row.onboarded_at),
    )


@dataclass(frozen=True, slots=True)
class Registration:
    subscriber: Subscriber
    created: bool


# Built once: the reads and writes every update makes, so only their parameters change.
_BY_CHAT = subscribers.select().where(subscribers.c.chat_id == sa.bindparam("chat"))


@cache
def _update_of(columns: frozenset[str]) -> sa.Update:
    """UPDATE … SET `columns` … RETURNING the row, for one subscriber: built once for each set
    of columns a preference change writes, the values bound at execution."""
    return (
        subscribers.update()
        .where(subscribers.c.chat_id == sa.bindparam("chat"))
        .values({name: sa.bindparam(f"v_{name}") for name in sorted(columns)})
        .returning(*subscribers.c)
    )


class SubscriberRepository:
    def __init__(self, engine: Database) -> None:
        self._engine = engine

    async def get(self, chat_id: int) -> Subscriber | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(_BY_CHAT, {"chat": chat_id})).first()
        return _to_subscriber(row) if row else None

    async def register(
        self, chat_id: int, *, name: str, username: str | None, source: str | None
    ) -> Registration:
        """The subscriber for this chat, created on first contact; never a second row."""
        existing = await self.get(chat_id)
        if existing is not None:
            return Registration(existing, created=False)
        now = utcnow()
        try:
            async with self._engine.begin() as conn:
                row = (
                    await conn.execute(
                        subscribers.insert()
                        .values(
                            chat_id=chat_id,
                            name=name[:128],
                            username=username,
                            topics=encode_topics(ALL_TOPICS),
                            frequency=Frequency.WEEKLY.value,
                            status=SubscriberStatus.ACTIVE.value,
                            source=source,
                            created_at=now,
                            updated_at=now,
                        )
                        .returning(*subscribers.c)
                    )
                ).one()
        except IntegrityError:  # two /start updates of one chat raced; the other one created it
            subscriber = await self.get(chat_id)
            assert subscriber is not None
            return Registration(subscriber, created=False)
        return Registration(_to_subscriber(row), created=True)

    async def by_username(self, username: str) -> Subscriber | None:
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    subscribers.select().where(
                        sa.func.lower(subscribers.c.username) == username.lower()
                    )
                )
            ).first()
        return _to_subscriber(row) if row else None

    async def _update(self, chat_id: int, **values: Any) -> Subscriber | None:
        values["updated_at"] = utcnow()
        async with self._engine.begin() as conn:
            statement = _update_of(frozenset(values))
            params = {"chat": chat_id, **{f"v_{name}": v for name, v in values.items()}}
            row = (await conn.execute(statement, params)).first()
        return _to_subscriber(row) if row else None

    async def set_role(self, chat_id: int, role: Role) -> Subscriber | None:
        return await self._update(chat_id, role=role.value)

    async def set_org_kind(self, chat_id: int, org_kind: OrgKind) -> Subscriber | None:
        return await self._update(chat_id, org_kind=org_kind.value)

    async def set_org_name(self, chat_id: int, org_name: str | None) -> Subscriber | None:
        return await self._update(chat_id, org_name=org_name)

    async def set_topics(self, chat_id: int, topics: Iterable[Topic]) -> Subscriber | None:
        return await self._update(chat_id, topics=encode_topics(topics))

    async def set_frequency(self, chat_id: int, frequency: Frequency) -> Subscriber | None:
        return await self._update(chat_id, frequency=frequency.value)

    async def set_status(self, chat_id: int, status: SubscriberStatus) -> Subscriber | None:
        return await self._update(chat_id, status=status.value)

    async def mark_onboarded(self, chat_id: int, at: datetime | None = None) -> Subscriber | None:
        return await self._update(chat_id, onboarded_at=at or utcnow())

    async def touch_profile(
        self, subscriber: Subscriber, *, name: str, username: str | None
    ) -> None:
        """Keep the display name current; the only personal data besides preferences. Nothing
        is written when it is what `subscriber` (just read) already has: a /start repeats."""
        if subscriber.name == name[:128] and subscriber.username == username:
            return
        async with self._engine.begin() as conn:
            await conn.execute(
                subscribers.update()
                .where(
                    subscribers.c.chat_id == subscriber.chat_id,
                    sa.or_(
                        subscribers.c.name != name[:128],
                        sa.func.coalesce(subscribers.c.username, "") != (username or ""),
                    ),
                )
                .values(name=name[:128], username=username, updated_at=utcnow())
            )

    async def forget(self, chat_id: int) -> bool:
        """Erase everything of this chat (see storage.privacy); False if it wasn't subscribed."""
        async with self._engine.begin() as conn:
            return await erase_chat(conn, chat_id)

    async def count_by(self, column: str) -> dict[str, int]:
        """Subscribers counted by one column (status, role, org_kind, frequency, source)."""
        col = subscribers.c[column]
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                sa.select(col, sa.func.count())
                .where(subscribers.c.onboarded_at.is_not(None))
                .group_by(col)
            )
            return {(key or ""): count for key, count in rows}
