"""The engine's pure timing: the rate limiter, the retry backoff, quiet hours.

Clock-free: every function takes the moment it is asked about, so tests drive them with fake
time. The limits themselves come from the transport (`Transport.limits`).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from zoneinfo import ZoneInfo

PER_CHAT_INTERVAL = 1.0  # the default: one message a second to the same chat (Telegram's)
BACKOFF_BASE = 5.0
BACKOFF_FACTOR = 4.0
BACKOFF_CAP = 1800.0


class RateLimiter:
    """Global rate (GCRA token bucket) plus one message per `per_chat_interval` per chat.

    Pure and clock-free: every method takes `now` (monotonic seconds). A send is
    `wait(chat, now) == 0` → `acquire(chat, now)` → the request → `release(chat, now)` when the
    reply arrives. The per-chat interval counts from the reply, so the next message to that
    chat reaches the messenger at least an interval after the previous one was processed there, and
    a chat with a request in flight is not ready at all.
    """

    def __init__(
        self,
        rate: float,
        *,
        per_chat_interval: float = PER_CHAT_INTERVAL,
        burst: float | None = None,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.per_chat_interval = per_chat_interval
        self._step = 1.0 / rate
        # A little burst (50 ms worth, at least two) lets a late wake-up catch up instead of
        # losing its slot for good: timers fire a millisecond or so late, a lot at 1000/s.
        burst = max(2.0, rate / 20) if burst is None else burst
        self._tolerance = max(0.0, burst - 1.0) * self._step
        self._tat = -math.inf  # theoretical arrival time of the next message
        self._paused_until = -math.inf
        self._chat_ready: dict[int, float] = {}
        self._next_prune = -math.inf
        self.pauses = 0

    def global_wait(self, now: float) -> float:
        return max(0.0, self._paused_until - now, self._tat - self._tolerance - now)

    def chat_wait(self, chat_id: int, now: float) -> float:
        """Seconds until the chat may get a message; math.inf while one is in flight."""
        ready = self._chat_ready.get(chat_id)
        return 0.0 if ready is None else max(0.0, ready - now)

    def wait(self, chat_id: int, now: float) -> float:
        return max(self.global_wait(now), self.chat_wait(chat_id, now))

    def acquire(self, chat_id: int, now: float) -> None:
        """Take the slot (call only when wait() is 0): the chat is busy until release()."""
        self._tat = max(self._tat, now, self._paused_until) + self._step
        self._chat_ready[chat_id] = math.inf

    def release(self, chat_id: int, now: float) -> None:
        self._chat_ready[chat_id] = now + self.per_chat_interval
        if now >= self._next_prune:
            self._next_prune = now + self.per_chat_interval
            stale = [chat for chat, ready in self._chat_ready.items() if ready <= now]
            for chat in stale:
                del self._chat_ready[chat]

    def pause(self, seconds: float, now: float) -> None:
        """Flood control (a RETRY_AFTER outcome): nothing goes out to anyone for `seconds`."""
        self.pauses += 1
        self._paused_until = max(self._paused_until, now + seconds)

    @property
    def tracked_chats(self) -> int:
        return len(self._chat_ready)


def backoff_delay(
    attempt: int,
    *,
    base: float = BACKOFF_BASE,
    factor: float = BACKOFF_FACTOR,
    cap: float = BACKOFF_CAP,
    rand: Callable[[], float] = random.random,
) -> float:
    """The wait after the `attempt`-th failed try (1, 2, …): exponential, capped, with equal
    jitter — uniformly within [d/2, d] of d = min(cap, base·factor^(attempt-1)), so retries of a
    whole batch that failed together spread out instead of returning at once."""
    delay = min(cap, base * factor ** max(0, attempt - 1))
    return delay / 2 + rand() * delay / 2


def in_quiet_hours(moment: dtime, window: tuple[dtime, dtime]) -> bool:
    """Whether a local time of day falls in [start, end); the window may cross midnight."""
    start, end = window
    if start < end:
        return start <= moment < end
    return moment >= start or moment < end


def quiet_hours_end(
    now: datetime, window: tuple[dtime, dtime] | None, tz: ZoneInfo
) -> datetime | None:
    """When the quiet hours `now` is in end (UTC); None if `now` is not in quiet hours."""
    if window is None:
        return None
    local = now.astimezone(tz)
    if not in_quiet_hours(local.time(), window):
        return None
    end = datetime.combine(local.date(), window[1], tzinfo=tz)
    if end <= local:
        end = datetime.combine(local.date() + timedelta(days=1), window[1], tzinfo=tz)
    return end.astimezone(UTC)
