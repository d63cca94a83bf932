"""The editors' moderation queue: what waits for them and the moves an item makes there.

Every move is one conditional UPDATE (… WHERE status IN (…)): when two editors press at once,
exactly one changes the row and the other learns the item was already handled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from bot.content.models import Item, ItemKind, ItemStatus
from bot.content.search import search_document
from bot.storage.database import Database
from bot.storage.items import ItemRepository
from bot.storage.schema import items

# What the queue shows, in this order: the feeds' new items, the drafts, the scheduled posts.
QUEUE_STATUSES = (ItemStatus.PENDING, ItemStatus.DRAFT, ItemStatus.SCHEDULED)
APPROVABLE = (ItemStatus.PENDING, ItemStatus.DRAFT)
_QUEUED = [s.value for s in QUEUE_STATUSES]


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class QueueCounts:
    pending: int = 0
    drafts: int = 0
    scheduled: int = 0

    @property
    def total(self) -> int:
        return self.pending + self.drafts + self.scheduled


class QueueRepository:
    def __init__(self, engine: Database) -> None:
        self._engine = engine
        self._items = ItemRepository(engine)

    async def counts(self) -> QueueCounts:
        c = items.c
        query = (
            sa.select(c.status, sa.func.count()).where(c.status.in_(_QUEUED)).group_by(c.status)
        )
        async with self._engine.connect() as conn:
            found: dict[str, int] = dict((await conn.execute(query)).all())
        return QueueCounts(
            pending=found.get(ItemStatus.PENDING.value, 0),
            drafts=found.get(ItemStatus.DRAFT.value, 0),
            scheduled=found.get(ItemStatus.SCHEDULED.value, 0),
        )

    @staticmethod
    def _ordered() -> sa.Select[Any]:
        """Queued ids: pending oldest first, then drafts, then scheduled posts soonest first."""
        c = items.c
        order = sa.case(
            *((c.status == s.value, n) for n, s in enumerate(QUEUE_STATUSES)), else_=len(_QUEUED)
        )
        return (
            sa.select(c.id)
            .where(c.status.in_(_QUEUED))
            .order_by(order, c.publish_at, c.created_at, c.id)
        )

    async def at(self, index: int) -> Item | None:
        """The queue's item at `index` (0-based)."""
        query = self._ordered().limit(1).offset(max(0, index))
        async with self._engine.connect() as conn:
            item_id = (await conn.execute(query)).scalar()
        return await self._items.get(item_id) if item_id is not None else None

    async def index_of(self, item_id: int) -> int | None:
        """Where an item stands in the queue now; None if it left it."""
        async with self._engine.connect() as conn:
            ids = list((await conn.execute(self._ordered())).scalars())
        return ids.index(item_id) if item_id in ids else None

    async def get(self, item_id: int) -> Item | None:
        return await self._items.get(item_id)

    async def _move(self, item_id: int, allowed: tuple[ItemStatus, ...], **values: object) -> bool:
        c = items.c
        async with self._engine.begin() as conn:
            result = await conn.execute(
                items.update()
                .where(c.id == item_id, c.status.in_([s.value for s in allowed]))
                .values(**values)
            )
        return bool(result.rowcount)

    async def approve(self, item_id: int, now: datetime) -> bool:
        """pending/draft → approved: it goes into the next digest."""
        return await self._move(
            item_id, APPROVABLE, status=ItemStatus.APPROVED.value,
            approved_at=_utc(now), updated_at=_utc(now),
        )  # fmt: skip

    async def reject(self, item_id: int, now: datetime) -> bool:
        return await self._move(
            item_id, QUEUE_STATUSES, status=ItemStatus.REJECTED.value, updated_at=_utc(now)
        )

    async def schedule(self, item_id: int, publish_at: datetime, now: datetime) -> bool:
        """Any queued item → scheduled: the timetable posts it at `publish_at`."""
        return await self._move(
            item_id, QUEUE_STATUSES, status=ItemStatus.SCHEDULED.value,
            publish_at=_utc(publish_at), updated_at=_utc(now),
        )  # fmt: skip

    async def set_text(
        self, item_id: int, title: str, body: str, entities_json: str | None, now: datetime
    ) -> bool:
        """New text for a queued item. A pending feed item becomes a draft: the feed's next
        poll rewrites pending items whose text changed upstream, and would undo the edit."""
        c = items.c
        status = sa.case(
            (c.status == ItemStatus.PENDING.value, ItemStatus.DRAFT.value), else_=c.status
        )
        return await self._move(
            item_id, QUEUE_STATUSES, body=body, body_entities=entities_json,
            search_stems=search_document(title, body), status=status, updated_at=_utc(now),
        )  # fmt: skip

    # --- a feed item's kind and title ---

    async def set_kind(self, item_id: int, was: ItemKind, kind: ItemKind, now: datetime) -> bool:
        """A queued item of kind `was` becomes `kind`; False if it left the queue or someone
        changed its kind first. A feed's poll never rewrites the kind, so a pending item stays
        pending."""
        c = items.c
        async with self._engine.begin() as conn:
            result = await conn.execute(
                items.update()
                .where(c.id == item_id, c.status.in_(_QUEUED), c.kind == was.value)
                .values(kind=kind.value, updated_at=_utc(now))
            )
        return bool(result.rowcount)

    async def set_title(self, item_id: int, title: str, body: str, now: datetime) -> bool:
        """A new title for a queued item; a pending feed item becomes a draft, as in
        `set_text` (the feed's next poll would put its own title back)."""
        c = items.c
        status = sa.case(
            (c.status == ItemStatus.PENDING.value, ItemStatus.DRAFT.value), else_=c.status
        )
        return await self._move(
            item_id, QUEUE_STATUSES, title=title, search_stems=search_document(title, body),
            status=status, updated_at=_utc(now),
        )  # fmt: skip

    async def claim_for_publishing(self, item_id: int, now: datetime) -> ItemStatus | None:
        """Any queued item → published, before its post is created; the status it had, or
        None if someone else handled it first. `release` puts it back if the post fails."""
        before = await self._items.get(item_id)
        if before is None or before.status not in QUEUE_STATUSES:
            return None
        c = items.c
        claimed = await self._move(
            item_id, (before.status,), status=ItemStatus.PUBLISHED.value,
            approved_at=sa.func.coalesce(c.approved_at, _utc(now)), updated_at=_utc(now),
        )  # fmt: skip
        return before.status if claimed else None

    async def release(self, item_id: int, status: ItemStatus, now: datetime) -> None:
        await self._move(
            item_id, (ItemStatus.PUBLISHED,), status=status.value, updated_at=_utc(now)
        )

    async def delete(self, item_id: int, now: datetime) -> bool:
        """Remove a queued item. A feed's item stays as archived (hidden everywhere), so the
        feed's next poll does not bring it back as new."""
        c = items.c
        queued = c.status.in_(_QUEUED)
        async with self._engine.begin() as conn:
            archived = await conn.execute(
                items.update()
                .where(c.id == item_id, queued, c.feed_id.is_not(None), c.guid.is_not(None))
                .values(status=ItemStatus.ARCHIVED.value, updated_at=_utc(now))
            )
            if archived.rowcount:
                return True
            deleted = await conn.execute(items.delete().where(c.id == item_id, queued))
        return bool(deleted.rowcount)
