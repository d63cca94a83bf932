"""The editors' queue: approve, reject, delete, reschedule or rewrite a queued item.

Each move is one conditional update in storage (bot/storage/queue.py): of two editors pressing at
once, one moves the item and the other is told where it is now — a stale press changes nothing.
Publishing from the queue is the posts service's (`PostService.publish_from_queue`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from enum import StrEnum

from bot import texts
from bot.content.digest import MESSAGE_LIMIT, utf16_len
from bot.content.models import Item, ItemKind, ItemStatus
from bot.content.when import parse_when
from bot.storage.queue import APPROVABLE, QUEUE_STATUSES, QueueRepository


def in_queue(item: Item) -> bool:
    """Still waiting for an editor (not approved, rejected, published or deleted since)."""
    return item.status in QUEUE_STATUSES


def approvable(item: Item) -> bool:
    """A feed's item or a draft: it can go into the next digest."""
    return item.status in APPROVABLE


class Move(StrEnum):
    APPROVE = "approve"  # into the next digest
    REJECT = "reject"
    DELETE = "delete"


@dataclass(frozen=True, slots=True)
class Moved:
    done: bool
    status: ItemStatus | None = None  # not done: where the item is now (None: it is gone)


class Reschedule(StrEnum):
    DONE = "done"
    NOT_A_TIME = "not-a-time"
    IN_THE_PAST = "in-the-past"
    STALE = "stale"


@dataclass(frozen=True, slots=True)
class Rescheduled:
    outcome: Reschedule
    moment: datetime | None = None
    status: ItemStatus | None = None  # STALE: where the item is now


class Rewrite(StrEnum):
    SAVED = "saved"
    SAVED_AS_DRAFT = "saved-as-draft"  # a feed's pending item keeps the editor's text
    TOO_LONG = "too-long"
    STALE = "stale"


@dataclass(frozen=True, slots=True)
class Rewritten:
    outcome: Rewrite
    length: int = 0  # TOO_LONG: the post's length in Telegram's units
    status: ItemStatus | None = None  # STALE: where the item is now


# --- a feed item's kind and title ---

TITLE_LIMIT = 300  # the items table's column


class Retitle(StrEnum):
    SAVED = "saved"
    SAVED_AS_DRAFT = "saved-as-draft"  # a feed's pending item keeps the editor's title
    EMPTY = "empty"
    TOO_LONG = "too-long"  # longer than TITLE_LIMIT, or the post outgrows one message
    STALE = "stale"


@dataclass(frozen=True, slots=True)
class Retitled:
    outcome: Retitle
    status: ItemStatus | None = None  # STALE: where the item is now


@dataclass(frozen=True, slots=True)
class KindChanged:
    done: bool
    item: Item | None = None  # not done: the item as it is now (None: it is gone)
    undated_event: bool = False  # done: an event with no date, which no digest would list


def clean_title(text: str) -> str:
    """A title is one line: the lines an editor typed, joined by spaces."""
    return " ".join(text.split())


class ModerationService:
    def __init__(self, queue: QueueRepository, tz: tzinfo) -> None:
        self._queue = queue
        self._tz = tz

    async def _where(self, item_id: int) -> ItemStatus | None:
        item = await self._queue.get(item_id)
        return item.status if item is not None else None

    async def move(self, move: Move, item_id: int, now: datetime) -> Moved:
        step = {
            Move.APPROVE: self._queue.approve,
            Move.REJECT: self._queue.reject,
            Move.DELETE: self._queue.delete,
        }[move]
        if await step(item_id, now):
            return Moved(True)
        return Moved(False, await self._where(item_id))

    async def reschedule(self, item_id: int, text: str, now: datetime) -> Rescheduled:
        """Move a queued item to the time the editor wrote («завтра в 10:00», «12.03 15:30»)."""
        now = now.astimezone(self._tz)  # «завтра в 10:00» is the bot's local time
        moment = parse_when(text, now)
        if moment is None:
            return Rescheduled(Reschedule.NOT_A_TIME)
        if moment <= now:
            return Rescheduled(Reschedule.IN_THE_PAST, moment)
        if not await self._queue.schedule(item_id, moment, now):
            return Rescheduled(Reschedule.STALE, moment, await self._where(item_id))
        return Rescheduled(Reschedule.DONE, moment)

    async def rewrite(
        self, item: Item, body: str, entities_json: str | None, now: datetime
    ) -> Rewritten:
        """New text for a queued item, refused when the post would outgrow one message."""
        edited = replace(item, body=body, body_entities=entities_json)
        length = utf16_len(texts.message_part(texts.item_post(edited, self._tz)).text)
        if length > MESSAGE_LIMIT:
            return Rewritten(Rewrite.TOO_LONG, length)
        if not await self._queue.set_text(item.id, item.title, body, entities_json, now):
            return Rewritten(Rewrite.STALE, status=await self._where(item.id))
        if item.status is ItemStatus.PENDING:
            return Rewritten(Rewrite.SAVED_AS_DRAFT)
        return Rewritten(Rewrite.SAVED)

    async def change_kind(
        self, item_id: int, was: ItemKind, kind: ItemKind, now: datetime
    ) -> KindChanged:
        """The queued item becomes `kind` if it is still queued and still of kind `was`."""
        if await self._queue.set_kind(item_id, was, kind, now):
            item = await self._queue.get(item_id)
            undated = (
                kind is ItemKind.EVENT
                and item is not None
                and item.starts_at is None
                and item.period_start is None
                and not item.timing_text
            )
            return KindChanged(True, undated_event=undated)
        return KindChanged(False, await self._queue.get(item_id))

    async def retitle(self, item: Item, text: str, now: datetime) -> Retitled:
        """A new title for a queued item; the body and the link stay as they were."""
        title = clean_title(text)
        if not title:
            return Retitled(Retitle.EMPTY)
        edited = replace(item, title=title)
        length = utf16_len(texts.message_part(texts.item_post(edited, self._tz)).text)
        if len(title) > TITLE_LIMIT or length > MESSAGE_LIMIT:
            return Retitled(Retitle.TOO_LONG)
        if not await self._queue.set_title(item.id, title, item.body, now):
            return Retitled(Retitle.STALE, await self._where(item.id))
        if item.status is ItemStatus.PENDING:
            return Retitled(Retitle.SAVED_AS_DRAFT)
        return Retitled(Retitle.SAVED)
