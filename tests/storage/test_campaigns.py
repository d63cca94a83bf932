from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.content.models import (
    Audience,
    CampaignKind,
    CampaignStatus,
    Frequency,
    MessagePart,
    OrgKind,
    Role,
    SubscriberStatus,
    Topic,
    preference_signature,
)
from bot.storage.campaigns import SINGLE_VARIANT, CampaignRepository
from bot.storage.database import Database
from bot.storage.db import create_engine, migrate
from bot.storage.subscribers import SubscriberRepository
from tests.support.databases import scratch_url
from tests.support.subscribers import subscriber

POST = {SINGLE_VARIANT: [MessagePart("Семинар для координаторов")]}


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Database]:
    engine = create_engine(scratch_url(tmp_path, "c"))
    await migrate(engine)
    yield engine
    await engine.dispose()


async def test_a_slot_key_makes_a_campaign_only_once(engine: Database) -> None:
    subs = SubscriberRepository(engine)
    await subscriber(subs, 1)
    campaigns = CampaignRepository(engine)
    first = await campaigns.create("post:1", CampaignKind.POST, "Семинар", POST, Audience())
    second = await campaigns.create("post:1", CampaignKind.POST, "Семинар", POST, Audience())
    assert first is not None and first.total == 1
    assert first.status is CampaignStatus.SENDING
    assert second is None
    assert (await campaigns.counts(first.id)).pending == 1


async def test_fan_out_reaches_only_active_onboarded_matching_subscribers(
    engine: Database,
) -> None:
    subs = SubscriberRepository(engine)
    await subscriber(subs, 1, role=Role.COORDINATOR)
    await subscriber(subs, 2, role=Role.TEACHER)
    await subscriber(subs, 3, role=Role.COORDINATOR, status=SubscriberStatus.PAUSED)
    await subscriber(subs, 4, role=Role.COORDINATOR, status=SubscriberStatus.BLOCKED)
    await subscriber(subs, 5, role=Role.COORDINATOR, onboarded=False)
    await subscriber(subs, 6, role=Role.COORDINATOR, topics=frozenset({Topic.EVENTS}))
    await subscriber(subs, 7, role=Role.COORDINATOR, org=OrgKind.KINDERGARTEN)
    campaigns = CampaignRepository(engine)
    audience = Audience(
        topic=Topic.ANNOUNCEMENTS, roles=frozenset({Role.COORDINATOR}),
        org_kinds=frozenset({OrgKind.SCHOOL}),
    )  # fmt: skip
    campaign = await campaigns.create("post:2", CampaignKind.POST, "x", POST, audience)
    assert campaign is not None
    assert campaign.total == 1  # only subscriber 1


async def test_digest_fan_out_gives_each_subscriber_their_signature_variant(
    engine: Database,
) -> None:
    subs = SubscriberRepository(engine)
    events_only = frozenset({Topic.EVENTS})
    await subscriber(subs, 1, frequency=Frequency.DAILY, topics=events_only)
    await subscriber(subs, 2, frequency=Frequency.DAILY)
    await subscriber(subs, 3, frequency=Frequency.WEEKLY, topics=events_only)
    await subscriber(subs, 4, frequency=Frequency.DAILY, role=Role.HEAD)  # empty digest
    campaigns = CampaignRepository(engine)
    variants = {
        preference_signature(Frequency.DAILY, events_only, Role.TEACHER, OrgKind.SCHOOL): [
            MessagePart("Только мероприятия")
        ],
        preference_signature(Frequency.DAILY, frozenset(Topic), Role.TEACHER, OrgKind.SCHOOL): [
            MessagePart("Всё")
        ],
    }
    campaign = await campaigns.create(
        "digest:daily:2026-11-27", CampaignKind.DIGEST, "Дайджест", variants,
        Audience(frequency=Frequency.DAILY, by_signature=True),
    )  # fmt: skip
    assert campaign is not None
    assert campaign.total == 2


async def test_a_campaign_with_nobody_to_reach_is_done_at_once(engine: Database) -> None:
    campaigns = CampaignRepository(engine)
    campaign = await campaigns.create("post:3", CampaignKind.POST, "x", POST, Audience())
    assert campaign is not None
    assert campaign.status is CampaignStatus.DONE
    assert campaign.total == 0
    assert await campaigns.in_progress() == []
