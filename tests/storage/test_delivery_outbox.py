"""The outbox repository: claims, batched results, finishing, quiet-hours pauses, heartbeats."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.content.models import (
    Audience,
    CampaignKind,
    CampaignStatus,
    DeliveryStatus,
    MessagePart,
    Role,
    SubscriberStatus,
)
from bot.storage.campaigns import SINGLE_VARIANT, CampaignRepository
from bot.storage.database import Database
from bot.storage.db import create_engine, migrate
from bot.storage.outbox import DeliveryResult, OutboxRepository
from bot.storage.subscribers import SubscriberRepository
from tests.support.databases import scratch_url

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
POST = {SINGLE_VARIANT: [MessagePart("Объявление")]}


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Database]:
    engine = create_engine(scratch_url(tmp_path, "o"))
    await migrate(engine)
    subs = SubscriberRepository(engine)
    for chat_id in range(1, 8):
        await subs.register(chat_id, name=f"u{chat_id}", username=None, source=None)
        await subs.set_role(chat_id, Role.TEACHER)
        await subs.mark_onboarded(chat_id)
    yield engine
    await engine.dispose()


async def test_claims_come_in_id_order_pages_and_only_when_due(engine: Database) -> None:
    campaigns = CampaignRepository(engine)
    outbox = OutboxRepository(engine)
    campaign = await campaigns.create("post:1", CampaignKind.POST, "x", POST, Audience(), now=T0)
    assert campaign is not None
    first = await outbox.claim_due(campaign.id, T0, limit=4)
    assert [d.chat_id for d in first] == [1, 2, 3, 4]
    rest = await outbox.claim_due(campaign.id, T0, after_id=first[-1].id, limit=4)
    assert [d.chat_id for d in rest] == [5, 6, 7]
    assert await outbox.claim_due(campaign.id, T0 - timedelta(seconds=1)) == []
    assert first[0].subscriber_status is SubscriberStatus.ACTIVE
    assert first[0].parts_sent == 0 and not first[0].urgent


async def test_results_are_recorded_once_and_block_the_subscriber(engine: Database) -> None:
    campaigns = CampaignRepository(engine)
    subs = SubscriberRepository(engine)
    outbox = OutboxRepository(engine)
    campaign = await campaigns.create("post:2", CampaignKind.POST, "x", POST, Audience(), now=T0)
    assert campaign is not None
    rows = {d.chat_id: d for d in await outbox.claim_due(campaign.id, T0)}
    later = T0 + timedelta(minutes=5)

    def result(chat_id: int, status: DeliveryStatus, **extra: object) -> DeliveryResult:
        row = rows[chat_id]
        return DeliveryResult(row.id, campaign.id, chat_id, status, 1, 0, **extra)  # type: ignore[arg-type]

    await outbox.record(
        [
            result(1, DeliveryStatus.SENT, message_id="11", sent_at=T0),
            result(2, DeliveryStatus.BLOCKED, error="Forbidden: bot was blocked by the user"),
            result(3, DeliveryStatus.FAILED, error="Bad Request: " + "x" * 400),
            result(4, DeliveryStatus.PENDING, error="Bad Gateway", next_attempt_at=later),
        ]
    )
    # A late duplicate of a result changes nothing: final states are final.
    await outbox.record([result(1, DeliveryStatus.FAILED, error="late")])

    counts = await campaigns.counts(campaign.id)
    assert (counts.sent, counts.blocked, counts.failed, counts.pending) == (1, 1, 1, 4)
    blocked = await subs.get(2)
    assert blocked is not None and blocked.status is SubscriberStatus.BLOCKED
    due_now = [d.chat_id for d in await outbox.claim_due(campaign.id, T0)]
    assert due_now == [5, 6, 7]  # 4 waits for its retry
    assert 4 in [d.chat_id for d in await outbox.claim_due(campaign.id, later)]
    assert await outbox.next_due_at() == T0

    assert await outbox.finish_done([campaign.id], T0) == []
    remaining = [rows[c] for c in (4, 5, 6, 7)]
    await outbox.record(
        [
            DeliveryResult(r.id, campaign.id, r.chat_id, DeliveryStatus.SENT, 1, 1, sent_at=T0)
            for r in remaining
        ]
    )
    assert await outbox.finish_done([campaign.id], later) == [campaign.id]
    assert await outbox.finish_done([campaign.id], later) == []  # only once
    done = await campaigns.get(campaign.id)
    assert done is not None and done.status is CampaignStatus.DONE and done.finished_at == later


async def test_quiet_hours_pause_ordinary_campaigns_only(engine: Database) -> None:
    campaigns = CampaignRepository(engine)
    outbox = OutboxRepository(engine)
    ordinary = await campaigns.create("post:3", CampaignKind.POST, "x", POST, Audience())
    urgent = await campaigns.create(
        "post:4", CampaignKind.POST, "y", POST, Audience(), urgent=True
    )
    assert ordinary is not None and urgent is not None
    assert await outbox.pause_for_quiet_hours() == [ordinary.id]
    assert await outbox.claim_due(ordinary.id, datetime.now(UTC)) == []
    assert len(await outbox.claim_due(urgent.id, datetime.now(UTC))) == 7
    assert await outbox.next_due_at(urgent_only=True) is not None
    assert await outbox.resume_after_quiet_hours() == [ordinary.id]
    assert len(await outbox.claim_due(ordinary.id, datetime.now(UTC))) == 7


async def test_progress_message_and_heartbeat(engine: Database) -> None:
    campaigns = CampaignRepository(engine)
    outbox = OutboxRepository(engine)
    campaign = await campaigns.create("post:5", CampaignKind.POST, "x", POST, Audience())
    assert campaign is not None
    await outbox.set_progress_message(campaign.id, "77")
    stored = await campaigns.get(campaign.id)
    assert stored is not None and stored.progress_message_id == "77"
    assert await outbox.status_value("last_send_at") is None
    await outbox.set_status_value("last_send_at", "a", T0)
    await outbox.set_status_value("last_send_at", "b", T0 + timedelta(seconds=1))
    assert await outbox.status_value("last_send_at") == ("b", T0 + timedelta(seconds=1))


async def test_deliveries_going_out_unrecorded_are_counted_at_the_next_start(
    engine: Database,
) -> None:
    """Marked as going out, then recorded (sent, or failed to retry): nothing to report.
    Marked and never recorded (the process died): counted once, and claimable again."""
    campaigns = CampaignRepository(engine)
    outbox = OutboxRepository(engine)
    campaign = await campaigns.create("post:1", CampaignKind.POST, "x", POST, Audience(), now=T0)
    assert campaign is not None
    rows = await outbox.claim_due(campaign.id, T0)
    await outbox.mark_sending([r.id for r in rows[:5]], T0)
    sent, retried = rows[0], rows[1]
    await outbox.record(
        [
            DeliveryResult(
                sent.id, campaign.id, sent.chat_id, DeliveryStatus.SENT, 1, 1, sent_at=T0
            ),
            DeliveryResult(
                retried.id, campaign.id, retried.chat_id, DeliveryStatus.PENDING, 1, 0,
                error="Bad Gateway", next_attempt_at=T0,
            ),
        ],
        T0,
    )  # fmt: skip
    assert await outbox.reconcile_sending() == 3  # rows[2:5]: may have gone out, unrecorded
    assert await outbox.reconcile_sending() == 0
    again = await outbox.claim_due(campaign.id, T0)
    assert [r.id for r in again] == [r.id for r in rows[1:]]
