"""Stopping the sender while a batch of results is being committed loses none of them.

The app's shutdown stops the sender: requests in flight finish, then the flush loop ends and the
last results are committed. The loop used to be cancelled wherever it was — also inside a
commit, with its batch already taken from memory: those deliveries stayed pending and their
messages went out a second time on the next start (seen as «sent 1 of 50» after a handover on a
loaded machine). Here the first commit is held open until the sender is stopping.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bot.config import load_settings
from bot.content.models import Audience, CampaignKind, MessagePart
from bot.delivery.engine import Sender
from bot.delivery.transport import Limits, Result
from bot.storage.campaigns import SINGLE_VARIANT, CampaignRepository
from bot.storage.database import Database
from bot.storage.db import create_engine, migrate
from bot.storage.outbox import DeliveryResult, OutboxRepository
from bot.storage.subscribers import SubscriberRepository
from tests.support.databases import scratch_url
from tests.support.subscribers import subscriber

RECIPIENTS = list(range(3001, 3041))


@dataclass
class InstantTransport:
    limits: Limits = field(default_factory=lambda: Limits(1000.0, 0.0))
    sends: list[int] = field(default_factory=list)

    async def send(self, chat_id: int, part: MessagePart) -> Result:
        self.sends.append(chat_id)
        await asyncio.sleep(0)
        return Result.sent(str(len(self.sends)))

    async def edit(self, chat_id: int, message_id: str, part: MessagePart) -> Result:
        return Result.sent(message_id)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Database]:
    engine = create_engine(scratch_url(tmp_path, "stop"))
    await migrate(engine)
    subs = SubscriberRepository(engine)
    for chat_id in RECIPIENTS:
        await subscriber(subs, chat_id)
    yield engine
    await engine.dispose()


async def test_a_commit_under_way_at_shutdown_is_finished_not_cut_off(
    engine: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entered, release, stopping = asyncio.Event(), asyncio.Event(), asyncio.Event()
    record = OutboxRepository.record

    async def held_record(
        self: OutboxRepository, batch: list[DeliveryResult], now: datetime
    ) -> Any:
        if not entered.is_set():
            entered.set()
            await release.wait()  # the first commit lasts until the sender is stopping
        return await record(self, batch, now)

    drain = Sender._drain

    async def noted_drain(self: Sender) -> None:
        await drain(self)
        stopping.set()  # requests in flight are done: next, the flush loop is ended

    monkeypatch.setattr(OutboxRepository, "record", held_record)
    monkeypatch.setattr(Sender, "_drain", noted_drain)

    settings = load_settings(
        database_url=scratch_url(tmp_path, "stop"), quiet_hours="", _env_file=None
    )
    campaigns = CampaignRepository(engine)
    post = await campaigns.create(
        "post:stop", CampaignKind.POST, "Семинар",
        {SINGLE_VARIANT: [MessagePart("Семинар для координаторов")]}, Audience(),
    )  # fmt: skip
    assert post is not None
    transport = InstantTransport()
    sender = Sender(settings, engine, flush_size=5, idle_poll=60.0)
    sender.start(transport)

    async def within(awaitable: Awaitable[Any], seconds: float = 10) -> Any:
        async with asyncio.timeout(seconds):
            return await awaitable

    await within(entered.wait())
    stop: asyncio.Task[None] = asyncio.create_task(sender.stop())
    await within(stopping.wait())
    for _ in range(5):  # the shutdown is now waiting for the commit, not cutting it off
        await asyncio.sleep(0)
    release.set()
    await within(stop)

    counts = await campaigns.counts(post.id)
    sent = Counter(transport.sends)
    assert set(sent.values()) <= {1}
    assert counts.sent == len(sent) > 0  # every message that went out is recorded as sent
    assert counts.sent + counts.pending == len(RECIPIENTS)
