"""Posts: an editor's draft becomes an item (published now, at a time, with the digest, or kept
as a draft), a sent post is corrected, a queued item is published now.

Every path that sends something wakes the delivery engine through the injected `wake`, so no
handler has to remember to.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from enum import StrEnum
from typing import Any

from bot.content.models import (
    Audience,
    Campaign,
    CampaignStatus,
    Item,
    ItemKind,
    ItemStatus,
    MessagePart,
    OrgKind,
    PublishMode,
    Role,
)
from bot.services.publishing import TOPIC_OF_KIND, Publisher, edit_part, post_keys
from bot.services.wake import Wake
from bot.storage.items import ItemRepository
from bot.storage.queue import QueueRepository


def _moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def draft_item(data: Mapping[str, Any], author_id: int) -> Item:
    """The item a /new dialog's data describes; status and times are set by `placed`."""
    entities = data.get("entities") or []
    return Item(
        id=0,
        kind=ItemKind(data["kind"]),
        title=data.get("title", ""),
        body=data.get("body", ""),
        body_entities=json.dumps(entities, ensure_ascii=False) if entities else None,
        audience_roles=frozenset(Role(r) for r in data.get("roles", [])),
        audience_orgs=frozenset(OrgKind(o) for o in data.get("orgs", [])),
        author_id=author_id,
        starts_at=_moment(data.get("starts_at")),
        place=data.get("place"),
        registration_url=data.get("registration_url"),
        organisation=data.get("organisation"),
        site_type=data.get("site_type"),
        publish_at=_moment(data.get("publish_at")),
        attachment_file_id=data.get("file_id"),
        attachment_kind=data.get("file_kind"),
    )


def placed(draft: Item, mode: PublishMode, now: datetime) -> Item:
    """The draft as it is stored for `mode`: scheduled for its time, approved for the next
    digest (from now), or a draft — which "now" publishes right after it is stored."""
    if mode is PublishMode.AT:
        if draft.publish_at is None:
            raise ValueError("a post scheduled for a time needs publish_at")
        return replace(draft, status=ItemStatus.SCHEDULED, approved_at=None)
    if mode is PublishMode.DIGEST:
        return replace(draft, status=ItemStatus.APPROVED, approved_at=now, publish_at=None)
    return replace(draft, status=ItemStatus.DRAFT, approved_at=None, publish_at=None)


@dataclass(frozen=True, slots=True)
class Created:
    item: Item
    campaign: Campaign | None = None  # the post's campaign, for "now"


class EditCheck(StrEnum):
    """What an edited text means for the messages already sent."""

    NOT_FOUND = "not-found"
    NOTHING_SENT = "nothing-sent"
    STILL_SENDING = "still-sending"
    NOT_EDITABLE = "not-editable"
    FOLDED = "folded"  # its deliveries are folded by retention: their message ids are gone
    ASK = "ask"  # sent and editable in place: the editor decides


@dataclass(frozen=True, slots=True)
class Edited:
    check: EditCheck
    item: Item | None = None
    sent: int = 0  # messages already delivered


class EditStart(StrEnum):
    NOT_FOUND = "not-found"  # the item or its editable form is gone
    ALREADY_STARTED = "already-started"  # this edit's campaign exists (a double tap)
    STARTED = "started"


@dataclass(frozen=True, slots=True)
class EditCampaign:
    outcome: EditStart
    total: int = 0


class QueuePublish(StrEnum):
    STALE = "stale"  # another editor (or the timetable) moved the item first
    ALREADY_PUBLISHED = "already-published"  # the timetable posted it a moment earlier
    NOBODY = "nobody"  # published, but nobody has its topic on yet
    SENDING = "sending"


@dataclass(frozen=True, slots=True)
class Published:
    outcome: QueuePublish
    total: int = 0
    status: ItemStatus | None = None  # for STALE: where the item is now (None: gone)


