"""The broadcast engine: drains the deliveries outbox under Telegram's limits.

A campaign is fanned out into pending delivery rows when it is created
(`CampaignRepository.create`); the `Sender` claims due rows a page at a time, sends them under a
rate limiter (a global token bucket at SEND_RATE and one message a second per chat), and
records the results in small batches.

Crash safety: the outbox *is* the state; the sender keeps nothing that cannot be rebuilt from
it. A delivery recorded as sent is never claimed again, and a multi-part message resumes from
its recorded `parts_sent`. The one unavoidable duplicate window: a message Telegram has
accepted but whose result is not committed yet — the request in flight, or the result waiting
in the batch (results are committed at least every FLUSH_INTERVAL = 100 ms or FLUSH_SIZE = 50
results, whichever comes first). If the process dies inside that window the row is still
pending, so the message is sent again on restart: at-least-once, with the duplicates bounded by
the messages in flight plus one unflushed batch (`SenderStats.window_max` measures it). The
same holds for a network error or timeout after Telegram accepted a message: it is retried.
(On SQLite with synchronous=NORMAL a power cut, unlike a crash, may also lose the last commits.)

Edit campaigns (kind EDIT, /edit): each delivery carries the id of a message a post campaign
sent, and the sender edits that message (text, or a file's caption) instead of sending one —
under the same limits, retries and recording. Doing an edit twice after a crash is harmless:
Telegram's "message is not modified" counts as done; a message it won't edit any more (gone, or
older than 48 hours in a private chat) fails at once.

One sender per database: claims are not leases, so a second sender process on the same outbox
would send the same rows. (A lease column on deliveries would lift that; not needed yet.)

Time is injected: `clock` (monotonic seconds) drives the limiter and the timers, `now` (aware
UTC datetimes) is what goes to the database and decides quiet hours, so tests control both.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import math
import random
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import Response
from aiogram.types import LinkPreviewOptions, Message, MessageEntity
from aiogram.utils.formatting import Text
from sqlalchemy.exc import NoResultFound, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import texts
from bot.config import Settings
from bot.content.models import (
    Campaign,
    CampaignKind,
    CampaignStatus,
    DeliveryStatus,
    MessagePart,
    SubscriberStatus,
)
from bot.storage.campaigns import CampaignRepository
from bot.storage.db import utcnow
from bot.storage.outbox import LAST_SEND_AT, DeliveryResult, DueDelivery, OutboxRepository

log = logging.getLogger(__name__)

PER_CHAT_INTERVAL = 1.0  # Telegram: no more than one message a second to the same chat
PAID_BROADCAST_RATE = 30.0  # above this, Telegram requires allow_paid_broadcast
FLUSH_INTERVAL = 0.1
FLUSH_SIZE = 50
BATCH_SIZE = 200
PROGRESS_INTERVAL = 2.0
IDLE_POLL = 5.0  # look for campaigns created elsewhere (another process) this often
BACKOFF_BASE = 5.0
BACKOFF_FACTOR = 4.0
BACKOFF_CAP = 1800.0
UNAUTHORIZED_PAUSE = 60.0
STOP_TIMEOUT = 10.0

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
# aiogram parses every reply as Response[<the method's return type>], a pydantic generic class
# that pydantic caches only weakly: the garbage collector drops it and the next reply rebuilds it
# (~10 ms of schema building, several times a second at broadcast rates). Holding the two the
# sender uses keeps them built.
_REPLY_MODELS = (Response[Message], Response[Message | bool])


# ---------------------------------------------------------------------------- rate limiting


class RateLimiter:
    """Global rate (GCRA token bucket) plus one message per `per_chat_interval` per chat.

    Pure and clock-free: every method takes `now` (monotonic seconds). A send is
    `wait(chat, now) == 0` → `acquire(chat, now)` → the request → `release(chat, now)` when the
    reply arrives. The per-chat interval counts from the reply, so the next message to that
    chat reaches Telegram at least an interval after the previous one was processed there, and
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
        """TelegramRetryAfter: nothing goes out to anyone for `seconds`."""
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


# ---------------------------------------------------------------------------- quiet hours


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


# ---------------------------------------------------------------------------- error policy


@dataclass(frozen=True, slots=True)
class Verdict:
    """What to do about a failed send."""

    outcome: str  # one of the constants below
    error: str
    retry_after: float = 0.0


RETRY_AFTER = "retry_after"  # flood control: pause everything, then send the same again
BLOCKED = "blocked"  # the subscriber blocked the bot or the chat is gone: never again
TRANSIENT = "transient"  # network, timeout, 5xx: back off and retry, up to the allowed tries
FAILED = "failed"  # a request Telegram will never accept: give up now
HALT = "halt"  # our token is rejected: stop sending for a while, blame nobody's delivery


