"""Delivery retention: old finished campaigns' deliveries folded into counts and deleted, the
figures /stats and status read staying the same (on SQLite and, under make test-pg,
PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from bot import texts
from bot.content.models import Audience, CampaignKind, DeliveryStatus, MessagePart
from bot.services import reports as report_service
from bot.services.retention import RetentionService
from bot.storage.campaigns import SINGLE_VARIANT, CampaignRepository
from bot.storage.database import Database
from bot.storage.db import create_engine, migrate
from bot.storage.privacy import PrivacyRepository
from bot.storage.reports import ReportRepository
from bot.storage.retention import RetentionRepository
from bot.storage.schema import campaigns, deliveries
from bot.storage.subscribers import SubscriberRepository
from tests.support.databases import scratch_url
from tests.support.subscribers import subscriber

MOSCOW = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
POST = {SINGLE_VARIANT: [MessagePart("Семинар для координаторов")]}
# Recipients' outcomes in a campaign: 4 sent, 2 blocked, 1 failed.
OUTCOMES = ["sent"] * 4 + ["blocked"] * 2 + ["failed"]


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Database]:
    engine = create_engine(scratch_url(tmp_path, "r"))
    await migrate(engine)
    yield engine
    await engine.dispose()


async def _campaign(
    engine: Database,
    key: str,
    *,
    finished_days_ago: float | None,
    outcomes: list[str] = OUTCOMES,
) -> int:
    """A post to len(outcomes) subscribers, its deliveries ended as `outcomes`; finished that
    many days before NOW (None: still sending, one delivery left pending)."""
    subs = SubscriberRepository(engine)
    for n in range(len(outcomes)):
        await subscriber(subs, 1000 + n)
    created = NOW - timedelta(days=(finished_days_ago or 0) + 1)
    campaign = await CampaignRepository(engine).create(
        key, CampaignKind.POST, f"Пост {key}", POST, Audience(), now=created
    )
    assert campaign is not None and campaign.total == len(outcomes)
    async with engine.begin() as conn:
        ids = [
            row[0]
            for row in await conn.execute(
                sa.select(deliveries.c.id)
                .where(deliveries.c.campaign_id == campaign.id)
                .order_by(deliveries.c.id)
            )
        ]
        for delivery_id, status in zip(ids, outcomes, strict=True):
            if finished_days_ago is None and delivery_id == ids[-1]:
                continue  # still pending
            await conn.execute(
                deliveries.update()
                .where(deliveries.c.id == delivery_id)
                .values(status=status, message_id=str(delivery_id) if status == "sent" else None)
            )
        if finished_days_ago is not None:
            await conn.execute(
                campaigns.update()
                .where(campaigns.c.id == campaign.id)
                .values(status="done", finished_at=NOW - timedelta(days=finished_days_ago))
            )
    return campaign.id


async def _rows(engine: Database, campaign_id: int) -> int:
    async with engine.connect() as conn:
        return int(
            (
                await conn.execute(
                    sa.select(sa.func.count()).where(deliveries.c.campaign_id == campaign_id)
                )
            ).scalar_one()
        )


async def _campaigns_section(engine: Database) -> str:
    """/stats's «Рассылки» figures as the editor reads them (summary and the section)."""
    stats = await report_service.gather(ReportRepository(engine), MOSCOW, NOW)
    summary = report_service.summary(stats, MOSCOW).text
    detail = report_service.detail(stats, report_service.Section.CAMPAIGNS, MOSCOW)
    return "\n".join([summary, *(part.text for part in detail)])


async def test_folding_keeps_the_figures_and_deletes_the_rows(engine: Database) -> None:
    campaign_id = await _campaign(engine, "post:1", finished_days_ago=100)
    repo = CampaignRepository(engine)
    counts_before = await repo.counts(campaign_id)
    lines_before = await ReportRepository(engine).recent_campaigns()
    stats_before = await _campaigns_section(engine)
    assert (counts_before.total, counts_before.sent) == (7, 4)
    assert "доставлено 4 из 7" in stats_before

    result = await RetentionService(engine, 90).run(NOW)

    assert (result.campaigns, result.rows) == (1, 7)
    assert await _rows(engine, campaign_id) == 0
    assert await repo.counts(campaign_id) == counts_before
    assert await ReportRepository(engine).recent_campaigns() == lines_before
    assert await _campaigns_section(engine) == stats_before
    # An edit can no longer reach its messages, and says so.
    assert await repo.sent_messages(["post:1"]) == 0
    assert await repo.folded(["post:1", "channel:1"])


async def test_folding_is_idempotent(engine: Database) -> None:
    campaign_id = await _campaign(engine, "post:1", finished_days_ago=100)
    service = RetentionService(engine, 90)
    before = await CampaignRepository(engine).counts(campaign_id)
    await service.run(NOW)
    again = await service.run(NOW)
    assert (again.campaigns, again.rows) == (0, 0)
    assert await CampaignRepository(engine).counts(campaign_id) == before


