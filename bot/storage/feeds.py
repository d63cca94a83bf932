"""Feeds, the results of fetching them, and the items their entries become."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from bot.content.feeds import Feed, FeedEntry, FeedKind, backoff_delay
from bot.content.models import ItemStatus
from bot.content.search import search_document
from bot.storage.database import Connection, Database
from bot.storage.db import as_utc, utcnow
from bot.storage.schema import feeds, items

LAST_ERROR_MAX = 500  # feeds.last_error
# Keys per IN (...) list: well under every database's limit on bound parameters.
KEYS_PER_QUERY = 500


@dataclass(frozen=True, slots=True)
class IngestResult:
    new: int = 0
    updated: int = 0  # pending items whose text changed upstream
    unchanged: int = 0  # already stored (or no longer pending): left alone
    backlog: bool = False  # the feed's first entries: queued even on an auto-approved feed
    deferred: int = 0  # new entries over the per-poll cap, left for the next polls


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _kind(code: str) -> FeedKind:
    return FeedKind(code) if code in FeedKind._value2member_map_ else FeedKind.MATERIAL


def _to_feed(row: sa.Row[Any]) -> Feed:
    return Feed(
        id=row.id,
        url=row.url,
        kind=_kind(row.kind),
        title=row.title,
        auto_approve=bool(row.auto_approve),
        enabled=bool(row.enabled),
        etag=row.etag,
        last_modified=row.last_modified,
        last_fetch_at=as_utc(row.last_fetch_at),
        next_fetch_at=as_utc(row.next_fetch_at),
        error_count=row.error_count,
        last_error=row.last_error,
        created_at=as_utc(row.created_at),
    )


def _entities_json(entry: FeedEntry) -> str | None:
    return json.dumps(list(entry.entities), ensure_ascii=False) if entry.entities else None


def _content(entry: FeedEntry) -> dict[str, Any]:
    """The columns an upstream edit may change."""
    return {
        "title": entry.title,
        "body": entry.text,
        "body_entities": _entities_json(entry),
        "url": entry.link,
        "image_url": entry.image_url,
    }


class FeedRepository:
    def __init__(self, engine: Database) -> None:
        self._engine = engine

    async def add(
        self,
        url: str,
        kind: FeedKind,
        *,
        auto_approve: bool = False,
        title: str = "",
        now: datetime | None = None,
    ) -> Feed | None:
        """Store a new feed, due at the next poll; None if one with this URL exists."""
        values = {
            "url": url,
            "kind": kind.value,
            "title": title,
            "auto_approve": auto_approve,
            "enabled": True,
            "error_count": 0,
            "created_at": _utc(now or utcnow()),
        }
        try:
            async with self._engine.begin() as conn:
                feed_id = (
                    await conn.execute(feeds.insert().values(**values).returning(feeds.c.id))
                ).scalar_one()
        except IntegrityError:
            return None
        return await self.get(feed_id)

    async def get(self, feed_id: int) -> Feed | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(feeds.select().where(feeds.c.id == feed_id))).first()
        return _to_feed(row) if row else None

    async def by_url(self, url: str) -> Feed | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(feeds.select().where(feeds.c.url == url))).first()
        return _to_feed(row) if row else None

    async def all(self) -> list[Feed]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(feeds.select().order_by(feeds.c.id))
            return [_to_feed(row) for row in rows]

    async def remove(self, feed_id: int) -> Feed | None:
        """Delete the feed; its items stay (their feed_id becomes NULL). The removed feed."""
        async with self._engine.begin() as conn:
            row = (await conn.execute(feeds.select().where(feeds.c.id == feed_id))).first()
            if row is None:
                return None
            # Explicitly, not only through ON DELETE SET NULL: SQLite enforces that only
            # with foreign keys on, and a feed's items must never point at a reused id.
            await conn.execute(
                items.update().where(items.c.feed_id == feed_id).values(feed_id=None)
            )
            await conn.execute(feeds.delete().where(feeds.c.id == feed_id))
        return _to_feed(row)

    async def set_enabled(self, feed_id: int, enabled: bool) -> bool:
        async with self._engine.begin() as conn:
            result = await conn.execute(
                feeds.update().where(feeds.c.id == feed_id).values(enabled=enabled)
            )
        return result.rowcount > 0

    async def set_url(self, feed_id: int, url: str) -> bool:
        """The feed moved for good (a permanent redirect): ask its new address from now on.
        False if there is no such feed, or another feed already has that address."""
        try:
            async with self._engine.begin() as conn:
                result = await conn.execute(
                    feeds.update().where(feeds.c.id == feed_id).values(url=url)
                )
        except IntegrityError:
            return False
        return result.rowcount > 0

    async def set_auto_approve(self, feed_id: int, auto_approve: bool) -> bool:
        async with self._engine.begin() as conn:
            result = await conn.execute(
                feeds.update().where(feeds.c.id == feed_id).values(auto_approve=auto_approve)
            )
        return result.rowcount > 0

    async def waiting_counts(self) -> dict[int, int]:
        """Feed id → its items still waiting in the editors' queue."""
        c = items.c
        query = (
            sa.select(c.feed_id, sa.func.count())
            .where(c.feed_id.is_not(None), c.status == ItemStatus.PENDING.value)
            .group_by(c.feed_id)
        )
        async with self._engine.connect() as conn:
            return dict((await conn.execute(query)).all())

    async def due(self, now: datetime) -> list[Feed]:
        """Enabled feeds whose rest after errors (if any) is over, in the order they were added."""
        c = feeds.c
        query = (
            feeds.select()
            .where(
                c.enabled.is_(True),
                sa.or_(c.next_fetch_at.is_(None), c.next_fetch_at <= _utc(now)),
            )
            .order_by(c.id)
        )
        async with self._engine.connect() as conn:
            return [_to_feed(row) for row in await conn.execute(query)]

    async def record_not_modified(
        self, feed_id: int, *, now: datetime, etag: str | None, last_modified: str | None
    ) -> None:
        """A 304: the feed is healthy and nothing is new."""
        async with self._engine.begin() as conn:
            await conn.execute(
                feeds.update()
                .where(feeds.c.id == feed_id)
                .values(
                    etag=etag,
                    last_modified=last_modified,
                    **self._healthy(now),
                )
            )

    async def record_error(
        self, feed_id: int, error: str, *, now: datetime, base: timedelta, cap: timedelta
    ) -> Feed | None:
        """One more consecutive failure: the feed rests base × 2^(n-1), at most `cap`."""
        now = _utc(now)
        async with self._engine.begin() as conn:
            # Increment first: the write lock is taken before the count is read.
            result = await conn.execute(
                feeds.update()
                .where(feeds.c.id == feed_id)
                .values(
                    error_count=feeds.c.error_count + 1,
                    last_error=error[:LAST_ERROR_MAX],
                    last_fetch_at=now,
                )
            )
            if result.rowcount == 0:
                return None  # removed while it was being fetched
            count = (
                await conn.execute(sa.select(feeds.c.error_count).where(feeds.c.id == feed_id))
            ).scalar_one()
            await conn.execute(
                feeds.update()
                .where(feeds.c.id == feed_id)
                .values(next_fetch_at=now + backoff_delay(count, base, cap))
            )
        return await self.get(feed_id)

    async def record_fetch(
        self,
        feed: Feed,
        entries: Sequence[FeedEntry],
        *,
        now: datetime,
        etag: str | None,
        last_modified: str | None,
        title: str = "",
        max_new: int | None = None,
    ) -> IngestResult:
        """Store a fetched feed's entries and its new validators, in one transaction.

        Keyed by (feed, entry key): an entry seen before never becomes a second item. If its
        text changed upstream and the item still waits in the editors' queue, the item is
        updated quietly; once an editor has decided on it, it is left alone. New items are
        pending, or approved at once on an auto-approved feed, except the feed's very first
        entries: that is the site's back catalogue, which an editor looks through first.
        Validators are stored with the items, so a crash can't leave a 304 hiding entries.

        At most `max_new` new items per call, the newest first (an editor wants this week's
        news now, not the site's archive of years); the rest come with the next polls. Until
        they have all come the validators are not kept, so the site answers in full rather
        than with a 304 that would hide them, and entries published before the feed's first
        items were stored stay back catalogue: queued even on an auto-approved feed.
        """
        for attempt in range(2):
            try:
                async with self._engine.begin() as conn:
                    result = await self._ingest(conn, feed, entries, _utc(now), max_new)
                    values: dict[str, Any] = {
                        "etag": None if result.deferred else etag,
                        "last_modified": None if result.deferred else last_modified,
                        **self._healthy(now),
                    }
                    if title and not feed.title:
                        values["title"] = title
                    await conn.execute(
                        feeds.update().where(feeds.c.id == feed.id).values(**values)
                    )
                return result
            except IntegrityError:
                # Another instance stored some of these entries meanwhile; now they exist.
                if attempt:
                    raise
        raise AssertionError("unreachable")

    @staticmethod
    def _healthy(now: datetime) -> dict[str, Any]:
        return {
            "last_fetch_at": _utc(now),
            "next_fetch_at": None,
            "error_count": 0,
            "last_error": None,
        }

    async def _ingest(
        self,
        conn: Connection,
        feed: Feed,
        entries: Sequence[FeedEntry],
        now: datetime,
        max_new: int | None = None,
    ) -> IngestResult:
        c = items.c
        keys = [entry.key for entry in entries]
        stored: dict[str, Any] = {}
        columns = (c.id, c.guid, c.status, c.title, c.body, c.body_entities, c.url, c.image_url)
        for start in range(0, len(keys), KEYS_PER_QUERY):
            chunk = keys[start : start + KEYS_PER_QUERY]
            rows = await conn.execute(
                sa.select(*columns).where(c.feed_id == feed.id, c.guid.in_(chunk))
            )
            for found in rows:
                stored[found.guid] = found
        first = sa.select(sa.func.min(c.created_at)).where(c.feed_id == feed.id)
        first_stored = (await conn.execute(first)).scalar()
        backlog = first_stored is None and not stored
        fresh = [entry for entry in entries if entry.key not in stored]
        deferred = 0
        if max_new is not None and len(fresh) > max_new:

            def newest_first(index: int) -> tuple[int, float, int]:
                # Dated entries newest first, then undated ones in the feed's own order.
                published = fresh[index].published
                return (0, -published.timestamp(), index) if published else (1, 0.0, index)

            order = sorted(range(len(fresh)), key=newest_first)
            keep = {fresh[i].key for i in order[:max_new]}
            deferred = len(fresh) - max_new
            entries = [entry for entry in entries if entry.key in stored or entry.key in keep]
        since = as_utc(first_stored) if first_stored is not None else None
        new_rows: list[dict[str, Any]] = []
        updated = unchanged = 0
        for entry in entries:
            content = _content(entry)
            row = stored.get(entry.key)
            if row is None:
                approve = (
                    feed.auto_approve
                    and not backlog
                    and not (
                        since is not None
                        and entry.published is not None
                        and _utc(entry.published) < since
                    )
                )
                status = ItemStatus.APPROVED if approve else ItemStatus.PENDING
                new_rows.append(
                    {
                        **content,
                        "search_stems": search_document(entry.title, entry.text),
                        "kind": feed.kind.item_kind.value,
                        "feed_id": feed.id,
                        "guid": entry.key,
                        "published_at": _utc(entry.published) if entry.published else None,
                        "status": status.value,
                        "approved_at": now if approve else None,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
            elif row.status == ItemStatus.PENDING.value and any(
                getattr(row, name) != value for name, value in content.items()
            ):
                await conn.execute(
                    items.update()
                    .where(c.id == row.id)
                    .values(
                        **content,
                        search_stems=search_document(entry.title, entry.text),
                        published_at=_utc(entry.published) if entry.published else None,
                        updated_at=now,
                    )
                )
                updated += 1
            else:
                unchanged += 1
        if new_rows:
            await conn.execute(items.insert(), new_rows)
        return IngestResult(
            len(new_rows), updated, unchanged, backlog and bool(new_rows), deferred
        )
