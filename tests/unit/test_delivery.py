"""The sender's pure parts, driven by a fake clock: rate limiter, backoff, quiet hours, errors."""

from __future__ import annotations

import itertools
import math
import random
from datetime import UTC, datetime, time
from typing import cast
from zoneinfo import ZoneInfo

import pytest
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import SendMessage

from bot import texts
from bot.content.models import (
    Campaign,
    CampaignCounts,
    CampaignKind,
    CampaignStatus,
    MessagePart,
    SubscriberStatus,
)
from bot.delivery.limits import RateLimiter, backoff_delay, in_quiet_hours, quiet_hours_end
from bot.delivery.transport import BLOCKED, FAILED, HALT, RETRY_AFTER, TRANSIENT
from bot.delivery.work import Work
from bot.storage.campaigns import CampaignRepository
from bot.storage.outbox import DueDelivery, OutboxRepository
from bot.telegram.transport import classify, prepare_parts

MOSCOW = ZoneInfo("Europe/Moscow")
NIGHT = (time(21, 0), time(8, 0))


def drive(
    limiter: RateLimiter, chats: list[int], until: float, step: float = 0.001
) -> list[float]:
    """Send as fast as the limiter allows, round-robin over `chats`, each reply instant."""
    sent: list[float] = []
    now = 0.0
    index = 0
    while now < until:
        chat = chats[index % len(chats)]
        if limiter.wait(chat, now) == 0:
            limiter.acquire(chat, now)
            limiter.release(chat, now)
            sent.append(now)
            index += 1
        else:
            now += step
    return sent


def test_the_global_rate_holds_over_a_long_run() -> None:
    limiter = RateLimiter(25)
    sent = drive(limiter, list(range(10_000)), until=20.0)
    # 20 s at 25/s, plus the one-message burst allowance at the start.
    assert 500 <= len(sent) <= 502
    for window_start in range(19):
        in_window = [t for t in sent if window_start <= t < window_start + 1]
        assert len(in_window) <= 26


def test_a_late_wake_up_catches_up_instead_of_losing_the_slot() -> None:
    limiter = RateLimiter(10)
    for chat, at in enumerate([0.0, 0.1, 0.2, 0.35]):  # the fourth one woke up 50 ms late
        assert limiter.global_wait(at) == 0
        limiter.acquire(chat, at)
        limiter.release(chat, at)
    assert limiter.global_wait(0.4) == 0  # back on the 100 ms schedule at once
    limiter.acquire(9, 0.4)
    assert limiter.global_wait(0.4) == pytest.approx(0.05)  # the schedule said 0.45


def test_one_message_a_second_to_the_same_chat_counted_from_the_reply() -> None:
    limiter = RateLimiter(1000)
    limiter.acquire(7, 0.0)
    assert limiter.chat_wait(7, 0.5) == math.inf  # a request to that chat is in flight
    assert limiter.wait(8, 0.01) == 0  # other chats are not held up
    limiter.release(7, 0.2)
    assert limiter.chat_wait(7, 0.7) == pytest.approx(0.5)
    assert limiter.chat_wait(7, 1.2) == 0
    sent = drive(RateLimiter(1000), [42], until=10.0)
    assert len(sent) == 10
    assert all(b - a >= 1.0 - 1e-9 for a, b in itertools.pairwise(sent))


def test_retry_after_pauses_everything_and_is_counted() -> None:
    limiter = RateLimiter(25)
    limiter.pause(3, now=10.0)
    limiter.pause(1, now=10.5)  # a shorter pause never shortens the longer one
    assert limiter.pauses == 2
    assert limiter.wait(1, 10.0) == pytest.approx(3.0)
    assert limiter.wait(2, 12.9) == pytest.approx(0.1)
    assert limiter.wait(3, 13.0) == 0
    sent = drive(limiter, list(range(100)), until=14.0)
    assert sent[0] >= 13.0
    assert len(sent) <= 27  # no burst of everything that waited