class PostService:
    def __init__(
        self,
        items: ItemRepository,
        queue: QueueRepository,
        publisher: Publisher,
        tz: tzinfo,
        wake: Wake,
    ) -> None:
        self._items = items
        self._queue = queue
        self._publisher = publisher
        self._campaigns = publisher.campaigns
        self._tz = tz
        self._wake = wake

    # --- /new ------------------------------------------------------------------------------

    async def create(
        self,
        draft: Item,
        mode: PublishMode,
        editor: int,
        now: datetime,
        *,
        stored: Callable[[Item], Awaitable[None]] | None = None,
    ) -> Created:
        """Store the draft for `mode`; "now" also sends it, the editor seeing its progress.
        `stored` runs between the two, so the editor's "done" comes before the first report."""
        item = await self._items.add(placed(draft, mode, now), now=now)
        if stored is not None:
            await stored(item)
        if mode is not PublishMode.NOW:
            return Created(item)
        campaign = await self._publisher.publish_item(
            item, now, created_by=editor, progress_chat_id=editor
        )
        self._wake()
        return Created(item, campaign)

    async def audience_size(
        self, kind: ItemKind, roles: frozenset[Role], orgs: frozenset[OrgKind]
    ) -> int:
        """How many subscribers a post of `kind` for these roles and organisations reaches now."""
        return await self._campaigns.audience_size(
            Audience(topic=TOPIC_OF_KIND[kind], roles=roles, org_kinds=orgs)
        )

    # --- /edit -----------------------------------------------------------------------------

    async def edit_text(
        self, item_id: int, title: str, body: str, entities: list[dict[str, Any]], now: datetime
    ) -> Edited:
        """Store the new text at once; then say whether the sent messages can follow."""
        item = await self._items.get(item_id)
        if item is None:
            return Edited(EditCheck.NOT_FOUND)
        edited = replace(
            item,
            title=title,
            body=body,
            body_entities=json.dumps(entities, ensure_ascii=False) if entities else None,
        )
        item = await self._items.update(edited, now)
        sent = await self._campaigns.sent_messages(post_keys(item.id))
        if sent == 0:
            if await self._campaigns.folded(post_keys(item.id)):
                return Edited(EditCheck.FOLDED, item)
            return Edited(EditCheck.NOTHING_SENT, item)
        if await self._still_sending(item.id):
            return Edited(EditCheck.STILL_SENDING, item, sent)
        if await self._edited_part(item) is None:
            return Edited(EditCheck.NOT_EDITABLE, item, sent)
        return Edited(EditCheck.ASK, item, sent)

    async def _still_sending(self, item_id: int) -> bool:
        """The post is still going out: its queued messages would carry the old text (the
        sender holds a campaign's parts), so the sent ones are edited only after its report."""
        for key in post_keys(item_id):
            campaign = await self._campaigns.get_by_key(key)
            if campaign is not None and campaign.status in (
                CampaignStatus.SENDING,
                CampaignStatus.PAUSED,
            ):
                return True
        return False

    async def _edited_part(self, item: Item) -> MessagePart | None:
        sent_parts = await self._campaigns.variant_count(post_keys(item.id)[0])
        return edit_part(item, self._tz, sent_parts)

    async def edit_sent(
        self, item_id: int, version: int, editor: int, now: datetime
    ) -> EditCampaign:
        """Change the delivered messages to the item's current text: one campaign per edit
        (`version`), so a second press of the same button starts nothing."""
        item = await self._items.get(item_id)
        part = await self._edited_part(item) if item is not None else None
        if item is None or part is None:
            return EditCampaign(EditStart.NOT_FOUND)
        campaign = await self._campaigns.create_edit(
            f"edit:{item_id}:{version}", item.title, part, post_keys(item_id),
            item_id=item_id, created_by=editor, progress_chat_id=editor, now=now,
        )  # fmt: skip
        if campaign is None:
            return EditCampaign(EditStart.ALREADY_STARTED)
        self._wake()
        return EditCampaign(EditStart.STARTED, campaign.total)

    # --- /queue: publish now ---------------------------------------------------------------

    async def publish_from_queue(self, item_id: int, editor: int, now: datetime) -> Published:
        """Take the item out of the queue and send it; a press that lost the race to another
        editor changes nothing. If sending can't start, the item goes back where it was."""
        before = await self._queue.claim_for_publishing(item_id, now)
        if before is None:
            item = await self._queue.get(item_id)
            return Published(QueuePublish.STALE, status=item.status if item else None)
        item = await self._queue.get(item_id)
        assert item is not None
        try:
            campaign = await self._publisher.publish_item(
                item, now, created_by=editor, progress_chat_id=editor
            )
        except Exception:
            await self._queue.release(item_id, before, now)  # back in the queue, for a retry
            raise
        self._wake()
        if campaign is None:  # the same `post:` key: the timetable was first
            return Published(QueuePublish.ALREADY_PUBLISHED, status=ItemStatus.PUBLISHED)
        if campaign.total == 0:
            return Published(QueuePublish.NOBODY)
        return Published(QueuePublish.SENDING, campaign.total)
