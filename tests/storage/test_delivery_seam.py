"""The delivery seam: the production engine and a real (migrated) database, with a second
messenger written here — no Telegram, no aiogram anywhere in this test or the code it runs.

The recording transport has limits of its own (50 messages a second, a quarter of a second per
chat, while the settings say 1000/s), string message ids ("max-17") and its own "blocked" answer
for some recipients. One two-part post goes out, then an edit of it: every other recipient gets
each part exactly once, the blocked are recorded as blocked, the ids stored are the transport's
and the edit finds them.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.config import Settings, load_settings
from bot.content.models import (
    Audience,
    CampaignKind,
    CampaignStatus,
    DeliveryStatus,
    MessagePart,
    Role,
    SubscriberStatus,
)
from bot.delivery.engine import Sender
from bot.delivery.transport import Limits, Result
from bot.storage.campaigns import SINGLE_VARIANT, CampaignRepository
from bot.storage.database import Database
from bot.storage.db import create_engine, migrate
from bot.storage.schema import deliveries
from bot.storage.subscribers import SubscriberRepository
from tests.support.databases import scratch_url

REPO = Path(__file__).resolve().parents[2]
RATE = 50.0
PER_CHAT = 0.25
RECIPIENTS = list(range(2001, 2061))
BLOCKED = {chat for chat in RECIPIENTS if chat % 7 == 0}
EDITOR = 1  # the progress chat: not a subscriber
POST = {
    SINGLE_VARIANT: [
        MessagePart("Семинар для координаторов", ({"type": "bold", "offset": 0, "length": 7},)),
        MessagePart("Программа и регистрация — по ссылке"),
    ]
}


@dataclass
class Call:
    chat_id: int
    at: float
    part: MessagePart
    message_id: str | None = None  # an edit: the message it changes


@dataclass
class RecordingTransport:
    """Another messenger: answers at once, numbers its messages "max-N", refuses the blocked."""

    limits: Limits = field(default_factory=lambda: Limits(RATE, PER_CHAT))
    sends: list[Call] = field(default_factory=list)
    edits: list[Call] = field(default_factory=list)
    ids: dict[str, int] = field(default_factory=dict)  # message id → chat
    reports: asyncio.Queue[str] = field(default_factory=asyncio.Queue)
    _numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(17))
    _busy: set[int] = field(default_factory=set)
    overlaps: int = 0  # a request to a chat while one to it was in flight

    async def _call(self, chat_id: int) -> None:
        if chat_id in self._busy:
            self.overlaps += 1
        self._busy.add(chat_id)
        await asyncio.sleep(0)  # the answer comes back later, as over a network
        self._busy.discard(chat_id)

    async def send(self, chat_id: int, part: MessagePart) -> Result:
        self.sends.append(Call(chat_id, time.monotonic(), part))
        await self._call(chat_id)
        if chat_id in BLOCKED:
            return Result.blocked("MAX: the user has blocked the bot")
        message_id = f"max-{next(self._numbers)}"
        self.ids[message_id] = chat_id
        if chat_id == EDITOR and part.text.startswith("✅"):
            self.reports.put_nowait(part.text)
        return Result.sent(message_id)

    async def edit(self, chat_id: int, message_id: str, part: MessagePart) -> Result:
        self.edits.append(Call(chat_id, time.monotonic(), part, message_id))
        await self._call(chat_id)
        if self.ids.get(message_id) != chat_id:
            return Result.permanent("MAX: message not found")
        if chat_id == EDITOR and part.text.startswith("✅"):
            self.reports.put_nowait(part.text)
        return Result.sent(message_id)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Database]:
    engine = create_engine(scratch_url(tmp_path, "seam"))
    await migrate(engine)
    subs = SubscriberRepository(engine)
    for chat_id in RECIPIENTS:
        await subs.register(chat_id, name=f"u{chat_id}", username=None, source=None)
        await subs.set_role(chat_id, Role.TEACHER)
        await subs.mark_onboarded(chat_id)
    yield engine
    await engine.dispose()


def settings(tmp_path: Path) -> Settings:
    return load_settings(
        database_url=scratch_url(tmp_path, "seam"),
        send_rate=1000,  # Telegram's limit from the settings: this transport states its own
        quiet_hours="",
        _env_file=None,
    )


async def stored_ids(engine: Database, campaign_id: int) -> dict[int, tuple[str, str | None]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.select(deliveries.c.chat_id, deliveries.c.status, deliveries.c.message_id).where(
                deliveries.c.campaign_id == campaign_id
            )
        )
        return {row.chat_id: (row.status, row.message_id) for row in rows}


async def test_a_campaign_goes_out_through_another_transport(
    engine: Database, tmp_path: Path
) -> None:
    campaigns = CampaignRepository(engine)
    subs = SubscriberRepository(engine)
    transport = RecordingTransport()
    sender = Sender(settings(tmp_path), engine, progress_interval=0.3, idle_poll=60.0)
    post = await campaigns.create(
        "post:seam", CampaignKind.POST, "Семинар", POST, Audience(), progress_chat_id=EDITOR
    )
    assert post is not None and post.total == len(RECIPIENTS)

    sender.start(transport)
    try:
        async with asyncio.timeout(30):
            report = await transport.reports.get()
        assert "Семинар" in report

        # Every recipient not blocked got each part exactly once; the blocked were tried once.
        to_recipients = [c for c in transport.sends if c.chat_id != EDITOR]
        got = Counter((c.chat_id, c.part.text) for c in to_recipients)
        ok = [chat for chat in RECIPIENTS if chat not in BLOCKED]
        assert got == Counter(
            {(chat, part.text): 1 for chat in ok for part in POST[SINGLE_VARIANT]}
            | {(chat, POST[SINGLE_VARIANT][0].text): 1 for chat in BLOCKED}
        )

        # The transport's limits, not the settings' 1000/s: 50 a second overall (plus the
        # limiter's small burst) and a quarter of a second between two messages to a chat.
        times = sorted(c.at for c in transport.sends)
        assert times[-1] - times[0] >= (len(times) - 3) / RATE * 0.9
        for chat in ok:
            first, second = sorted(c.at for c in to_recipients if c.chat_id == chat)
            assert second - first >= PER_CHAT * 0.9
        assert transport.overlaps == 0

        # The outbox holds the transport's string ids and the blocked are blocked.
        rows = await stored_ids(engine, post.id)
        for chat in ok:
            status, message_id = rows[chat]
            assert status == DeliveryStatus.SENT.value
            assert message_id is not None and message_id.startswith("max-")
            assert transport.ids[message_id] == chat  # the id of its first message
        for chat in BLOCKED:
            assert rows[chat] == (DeliveryStatus.BLOCKED.value, None)
            subscriber = await subs.get(chat)
            assert subscriber is not None and subscriber.status is SubscriberStatus.BLOCKED

        done = await campaigns.get(post.id)
        assert done is not None and done.status is CampaignStatus.DONE
        assert done.progress_message_id is not None
        assert transport.ids[done.progress_message_id] == EDITOR
        counts = await campaigns.counts(post.id)
        assert (counts.sent, counts.blocked, counts.failed, counts.pending) == (
            len(ok), len(BLOCKED), 0, 0,
        )  # fmt: skip
        assert counts.sent + counts.blocked == counts.total == len(RECIPIENTS)

        # An edit campaign reads the string ids back and changes exactly those messages.
        fixed = MessagePart("Семинар для координаторов переносится на 16 марта")
        edit = await campaigns.create_edit(
            "edit:seam", "Семинар", fixed, ["post:seam"], progress_chat_id=EDITOR
        )
        assert edit is not None and edit.total == len(ok)
        sender.wake()
        async with asyncio.timeout(30):
            await transport.reports.get()
        edited = [c for c in transport.edits if c.chat_id != EDITOR]
        assert sorted((c.chat_id, c.message_id) for c in edited) == sorted(
            (chat, rows[chat][1]) for chat in ok
        )
        assert all(c.part == fixed for c in edited)
        edit_counts = await campaigns.counts(edit.id)
        assert (edit_counts.sent, edit_counts.failed, edit_counts.pending) == (len(ok), 0, 0)
    finally:
        await sender.stop()


def test_the_seam_runs_without_aiogram() -> None:
    """This test module and everything it imports load without aiogram."""
    probe = (
        "import sys, tests.storage.test_delivery_seam; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'aiogram'))"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "[]"
