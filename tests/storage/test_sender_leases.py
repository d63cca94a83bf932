"""A sender sends only what is surely leased to it: when its leases can't be renewed (the
database is away) it stops before they run out, and goes on once a renewal succeeds."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from bot.config import load_settings
from bot.content.models import Audience, CampaignKind, DeliveryStatus, MessagePart
from bot.delivery.engine import Sender
from bot.delivery.transport import Limits, Result
from bot.storage.campaigns import SINGLE_VARIANT, CampaignRepository
from bot.storage.database import Database
from bot.storage.db import create_engine, migrate
from bot.storage.outbox import DeliveryResult, DueDelivery, OutboxRepository
from bot.storage.schema import deliveries
from bot.storage.subscribers import SubscriberRepository
from tests.support.databases import scratch_url
from tests.support.subscribers import subscriber
from tests.support.waiting import until

RECIPIENTS = list(range(4001, 4041))
LEASE = timedelta(seconds=2)


@dataclass
class CheckingTransport:
    """Asks the outbox, as each message goes out, whose the delivery is."""

    engine: Database
    owner: str = ""
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    limits: Limits = field(default_factory=lambda: Limits(20.0, 0.0))
    sends: Counter[int] = field(default_factory=Counter)
    unleased: list[int] = field(default_factory=list)  # chats sent to without a valid lease
    started: list[tuple[int, datetime]] = field(default_factory=list)  # (chat, when)

    async def send(self, chat_id: int, part: MessagePart) -> Result:
        at = self.now()  # the moment the request goes out; the lease must outlast it
        self.started.append((chat_id, at))
        async with self.engine.connect() as conn:
            owner, until = (
                await conn.execute(
                    sa.select(deliveries.c.lease_owner, deliveries.c.lease_until).where(
                        deliveries.c.chat_id == chat_id
                    )
                )
            ).one()
        if owner != self.owner or until is None or until <= at:
            self.unleased.append(chat_id)
        self.sends[chat_id] += 1
        return Result.sent(str(sum(self.sends.values())))

    async def edit(self, chat_id: int, message_id: str, part: MessagePart) -> Result:
        return Result.sent(message_id)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Database]:
    engine = create_engine(scratch_url(tmp_path, "leased"))
    await migrate(engine)
    subs = SubscriberRepository(engine)
    for chat_id in RECIPIENTS:
        await subscriber(subs, chat_id)
    yield engine
    await engine.dispose()


async def test_without_renewals_nothing_goes_out_past_the_lease_and_nothing_is_lost(
    engine: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    transport = CheckingTransport(engine)
    renew = OutboxRepository.renew
    refused = Counter[str]()

    async def unreliable_renew(
        self: OutboxRepository, delivery_ids: list[int], now: datetime
    ) -> set[int]:
        # From the 8th message on, the database refuses the next three renewals.
        if sum(transport.sends.values()) >= 8 and refused["renewals"] < 3:
            refused["renewals"] += 1
            raise OperationalError("UPDATE deliveries", {}, Exception("server closed"))
        return await renew(self, delivery_ids, now)

    monkeypatch.setattr(OutboxRepository, "renew", unreliable_renew)
    settings = load_settings(
        database_url=scratch_url(tmp_path, "leased"), quiet_hours="", _env_file=None
    )
    post = await CampaignRepository(engine).create(
        "post:leased", CampaignKind.POST, "Семинар",
        {SINGLE_VARIANT: [MessagePart("Семинар для координаторов")]}, Audience(),
    )  # fmt: skip
    assert post is not None
    sender = Sender(settings, engine, idle_poll=0.2, lease=LEASE)
    transport.owner = sender.owner
    sender.start(transport)
    try:
        await until(lambda: sorted(transport.sends) == RECIPIENTS and sender.idle, within=60)
    finally:
        await sender.stop()
    assert refused["renewals"] == 3  # the leases did lapse: the sender had to wait for them
    assert transport.unleased == []
    assert set(transport.sends.values()) == {1}


async def test_a_sender_cut_off_past_its_lease_leaves_what_another_took(
    engine: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database goes away mid-send for longer than the lease (a network partition); a
    standby takes the rows whose lease ran out. When the connection comes back, the first
    sender's requests that were waiting to go out must not: they are no longer its own."""
    shift = [0.0]  # seconds both of the first sender's clocks have jumped (the partition)

    def now() -> datetime:
        return datetime.now(UTC) + timedelta(seconds=shift[0])

    transport = CheckingTransport(engine, now=now)
    cut_off, healed = asyncio.Event(), asyncio.Event()
    mark, renew = OutboxRepository.mark_sending, OutboxRepository.renew

    async def partitioned_mark(self: OutboxRepository, ids: list[int], at: datetime) -> None:
        if sum(transport.sends.values()) >= 8 and not healed.is_set():
            cut_off.set()
            await healed.wait()
        await mark(self, ids, at)

    async def partitioned_renew(
        self: OutboxRepository, delivery_ids: list[int], at: datetime
    ) -> set[int]:
        if cut_off.is_set() and not healed.is_set():
            await healed.wait()
        return await renew(self, delivery_ids, now())

    monkeypatch.setattr(OutboxRepository, "mark_sending", partitioned_mark)
    monkeypatch.setattr(OutboxRepository, "renew", partitioned_renew)
    settings = load_settings(
        database_url=scratch_url(tmp_path, "leased"), quiet_hours="", _env_file=None
    )
    post = await CampaignRepository(engine).create(
        "post:partition", CampaignKind.POST, "Семинар",
        {SINGLE_VARIANT: [MessagePart("Семинар для координаторов")]}, Audience(),
    )  # fmt: skip
    assert post is not None
    loop = asyncio.get_running_loop()
    sender = Sender(
        settings, engine, idle_poll=0.2, lease=LEASE,
        clock=lambda: loop.time() + shift[0], now=now,
    )  # fmt: skip
    transport.owner = sender.owner
    sender.start(transport)
    standby = OutboxRepository(engine, "standby:2:y", LEASE)
    try:
        async with asyncio.timeout(30):
            await cut_off.wait()
        partition_at = datetime.now(UTC)
        shift[0] = LEASE.total_seconds() + 1  # the partition outlasted the lease
        taken = await standby.claim_due(post.id, now(), limit=len(RECIPIENTS))
        healed.set()
        await until(lambda: sender.idle)
        # The standby sends what it took.
        await standby.record([_sent(row) for row in taken], now())
    finally:
        await sender.stop()
    assert taken  # the standby did take rows the first sender had held
    assert transport.unleased == []
    got = Counter(transport.sends) + Counter(row.chat_id or 0 for row in taken)
    assert sorted(got) == RECIPIENTS
    # A second copy only of what was already on its way when the partition began (sent, its
    # result not recorded yet: the window every sender has); nothing sent after it is doubled.
    on_the_wire = {chat for chat, at in transport.started if at < partition_at}
    assert {chat for chat, count in got.items() if count > 1} <= on_the_wire
    assert max(got.values()) <= 2


def _sent(row: DueDelivery) -> DeliveryResult:
    return DeliveryResult(
        row.id, row.campaign_id, row.chat_id, DeliveryStatus.SENT, attempts=1, parts_sent=1,
        message_id="9", sent_at=datetime.now(UTC),
    )  # fmt: skip
