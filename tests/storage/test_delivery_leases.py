"""Leases on deliveries: two senders on one outbox never hold the same row, a row comes free
when its sender's lease runs out, and a sender that lost a row cannot record over its new
owner. (`make test-pg` runs these on PostgreSQL, where claims also skip locked rows.)"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.content.models import Audience, CampaignKind, DeliveryStatus, MessagePart, Role
from bot.storage.campaigns import SINGLE_VARIANT, CampaignRepository
from bot.storage.database import Database
from bot.storage.db import create_engine, migrate
from bot.storage.outbox import LEASE, DeliveryResult, DueDelivery, OutboxRepository
from bot.storage.schema import deliveries
from bot.storage.subscribers import SubscriberRepository
from tests.support.databases import scratch_url

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
POST = {SINGLE_VARIANT: [MessagePart("Объявление")]}
CHATS = 40


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Database]:
    engine = create_engine(scratch_url(tmp_path, "leases"))
    await migrate(engine)
    subs = SubscriberRepository(engine)
    for chat_id in range(1, CHATS + 1):
        await subs.register(chat_id, name=f"u{chat_id}", username=None, source=None)
        await subs.set_role(chat_id, Role.TEACHER)
        await subs.mark_onboarded(chat_id)
    yield engine
    await engine.dispose()


async def _campaign(engine: Database) -> int:
    campaign = await CampaignRepository(engine).create(
        "post:1", CampaignKind.POST, "x", POST, Audience(), now=T0
    )
    assert campaign is not None
    return campaign.id


def _two_senders(engine: Database) -> tuple[OutboxRepository, OutboxRepository]:
    return OutboxRepository(engine, "a:1:x"), OutboxRepository(engine, "b:2:y")


def sent(row: DueDelivery) -> DeliveryResult:
    return DeliveryResult(
        row.id, row.campaign_id, row.chat_id, DeliveryStatus.SENT, attempts=1, parts_sent=1,
        message_id="7", sent_at=T0,
    )  # fmt: skip


async def test_a_second_sender_gets_none_of_the_first_ones_rows_until_its_lease_runs_out(
    engine: Database,
) -> None:
    campaign_id = await _campaign(engine)
    first, second = _two_senders(engine)
    held = await first.claim_due(campaign_id, T0, limit=10)
    rest = await second.claim_due(campaign_id, T0, limit=100)
    assert len(held) == 10 and len(rest) == CHATS - 10
    assert {r.chat_id for r in held}.isdisjoint(r.chat_id for r in rest)
    await second.record([sent(r) for r in rest])
    # The first sender died: its rows come due to the second when the lease runs out.
    assert await second.next_due_at() == T0 + LEASE
    assert await second.claim_due(campaign_id, T0 + LEASE - timedelta(seconds=1)) == []
    taken = await second.claim_due(campaign_id, T0 + LEASE + timedelta(seconds=1))
    assert [r.id for r in taken] == [r.id for r in held]


async def test_a_sender_that_lost_its_lease_records_nothing_over_the_new_owner(
    engine: Database,
) -> None:
    campaign_id = await _campaign(engine)
    first, second = _two_senders(engine)
    held = await first.claim_due(campaign_id, T0, limit=1)
    later = T0 + LEASE + timedelta(seconds=1)
    assert await first.renew([held[0].id], later) == {held[0].id}  # not taken: still its own
    lapsed = T0 + 3 * LEASE
    [taken] = await second.claim_due(campaign_id, lapsed, limit=1)
    assert taken.id == held[0].id
    assert await first.renew([held[0].id], lapsed) == set()
    failed = DeliveryResult(
        held[0].id, campaign_id, held[0].chat_id, DeliveryStatus.FAILED, attempts=1,
        parts_sent=0, error="late",
    )  # fmt: skip
    await first.record([failed])
    await second.record([sent(taken)])
    async with engine.connect() as conn:
        row = (await conn.execute(sa.select(deliveries).where(deliveries.c.id == taken.id))).one()
    assert row.status == DeliveryStatus.SENT.value and row.error is None
    assert row.lease_owner is None  # a final state holds no lease


async def test_renewal_keeps_rows_past_their_first_lease_and_release_frees_them_at_once(
    engine: Database,
) -> None:
    campaign_id = await _campaign(engine)
    first, second = _two_senders(engine)
    held = await first.claim_due(campaign_id, T0, limit=5)
    ids = [r.id for r in held]
    assert await first.renew(ids, T0 + LEASE / 2) == set(ids)
    # Past the first lease, but renewed: still the first sender's.
    others = await second.claim_due(campaign_id, T0 + LEASE + timedelta(seconds=1), limit=100)
    assert len(others) == CHATS - 5 and {r.id for r in others}.isdisjoint(ids)
    await second.record([sent(r) for r in others])
    await first.release(ids[:2])
    freed = await second.claim_due(campaign_id, T0 + LEASE, limit=100)
    assert [r.id for r in freed] == ids[:2]
    assert await first.renew(ids, T0 + LEASE) == set(ids[2:])


async def test_claims_at_the_same_moment_never_share_a_row(engine: Database) -> None:
    campaign_id = await _campaign(engine)
    senders = [OutboxRepository(engine, f"s:{n}:z") for n in range(4)]
    pages = await asyncio.gather(*(s.claim_due(campaign_id, T0, limit=15) for s in senders))
    ids = [row.id for page in pages for row in page]
    assert len(ids) == len(set(ids)) == CHATS


async def test_marks_of_rows_still_leased_to_a_dead_sender_are_counted_and_kept(
    engine: Database,
) -> None:
    campaign_id = await _campaign(engine)
    first, second = _two_senders(engine)
    held = await first.claim_due(campaign_id, T0, limit=3)
    await first.mark_sending([r.id for r in held], T0)
    assert await second.reconcile_sending(T0 + timedelta(seconds=1)) == 3
    # Still leased to the first: the marks stay until the second takes the rows.
    assert await second.reconcile_sending(T0 + timedelta(seconds=2)) == 3
    assert await second.reconcile_sending(T0 + LEASE + timedelta(seconds=1)) == 3
    assert await second.reconcile_sending(T0 + LEASE + timedelta(seconds=2)) == 0
