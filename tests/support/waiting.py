"""Waiting on a condition the code under test changes, with a deadline and no fixed sleep."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable


async def until(
    check: Callable[[], object],
    within: float = 10.0,
    what: str = "the condition",
    every: float = 0.05,
) -> None:
    """Returns once `check()` (a plain or an async function: a state only the database shows)
    is true, looking every `every` seconds; TimeoutError naming `what` after `within` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if loop.time() > deadline:
            raise TimeoutError(f"{what}: not within {within:g} s")
        await asyncio.sleep(every)
