"""The broadcast engine end to end: the real app, the real sender, the Bot API emulator with
Telegram's flood limits, failures injected on the wire."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiogram import Dispatcher

from bot.app import build_bot, build_dispatcher, run_polling
from bot.config import Settings
from bot.content.models import (
    Audience,
    Campaign,
    CampaignKind,
    CampaignStatus,
    DeliveryStatus,
    MessagePart,
    OrgKind,
    Role,
    SubscriberStatus,
)
from bot.delivery.engine import Sender
from bot.delivery.transport import Outcome
from bot.storage.campaigns import SINGLE_VARIANT, CampaignRepository
from bot.storage.database import Database
from bot.storage.db import create_engine, migrate
from bot.storage.outbox import LAST_SEND_AT, UNRECORDED_AT_RESTART, OutboxRepository
from bot.storage.schema import deliveries
from bot.storage.subscribers import SubscriberRepository
from bot.telegram.transport import TelegramTransport
from tests.support.emulator import BotAPIEmulator, Call
from tests.support.harness import EDITOR_ID, make_settings

FIRST_CHAT = 1001
POST = {SINGLE_VARIANT: [MessagePart("Семинар для координаторов — 15 марта, 10:00")]}


def fast_sender(settings: Settings, engine: Database, **overrides: Any) -> Sender:
    """The production sender with timings shrunk so a test takes a second, not minutes."""
    options: dict[str, Any] = {
        "backoff_base": 0.05,
        "progress_interval": 0.3,
        "idle_poll": 60.0,  # so a test proves wake() works
    }
    options.update(overrides)
    return Sender(settings, engine, **options)


@dataclass
class Broadcasting:
    emu: BotAPIEmulator
    engine: Database
    settings: Settings
    subscribers: SubscriberRepository
    campaigns: CampaignRepository
    _apps: list[tuple[Dispatcher, asyncio.Task[None]]] = field(default_factory=list)

    async def add_subscribers(self, n: int, first: int = FIRST_CHAT) -> list[int]:
        chats = list(range(first, first + n))
        for chat_id in chats:
            self.emu.user(chat_id, first_name=f"Педагог {chat_id}")
            await self.subscribers.register(
                chat_id, name=f"u{chat_id}", username=None, source=None
            )
            await self.subscribers.set_role(chat_id, Role.TEACHER)
            await self.subscribers.set_org_kind(chat_id, OrgKind.SCHOOL)
            await self.subscribers.mark_onboarded(chat_id)
        return chats

    async def start(self, sender: Sender | None = None) -> Sender:
        """The real app (polling included) with this sender; returns the sender."""
        sender = sender or fast_sender(self.settings, self.engine)
        dp = build_dispatcher(self.settings, self.engine, sender=sender, with_timetable=False)
        task = asyncio.create_task(run_polling(self.settings, self.engine, dp))
        self._apps.append((dp, task))
        await self.emu.wait_until_polling()
        return sender

    async def stop(self) -> None:
        while self._apps:
            dp, task = self._apps.pop()
            if not task.done():
                await dp.stop_polling()
            await task

    async def post(self, key: str, **kwargs: Any) -> Campaign:
        variants = kwargs.pop("variants", POST)
        campaign = await self.campaigns.create(
            key, CampaignKind.POST, kwargs.pop("title", "Семинар"), variants, Audience(), **kwargs
        )
        assert campaign is not None
        return campaign

    def received(self, chats: list[int]) -> Counter[int]:
        """Successful sendMessage calls per chat."""
        wanted = set(chats)
        return Counter(
            c.chat_id
            for c in self.emu.calls_of("sendMessage")
            if c.ok and c.chat_id in wanted and c.chat_id is not None
        )

    async def wait_done(self, campaign_id: int, within: float = 20.0) -> Campaign:
        async with asyncio.timeout(within):
            while True:
                campaign = await self.campaigns.get(campaign_id)
                assert campaign is not None
                if campaign.status is CampaignStatus.DONE:
                    return campaign
                await asyncio.sleep(0.05)

    async def statuses(self, campaign_id: int) -> dict[int, tuple[str, int, str | None]]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                sa.select(
                    deliveries.c.chat_id,
                    deliveries.c.status,
                    deliveries.c.parts_sent,
                    deliveries.c.error,
                ).where(deliveries.c.campaign_id == campaign_id)
            )
            return {row.chat_id: (row.status, row.parts_sent, row.error) for row in rows}


@pytest.fixture
async def broadcasting(tmp_path: Path) -> AsyncIterator[Broadcasting]:
    async with BotAPIEmulator() as emu:
        emu.user(EDITOR_ID, first_name="Редактор")
        settings = make_settings(
            tmp_path,
            telegram_api_base=emu.base_url,
            send_rate=200,
            send_max_attempts=3,
            quiet_hours="",
        )
        engine = create_engine(settings.database_url)
        await migrate(engine)
        world = Broadcasting(
            emu, engine, settings, SubscriberRepository(engine), CampaignRepository(engine)
        )
        try:
            yield world
        finally:
            await world.stop()
            await engine.dispose()


def final_report(call: Call) -> bool:
    return (
        call.method == "editMessageText"
        and call.ok
        and call.chat_id == EDITOR_ID
        and "завершена" in str(call.params.get("text"))
    )


async def test_a_broadcast_reaches_everyone_once_despite_blocks_floods_and_server_errors(
    broadcasting: Broadcasting,
) -> None:
    b = broadcasting
    emu = b.emu
    # Telegram's per-chat limit; a global one the configured 200/s stays under.
    emu.set_flood_control(global_per_sec=300, per_chat_per_sec=1)
    chats = await b.add_subscribers(200)
    blocked = chats[:10]
    for chat_id in blocked:
        emu.forbid(chat_id)
    gone = chats[10]  # "chat not found" is as final as a block
    emu.fail_next(
        "sendMessage", status=400, description="Bad Request: chat not found", chat_id=gone
    )
    flooded = chats[50]
    emu.fail_next("sendMessage", status=429, retry_after=1, chat_id=flooded)
    flaky = chats[100:103]  # 502 once or twice, then fine
    emu.fail_next("sendMessage", status=502, chat_id=flaky[0])
    emu.fail_next("sendMessage", status=502, chat_id=flaky[1], times=2)
    emu.fail_next("sendMessage", status=500, chat_id=flaky[2])
    down = chats[150]  # 502 on every allowed try: failed, with the reason
    emu.fail_next("sendMessage", status=502, chat_id=down, times=3)
    refused = chats[151]  # a request Telegram will never take: failed at once
    emu.fail_next(
        "sendMessage", status=400, description="Bad Request: message is too long", chat_id=refused
    )

    sender = await b.start()
    campaign = await b.post("post:1", progress_chat_id=EDITOR_ID)
    sender.wake()
    report = await emu.wait_for(final_report, timeout=20, after=0)
    done = await b.wait_done(campaign.id)

    received = b.received(chats)
    not_reached = {*blocked, gone, down, refused}
    assert all(received[c] == 1 for c in chats if c not in not_reached), received
    assert all(received[c] == 0 for c in not_reached)

    counts = await b.campaigns.counts(campaign.id)
    assert counts.sent + counts.blocked + counts.failed == counts.total == 200
    assert (counts.sent, counts.blocked, counts.failed, counts.pending) == (187, 11, 2, 0)
    statuses = await b.statuses(campaign.id)
    for chat_id in [*blocked, gone]:
        assert statuses[chat_id][0] == DeliveryStatus.BLOCKED
        subscriber = await b.subscribers.get(chat_id)
        assert subscriber is not None and subscriber.status is SubscriberStatus.BLOCKED
    assert statuses[down][0] == DeliveryStatus.FAILED
    assert statuses[down][2] == "Bad Gateway"
    assert statuses[refused] == (DeliveryStatus.FAILED, 0, "Bad Request: message is too long")
    assert all(statuses[c][0] == DeliveryStatus.SENT for c in [flooded, *flaky])
    assert (await b.subscribers.get(chats[20])).status is SubscriberStatus.ACTIVE  # type: ignore[union-attr]

    assert emu.flood_rejections == 0  # the limiter kept to one a second per chat
    assert sender.stats.retry_after == 1
    assert sender.stats.retries == 1 + 2 + 1 + 2  # `down` fails on its third try, no fourth
    assert done.finished_at is not None

    # The editor: one progress message, edited as it went, ending with the report.
    to_editor = emu.calls_of("sendMessage", EDITOR_ID)
    assert len(to_editor) == 1
    edits = emu.calls_of("editMessageText", EDITOR_ID)
    assert len(edits) >= 2
    assert all(e.params["message_id"] == to_editor[0].result["message_id"] for e in edits)
    assert edits[-1] is report
    assert "доставлено 187 из 200, заблокировали 11, ошибок 2" in report.params["text"]
    assert done.progress_message_id == str(to_editor[0].result["message_id"])
    heartbeat = await OutboxRepository(b.engine).status_value(LAST_SEND_AT)
    assert heartbeat is not None


async def test_an_html_error_page_from_a_proxy_is_a_transient_outage(
    emu: BotAPIEmulator, tmp_path: Path
) -> None:
    """Telegram's front answers with nginx's HTML 502 page during incidents: the transport
    reports an outage to retry, never a permanent failure, for sends and for edits."""
    emu.user(4242)
    settings = make_settings(tmp_path, telegram_api_base=emu.base_url)
    bot = build_bot(settings)
    transport = TelegramTransport.from_settings(bot, settings)
    try:
        emu.fail_next("sendMessage", status=502, description="Bad Gateway", html_page=True)
        emu.fail_next("editMessageText", status=502, description="Bad Gateway", html_page=True)
        part = MessagePart("Семинар для координаторов")
        assert (await transport.send(4242, part)).outcome is Outcome.TRANSIENT
        sent = await transport.send(4242, part)
        assert sent.outcome is Outcome.SENT and sent.message_id is not None
        edited = await transport.edit(4242, sent.message_id, MessagePart("Семинар перенесён"))
        assert edited.outcome is Outcome.TRANSIENT
    finally:
        await bot.session.close()


async def test_html_error_pages_mid_broadcast_delay_deliveries_but_lose_none(
    broadcasting: Broadcasting,
) -> None:
    """A proxy in front of Telegram answers nginx's HTML 502 page: to a few chats once or twice,
    then to everyone for a moment mid-broadcast. Every retry falls due at its own moment and
    is sent then (not at the next idle poll, a minute away here): each recipient gets the post
    once, none is lost, and the editor's report adds up."""
    b = broadcasting
    emu = b.emu
    emu.set_flood_control(global_per_sec=300, per_chat_per_sec=1)
    chats = await b.add_subscribers(40)
    once = [chats[3], chats[12], chats[25]]  # apart, so their retries fall due apart
    twice = chats[31]
    for chat_id in once:
        emu.fail_next("sendMessage", status=502, html_page=True, chat_id=chat_id)
    emu.fail_next("sendMessage", status=502, html_page=True, chat_id=twice, times=2)
    settings = b.settings.model_copy(update={"send_max_attempts": 6})
    # Fixed jitter: the retries come back in the order they failed, each at its own moment.
    sender = await b.start(fast_sender(settings, b.engine, backoff_base=0.2, rand=lambda: 0.5))
    campaign = await b.post("post:proxy", progress_chat_id=EDITOR_ID)
    sender.wake()

    wanted = set(chats)
    seen: set[int] = set()

    def ten_received(call: Call) -> bool:
        if call.method == "sendMessage" and call.ok and call.chat_id in wanted:
            seen.add(call.chat_id)
        return len(seen) >= 10

    await emu.wait_for(ten_received, timeout=10, after=0)
    emu.fail_next("sendMessage", status=502, html_page=True, times=4)  # the outage: anyone
    report = await emu.wait_for(final_report, timeout=20, after=0)
    await b.wait_done(campaign.id)

    html_answers = [c for c in emu.calls_of("sendMessage") if not c.ok and c.chat_id in wanted]
    assert len(html_answers) == 3 + 2 + 4
    assert Counter(b.received(chats).values()) == {1: 40}  # everyone once, no one lost
    counts = await b.campaigns.counts(campaign.id)
    assert (counts.total, counts.sent, counts.blocked, counts.failed, counts.pending) == (
        40, 40, 0, 0, 0,
    )  # fmt: skip
    assert sender.stats.retries == 9
    assert "доставлено 40 из 40, заблокировали 0, ошибок 0" in report.params["text"]
    assert emu.flood_rejections == 0


