"""The "what's next" answer, shared by the bot and `python -m bot ask`."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from enum import StrEnum

from bot.config import Settings
from bot.content.models import Item, OrgKind, Role
from bot.content.whatsnext import (
    Answer,
    NextQuery,
    answer_items,
    build_answer,
    wants,
    window_moments,
)
from bot.services.timetable import next_reminders_run
from bot.storage.items import ItemRepository
from bot.storage.reminders import ReminderRepository


async def find_activities(
    items: ItemRepository,
    query: NextQuery,
    role: Role | None,
    org_kind: OrgKind | None,
    tz: tzinfo,
) -> tuple[list[Item], list[Item]]:
    """(dated events, ongoing activities) in the query's window, for the asker's audience
    unless the question named another."""
    since, until = window_moments(query, tz)
    candidates = await items.activities_between(since, until, query.start, query.end)
    return answer_items((i for i in candidates if wants(i, query, role, org_kind)), query, tz)


async def find_answer(
    items: ItemRepository,
    query: NextQuery,
    role: Role | None,
    org_kind: OrgKind | None,
    tz: tzinfo,
) -> Answer:
    """The what's-next answer in the order it is shown (see content.whatsnext.build_answer)."""
    since, until = window_moments(query, tz)
    candidates = await items.activities_between(since, until, query.start, query.end)
    return build_answer(candidates, query, role, org_kind, tz)


class Remind(StrEnum):
    """What «Напомнить» under an event did."""

    ADDED = "added"
    ALREADY = "already"  # this chat asked before
    NO_DATE = "no-date"  # an activity without a date: nothing to remind of
    PAST = "past"
    TOO_LATE = "too-late"  # the timetable's last run before the event has passed


def can_remind(item: Item, settings: Settings, now: datetime) -> Remind | None:
    """Why a reminder can't be set for the event, or None if it can: it goes with the
    timetable's run the day before, so one must still be ahead."""
    if item.starts_at is None:
        return Remind.NO_DATE
    if item.starts_at <= now:
        return Remind.PAST
    fire = next_reminders_run(settings, now)
    if (
        fire is None
        or fire.date() + timedelta(days=1) > item.starts_at.astimezone(settings.tz).date()
    ):
        return Remind.TOO_LATE
    return None


async def remind_me(
    reminders: ReminderRepository, item: Item, chat_id: int, settings: Settings, now: datetime
) -> Remind:
    refused = can_remind(item, settings, now)
    if refused is not None:
        return refused
    return Remind.ADDED if await reminders.add(item.id, chat_id) else Remind.ALREADY


async def forget_reminder(reminders: ReminderRepository, item_id: int, chat_id: int) -> bool:
    """«✅ Напомню» pressed again: the reminder is cancelled."""
    return await reminders.remove(item_id, chat_id)


async def reminded(reminders: ReminderRepository, chat_id: int, items: list[Item]) -> set[int]:
    """Which events of an answer this chat has asked to be reminded of."""
    return await reminders.set_for(chat_id, [item.id for item in items if item.starts_at])
