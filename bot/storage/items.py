"""Items (materials, events, cases, announcements) and the digest's queries over them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, TypeVar

import sqlalchemy as sa

from bot.content.digest import DigestGroup
from bot.content.models import (
    VISIBLE_STATUSES,
    Frequency,
    Item,
    ItemKind,
    ItemStatus,
    OrgKind,
    Role,
    SubscriberStatus,
)
from bot.content.search import query_patterns, search_document
from bot.storage.database import Database
from bot.storage.db import as_utc, utcnow
from bot.storage.schema import items, subscribers
from bot.storage.subscribers import decode_topics

E = TypeVar("E", bound=StrEnum)

# A fixed list of bound values, not an "expanding" IN: that one is rendered into the SQL at
# every execution, this one is compiled once like the rest of the statement.
_VISIBLE = [sa.literal(v) for v in sorted(s.value for s in VISIBLE_STATUSES)]


def _codes(values: Iterable[StrEnum]) -> str:
    return ",".join(sorted(v.value for v in values))


def _decode(enum: type[E], text: str | None) -> frozenset[E]:
    members = enum._value2member_map_
    return frozenset(enum(code) for code in (text or "").split(",") if code in members)


def _member(enum: type[E], code: str | None) -> E | None:
    """A stored code as its enum member; None when empty or no longer known."""
    if not code or code not in enum._value2member_map_:
        return None
    return enum(code)


def _stored(moment: datetime | None) -> datetime | None:
    """UTC for the database: SQLite keeps a timestamp's wall time and drops its zone."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _to_item(row: sa.Row[Any]) -> Item:
    return Item(
        id=row.id,
        kind=ItemKind(row.kind),
        title=row.title,
        body=row.body,
        url=row.url,
        status=ItemStatus(row.status),
        audience_roles=_decode(Role, row.audience_roles),
        audience_orgs=_decode(OrgKind, row.audience_orgs),
        body_entities=row.body_entities,
        image_url=row.image_url,
        feed_id=row.feed_id,
        guid=row.guid,
        published_at=as_utc(row.published_at),
        approved_at=as_utc(row.approved_at),
        publish_at=as_utc(row.publish_at),
        urgent=bool(row.urgent),
        author_id=row.author_id,
        starts_at=as_utc(row.starts_at),
        ends_at=as_utc(row.ends_at),
        timing_text=row.timing_text,
        place=row.place,
        registration_url=row.registration_url,
        organisation=row.organisation,
        site_type=row.site_type,
        source_key=row.source_key,
        timing_json=row.timing_json,
        period_start=row.period_start,
        period_end=row.period_end,
        audience_text=row.audience_text,
        responsible_text=row.responsible_text,
        attachment_file_id=row.attachment_file_id,
        attachment_kind=row.attachment_kind,
        created_at=as_utc(row.created_at),
        updated_at=as_utc(row.updated_at),
    )


def item_values(item: Item, now: datetime) -> dict[str, Any]:
    """The row for a new item (its `id` is left to the database)."""
    return {
        "kind": item.kind.value,
        "title": item.title,
        "body": item.body,
        "body_entities": item.body_entities,
        "url": item.url,
        "image_url": item.image_url,
        "feed_id": item.feed_id,
        "guid": item.guid,
        "published_at": _stored(item.published_at),
        "audience_roles": _codes(item.audience_roles),
        "audience_orgs": _codes(item.audience_orgs),
        "status": item.status.value,
        "approved_at": _stored(item.approved_at),
        "publish_at": _stored(item.publish_at),
        "urgent": item.urgent,
        "author_id": item.author_id,
        "starts_at": _stored(item.starts_at),
        "ends_at": _stored(item.ends_at),
        "timing_text": item.timing_text,
        "place": item.place,
        "registration_url": item.registration_url,
        "organisation": item.organisation,
        "site_type": item.site_type,
        "source_key": item.source_key,
        "timing_json": item.timing_json,
        "period_start": item.period_start,
        "period_end": item.period_end,
        "audience_text": item.audience_text,
        "responsible_text": item.responsible_text,
        "attachment_file_id": item.attachment_file_id,
        "attachment_kind": item.attachment_kind,
        "search_stems": search_document(item.title, item.body),
        "created_at": _stored(item.created_at) or now,
        "updated_at": _stored(item.updated_at) or now,
    }