async def test_unfinished_and_recent_campaigns_are_left_alone(engine: Database) -> None:
    old = await _campaign(engine, "post:old", finished_days_ago=100)
    recent = await _campaign(engine, "post:recent", finished_days_ago=30)
    sending = await _campaign(engine, "post:sending", finished_days_ago=None)
    async with engine.begin() as conn:  # even when it started long ago
        await conn.execute(
            campaigns.update()
            .where(campaigns.c.id == sending)
            .values(created_at=NOW - timedelta(days=400), started_at=NOW - timedelta(days=400))
        )
    repo = CampaignRepository(engine)
    pending_before = await repo.counts(sending)

    result = await RetentionService(engine, 90).run(NOW)

    assert (result.campaigns, result.rows) == (1, 7)
    assert await _rows(engine, old) == 0
    assert await _rows(engine, recent) == 7
    assert await _rows(engine, sending) == 7
    assert await repo.counts(sending) == pending_before and pending_before.pending == 1
    assert not await repo.folded(["post:recent"])
    assert not await repo.folded(["post:sending"])
    # Later the recent one is old enough too.
    later = await RetentionService(engine, 90).run(NOW + timedelta(days=61))
    assert (later.campaigns, later.rows) == (1, 7)
    assert await _rows(engine, recent) == 0


async def test_zero_days_keeps_everything(engine: Database) -> None:
    campaign_id = await _campaign(engine, "post:1", finished_days_ago=3650)
    result = await RetentionService(engine, 0).run(NOW)
    assert (result.campaigns, result.rows) == (0, 0)
    assert await _rows(engine, campaign_id) == 7


async def test_batches_are_bounded_and_an_interrupted_fold_keeps_the_counts(
    engine: Database,
) -> None:
    campaign_id = await _campaign(engine, "post:1", finished_days_ago=100)
    repo = CampaignRepository(engine)
    before = await repo.counts(campaign_id)
    # One transaction of 3 rows, then the run "dies": the counts still add up.
    assert await RetentionRepository(engine).fold_batch(campaign_id, 3, NOW) == 3
    assert await _rows(engine, campaign_id) == 4
    assert await repo.counts(campaign_id) == before
    assert await repo.folded(["post:1"])
    # The next run goes on where it stopped, two rows a transaction.
    result = await RetentionService(engine, 90, batch=2).run(NOW)
    assert (result.campaigns, result.rows) == (1, 4)
    assert await _rows(engine, campaign_id) == 0
    assert await repo.counts(campaign_id) == before


async def test_a_campaign_sending_again_is_not_folded(engine: Database) -> None:
    """A row back to pending (a retry): the run leaves the campaign, and a batch never takes a
    pending row."""
    campaign_id = await _campaign(engine, "post:1", finished_days_ago=100)
    async with engine.begin() as conn:
        await conn.execute(
            deliveries.update()
            .where(deliveries.c.campaign_id == campaign_id, deliveries.c.status == "failed")
            .values(status=DeliveryStatus.PENDING.value)
        )
    repo = CampaignRepository(engine)
    before = await repo.counts(campaign_id)
    assert (await RetentionService(engine, 90).run(NOW)).rows == 0
    assert await _rows(engine, campaign_id) == 7
    while await RetentionRepository(engine).fold_batch(campaign_id, 100, NOW):
        pass
    assert await _rows(engine, campaign_id) == 1
    assert await repo.counts(campaign_id) == before and before.pending == 1


async def test_forget_after_folding_leaves_no_chat_and_the_same_counts(engine: Database) -> None:
    campaign_id = await _campaign(engine, "post:1", finished_days_ago=100)
    recent = await _campaign(engine, "post:2", finished_days_ago=1)
    repo = CampaignRepository(engine)
    before = (await repo.counts(campaign_id), await repo.counts(recent))
    await RetentionService(engine, 90).run(NOW)
    assert await PrivacyRepository(engine).erase(1000)
    async with engine.connect() as conn:
        left = (
            await conn.execute(sa.select(sa.func.count()).where(deliveries.c.chat_id == 1000))
        ).scalar_one()
    assert left == 0
    assert (await repo.counts(campaign_id), await repo.counts(recent)) == before


async def test_the_status_line_of_a_folded_campaign(engine: Database) -> None:
    """The editor's report reads the same counts: «доставлено 4 из 7»."""
    campaign_id = await _campaign(engine, "post:1", finished_days_ago=100)
    await RetentionService(engine, 90).run(NOW)
    counts = await CampaignRepository(engine).counts(campaign_id)
    report = texts.message_part(texts.broadcast_report("Пост", counts, 10.0)).text
    assert "доставлено 4 из 7" in report