def classify(exc: BaseException) -> Verdict:
    text = exc.message if isinstance(exc, TelegramAPIError) else repr(exc)
    if isinstance(exc, TelegramRetryAfter):
        return Verdict(RETRY_AFTER, text, float(exc.retry_after))
    if isinstance(exc, TelegramForbiddenError):
        return Verdict(BLOCKED, text)
    if isinstance(exc, TelegramBadRequest):
        lowered = text.lower()
        if "chat not found" in lowered or "user not found" in lowered:
            return Verdict(BLOCKED, text)
        return Verdict(FAILED, text)
    if isinstance(exc, TelegramNetworkError | TelegramServerError | TimeoutError):
        return Verdict(TRANSIENT, text or type(exc).__name__)
    if isinstance(exc, TelegramUnauthorizedError):
        return Verdict(HALT, text)
    return Verdict(FAILED, text or type(exc).__name__)


# ---------------------------------------------------------------------------- the sender


@dataclass(frozen=True, slots=True)
class _Part:
    """A message part ready for the wire: entities parsed into aiogram objects once."""

    text: str
    entities: list[MessageEntity] | None
    photo: str | None = None
    document: str | None = None


def prepare_parts(parts: Iterable[MessagePart]) -> tuple[_Part, ...]:
    return tuple(
        _Part(
            p.text,
            [MessageEntity.model_validate(e) for e in p.entities] or None,
            p.photo,
            p.document,
        )
        for p in parts
    )


async def send_media(bot: Bot, chat_id: int, part: _Part, paid: bool | None) -> Message:
    """A photo or document with the part's text as its caption."""
    caption = part.text or None
    entities = part.entities if caption else None
    if part.photo is not None:
        return await bot.send_photo(
            chat_id=chat_id, photo=part.photo, caption=caption, parse_mode=None,
            caption_entities=entities, allow_paid_broadcast=paid,
        )  # fmt: skip
    assert part.document is not None
    return await bot.send_document(
        chat_id=chat_id, document=part.document, caption=caption, parse_mode=None,
        caption_entities=entities, allow_paid_broadcast=paid,
    )  # fmt: skip


@dataclass(slots=True)
class _Job:
    """A delivery the sender holds: from the claim until its result is committed."""

    id: int
    campaign_id: int
    chat_id: int
    urgent: bool
    parts: tuple[_Part, ...]
    parts_sent: int
    attempts: int
    message_id: int | None = None
    edit: bool = False  # change the sent message `message_id` to parts[0] instead of sending


@dataclass(slots=True)
class _Control:
    """A progress message for the editor: sent first, edited afterwards; latest text wins."""

    campaign_id: int
    chat_id: int
    content: Text
    final: bool = False


@dataclass(slots=True)
class _CampaignState:
    campaign: Campaign
    message_id: int | None
    last_text: str | None = None
    control: _Control | None = None  # queued, not yet sent
    resumes_at: dtime | None = None  # paused for quiet hours until then
    done: bool = False


@dataclass(slots=True)
class SenderStats:
    messages: int = 0  # successful sendMessage calls, parts included
    sent: int = 0  # deliveries completed
    blocked: int = 0
    failed: int = 0
    retries: int = 0  # transient failures scheduled for another try
    retry_after: int = 0  # TelegramRetryAfter answers (each pauses all sending)
    in_flight_max: int = 0  # most requests in flight at once
    window_max: int = 0  # most sends done or in flight but not committed yet
    flushes: int = 0
    progress_edits: int = 0


