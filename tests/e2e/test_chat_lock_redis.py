"""The chat lock across web workers (Redis): a worker killed mid-update frees its chat within
seconds, and a live one keeps it however long its update takes."""

from __future__ import annotations

import asyncio
import sys

import pytest
from aiogram.fsm.storage.base import DefaultKeyBuilder, StorageKey
from redis.asyncio import Redis

from bot.telegram.isolation import RenewedRedisEventIsolation
from tests.support.databases import LOCAL_REDIS, answers

REDIS_URL = LOCAL_REDIS
KEY = StorageKey(bot_id=42, chat_id=7001, user_id=7001)

pytestmark = pytest.mark.skipif(not answers(6379), reason="Redis at 127.0.0.1:6379 is needed")

HOLDER = """
import asyncio, sys
from aiogram.fsm.storage.base import DefaultKeyBuilder, StorageKey
from redis.asyncio import Redis
from bot.telegram.isolation import RenewedRedisEventIsolation

async def main():
    isolation = RenewedRedisEventIsolation.from_url(
        sys.argv[1], key_builder=DefaultKeyBuilder(prefix=sys.argv[2]), ttl=float(sys.argv[3])
    )
    async with isolation.lock(StorageKey(bot_id=42, chat_id=7001, user_id=7001)):
        print("held", flush=True)
        await asyncio.sleep(600)

asyncio.run(main())
"""


def _isolation(prefix: str, ttl: float) -> RenewedRedisEventIsolation:
    return RenewedRedisEventIsolation(
        Redis.from_url(REDIS_URL), key_builder=DefaultKeyBuilder(prefix=prefix), ttl=ttl
    )


async def _close(isolation: RenewedRedisEventIsolation) -> None:
    await isolation.redis.aclose()
    await isolation.redis.connection_pool.disconnect()


async def test_a_killed_holder_frees_the_chat_within_the_lock_s_life(tmp_path: object) -> None:
    prefix = f"test-lock-{id(tmp_path)}"
    holder = await asyncio.create_subprocess_exec(
        sys.executable, "-c", HOLDER, REDIS_URL, prefix, "2.0", stdout=asyncio.subprocess.PIPE
    )
    isolation = _isolation(prefix, ttl=2.0)
    try:
        assert holder.stdout is not None
        assert (await holder.stdout.readline()).strip() == b"held"
        # While the holder lives (and renews), nobody else gets the chat.
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(3.0), isolation.lock(KEY):
                pass
        holder.kill()
        await holder.wait()
        # aiogram's own lock would keep the chat for 60 s; this one is free in ≤ 2 s.
        async with asyncio.timeout(10.0), isolation.lock(KEY):
            pass
    finally:
        if holder.returncode is None:
            holder.kill()
            await holder.wait()
        await _close(isolation)


async def test_a_live_holder_keeps_the_chat_past_the_lock_s_life(tmp_path: object) -> None:
    prefix = f"test-lock-live-{id(tmp_path)}"
    first, second = _isolation(prefix, ttl=1.0), _isolation(prefix, ttl=1.0)
    events: list[str] = []
    held = asyncio.Event()

    async def long_update() -> None:
        async with first.lock(KEY):
            held.set()
            await asyncio.sleep(2.5)  # an update handled for 2.5 times the lock's life
            events.append("first done")

    async def next_update() -> None:
        await held.wait()
        async with second.lock(KEY):
            events.append("second starts")

    try:
        await asyncio.gather(long_update(), next_update())
    finally:
        await _close(first)
        await _close(second)
    assert events == ["first done", "second starts"]
