"""Turning items into campaigns: digests, due scheduled posts and event reminders.

This is the timetable's work (scheduler.TimetableWork); editors' "publish now" (a later issue)
goes through `publish_item` too, so every post reaches people the same way.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta, tzinfo

from bot import texts
from bot.content.models import (
    Audience,
    Campaign,
    CampaignKind,
    Frequency,
    Item,
    ItemKind,
    MessagePart,
    Topic,
)
from bot.services.digests import create_digest
from bot.storage.campaigns import SINGLE_VARIANT, CampaignRepository
from bot.storage.database import Database
from bot.storage.items import ItemRepository
from bot.storage.reminders import ReminderRepository

TOPIC_OF_KIND = {
    ItemKind.ANNOUNCEMENT: Topic.ANNOUNCEMENTS,
    ItemKind.MATERIAL: Topic.MATERIALS,
    ItemKind.EVENT: Topic.EVENTS,
    ItemKind.CASE: Topic.CASES,
}


CAPTION_LIMIT = 1024


def post_parts(item: Item, tz: tzinfo) -> list[MessagePart]:
    """An item as a post: its text, with the editor's photo or document attached — as the
    caption when it fits Telegram's 1024 characters, else the file first and the text after."""
    part = texts.message_part(texts.item_post(item, tz))
    kind, file_id = item.attachment_kind, item.attachment_file_id
    if file_id is None or kind not in ("photo", "document"):
        return [part]
    photo, document = (file_id, None) if kind == "photo" else (None, file_id)
    if len(part.text) <= CAPTION_LIMIT:
        return [MessagePart(part.text, part.entities, photo=photo, document=document)]
    return [MessagePart("", (), photo=photo, document=document), part]


def post_keys(item_id: int) -> tuple[str, str]:
    """The campaigns that sent an item as a post: to subscribers, and to the channel."""
    return f"post:{item_id}", f"channel:{item_id}"


def edit_part(item: Item, tz: tzinfo, sent_parts: int | None) -> MessagePart | None:
    """What the sent post's message becomes after an edit, or None when it can't be edited in
    place: deliveries record only their first message's id, so only single-message posts
    (`sent_parts` == 1 — text, or a file with the text as its caption) that still fit one
    message are edited."""
    parts = post_parts(item, tz)
    if sent_parts != 1 or len(parts) != 1:
        return None
    return parts[0]


class Publisher:
    def __init__(self, engine: Database, tz: tzinfo, *, channel_id: int | None = None) -> None:
        self._tz = tz
        self._channel_id = channel_id
        self.items = ItemRepository(engine)
        self.campaigns = CampaignRepository(engine)
        self.reminders_repo = ReminderRepository(engine)

    async def digest(self, frequency: Frequency, slot: str, since: datetime, now: datetime) -> str:
        result = await create_digest(
            frequency, slot, since, now, now,
            items=self.items, subscribers=self.items, campaigns=self.campaigns, tz=self._tz,
        )  # fmt: skip
        return result.outcome()

    async def publish_item(
        self,
        item: Item,
        now: datetime,
        *,
        created_by: int | None = None,
        progress_chat_id: int | None = None,
    ) -> Campaign | None:
        """Send an item as a post to its audience among those who have its topic on.

        The campaign key `post:<id>` makes this idempotent: a second call (a restart between
        the campaign and the status change, a double tap) creates nothing.
        """
        parts = post_parts(item, self._tz)
        audience = Audience(
            topic=TOPIC_OF_KIND[item.kind], roles=item.audience_roles, org_kinds=item.audience_orgs
        )
        campaign = await self.campaigns.create(
            f"post:{item.id}", CampaignKind.POST, item.title, {SINGLE_VARIANT: parts}, audience,
            urgent=item.urgent, item_id=item.id, created_by=created_by,
            progress_chat_id=progress_chat_id, now=now,
        )  # fmt: skip
        if self._channel_id is not None:
            # Its own key: the channel gets each item once, however often this is called.
            await self.campaigns.create(
                f"channel:{item.id}", CampaignKind.POST, item.title, {SINGLE_VARIANT: parts},
                Audience(chat_ids=(self._channel_id,), direct=True), item_id=item.id, now=now,
            )  # fmt: skip
        await self.items.mark_published(item.id, now)
        return campaign

    async def due_posts(self, when: datetime) -> str:
        due = await self.items.due_scheduled(when)
        for item in due:
            # The editor who scheduled it sees the progress and the report, as for "now".
            await self.publish_item(
                item, when, created_by=item.author_id, progress_chat_id=item.author_id
            )
        return f"published={len(due)}" if due else ""

    async def reminders(self, when: datetime) -> str:
        """Tomorrow's events (in the bot's time zone) to everyone who pressed «Напомнить»."""
        local = when.astimezone(self._tz)
        tomorrow = datetime.combine(local.date() + timedelta(days=1), time(), self._tz)
        due = await self.reminders_repo.due(tomorrow, tomorrow + timedelta(days=1))
        sent = 0
        for item_id, chat_ids in due.items():
            item = await self.items.get(item_id)
            if item is None:
                continue
            parts = [texts.message_part(texts.event_reminder(item, self._tz))]
            campaign = await self.campaigns.create(
                f"reminder:{item_id}:{tomorrow:%Y-%m-%d}", CampaignKind.REMINDER, item.title,
                {SINGLE_VARIANT: parts}, Audience(chat_ids=tuple(chat_ids)), item_id=item_id,
                now=when,
            )  # fmt: skip
            await self.reminders_repo.mark_sent(item_id, chat_ids, when)
            sent += campaign.total if campaign else 0
        return f"events={len(due)} reminders={sent}" if due else ""