def _activities() -> sa.Select[Any]:
    """Visible events starting in [since, until), then activities without an exact start whose
    period overlaps [first, last]; built once (what's next is asked all the time)."""
    c = items.c
    dated = sa.and_(
        c.starts_at.is_not(None),
        c.starts_at >= sa.bindparam("since"),
        c.starts_at < sa.bindparam("until"),
    )
    ongoing = sa.and_(
        c.starts_at.is_(None),
        c.period_start <= sa.bindparam("last"),
        c.period_end >= sa.bindparam("first"),
    )
    return (
        items.select()
        .where(c.kind == ItemKind.EVENT.value, c.status.in_(_VISIBLE), sa.or_(dated, ongoing))
        .order_by(c.starts_at.is_(None), c.starts_at, c.period_start, c.id)
    )


_ACTIVITIES = _activities()


class ItemRepository:
    def __init__(self, engine: Database) -> None:
        self._engine = engine

    async def add(self, item: Item, *, now: datetime | None = None) -> Item:
        """Store a new item; `item.id` is ignored and the stored item, with its id, returned."""
        values = item_values(item, _stored(now) or utcnow())
        async with self._engine.begin() as conn:
            item_id = (
                await conn.execute(items.insert().values(**values).returning(items.c.id))
            ).scalar_one()
        stored = await self.get(item_id)
        assert stored is not None
        return stored

    async def get(self, item_id: int) -> Item | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(items.select().where(items.c.id == item_id))).first()
        return _to_item(row) if row else None

    async def approved_between(
        self, kind: ItemKind, since: datetime, until: datetime
    ) -> list[Item]:
        """Items of `kind` approved for the digest in [since, until), newest first. Published
        ones went out as posts of their own and are not repeated."""
        c = items.c
        query = (
            items.select()
            .where(
                c.status == ItemStatus.APPROVED.value,
                c.kind == kind.value,
                c.approved_at >= _stored(since),
                c.approved_at < _stored(until),
            )
            .order_by(c.approved_at.desc(), c.id.desc())
        )
        async with self._engine.connect() as conn:
            return [_to_item(row) for row in await conn.execute(query)]

    async def events_starting(self, since: datetime, until: datetime) -> list[Item]:
        """Visible events starting in [since, until), soonest first."""
        c = items.c
        query = (
            items.select()
            .where(
                c.kind == ItemKind.EVENT.value,
                c.status.in_(_VISIBLE),
                c.starts_at >= _stored(since),
                c.starts_at < _stored(until),
            )
            .order_by(c.starts_at, c.id)
        )
        async with self._engine.connect() as conn:
            return [_to_item(row) for row in await conn.execute(query)]

    async def distinct_signatures(self, frequency: Frequency) -> AsyncIterator[DigestGroup]:
        """The distinct preferences of active, onboarded subscribers with this frequency.

        Streamed: a few hundred rows at most, however many subscribers share them. Each
        signature is built from the stored strings exactly as the fan-out's SQL builds it.
        """
        s = subscribers.c
        query = (
            sa.select(s.topics, s.role, s.org_kind)
            .distinct()
            .where(
                s.status == SubscriberStatus.ACTIVE.value,
                s.onboarded_at.is_not(None),
                s.frequency == frequency.value,
            )
            .order_by(s.topics, s.role, s.org_kind)
        )
        async with self._engine.connect() as conn:
            result = await conn.stream(query)
            async for topics, role, org_kind in result:
                yield DigestGroup(
                    signature=f"{frequency.value}|{topics}|{role or ''}|{org_kind or ''}",
                    topics=decode_topics(topics),
                    role=_member(Role, role),
                    org_kind=_member(OrgKind, org_kind),
                )

    async def due_scheduled(self, now: datetime) -> list[Item]:
        """Scheduled items whose time has come, oldest first."""
        c = items.c
        query = (
            items.select()
            .where(c.status == ItemStatus.SCHEDULED.value, c.publish_at <= _stored(now))
            .order_by(c.publish_at, c.id)
        )
        async with self._engine.connect() as conn:
            return [_to_item(row) for row in await conn.execute(query)]

    async def mark_published(self, item_id: int, now: datetime) -> bool:
        """scheduled/approved/draft → published; False if it was already published or removed."""
        c = items.c
        async with self._engine.begin() as conn:
            result = await conn.execute(
                items.update()
                .where(c.id == item_id, c.status != ItemStatus.PUBLISHED.value)
                .values(
                    status=ItemStatus.PUBLISHED.value,
                    approved_at=sa.func.coalesce(c.approved_at, _stored(now)),
                    updated_at=_stored(now),
                )
            )
        return bool(result.rowcount)

    async def by_source_key(self, source_key: str) -> Item | None:
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(items.select().where(items.c.source_key == source_key))
            ).first()
        return _to_item(row) if row else None

    async def update(self, item: Item, now: datetime) -> Item:
        """Overwrite a stored item's fields with `item`'s (same id); created_at stays."""
        values = item_values(item, _stored(now) or utcnow())
        values.pop("created_at")
        values["updated_at"] = _stored(now)
        async with self._engine.begin() as conn:
            await conn.execute(items.update().where(items.c.id == item.id).values(**values))
        stored = await self.get(item.id)
        assert stored is not None
        return stored

    async def search(
        self, query: str, *, limit: int, offset: int = 0, kind: ItemKind | None = None
    ) -> tuple[list[Item], int]:
        """Visible items whose title or body has every word of `query` (any word form),
        newest first, and how many there are in all."""
        patterns = query_patterns(query)
        if not patterns:
            return [], 0
        c = items.c
        where: list[sa.ColumnElement[bool]] = [
            c.status.in_(_VISIBLE),
            *(c.search_stems.like(p) for p in patterns),
        ]
        if kind is not None:
            where.append(c.kind == kind.value)
        return await self._newest_page(where, limit, offset)

    async def latest(
        self, kind: ItemKind, *, limit: int, offset: int = 0
    ) -> tuple[list[Item], int]:
        """Visible items of a kind, newest first, and how many there are."""
        c = items.c
        return await self._newest_page(
            [c.status.in_(_VISIBLE), c.kind == kind.value], limit, offset
        )

    async def _newest_page(
        self, where: list[sa.ColumnElement[bool]], limit: int, offset: int
    ) -> tuple[list[Item], int]:
        """One page of the items matching `where`, newest first, and how many match in all."""
        c = items.c
        newest = sa.func.coalesce(c.approved_at, c.published_at, c.created_at)
        async with self._engine.connect() as conn:
            total = (
                await conn.execute(sa.select(sa.func.count()).select_from(items).where(*where))
            ).scalar_one()
            rows = await conn.execute(
                items.select()
                .where(*where)
                .order_by(newest.desc(), c.id.desc())
                .limit(limit)
                .offset(offset)
            )
            return [_to_item(row) for row in rows], total

    async def activities_between(
        self, since: datetime, until: datetime, first_day: date, last_day: date
    ) -> list[Item]:
        """Visible events of a window, dated first: those starting in [since, until), then
        ongoing activities (plan rows without an exact start) whose period overlaps the days."""
        params = {
            "since": _stored(since), "until": _stored(until), "first": first_day, "last": last_day
        }  # fmt: skip
        async with self._engine.connect() as conn:
            rows = await conn.execute(_ACTIVITIES, params)
            return [_to_item(row) for row in rows]
