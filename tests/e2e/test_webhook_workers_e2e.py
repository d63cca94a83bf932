"""Two web workers behind a balancer on one PostgreSQL database and Redis (the real local
servers): dialogs go on whichever worker gets the next step, a chat's updates are handled one
at a time across the workers, and an update sent to both at once is handled once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import ClientSession

from tests.support.databases import LOCAL_REDIS, answers, postgres_url
from tests.support.emulator import BotAPIEmulator
from tests.support.harness import onboard
from tests.support.webhooks import SECRET, Balancer, RunningWeb, web_running

REDIS_URL = LOCAL_REDIS


@pytest.fixture
async def two_workers(emu: BotAPIEmulator, tmp_path: Path) -> AsyncIterator[RunningWeb]:
    if not answers(5432) or not answers(6379):
        pytest.skip("PostgreSQL at 127.0.0.1:5432 and Redis at 127.0.0.1:6379 are needed")
    async with web_running(
        emu, tmp_path, workers=2, webhook=False,
        database_url=postgres_url("webhook"), redis_url=REDIS_URL,
    ) as web:  # fmt: skip
        yield web


def _overlaps(web: RunningWeb) -> list[tuple[int, int]]:
    """Pairs of updates of one chat whose handling overlapped in time."""
    spans = sorted(web.spans, key=lambda s: s.started)
    return [
        (first.update_id, second.update_id)
        for n, first in enumerate(spans)
        for second in spans[n + 1 :]
        if second.chat_id == first.chat_id and second.started < first.ended
    ]


async def test_dialogs_go_on_across_the_workers_in_order(two_workers: RunningWeb) -> None:
    web = two_workers
    balancer = Balancer([w.address for w in web.workers])
    await balancer.start()
    try:
        await web.set_webhook(balancer.address + web.settings.webhook_path())
        people = [web.person(3100 + n, f"Педагог {n}") for n in range(6)]
        await asyncio.gather(*(onboard(person) for person in people))
    finally:
        web.emu.stop_pushing()
        await balancer.stop()
    # Both workers took steps of the dialogs; every update once, in each chat's order.
    assert {span.worker for span in web.spans} == {0, 1}
    assert set(web.handled_ids().values()) == {1}
    for person in people:
        mine = [s.update_id for s in sorted(web.spans, key=lambda s: s.started)
                if s.chat_id == person.id]  # fmt: skip
        assert mine == sorted(mine)
    assert not _overlaps(web)


async def test_one_chat_at_a_time_across_workers_and_a_copy_handled_once(
    two_workers: RunningWeb,
) -> None:
    web = two_workers
    emu = web.emu
    chats = [3200 + n for n in range(4)]
    for chat in chats:
        emu.user(chat)
    path = web.settings.webhook_path()
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    updates = []
    for n, chat in enumerate(chats * 3):
        updates.append({
            "update_id": 900 + n,
            "message": {
                "message_id": 10 + n, "date": 1764600000, "text": "/start",
                "chat": {"id": chat, "type": "private", "first_name": "Анна"},
                "from": {"id": chat, "is_bot": False, "first_name": "Анна"},
            },
        })  # fmt: skip
    async with ClientSession() as session:

        async def post(worker: int, update: dict[str, object]) -> int:
            url = web.workers[worker].address + path
            async with session.post(url, json=update, headers=headers) as answer:
                return answer.status

        # Each update to both workers at once (a re-send racing the original), all chats
        # at once: every chat's updates reach both workers concurrently.
        statuses = await asyncio.gather(
            *(post(worker, update) for update in updates for worker in (0, 1))
        )
    assert set(statuses) == {200}
    assert sorted(web.handled_ids()) == [u["update_id"] for u in updates]
    assert set(web.handled_ids().values()) == {1}
    assert not _overlaps(web)