async def test_the_final_report_outlives_an_outage_of_its_own(
    broadcasting: Broadcasting,
) -> None:
    """The editor's report edit gets a proxy's HTML 502 page (three times), then a JSON 502:
    an outage like any other, tried again after a pause, so the report still arrives — with
    the counts that add up."""
    b = broadcasting
    chats = await b.add_subscribers(5)
    # No progress edit before the end: the report is the edit the outage hits.
    sender = await b.start(fast_sender(b.settings, b.engine, progress_interval=60.0))
    campaign = await b.post("post:report", progress_chat_id=EDITOR_ID)
    b.emu.fail_next("editMessageText", status=502, html_page=True, chat_id=EDITOR_ID, times=3)
    b.emu.fail_next("editMessageText", status=502, chat_id=EDITOR_ID)
    sender.wake()
    await b.wait_done(campaign.id)

    report = await b.emu.wait_for(final_report, timeout=20, after=0)
    assert "доставлено 5 из 5, заблокировали 0, ошибок 0" in report.params["text"]
    failed = [c for c in b.emu.calls_of("editMessageText", EDITOR_ID) if not c.ok]
    assert len(failed) == 4
    assert Counter(b.received(chats).values()) == {1: 5}


async def test_a_sender_stopped_mid_campaign_hands_over_without_duplicates_or_gaps(
    broadcasting: Broadcasting,
) -> None:
    b = broadcasting
    b.emu.set_flood_control(global_per_sec=300, per_chat_per_sec=1)
    chats = await b.add_subscribers(150)
    first = await b.start(fast_sender(b.settings, b.engine))
    campaign = await b.post("post:handover")
    first.wake()

    wanted = set(chats)
    seen: set[int] = set()

    def fifty_received(call: Call) -> bool:
        if call.method == "sendMessage" and call.ok and call.chat_id in wanted:
            seen.add(call.chat_id)
        return len(seen) >= 50

    await b.emu.wait_for(fifty_received, timeout=10, after=0)
    await b.stop()  # the app shuts down: the sender finishes its requests and records them

    halfway = await b.campaigns.counts(campaign.id)
    assert 50 <= halfway.sent < 150
    assert halfway.sent == sum(b.received(chats).values())  # everything sent is recorded
    assert (await b.campaigns.get(campaign.id)).status is CampaignStatus.SENDING  # type: ignore[union-attr]

    second = await b.start(fast_sender(b.settings, b.engine))
    await b.wait_done(campaign.id)
    received = b.received(chats)
    assert set(received) == wanted
    assert set(received.values()) == {1}
    assert second.stats.sent == 150 - halfway.sent
    assert b.emu.flood_rejections == 0


