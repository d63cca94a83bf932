"""The first run's use cases: consent and the preset a link carries, then what a new subscriber
is told right after «Готово» — what is coming up for her and when her first digest comes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.config import Settings
from bot.content.models import Frequency, Item, Subscriber, Topic
from bot.content.onboarding import IMPLIED_ORG_KIND, preset_role
from bot.content.whatsnext import default_query
from bot.services.browsing import find_activities
from bot.services.timetable import timetable
from bot.storage.items import ItemRepository
from bot.storage.subscribers import SubscriberRepository

UPCOMING_SHOWN = 3  # a phone screen: the greeting's next few entries, not a whole answer
DIGEST_JOBS = {Frequency.WEEKLY: "digest-weekly", Frequency.DAILY: "digest-daily"}


async def consent(
    subscribers: SubscriberRepository,
    chat_id: int,
    *,
    name: str,
    username: str | None,
    source: str | None,
) -> Subscriber:
    """She agreed: the subscriber row is made now, not before, with what her link preset."""
    registration = await subscribers.register(chat_id, name=name, username=username, source=source)
    subscriber = registration.subscriber
    role = preset_role(source)
    if role is not None and subscriber.role is None:
        subscriber = await subscribers.set_role(chat_id, role) or subscriber
        implied = IMPLIED_ORG_KIND.get(role)
        if implied is not None:
            subscriber = await subscribers.set_org_kind(chat_id, implied) or subscriber
    return subscriber


def next_digest_at(settings: Settings, frequency: Frequency, now: datetime) -> datetime | None:
    """When the timetable next sends the digest of this frequency (None: she gets none)."""
    job = DIGEST_JOBS.get(frequency)
    if job is None:
        return None
    entry = next(e for e in timetable(settings) if e.id == job)
    fire: datetime | None = entry.trigger.get_next_fire_time(None, now)
    return fire


@dataclass(frozen=True, slots=True)
class FirstRun:
    upcoming: list[Item]  # dated entries for her audience; empty if she turned events off
    digest_at: datetime | None


async def first_run(
    items: ItemRepository, subscriber: Subscriber, settings: Settings, now: datetime
) -> FirstRun:
    upcoming: list[Item] = []
    if Topic.EVENTS in subscriber.topics:
        query = default_query(now.astimezone(settings.tz).date())
        dated, _ = await find_activities(
            items, query, subscriber.role, subscriber.org_kind, settings.tz
        )
        upcoming = dated[:UPCOMING_SHOWN]
    return FirstRun(upcoming, next_digest_at(settings, subscriber.frequency, now))
