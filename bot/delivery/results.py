"""The engine's results on their way to the outbox: gathered, then committed in small batches.

Results are committed at least every FLUSH_INTERVAL or FLUSH_SIZE results, whichever comes
first: the one duplicate window of the design (a message accepted by the messenger but not yet
recorded) is bounded by the requests in flight plus one unflushed batch, which
`SenderStats.window_max` measures. A result is never dropped: a failed commit keeps the batch
for the next one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError

from bot.content.models import DeliveryStatus
from bot.delivery.limits import RateLimiter, backoff_delay
from bot.delivery.transport import Outcome, Result
from bot.delivery.work import Job, Work
from bot.storage.outbox import LAST_SEND_AT, SEND_PAUSED, DeliveryResult, OutboxRepository

log = logging.getLogger("bot.delivery.engine")

FLUSH_INTERVAL = 0.1
FLUSH_SIZE = 50
UNAUTHORIZED_PAUSE = 60.0


@dataclass(slots=True)
class SenderStats:
    messages: int = 0  # successful sends, parts included
    sent: int = 0  # deliveries completed
    blocked: int = 0
    failed: int = 0
    retries: int = 0  # transient failures scheduled for another try
    retry_after: int = 0  # flood-control answers (each pauses all sending)
    in_flight_max: int = 0  # most requests in flight at once
    window_max: int = 0  # most sends done or in flight but not committed yet
    flushes: int = 0
    progress_edits: int = 0
    # Deliveries the previous run left marked as going out, found at this run's start: each
    # may have reached the messenger unrecorded (the most duplicates that stop could cause).
    unrecorded_at_start: int = 0


def job_result(
    job: Job,
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


class Results:
    """Gathers results and commits them; after each commit the settled deliveries leave the
    work in hand, and campaigns with nothing left are offered to `finish`."""

    def __init__(
        self,
        outbox: OutboxRepository,
        work: Work,
        stats: SenderStats,
        *,
        now: Callable[[], datetime],
        clock: Callable[[], float],
        in_flight: Callable[[], int],
        committed: Callable[[], None],
        finish: Callable[[list[int], datetime], Awaitable[None]],
        retry_due: Callable[[datetime], None] = lambda _: None,
        flush_interval: float = FLUSH_INTERVAL,
        flush_size: int = FLUSH_SIZE,
    ) -> None:
        self._outbox = outbox
        self._work = work
        self._stats = stats
        self._now = now
        self._clock = clock
        self._in_flight = in_flight
        self._committed = committed
        self._finish = finish
        self._retry_due = retry_due
        self._last_heartbeat = -math.inf
        self._flush_interval = flush_interval
        self._flush_size = flush_size
        self.max_unflushed = 4 * flush_size
        self._results: list[DeliveryResult] = []
        self._flushing = 0
        self._has_results = asyncio.Event()
        self._batch_full = asyncio.Event()
        self._lock = asyncio.Lock()
        # Telegram's flood waits since the last message that went out: (first told, until).
        self._pause: tuple[datetime, datetime] | None = None
        # SEND_PAUSED as wanted and as last written (None: not written by this run yet, so
        # the first message out clears what a previous run may have left).
        self._pause_wanted: str | None = None
        self._pause_written: str | None = None
        self._pause_writer: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return len(self._results)

    def add(self, result: DeliveryResult) -> None:
        self._results.append(result)
        self._has_results.set()
        if len(self._results) >= self._flush_size:
            self._batch_full.set()
        window = self._in_flight() + len(self._results) + self._flushing
        self._stats.window_max = max(self._stats.window_max, window)

    def clear(self) -> None:
        self._results.clear()

    async def stop_loop(self, loop: asyncio.Task[None]) -> None:
        """End the flush loop between two flushes, never inside one: a batch taken for
        recording and cut off mid-commit would be neither in memory nor surely committed, and
        its messages would go out again on the next start."""
        async with self._lock:
            loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop

    async def loop(self) -> None:
        while True:
            await self._has_results.wait()
            if len(self._results) < self._flush_size:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._batch_full.wait(), self._flush_interval)
            try:
                await self.flush()
            except SQLAlchemyError:
                log.exception("sender: could not record results; retrying in a second")
                await asyncio.sleep(1.0)

    async def flush(self, *, final: bool = False) -> None:
        """Commit the results gathered so far as one batch (at shutdown: all of them)."""
        async with self._lock:
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
                self._stats.flushes += 1
                self._committed()
                await self._recorded(batch, now)
                if not final:
                    break  # what came in meanwhile waits for its own batch to fill up

    async def flush_final(self) -> None:
        """At shutdown: commit everything; what cannot be committed is sent again next time."""
        try:
            await self.flush(final=True)
        except SQLAlchemyError:
            log.exception(
                "sender: %s results not recorded; those messages go out again next time",
                len(self._results),
            )
        self._results.clear()
        if self._pause_writer is not None:
            await self._pause_writer

    def paused(self, now: datetime, seconds: float) -> None:
        """Telegram asked to wait `seconds` (flood control): recorded in runtime_status, so
        `python -m bot status` and the owners' alerts can tell a pause by Telegram from a
        sender that stopped."""
        until = now + timedelta(seconds=seconds)
        since = now if self._pause is None else self._pause[0]
        if self._pause is not None:
            until = max(until, self._pause[1])
        self._pause = (since, until)
        self._want_pause(f"{since.isoformat()} {until.isoformat()}")

    def _want_pause(self, value: str) -> None:
        self._pause_wanted = value
        if self._pause_wanted != self._pause_written and (
            self._pause_writer is None or self._pause_writer.done()
        ):
            self._pause_writer = asyncio.create_task(self._write_pause(), name="sender-paused")

    async def _write_pause(self) -> None:
        """Writes the latest wanted value until it is the one stored (one write at a time, so
        a pause and the send that ends it are never stored out of order)."""
        while self._pause_wanted is not None and self._pause_wanted != self._pause_written:
            value = self._pause_wanted
            try:
                await self._outbox.set_status_value(SEND_PAUSED, value, self._now())
            except SQLAlchemyError:
                log.exception("sender: could not record Telegram's flood wait")
                return  # the next pause or message out tries again
            self._pause_written = value

    async def _recorded(self, batch: list[DeliveryResult], now: datetime) -> None:
        touched: set[int] = set()
        any_sent = False
        first_retry: datetime | None = None
        for result in batch:
            if result.status is DeliveryStatus.PENDING and result.next_attempt_at is None:
                any_sent = True  # a part of a longer message went out; the job is still held
                continue
            if result.next_attempt_at is not None and (
                first_retry is None or result.next_attempt_at < first_retry
            ):
                first_retry = result.next_attempt_at
            any_sent = any_sent or result.status is DeliveryStatus.SENT
            self._work.unhold(result.delivery_id, result.campaign_id)
            touched.add(result.campaign_id)
        if first_retry is not None:
            # Claimable from now on: a retry due before its commit is looked for at once.
            self._retry_due(first_retry)
        done = [c for c in touched if not self._work.holds(c)]
        if done:
            await self._finish(done, now)
        clock = self._clock()
        if any_sent and (self._pause is not None or self._pause_written != ""):
            self._pause = None  # a message went out: Telegram's wait is over
            self._want_pause("")
        if any_sent and clock - self._last_heartbeat >= 1.0:
            self._last_heartbeat = clock
            await self._outbox.set_status_value(LAST_SEND_AT, now.isoformat(), now)


class Marks:
    """Deliveries are marked in the outbox as going out before their requests do, in batches:
    a send that finds its job unmarked marks it together with the next jobs in the queue (up to
    `ahead`), and every send launched in the same turn of the loop shares that commit. What
    stays marked when the process dies is the unrecorded window (in flight, or sent and not yet
    committed) plus at most `ahead` jobs marked early, so the next start can tell how many
    duplicates the stop can at most have caused."""

    def __init__(self, outbox: OutboxRepository, *, now: Callable[[], datetime]) -> None:
        self._outbox = outbox
        self._now = now
        self._ids: list[int] = []
        self._commit: asyncio.Future[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def marked(self, job: Job, upcoming: Callable[[], list[Job]]) -> None:
        """Return once the job's mark is committed; raises what the commit raised (the job is
        unmarked again then)."""
        if job.marked is None:
            for marking in (job, *upcoming()):
                marking.marked = self._mark(marking.id)
        assert job.marked is not None
        try:
            await asyncio.shield(job.marked)
        except SQLAlchemyError:
            job.marked = None
            raise

    def _mark(self, delivery_id: int) -> asyncio.Future[None]:
        self._ids.append(delivery_id)
        if self._commit is None:
            self._commit = asyncio.get_running_loop().create_future()
            asyncio.get_running_loop().call_soon(self._start_commit)
        return self._commit

    def _start_commit(self) -> None:
        ids, self._ids = self._ids, []
        future, self._commit = self._commit, None
        assert future is not None
        task = asyncio.create_task(self._outbox.mark_sending(ids, self._now()))
        self._tasks.add(task)

        def done(task: asyncio.Task[None]) -> None:
            self._tasks.discard(task)
            if task.cancelled():
                future.cancel()
            elif (error := task.exception()) is not None:
                future.set_exception(error)
                future.exception()  # retrieved here: each waiting sender sees it too
            else:
                future.set_result(None)

        task.add_done_callback(done)


class Answers:
    """The engine's error policy: the transport's answer to a job becomes the job's result
    (sent, blocked, failed, retried later) or a pause of all sending (flood control, rejected
    credentials), under the limiter."""

    def __init__(
        self,
        results: Results,
        work: Work,
        stats: SenderStats,
        *,
        limiter: Callable[[], RateLimiter],
        clock: Callable[[], float],
        now: Callable[[], datetime],
        rand: Callable[[], float],
        max_attempts: int,
        backoff_base: float,
        poll_by: Callable[[float], None],
    ) -> None:
        self._results = results
        self._work = work
        self._stats = stats
        self._limiter = limiter
        self._clock = clock
        self._now = now
        self._rand = rand
        self._max_attempts = max_attempts
        self._backoff_base = backoff_base
        self._poll_by = poll_by
        self._transient_streak = 0

    def answered(self, job: Job, result: Result, *, logged: bool = False) -> None:
        if result.done:
            self._part_sent(job, result.message_id or job.message_id)
        else:
            self._failed(job, result, logged=logged)

    def _part_sent(self, job: Job, message_id: str | None) -> None:
        self._stats.messages += 1
        self._transient_streak = 0
        job.parts_sent += 1
        if job.message_id is None:
            job.message_id = message_id
        now = self._now()
        if job.parts_sent < len(job.parts):
            # Record the progress, so a crash resumes at the next part rather than the first.
            self._results.add(job_result(job, DeliveryStatus.PENDING))
            self._work.defer(job, self._clock() + self._limiter().per_chat_interval)
            return
        self._stats.sent += 1
        job.attempts += 1
        self._results.add(job_result(job, DeliveryStatus.SENT, sent_at=now))

    def _failed(self, job: Job, result: Result, *, logged: bool) -> None:
        clock = self._clock()
        limiter = self._limiter()
        if result.outcome is Outcome.RETRY_AFTER:
            self._stats.retry_after += 1
            limiter.pause(result.retry_after, clock)
            log.warning("sender: flood control, pausing %ss", result.retry_after)
            self._results.paused(self._now(), result.retry_after)
            self._work.defer(job, clock + result.retry_after)
            return
        if result.outcome is Outcome.HALT:
            log.error("sender: the messenger rejects our credentials; pausing: %s", result.error)
            limiter.pause(UNAUTHORIZED_PAUSE, clock)
            self._work.defer(job, clock + UNAUTHORIZED_PAUSE)
            return
        job.attempts += 1
        if result.outcome is Outcome.BLOCKED:
            self._stats.blocked += 1
            self._results.add(job_result(job, DeliveryStatus.BLOCKED, error=result.error))
            return
        if result.outcome is Outcome.TRANSIENT and job.attempts < self._max_attempts:
            self._stats.retries += 1
            self._transient_streak += 1
            if self._transient_streak >= 5:
                # The messenger or the network is down: don't burn everyone's attempts meanwhile.
                limiter.pause(min(60.0, 2.0 ** (self._transient_streak - 5)), clock)
            delay = backoff_delay(job.attempts, base=self._backoff_base, rand=self._rand)
            self._poll_by(clock + delay)
            next_attempt_at = self._now() + timedelta(seconds=delay)
            self._results.add(
                job_result(
                    job,
                    DeliveryStatus.PENDING,
                    error=result.error,
                    next_attempt_at=next_attempt_at,
                )
            )
            return
        if not logged:
            log.warning("sender: delivery %s failed: %s", job.id, result.error)
        self._stats.failed += 1
        self._results.add(job_result(job, DeliveryStatus.FAILED, error=result.error))