async def test_a_sender_cut_off_with_requests_unanswered_reports_them_at_the_next_start(
    broadcasting: Broadcasting,
) -> None:
    """Three requests hang (Telegram never answers); the app stops and cuts them off, their
    results unknown. The next sender finds them marked as going out, reports the three as the
    most duplicates the stop can have caused, and sends them again: everyone gets the post."""
    b = broadcasting
    chats = await b.add_subscribers(20)
    hung = [chats[2], chats[9], chats[15]]
    for chat_id in hung:
        b.emu.hang_next("sendMessage", chat_id=chat_id)
    first = await b.start(fast_sender(b.settings, b.engine, stop_timeout=0.2))
    campaign = await b.post("post:hang")
    first.wake()

    def settled(call: Call) -> bool:
        return len([c for c in b.emu.calls_of("sendMessage") if c.chat_id in set(chats)]) == 20

    await b.emu.wait_for(settled, timeout=10, after=0)
    await b.stop()  # the three hung requests are cut off: sent or not, nobody knows
    assert first.stats.unrecorded_at_start == 0
    assert (await b.campaigns.counts(campaign.id)).pending == 3

    second = await b.start(fast_sender(b.settings, b.engine))
    await b.wait_done(campaign.id)
    assert second.stats.unrecorded_at_start == 3
    reported = await OutboxRepository(b.engine).status_value(UNRECORDED_AT_RESTART)
    assert reported is not None and reported[0] == "3"
    assert Counter(b.received(chats).values()) == {1: 20}


