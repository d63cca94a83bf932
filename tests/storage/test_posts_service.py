"""The posts and moderation services: what an editor's choice does to an item, and that a stale
press (another editor, or the timetable, was first) changes nothing."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config import Settings, load_settings
from bot.content.models import (
    CampaignStatus,
    DeliveryStatus,
    Item,
    ItemKind,
    ItemStatus,
    PublishMode,
)
from bot.services.browsing import Remind, can_remind, remind_me
from bot.services.container import Services, build_services
from bot.services.moderation import Move, Reschedule, Rewrite
from bot.services.posts import EditCheck, EditStart, QueuePublish, placed
from bot.storage.database import Database
from bot.storage.db import create_engine, migrate
from bot.storage.schema import campaigns, deliveries
from tests.support.databases import scratch_url
from tests.support.subscribers import subscriber

MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=MSK)
EDITOR = 9000


@dataclass
class Wakes:
    count: int = 0

    def __call__(self) -> None:
        self.count += 1


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Database]:
    engine = create_engine(scratch_url(tmp_path, "p"))
    await migrate(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(
        database_url=scratch_url(tmp_path, "p"), admin_ids=(EDITOR,), _env_file=None
    )


@pytest.fixture
def wakes() -> Wakes:
    return Wakes()


@pytest.fixture
async def services(settings: Settings, engine: Database, wakes: Wakes) -> Services:
    services = build_services(settings, engine, wake=wakes)
    for chat_id in (1, 2):
        await subscriber(services.subscribers, chat_id)
    return services


def draft(*, publish_at: datetime | None = None, status: ItemStatus = ItemStatus.DRAFT) -> Item:
    return Item(
        0, ItemKind.ANNOUNCEMENT, "Семинар в ИМЦ", body="Приглашаем координаторов.",
        author_id=EDITOR, publish_at=publish_at, status=status,
    )  # fmt: skip


# --- a new post: publish mode → status and times -------------------------------------------


def test_each_publish_mode_stores_the_status_the_editor_chose() -> None:
    at = NOW + timedelta(days=1)
    scheduled = placed(draft(publish_at=at), PublishMode.AT, NOW)
    assert (scheduled.status, scheduled.publish_at, scheduled.approved_at) == (
        ItemStatus.SCHEDULED, at, None,
    )  # fmt: skip
    digest = placed(draft(), PublishMode.DIGEST, NOW)
    assert (digest.status, digest.approved_at, digest.publish_at) == (
        ItemStatus.APPROVED, NOW, None,
    )  # fmt: skip
    for mode in (PublishMode.NOW, PublishMode.DRAFT):
        kept = placed(draft(publish_at=at), mode, NOW)
        assert (kept.status, kept.publish_at, kept.approved_at) == (ItemStatus.DRAFT, None, None)
    with pytest.raises(ValueError, match="publish_at"):
        placed(draft(), PublishMode.AT, NOW)


async def test_publish_now_sends_to_subscribers_and_wakes_the_sender(
    services: Services, wakes: Wakes
) -> None:
    told: list[ItemStatus] = []

    async def stored(item: Item) -> None:
        told.append(item.status)
        assert wakes.count == 0  # the editor hears "done" before anything goes out

    created = await services.posts.create(draft(), PublishMode.NOW, EDITOR, NOW, stored=stored)
    assert told == [ItemStatus.DRAFT]
    assert created.campaign is not None and created.campaign.total == 2
    assert created.campaign.progress_chat_id == EDITOR
    item = await services.items.get(created.item.id)
    assert item is not None and item.status is ItemStatus.PUBLISHED
    assert wakes.count == 1


async def test_other_modes_send_nothing(services: Services, wakes: Wakes) -> None:
    for mode in (PublishMode.DIGEST, PublishMode.DRAFT):
        created = await services.posts.create(draft(), mode, EDITOR, NOW)
        assert created.campaign is None
        assert await services.campaigns.get_by_key(f"post:{created.item.id}") is None
    scheduled = await services.posts.create(
        draft(publish_at=NOW + timedelta(hours=2)), PublishMode.AT, EDITOR, NOW
    )
    stored = await services.items.get(scheduled.item.id)
    assert stored is not None and stored.status is ItemStatus.SCHEDULED
    assert wakes.count == 0


# --- /edit ---------------------------------------------------------------------------------


async def test_an_edit_of_an_unsent_item_is_saved_without_asking(services: Services) -> None:
    created = await services.posts.create(draft(), PublishMode.DRAFT, EDITOR, NOW)
    edited = await services.posts.edit_text(created.item.id, "Новый заголовок", "Текст", [], NOW)
    assert edited.check is EditCheck.NOTHING_SENT
    item = await services.items.get(created.item.id)
    assert item is not None and (item.title, item.body) == ("Новый заголовок", "Текст")
    missing = await services.posts.edit_text(404, "Заголовок", "Текст", [], NOW)
    assert missing.check is EditCheck.NOT_FOUND


async def delivered(engine: Database, campaign_id: int, *, finished: bool) -> None:
    """As if the sender had delivered the campaign (and, if `finished`, sent its report)."""
    async with engine.begin() as conn:
        await conn.execute(
            deliveries.update()
            .where(deliveries.c.campaign_id == campaign_id)
            .values(status=DeliveryStatus.SENT.value, message_id="11")
        )
        if finished:
            await conn.execute(
                campaigns.update()
                .where(campaigns.c.id == campaign_id)
                .values(status=CampaignStatus.DONE.value)
            )


async def test_an_edit_of_a_sent_post_waits_for_its_report_then_asks_once(
    services: Services, engine: Database, wakes: Wakes
) -> None:
    created = await services.posts.create(draft(), PublishMode.NOW, EDITOR, NOW)
    assert created.campaign is not None
    await delivered(engine, created.campaign.id, finished=False)
    sending = await services.posts.edit_text(created.item.id, "Семинар", "Новая дата", [], NOW)
    assert (sending.check, sending.sent) == (EditCheck.STILL_SENDING, 2)
    await delivered(engine, created.campaign.id, finished=True)
    done = await services.posts.edit_text(created.item.id, "Семинар", "Новая дата", [], NOW)
    assert (done.check, done.sent) == (EditCheck.ASK, 2)
    wakes_before = wakes.count
    started = await services.posts.edit_sent(created.item.id, 1, EDITOR, NOW)
    assert (started.outcome, started.total) == (EditStart.STARTED, 2)
    assert wakes.count == wakes_before + 1
    twice = await services.posts.edit_sent(created.item.id, 1, EDITOR, NOW)
    assert twice.outcome is EditStart.ALREADY_STARTED
    assert wakes.count == wakes_before + 1


# --- /queue --------------------------------------------------------------------------------


async def queued(services: Services, status: ItemStatus = ItemStatus.PENDING) -> Item:
    return await services.items.add(draft(status=status), now=NOW)


async def test_publish_from_the_queue_refuses_a_second_press(
    services: Services, wakes: Wakes
) -> None:
    item = await queued(services)
    first = await services.posts.publish_from_queue(item.id, EDITOR, NOW)
    assert (first.outcome, first.total) == (QueuePublish.SENDING, 2)
    assert wakes.count == 1
    second = await services.posts.publish_from_queue(item.id, EDITOR + 1, NOW)
    assert (second.outcome, second.status) == (QueuePublish.STALE, ItemStatus.PUBLISHED)
    assert wakes.count == 1
    gone = await services.posts.publish_from_queue(404, EDITOR, NOW)
    assert (gone.outcome, gone.status) == (QueuePublish.STALE, None)


async def test_queue_moves_refuse_stale_presses(services: Services) -> None:
    item = await queued(services)
    assert (await services.moderation.move(Move.APPROVE, item.id, NOW)).done
    approved = await services.items.get(item.id)
    assert approved is not None and approved.status is ItemStatus.APPROVED
    late = await services.moderation.move(Move.REJECT, item.id, NOW)
    assert (late.done, late.status) == (False, ItemStatus.APPROVED)
    other = await queued(services, ItemStatus.DRAFT)
    assert (await services.moderation.move(Move.DELETE, other.id, NOW)).done
    again = await services.moderation.move(Move.DELETE, other.id, NOW)
    assert not again.done


async def test_reschedule_reads_the_editors_local_time(services: Services) -> None:
    item = await queued(services)
    utc_now = NOW.astimezone(UTC)
    bad = await services.moderation.reschedule(item.id, "когда-нибудь", utc_now)
    assert bad.outcome is Reschedule.NOT_A_TIME
    past = await services.moderation.reschedule(item.id, "26.11.2026 10:00", utc_now)
    assert past.outcome is Reschedule.IN_THE_PAST
    moved = await services.moderation.reschedule(item.id, "27.11.2026 10:00", utc_now)
    assert moved.outcome is Reschedule.DONE
    assert moved.moment == datetime(2026, 11, 27, 10, 0, tzinfo=MSK)
    stored = await services.items.get(item.id)
    assert stored is not None and stored.status is ItemStatus.SCHEDULED
    assert stored.publish_at == datetime(2026, 11, 27, 10, 0, tzinfo=MSK)
    await services.moderation.move(Move.REJECT, item.id, NOW)
    stale = await services.moderation.reschedule(item.id, "28.11.2026 10:00", utc_now)
    assert (stale.outcome, stale.status) == (Reschedule.STALE, ItemStatus.REJECTED)


async def test_rewriting_a_feed_item_keeps_it_as_a_draft(services: Services) -> None:
    item = await queued(services)
    done = await services.moderation.rewrite(item, "Исправленный текст", None, NOW)
    assert done.outcome is Rewrite.SAVED_AS_DRAFT
    stored = await services.items.get(item.id)
    assert stored is not None
    assert (stored.status, stored.body) == (ItemStatus.DRAFT, "Исправленный текст")
    too_long = await services.moderation.rewrite(stored, "я" * 5000, None, NOW)
    assert too_long.outcome is Rewrite.TOO_LONG and too_long.length > 4096
    unchanged = await services.items.get(item.id)
    assert unchanged is not None and unchanged.body == "Исправленный текст"


# --- «Напомнить» ---------------------------------------------------------------------------


def event(starts_at: datetime | None) -> Item:
    return Item(7, ItemKind.EVENT, "Экспертный совет", starts_at=starts_at)


def test_a_reminder_needs_the_timetables_evening_run_before_the_event(
    settings: Settings,
) -> None:
    # Reminders go at 18:00 the day before (the default REMINDERS_CRON).
    assert can_remind(event(None), settings, NOW) is Remind.NO_DATE
    assert can_remind(event(NOW - timedelta(hours=1)), settings, NOW) is Remind.PAST
    tomorrow_morning = datetime(2026, 11, 27, 10, 0, tzinfo=MSK)
    assert can_remind(event(tomorrow_morning), settings, NOW) is None  # today's 18:00 run
    evening = datetime(2026, 11, 26, 19, 0, tzinfo=MSK)
    assert can_remind(event(tomorrow_morning), settings, evening) is Remind.TOO_LATE


async def test_pressing_remind_twice_adds_one_reminder(
    services: Services, settings: Settings
) -> None:
    item = await services.items.add(event(datetime(2026, 11, 30, 10, 0, tzinfo=MSK)), now=NOW)
    assert await remind_me(services.reminders, item, 1, settings, NOW) is Remind.ADDED
    assert await remind_me(services.reminders, item, 1, settings, NOW) is Remind.ALREADY