def test_chats_that_went_quiet_are_forgotten() -> None:
    limiter = RateLimiter(1000)
    for chat in range(500):
        limiter.acquire(chat, 0.0)
        limiter.release(chat, 0.0)
    limiter.acquire(1000, 5.0)
    limiter.release(1000, 5.0)
    assert limiter.tracked_chats == 1


def test_backoff_grows_exponentially_up_to_the_cap() -> None:
    top = [backoff_delay(n, base=5, factor=4, cap=1800, rand=lambda: 1.0) for n in range(1, 7)]
    assert top == [5, 20, 80, 320, 1280, 1800]
    bottom = [backoff_delay(n, base=5, factor=4, cap=1800, rand=lambda: 0.0) for n in range(1, 4)]
    assert bottom == [2.5, 10, 40]


def test_backoff_jitter_stays_within_half_to_full_delay() -> None:
    rng = random.Random(3)
    delays = [backoff_delay(2, base=5, factor=4, rand=rng.random) for _ in range(1000)]
    assert all(10 <= d <= 20 for d in delays)
    assert max(delays) - min(delays) > 8  # actually spread out


@pytest.mark.parametrize(
    ("moment", "quiet"),
    [
        (time(20, 59), False),
        (time(21, 0), True),
        (time(23, 59), True),
        (time(0, 0), True),
        (time(7, 59), True),
        (time(8, 0), False),
        (time(12, 0), False),
    ],
)
def test_quiet_hours_crossing_midnight(moment: time, quiet: bool) -> None:
    assert in_quiet_hours(moment, NIGHT) is quiet


def test_quiet_hours_within_a_day() -> None:
    lunch = (time(13, 0), time(14, 0))
    assert in_quiet_hours(time(13, 30), lunch)
    assert not in_quiet_hours(time(14, 0), lunch)
    assert not in_quiet_hours(time(3, 0), lunch)


def test_quiet_hours_end_is_the_next_morning_in_local_time() -> None:
    evening = datetime(2026, 3, 2, 22, 30, tzinfo=MOSCOW)
    assert quiet_hours_end(evening, NIGHT, MOSCOW) == datetime(2026, 3, 3, 5, 0, tzinfo=UTC)
    small_hours = datetime(2026, 3, 3, 2, 0, tzinfo=MOSCOW)
    assert quiet_hours_end(small_hours, NIGHT, MOSCOW) == datetime(2026, 3, 3, 5, 0, tzinfo=UTC)
    assert quiet_hours_end(datetime(2026, 3, 3, 9, 0, tzinfo=MOSCOW), NIGHT, MOSCOW) is None
    assert quiet_hours_end(evening, None, MOSCOW) is None


METHOD = SendMessage(chat_id=1, text="x")


@pytest.mark.parametrize(
    ("exc", "outcome"),
    [
        (TelegramRetryAfter(METHOD, "Too Many Requests: retry after 3", 3), RETRY_AFTER),
        (TelegramForbiddenError(METHOD, "Forbidden: bot was blocked by the user"), BLOCKED),
        (TelegramForbiddenError(METHOD, "Forbidden: user is deactivated"), BLOCKED),
        (TelegramBadRequest(METHOD, "Bad Request: chat not found"), BLOCKED),
        (TelegramBadRequest(METHOD, "Bad Request: message is too long"), FAILED),
        (TelegramNetworkError(METHOD, "Request timeout error"), TRANSIENT),
        (TelegramServerError(METHOD, "Bad Gateway"), TRANSIENT),
        (TimeoutError(), TRANSIENT),
        # A proxy's HTML 502 page instead of Bot API JSON: an outage, not a refusal.
        (
            ClientDecodeError("Failed to decode object", ValueError(), "<html>502</html>"),
            TRANSIENT,
        ),
        (TelegramUnauthorizedError(METHOD, "Unauthorized"), HALT),
        (ValueError("a bug"), FAILED),
    ],
)
def test_errors_are_classified(exc: Exception, outcome: str) -> None:
    verdict = classify(exc)
    assert verdict.outcome == outcome
    assert verdict.error


def test_retry_after_carries_its_seconds() -> None:
    verdict = classify(TelegramRetryAfter(METHOD, "Too Many Requests", 7))
    assert verdict.retry_after == 7


