"""Outer middlewares that every update passes through."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject

log = logging.getLogger(__name__)

DRAIN_SECONDS = 10.0


class InFlightUpdates(BaseMiddleware):
    """Counts updates being handled, so shutdown can let them finish.

    aiogram closes the HTTP session as soon as polling stops; without this, a reply being sent
    at that moment (the second half of an onboarding step) would be cut off.
    """

    def __init__(self) -> None:
        self._count = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        self._count += 1
        self._idle.clear()
        try:
            return await handler(event, data)
        finally:
            self._count -= 1
            if not self._count:
                self._idle.set()

    async def drain(self) -> None:
        try:
            await asyncio.wait_for(self._idle.wait(), DRAIN_SECONDS)
        except TimeoutError:
            log.warning(
                "shutdown: %s updates still in progress after %ss", self._count, DRAIN_SECONDS
            )