async def test_recorded_sends_are_never_repeated_and_long_messages_resume_at_their_part(
    broadcasting: Broadcasting,
) -> None:
    """The outbox as a crash leaves it: some rows recorded sent, some half through a two-part
    message; the next sender sends exactly what is missing, parts one second apart."""
    b = broadcasting
    b.emu.set_flood_control(global_per_sec=300, per_chat_per_sec=1)
    chats = await b.add_subscribers(20)
    two_parts = {SINGLE_VARIANT: [MessagePart("Дайджест, часть 1"), MessagePart("часть 2")]}
    campaign = await b.post("digest:test", variants=two_parts, title="Дайджест")
    recorded, halfway, paused = chats[:8], chats[8:12], chats[12]
    async with b.engine.begin() as conn:
        await conn.execute(
            deliveries.update()
            .where(deliveries.c.chat_id.in_(recorded))
            .values(status=DeliveryStatus.SENT.value, parts_sent=2, attempts=1)
        )
        await conn.execute(
            deliveries.update().where(deliveries.c.chat_id.in_(halfway)).values(parts_sent=1)
        )
    await b.subscribers.set_status(paused, SubscriberStatus.PAUSED)  # /stop after the fan-out

    await b.start()  # finds the campaign at start-up, no wake() needed
    await b.wait_done(campaign.id)

    received = b.received(chats)
    assert all(received[c] == 0 for c in [*recorded, paused])
    for chat_id in halfway:
        assert [m["text"] for m in b.emu.messages(chat_id)] == ["часть 2"]
    for chat_id in chats[13:]:
        sends = [c for c in b.emu.calls_of("sendMessage", chat_id) if c.ok]
        assert [c.params["text"] for c in sends] == ["Дайджест, часть 1", "часть 2"]
        assert sends[1].at - sends[0].at >= 1.0
    statuses = await b.statuses(campaign.id)
    assert all(statuses[c][:2] == (DeliveryStatus.SENT, 2) for c in chats if c != paused)
    assert statuses[paused][0] == DeliveryStatus.FAILED
    assert b.emu.flood_rejections == 0