class Sender:
    """Drains the outbox; one per process. `run(bot)` until `stop()`; `wake()` when a campaign
    is created so it starts now rather than at the next poll."""

    def __init__(
        self,
        settings: Settings,
        engine: AsyncEngine,
        *,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = utcnow,
        rand: Callable[[], float] = random.random,
        batch_size: int = BATCH_SIZE,
        flush_interval: float = FLUSH_INTERVAL,
        flush_size: int = FLUSH_SIZE,
        progress_interval: float = PROGRESS_INTERVAL,
        idle_poll: float = IDLE_POLL,
        backoff_base: float = BACKOFF_BASE,
        max_in_flight: int | None = None,
        stop_timeout: float = STOP_TIMEOUT,
    ) -> None:
        self._settings = settings
        self._outbox = OutboxRepository(engine)
        self._campaign_repo = CampaignRepository(engine)
        self._clock = clock
        self._now = now
        self._rand = rand
        self._batch_size = batch_size
        self._flush_interval = flush_interval
        self._flush_size = flush_size
        self._progress_interval = progress_interval
        self._idle_poll = idle_poll
        self._backoff_base = backoff_base
        self._stop_timeout = stop_timeout
        self._max_attempts = settings.send_max_attempts
        self._quiet_window = settings.quiet_window
        self._tz = settings.tz
        # Enough requests in flight to keep the rate up over a slow link (half a second's
        # worth), few enough that a crash re-sends only a handful.
        self._max_in_flight = max_in_flight or max(4, min(200, math.ceil(settings.send_rate / 2)))
        self._max_unflushed = 4 * flush_size
        self._paid = settings.send_rate > PAID_BROADCAST_RATE
        self.limiter = RateLimiter(settings.send_rate)
        self.stats = SenderStats()

        self._kick = asyncio.Event()
        self._done = asyncio.Event()
        self._done.set()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._running = False

        self._urgent: deque[_Job] = deque()
        self._queue: deque[_Job] = deque()
        self._deferred: list[tuple[float, int, _Job]] = []  # (ready_at, seq, job) heap
        self._seq = 0
        self._control: deque[_Control] = deque()
        self._held: set[int] = set()  # delivery ids claimed and not yet committed
        self._held_by_campaign: Counter[int] = Counter()
        self._tasks: set[asyncio.Task[None]] = set()
        self._in_flight = 0
        self._at_capacity = False  # the loop waits for a request to finish or results to land

        self._results: list[DeliveryResult] = []
        self._flushing = 0
        self._has_results = asyncio.Event()
        self._batch_full = asyncio.Event()
        self._flush_lock = asyncio.Lock()
        self._last_heartbeat = -math.inf

        self._campaigns: dict[int, _CampaignState] = {}
        self._order: list[int] = []  # claimable campaigns: urgent first, then oldest first
        self._cursors: dict[int, int] = {}
        self._drained: set[int] = set()  # reached the end of their due rows this round
        self._reload = True
        self._next_poll = -math.inf
        self._quiet: bool | None = None
        self._next_quiet_check = -math.inf
        self._variants: dict[int, tuple[_Part, ...]] = {}
        self._variants_of: dict[int, set[int]] = {}
        self._transient_streak = 0

    # ------------------------------------------------------------------ lifecycle

    def start(self, bot: Bot) -> None:
        """Run in a task the sender keeps; `stop()` ends and awaits it."""
        if self._task is not None and not self._task.done():
            return
        self._stopping = False
        self._task = asyncio.create_task(self.run(bot), name="broadcast-sender")

    def wake(self) -> None:
        """A campaign was created: look for work now."""
        self._reload = True
        self._next_quiet_check = -math.inf
        self._kick.set()

    async def stop(self) -> None:
        """Finish the requests in flight, commit their results, and return when run() has."""
        self._stopping = True
        self._kick.set()
        task, self._task = self._task, None
        if task is not None:
            try:
                await task
            except Exception:
                log.exception("sender: stopped with an error")
        elif self._running:
            await self._done.wait()
        else:
            self._stopping = False  # it was not running: nothing to stop

    @property
    def running(self) -> bool:
        return self._running

    @property
    def idle(self) -> bool:
        """Nothing held, queued, in flight or waiting to be recorded."""
        return not (self._held or self._control or self._in_flight or self._results)

    async def run(self, bot: Bot) -> None:
        if self._running:
            raise RuntimeError("the sender is already running")
        self._running = True  # a stop() that came before this point still counts
        self._done.clear()
        flusher = asyncio.create_task(self._flush_loop(), name="broadcast-flush")
        progress = asyncio.create_task(self._progress_loop(), name="broadcast-progress")
        log.info("sender: started, rate=%s/s", self._settings.send_rate)
        try:
            await self._dispatch(bot)
        finally:
            progress.cancel()
            await self._drain()
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher
            with contextlib.suppress(asyncio.CancelledError):
                await progress
            try:
                await self._flush(final=True)
            except SQLAlchemyError:
                log.exception(
                    "sender: %s results not recorded; those messages go out again next time",
                    len(self._results),
                )
            self._results.clear()
            self._forget_memory()
            self._running = False
            self._stopping = False
            self._done.set()
            log.info("sender: stopped")

    async def _drain(self) -> None:
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=self._stop_timeout)
        for task in pending:  # their results are unknown: the rows stay pending, sent again
            task.cancel()
        if pending:
            await asyncio.wait(pending)
            log.warning("sender: %s requests cut off at shutdown", len(pending))

    def _forget_memory(self) -> None:
        self._urgent.clear()
        self._queue.clear()
        self._deferred.clear()
        self._control.clear()
        self._held.clear()
        self._held_by_campaign.clear()
        self._campaigns.clear()
        self._order.clear()
        self._cursors.clear()
        self._drained.clear()
        self._variants.clear()
        self._variants_of.clear()
        self._reload = True
        self._quiet = None
        self._next_poll = -math.inf
        self._next_quiet_check = -math.inf

    # ------------------------------------------------------------------ the dispatch loop

    async def _dispatch(self, bot: Bot) -> None:
        while not self._stopping:
            self._kick.clear()
            try:
                await self._maintain()
                picked = self._pick(self._clock())
            except Exception:  # the database, or a bug: broadcasting must not stop for good
                log.exception("sender: looking for work failed; retrying in a second")
                await asyncio.sleep(1.0)
                continue
            if isinstance(picked, _Job):
                self._launch(self._deliver(bot, picked), picked.chat_id)
            elif isinstance(picked, _Control):
                self._launch(self._send_control(bot, picked), picked.chat_id)
            else:
                await self._sleep(picked)

    def _launch(self, coro: Any, chat_id: int) -> None:
        self.limiter.acquire(chat_id, self._clock())
        self._in_flight += 1
        self.stats.in_flight_max = max(self.stats.in_flight_max, self._in_flight)
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _sleep(self, seconds: float | None) -> None:
        """Until kicked, or `seconds` (None: until the next poll) have passed."""
        until_poll = self._next_poll - self._clock()
        if until_poll <= 0:  # a poll is due but waits for the queue to drain: not a deadline
            until_poll = self._idle_poll
        timeout = min(self._idle_poll, until_poll if seconds is None else min(seconds, until_poll))
        if self._quiet_window is not None:
            timeout = min(timeout, 1.0)  # notice the quiet hours begin or end
        if timeout <= 0 and self._kick.is_set():
            return
        handle = asyncio.get_running_loop().call_later(max(timeout, 0.0), self._kick.set)
        try:
            await self._kick.wait()
        finally:
            handle.cancel()

    def _pick(self, now: float) -> _Job | _Control | float | None:
        """The next message whose chat and the global rate allow it now, with the slot taken
        by the caller; otherwise how long to wait (None: until something happens)."""
        self._at_capacity = (
            self._in_flight >= self._max_in_flight or len(self._results) >= self._max_unflushed
        )
        if self._at_capacity:
            return None
        deferred_ready = bool(self._deferred) and self._deferred[0][0] <= now
        if not (self._control or deferred_ready or self._urgent or self._queue):
            return self._deferred[0][0] - now if self._deferred else None
        global_wait = self.limiter.global_wait(now)
        if global_wait > 0:
            return global_wait
        limiter = self.limiter
        for index, control in enumerate(self._control):
            if limiter.chat_wait(control.chat_id, now) == 0:
                del self._control[index]
                return control
        while self._deferred and self._deferred[0][0] <= now:
            _, _, job = heapq.heappop(self._deferred)
            wait = limiter.chat_wait(job.chat_id, now)
            if wait == 0:
                return job
            self._defer(job, now + min(wait, limiter.per_chat_interval))
        for queue in (self._urgent, self._queue):
            while queue:
                job = queue.popleft()
                wait = limiter.chat_wait(job.chat_id, now)
                if wait == 0:
                    return job
                self._defer(job, now + min(wait, limiter.per_chat_interval))
        waits = [self._deferred[0][0] - now] if self._deferred else []
        if self._control:
            waits.append(limiter.per_chat_interval)
        return min(waits) if waits else None

    def _defer(self, job: _Job, ready_at: float) -> None:
        self._seq += 1
        heapq.heappush(self._deferred, (ready_at, self._seq, job))

    # ------------------------------------------------------------------ finding work

    async def _maintain(self) -> None:
        clock = self._clock()
        if clock >= self._next_quiet_check:
            self._next_quiet_check = clock + 1.0
            await self._check_quiet_hours()
        if len(self._urgent) + len(self._queue) >= self._batch_size // 2:
            return
        if self._reload or clock >= self._next_poll:
            await self._reload_campaigns()
        if len(self._order) > len(self._drained):
            await self._refill()

    async def _check_quiet_hours(self) -> None:
        now = self._now()
        end = quiet_hours_end(now, self._quiet_window, self._tz)
        quiet = end is not None
        if quiet == self._quiet:
            return
        self._quiet = quiet
        self._reload = True
        if quiet:
            paused = await self._outbox.pause_for_quiet_hours()
            self._drop_ordinary()
            if paused:
                log.info("sender: quiet hours, campaigns paused: %s", paused)
            for campaign_id in paused:
                state = self._campaigns.get(campaign_id)
                if state is not None and self._quiet_window is not None:
                    state.resumes_at = self._quiet_window[1]
                    await self._queue_progress(state)
        else:
            resumed = await self._outbox.resume_after_quiet_hours()
            if resumed:
                log.info("sender: quiet hours over, campaigns resumed: %s", resumed)
            for state in self._campaigns.values():
                state.resumes_at = None

    def _drop_ordinary(self) -> None:
        """Quiet hours began: queued ordinary messages wait for the morning (a digest already
        half out is finished, though). Their rows are still pending; nothing is lost."""
        dropped = list(self._queue)
        self._queue.clear()
        keep: list[tuple[float, int, _Job]] = []
        for entry in self._deferred:
            job = entry[2]
            if job.urgent or job.parts_sent > 0:
                keep.append(entry)
            else:
                dropped.append(job)
        heapq.heapify(keep)
        self._deferred = keep
        for job in dropped:
            self._unhold(job.id, job.campaign_id)
            self._cursors.pop(job.campaign_id, None)

    async def _reload_campaigns(self) -> None:
        self._reload = False
        self._next_poll = self._clock() + self._idle_poll
        if self._quiet:
            await self._outbox.pause_for_quiet_hours()  # campaigns created since
        in_progress = await self._campaign_repo.in_progress()
        claimable = [
            c
            for c in in_progress
            if c.status is CampaignStatus.SENDING and (c.urgent or not self._quiet)
        ]
        claimable.sort(key=lambda c: (not c.urgent, c.id))
        self._order = [c.id for c in claimable]
        self._drained.clear()
        listed = set(self._order)
        for job_queue in (self._urgent, self._queue):
            for job in [j for j in job_queue if j.campaign_id not in listed]:
                job_queue.remove(job)  # paused or cancelled meanwhile
                self._unhold(job.id, job.campaign_id)
        for campaign in in_progress:
            if campaign.id in self._campaigns:
                continue
            state = _CampaignState(campaign, campaign.progress_message_id)
            if campaign.status is CampaignStatus.PAUSED and self._quiet_window is not None:
                state.resumes_at = self._quiet_window[1]
            self._campaigns[campaign.id] = state
            log.info(
                "sender: campaign %s %r (%s): %s recipients",
                campaign.id,
                campaign.key,
                campaign.status.value,
                campaign.total,
            )
            if campaign.progress_chat_id is not None:
                await self._queue_progress(state)

    async def _refill(self) -> None:
        now = self._now()
        wanted = self._batch_size
        for campaign_id in self._order:
            if campaign_id in self._drained:
                continue
            after = self._cursors.get(campaign_id, 0)
            rows = await self._outbox.claim_due(
                campaign_id, now, after_id=after, limit=self._batch_size
            )
            if len(rows) < self._batch_size:
                self._drained.add(campaign_id)
                self._cursors[campaign_id] = 0
            else:
                self._cursors[campaign_id] = rows[-1].id
            fresh = [row for row in rows if row.id not in self._held]
            for row in fresh:
                await self._take(row)
            wanted -= len(fresh)
            if not rows and after == 0 and not self._held_by_campaign[campaign_id]:
                # Nothing due and nothing held: finished, unless rows wait for a retry.
                await self._finish([campaign_id])
            if wanted <= 0:
                break
        if len(self._order) == len(self._drained) and not self._held:
            due = await self._outbox.next_due_at(urgent_only=bool(self._quiet))
            if due is not None:
                seconds = max(0.0, (due - now).total_seconds())
                self._next_poll = min(self._next_poll, self._clock() + seconds)

    async def _take(self, row: DueDelivery) -> None:
        self._held.add(row.id)
        self._held_by_campaign[row.campaign_id] += 1
        if row.chat_id is None:
            self._settle(row, DeliveryStatus.BLOCKED, "the subscriber deleted their data")
            return
        if row.subscriber_status is SubscriberStatus.BLOCKED:
            self._settle(row, DeliveryStatus.BLOCKED, "the subscriber has blocked the bot")
            return
        # No subscriber row behind a chat id: a direct delivery (the channel). A correction of a
        # message already in someone's chat is made even while they have paused: it sends
        # nothing new and notifies nobody.
        if row.subscriber_status not in (SubscriberStatus.ACTIVE, None) and not row.edit:
            self._settle(row, DeliveryStatus.FAILED, "the subscriber paused the subscription")
            return
        parts = await self._parts(row.campaign_id, row.variant_id)
        if not parts:
            self._settle(row, DeliveryStatus.FAILED, "the campaign has no such message")
            return
        if row.edit:
            if row.message_id is None:
                self._settle(row, DeliveryStatus.FAILED, "no sent message to edit")
                return
            parts = parts[:1]  # only a post's first message is known (and edited)
        if row.parts_sent >= len(parts):
            self._settle(row, DeliveryStatus.SENT, None)
            return
        job = _Job(
            row.id, row.campaign_id, row.chat_id, row.urgent, parts, row.parts_sent, row.attempts,
            message_id=row.message_id if row.edit else None, edit=row.edit,
        )  # fmt: skip
        (self._urgent if row.urgent else self._queue).append(job)

    def _settle(self, row: DueDelivery, status: DeliveryStatus, error: str | None) -> None:
        """A delivery decided without sending anything."""
        now = self._now()
        self._add_result(
            DeliveryResult(
                row.id,
                row.campaign_id,
                row.chat_id,
                status,
                attempts=row.attempts,
                parts_sent=row.parts_sent,
                error=error,
                sent_at=now if status is DeliveryStatus.SENT else None,
            )
        )

    async def _parts(self, campaign_id: int, variant_id: int | None) -> tuple[_Part, ...]:
        if variant_id is None:
            return ()
        parts = self._variants.get(variant_id)
        if parts is None:
            try:
                parts = prepare_parts(await self._campaign_repo.variant_parts(variant_id))
            except NoResultFound:
                parts = ()
            self._variants[variant_id] = parts
            self._variants_of.setdefault(campaign_id, set()).add(variant_id)
        return parts

    # ------------------------------------------------------------------ sending

    async def _deliver(self, bot: Bot, job: _Job) -> None:
        part = job.parts[job.parts_sent]
        paid = True if self._paid else None
        try:
            if job.edit:
                await self._edit(bot, job, part)
                message_id = job.message_id
            elif part.photo is not None or part.document is not None:
                message_id = (await send_media(bot, job.chat_id, part, paid)).message_id
            else:
                message = await bot.send_message(
                    chat_id=job.chat_id,
                    text=part.text,
                    parse_mode=None,
                    entities=part.entities,
                    link_preview_options=NO_PREVIEW,
                    allow_paid_broadcast=paid,
                )
                message_id = message.message_id
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._failed(job, exc)
        else:
            assert message_id is not None
            self._part_sent(job, message_id)
        finally:
            self._finished_request(job.chat_id)

    @staticmethod
    async def _edit(bot: Bot, job: _Job, part: _Part) -> None:
        """An edit campaign's delivery: the sent message becomes `part`. Already showing it
        ("message is not modified") counts as done; a message Telegram no longer lets us edit
        (gone, or older than 48 hours in a private chat) is a plain BadRequest: failed, no retry.
        """
        assert job.message_id is not None
        try:
            if part.photo is not None or part.document is not None:
                caption = part.text or None
                await bot.edit_message_caption(
                    chat_id=job.chat_id, message_id=job.message_id, caption=caption,
                    parse_mode=None, caption_entities=part.entities if caption else None,
                )  # fmt: skip
            else:
                await bot.edit_message_text(
                    chat_id=job.chat_id, message_id=job.message_id, text=part.text,
                    parse_mode=None, entities=part.entities, link_preview_options=NO_PREVIEW,
                )  # fmt: skip
        except TelegramBadRequest as exc:
            if "message is not modified" not in exc.message.lower():
                raise

    def _finished_request(self, chat_id: int) -> None:
        self.limiter.release(chat_id, self._clock())
        self._in_flight -= 1
        # Always wake the loop: a finished request may have freed capacity, or deferred the
        # next part of a message to a moment the sleeping loop doesn't know about yet.
        self._kick.set()

    def _part_sent(self, job: _Job, message_id: int) -> None:
        self.stats.messages += 1
        self._transient_streak = 0
        job.parts_sent += 1
        if job.message_id is None:
            job.message_id = message_id
        now = self._now()
        if job.parts_sent < len(job.parts):
            # Record the progress, so a crash resumes at the next part rather than the first.
            self._add_result(self._result(job, DeliveryStatus.PENDING))
            self._defer(job, self._clock() + self.limiter.per_chat_interval)
            return
        self.stats.sent += 1
        job.attempts += 1
        self._add_result(self._result(job, DeliveryStatus.SENT, sent_at=now))

    def _failed(self, job: _Job, exc: Exception) -> None:
        verdict = classify(exc)
        clock = self._clock()
        if verdict.outcome == RETRY_AFTER:
            self.stats.retry_after += 1
            self.limiter.pause(verdict.retry_after, clock)
            log.warning("sender: flood control, pausing %ss", verdict.retry_after)
            self._defer(job, clock + verdict.retry_after)
            return
        if verdict.outcome == HALT:
            log.error("sender: Telegram rejects the bot token; pausing: %s", verdict.error)
            self.limiter.pause(UNAUTHORIZED_PAUSE, clock)
            self._defer(job, clock + UNAUTHORIZED_PAUSE)
            return
        job.attempts += 1
        if verdict.outcome == BLOCKED:
            self.stats.blocked += 1
            self._add_result(self._result(job, DeliveryStatus.BLOCKED, error=verdict.error))
            return
        if verdict.outcome == TRANSIENT and job.attempts < self._max_attempts:
            self.stats.retries += 1
            self._transient_streak += 1
            if self._transient_streak >= 5:
                # Telegram or the network is down: don't burn everyone's attempts meanwhile.
                self.limiter.pause(min(60.0, 2.0 ** (self._transient_streak - 5)), clock)
            delay = backoff_delay(job.attempts, base=self._backoff_base, rand=self._rand)
            self._next_poll = min(self._next_poll, clock + delay)
            self._add_result(
                self._result(
                    job,
                    DeliveryStatus.PENDING,
                    error=verdict.error,
                    next_attempt_at=self._now() + timedelta(seconds=delay),
                )
            )
            return
        if verdict.outcome == FAILED and not isinstance(exc, TelegramAPIError):
            log.error("sender: delivery %s failed", job.id, exc_info=exc)
        else:
            log.warning("sender: delivery %s failed: %s", job.id, verdict.error)
        self.stats.failed += 1
        self._add_result(self._result(job, DeliveryStatus.FAILED, error=verdict.error))

    @staticmethod
    def _result(
        job: _Job,
        status: DeliveryStatus,
        *,
        error: str | None = None,
        next_attempt_at: datetime | None = None,
        sent_at: datetime | None = None,
    ) -> DeliveryResult:
        return DeliveryResult(
            job.id,
            job.campaign_id,
            job.chat_id,
            status,
            attempts=job.attempts,
            parts_sent=job.parts_sent,
            message_id=job.message_id,
            error=error,
            next_attempt_at=next_attempt_at,
            sent_at=sent_at,
        )

    # ------------------------------------------------------------------ recording results

    def _add_result(self, result: DeliveryResult) -> None:
        self._results.append(result)
        self._has_results.set()
        if len(self._results) >= self._flush_size:
            self._batch_full.set()
        window = self._in_flight + len(self._results) + self._flushing
        self.stats.window_max = max(self.stats.window_max, window)

    async def _flush_loop(self) -> None:
        while True:
            await self._has_results.wait()
            if len(self._results) < self._flush_size:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._batch_full.wait(), self._flush_interval)
            try:
                await self._flush()
            except SQLAlchemyError:
                log.exception("sender: could not record results; retrying in a second")
                await asyncio.sleep(1.0)

    async def _flush(self, *, final: bool = False) -> None:
        """Commit the results gathered so far as one batch (at shutdown: all of them)."""
        async with self._flush_lock:
            attempts = 0
            while self._results:
                batch, self._results = self._results, []
                self._has_results.clear()
                self._batch_full.clear()
                self._flushing = len(batch)
                now = self._now()
                try:
                    await self._outbox.record(batch, now)
                except SQLAlchemyError:
                    self._results[:0] = batch  # keep them; never drop a result
                    self._has_results.set()
                    attempts += 1
                    if not final or attempts >= 3:
                        raise
                    await asyncio.sleep(0.5)
                    continue
                finally:
                    self._flushing = 0
                self.stats.flushes += 1
                if self._at_capacity:
                    self._kick.set()
                await self._recorded(batch, now)
                if not final:
                    break  # what came in meanwhile waits for its own batch to fill up

    async def _recorded(self, batch: list[DeliveryResult], now: datetime) -> None:
        touched: set[int] = set()
        any_sent = False
        for result in batch:
            if result.status is DeliveryStatus.PENDING and result.next_attempt_at is None:
                any_sent = True  # a part of a longer message went out; the job is still held
                continue
            any_sent = any_sent or result.status is DeliveryStatus.SENT
            self._unhold(result.delivery_id, result.campaign_id)
            touched.add(result.campaign_id)
        done = [c for c in touched if not self._held_by_campaign[c]]
        if done:
            await self._finish(done, now)
        clock = self._clock()
        if any_sent and clock - self._last_heartbeat >= 1.0:
            self._last_heartbeat = clock
            await self._outbox.set_status_value(LAST_SEND_AT, now.isoformat(), now)

    def _unhold(self, delivery_id: int, campaign_id: int) -> None:
        if delivery_id in self._held:
            self._held.discard(delivery_id)
            self._held_by_campaign[campaign_id] -= 1
            if self._held_by_campaign[campaign_id] <= 0:
                del self._held_by_campaign[campaign_id]

    async def _finish(self, campaign_ids: list[int], now: datetime | None = None) -> None:
        for campaign_id in await self._outbox.finish_done(campaign_ids, now or self._now()):
            self._order = [c for c in self._order if c != campaign_id]
            self._cursors.pop(campaign_id, None)
            self._drained.discard(campaign_id)
            for variant_id in self._variants_of.pop(campaign_id, set()):
                self._variants.pop(variant_id, None)
            state = self._campaigns.get(campaign_id)
            campaign = state.campaign if state else await self._campaign_repo.get(campaign_id)
            log.info("sender: campaign %s finished", campaign_id)
            if state is None or campaign is None or campaign.progress_chat_id is None:
                self._campaigns.pop(campaign_id, None)
                continue
            state.done = True
            await self._queue_progress(state, final=True)

    # ------------------------------------------------------------------ progress messages

    async def _progress_loop(self) -> None:
        while True:
            await asyncio.sleep(self._progress_interval)
            for state in list(self._campaigns.values()):
                if state.done or state.campaign.progress_chat_id is None:
                    continue
                try:
                    await self._queue_progress(state)
                except SQLAlchemyError:
                    log.exception("sender: progress of campaign %s", state.campaign.id)

    async def _queue_progress(self, state: _CampaignState, *, final: bool = False) -> None:
        campaign = state.campaign
        if campaign.progress_chat_id is None:
            return
        counts = await self._campaign_repo.counts(campaign.id)
        if final:
            finished = await self._campaign_repo.get(campaign.id)
            ended = finished.finished_at if finished and finished.finished_at else self._now()
            started = campaign.started_at or campaign.created_at or ended
            posted = campaign.kind in (CampaignKind.POST, CampaignKind.EDIT)
            content = texts.broadcast_report(
                campaign.title,
                counts,
                (ended - started).total_seconds(),
                item_id=campaign.item_id if posted else None,
            )
        else:
            content = texts.broadcast_progress(campaign.title, counts, state.resumes_at)
        if not final and content.as_kwargs()["text"] == state.last_text:
            return
        if state.control is not None:  # not sent yet: send the newest text instead
            state.control.content = content
            state.control.final = state.control.final or final
        else:
            state.control = _Control(campaign.id, campaign.progress_chat_id, content, final)
            self._control.append(state.control)
        self._kick.set()

    async def _send_control(self, bot: Bot, control: _Control) -> None:
        state = self._campaigns.get(control.campaign_id)
        kwargs = control.content.as_kwargs()
        try:
            if state is not None:
                state.control = None
            if state is not None and state.message_id is not None:
                await bot.edit_message_text(
                    chat_id=control.chat_id,
                    message_id=state.message_id,
                    link_preview_options=NO_PREVIEW,
                    **kwargs,
                )
                self.stats.progress_edits += 1
            else:
                message = await bot.send_message(
                    chat_id=control.chat_id, link_preview_options=NO_PREVIEW, **kwargs
                )
                if state is not None:
                    state.message_id = message.message_id
                    await self._outbox.set_progress_message(
                        control.campaign_id, message.message_id
                    )
            if state is not None:
                state.last_text = kwargs["text"]
        except TelegramRetryAfter as exc:
            self.stats.retry_after += 1
            self.limiter.pause(float(exc.retry_after), self._clock())
            if state is not None and state.control is None:
                state.control = control
                self._control.appendleft(control)
            return
        except TelegramBadRequest as exc:
            if "not modified" not in exc.message:
                log.warning(
                    "sender: progress message of campaign %s: %s", control.campaign_id, exc.message
                )
        except (TelegramAPIError, SQLAlchemyError) as exc:
            log.warning("sender: progress message of campaign %s: %r", control.campaign_id, exc)
        finally:
            self._finished_request(control.chat_id)
        if control.final:
            self._campaigns.pop(control.campaign_id, None)


async def start_sender(bot: Bot, sender: Sender) -> None:
    """Dispatcher start-up: the sender starts draining the outbox."""
    sender.start(bot)


async def stop_sender(sender: Sender) -> None:
    """Dispatcher shutdown: requests in flight finish and their results are committed."""
    await sender.stop()
