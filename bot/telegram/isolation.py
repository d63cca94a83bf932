"""One update of a chat at a time across web workers: aiogram's Redis event isolation, with a
lock that lives seconds, not a minute.

aiogram's lock lives 60 s. A worker killed while it handles an update leaves the chat's lock
behind, and every other worker waits for it that long; Telegram gives up on its request first,
aiogram answers 200 and goes on with the update in the background, and the chat's next update
can overtake it. Here the lock lives LOCK_TTL and its holder renews it every LOCK_TTL / 3 while
the update is being handled, however long that takes: a dead holder frees its chats within
LOCK_TTL, a live one keeps them.

Imported only with REDIS_URL set (the `redis` package is the optional extra `.[redis]`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import Any

from aiogram.fsm.storage.base import KeyBuilder, StorageKey
from aiogram.fsm.storage.redis import RedisEventIsolation
from redis.asyncio import Redis
from redis.asyncio.lock import Lock
from redis.exceptions import LockError, RedisError

log = logging.getLogger(__name__)

LOCK_TTL = 5.0


class RenewedRedisEventIsolation(RedisEventIsolation):
    def __init__(
        self,
        redis: Redis,
        key_builder: KeyBuilder | None = None,
        lock_kwargs: dict[str, Any] | None = None,
        ttl: float = LOCK_TTL,
    ) -> None:
        super().__init__(redis, key_builder, lock_kwargs)
        self.ttl = ttl

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncGenerator[None, None]:
        redis_key = self.key_builder.build(key, "lock")
        async with self.redis.lock(
            name=redis_key, timeout=self.ttl, sleep=0.05, lock_class=Lock
        ) as held:
            keeper = asyncio.create_task(_keep(held, self.ttl), name="chat-lock-renewal")
            try:
                yield None
            finally:
                keeper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await keeper


async def _keep(lock: Lock, ttl: float) -> None:
    while True:
        await asyncio.sleep(ttl / 3)
        try:
            await lock.reacquire()
        except (LockError, RedisError) as exc:
            # Redis lost it (restarted, or it ran out through a long pause): the update goes on;
            # another worker may take the chat's next one meanwhile.
            log.warning("chat lock not renewed: %s", type(exc).__name__)
            return