class FakeNow:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


async def test_quiet_hours_pause_ordinary_campaigns_until_morning_but_not_urgent_ones(
    broadcasting: Broadcasting, tmp_path: Path
) -> None:
    b = broadcasting
    settings = make_settings(
        tmp_path,
        telegram_api_base=b.emu.base_url,
        send_rate=200,
        quiet_hours="21:00-08:00",
        timezone="Europe/Moscow",
    )
    chats = await b.add_subscribers(5)
    evening = datetime(2026, 3, 2, 19, 0, tzinfo=UTC)  # 22:00 in Moscow
    now = FakeNow(evening)
    ordinary = await b.post("post:evening", progress_chat_id=EDITOR_ID, now=evening)
    urgent = await b.post(
        "post:urgent", urgent=True, title="Срочно", now=evening,
        variants={SINGLE_VARIANT: [MessagePart("Срочно: семинар переносится")]},
    )  # fmt: skip
    sender = fast_sender(settings, b.engine, now=now)
    bot = build_bot(settings)
    task = asyncio.create_task(sender.run(TelegramTransport.from_settings(bot, settings)))
    try:
        await b.wait_done(urgent.id)
        paused = await b.campaigns.get(ordinary.id)
        assert paused is not None and paused.status is CampaignStatus.PAUSED
        assert (await b.campaigns.counts(ordinary.id)).pending == 5
        assert all(
            [m["text"] for m in b.emu.messages(c)] == ["Срочно: семинар переносится"]
            for c in chats
        )
        notice = await b.emu.wait_for(
            lambda c: c.chat_id == EDITOR_ID and "продолжим в 08:00" in str(c.params.get("text")),
            after=0,
        )
        assert notice.ok

        now.moment = evening + timedelta(hours=10, minutes=1)  # 08:01 in Moscow
        sender.wake()
        done = await b.wait_done(ordinary.id)
        assert done.status is CampaignStatus.DONE
        assert all(len(b.emu.messages(c)) == 2 for c in chats)
        await b.emu.wait_for(final_report, after=0)
    finally:
        await sender.stop()
        await task
        await bot.session.close()


async def test_a_sender_stopped_right_after_start_stops_at_once(
    broadcasting: Broadcasting,
) -> None:
    sender = fast_sender(broadcasting.settings, broadcasting.engine)
    bot = build_bot(broadcasting.settings)
    transport = TelegramTransport.from_settings(bot, broadcasting.settings)
    try:
        sender.start(transport)
        async with asyncio.timeout(5):
            await sender.stop()  # before its task even ran
        assert not sender.running
        sender.start(transport)  # and it can start again
        await asyncio.sleep(0)
        assert sender.running
        async with asyncio.timeout(5):
            await sender.stop()
    finally:
        await bot.session.close()