def test_parts_are_prepared_once_with_their_entities() -> None:
    parts = prepare_parts(
        [
            MessagePart("Семинар", ({"type": "bold", "offset": 0, "length": 7},)),
            MessagePart(
                "Ссылка",
                ({"type": "text_link", "offset": 0, "length": 6, "url": "https://imc.example/a"},),
            ),
            MessagePart("Без разметки"),
        ]
    )
    assert parts[0].entities is not None and parts[0].entities[0].type == "bold"
    assert parts[1].entities is not None and parts[1].entities[0].url == "https://imc.example/a"
    assert parts[2].entities is None


def test_progress_text_reads_as_the_editor_expects() -> None:
    counts = CampaignCounts(total=5000, sent=1200, failed=3, blocked=12, pending=3785)
    text = texts.broadcast_progress("Семинар", counts).render()[0]
    assert "Отправлено 1\u00a0200 из 5\u00a0000 · ошибок 3 · заблокировали 12" in text
    assert "▓▓░░░░░░░░ 24\u00a0%" in text
    assert "5\u00a0000 получателей" in text
    paused = texts.broadcast_progress("Семинар", counts, time(8, 0)).render()[0]
    assert "продолжим в 08:00" in paused


def test_final_report() -> None:
    counts = CampaignCounts(total=5000, sent=4985, failed=3, blocked=12, pending=0)
    text = texts.broadcast_report("Семинар", counts, 192).render()[0]
    assert text == (
        "✅ Рассылка «Семинар» завершена: доставлено 4\u00a0985 из 5\u00a0000, "
        "заблокировали 12, ошибок 3, за 3 мин 12 с"
    )


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(0, "0 с"), (45, "45 с"), (192, "3 мин 12 с"), (3900, "1 ч 5 мин")],
)
def test_durations(seconds: float, expected: str) -> None:
    assert texts.broadcast_duration(seconds) == expected


def test_the_bar_reaches_a_hundred_only_at_the_end() -> None:
    assert texts.broadcast_bar(999, 1000).endswith("99\u00a0%")
    assert texts.broadcast_bar(1000, 1000) == "▓" * 10 + " 100\u00a0%"
    assert texts.broadcast_bar(0, 0).endswith("100\u00a0%")


async def test_a_delivery_recorded_while_a_claim_reads_the_outbox_is_not_sent_again() -> None:
    """The claim's read began before the delivery's "sent" was committed, so it still sees the
    row pending; by the time it returns, the commit has let go of the job. The row is not
    taken again (it would be sent twice)."""
    row = DueDelivery(7, 1, 501, 1, 0, 0, False, SubscriberStatus.ACTIVE)
    campaign = Campaign(1, "post:1", CampaignKind.POST, "Семинар", CampaignStatus.SENDING, 1)

    class Outbox:
        reads = 0

        async def claim_due(
            self, campaign_id: int, now: datetime, *, after_id: int = 0, limit: int = 200
        ) -> list[DueDelivery]:
            self.reads += 1
            if self.reads == 2:  # meanwhile the sent result is committed
                work.unhold(row.id, row.campaign_id)
            return [row]

        async def next_due_at(self, *, urgent_only: bool = False) -> datetime | None:
            return None

    class Campaigns:
        async def in_progress(self) -> list[Campaign]:
            return [campaign]

        async def variant_parts(self, variant_id: int) -> list[MessagePart]:
            return [MessagePart("Семинар для координаторов")]

    async def finish(campaign_ids: list[int]) -> None:
        return None

    work = Work(
        cast(OutboxRepository, Outbox()), cast(CampaignRepository, Campaigns()),
        now=lambda: datetime(2026, 3, 2, 9, 0, tzinfo=UTC), settle=lambda _: None,
        finish=finish,
    )  # fmt: skip
    await work.reload(quiet=False)
    await work.refill(quiet=False)
    job = work.pick(RateLimiter(25), 0.0)
    assert job is not None and job.id == 7  # sent; its result is on its way to the outbox
    await work.reload(quiet=False)  # the next poll
    await work.refill(quiet=False)
    assert work.queued == 0 and not work.deferred and not work.held
