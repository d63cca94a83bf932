"""Waiting on a condition the code under test changes, with a deadline and no fixed sleep."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def until(condition: Callable[[], bool], within: float = 10.0) -> None:
    """Until `condition()` holds (looked at every 50 ms); fails the test after `within` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        assert loop.time() < deadline, f"not within {within} s"
        await asyncio.sleep(0.05)
