"""The broadcast engine: drains the deliveries outbox under its transport's limits.

A campaign is fanned out into pending delivery rows when it is created
(`CampaignRepository.create`); the `Sender` claims due rows a page at a time (work.py), sends
them through a `Transport` (transport.py; Telegram's is bot/telegram/transport.py) under a rate
limiter (limits.py: a global token bucket and an interval per chat, both the transport's), and
records the results in small batches (results.py). The editor's progress message and final
report are progress.py. This module is the loop tying them together; it imports no aiogram.

Crash safety: the outbox *is* the state; the sender keeps nothing that cannot be rebuilt from
it. A delivery recorded as sent is never claimed again, and a multi-part message resumes from
its recorded `parts_sent`. The one unavoidable duplicate window: a message the messenger has
accepted but whose result is not committed yet — the request in flight, or the result waiting
in the batch (results are committed at least every FLUSH_INTERVAL = 100 ms or FLUSH_SIZE = 50
results, whichever comes first). If the process dies inside that window the row is still
pending, so the message is sent again on restart: at-least-once, with the duplicates bounded by
the messages in flight plus one unflushed batch (`SenderStats.window_max` measures it). The
engine knows that window: a delivery is marked in the outbox (`sending_at`; one commit marks a
send with the next jobs in the queue, up to the in-flight limit) before its request goes out,
and every recorded result clears the mark; the next start counts the marks a run left behind,
reports them (log, and runtime_status "unrecorded_at_restart",
`SenderStats.unrecorded_at_start`: the most duplicates that stop can have caused) and sends
those deliveries again. The same holds for a network error
or timeout after the messenger accepted a message: it is retried.
(On SQLite with synchronous=NORMAL a power cut, unlike a crash, may also lose the last commits.)

Edit campaigns (kind EDIT, /edit): each delivery carries the id of a message a post campaign
sent, and the sender edits that message (text, or a file's caption) instead of sending one —
under the same limits, retries and recording. Doing an edit twice after a crash is harmless:
"message is not modified" (NOT_MODIFIED) counts as done; a message it won't edit any more (gone, or
older than 48 hours in a private chat) fails at once.

Leases: a claim leases its rows to this sender (`owner`) for LEASE (outbox.py); the sender
renews what it holds every LEASE / 3, sends a message only while its leases are known to be
held (renewed within LEASE), and records a result only for a row still leased to it. Another
sender takes a row only once its lease ran out: a sender that died or lost its database holds
nothing for long, and one that lost its leases cannot send what another now holds. Which
process sends at all is the worker lock's business (storage/leadership.py, app.py): one active
sender per database, the others hot standbys.

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
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from bot.config import Settings
from bot.delivery.limits import (
    BACKOFF_BASE,
    PER_CHAT_INTERVAL,
    RateLimiter,
    quiet_hours_end,
)
from bot.delivery.progress import PROGRESS_INTERVAL, Control, Progress
from bot.delivery.results import (
    FLUSH_INTERVAL,
    FLUSH_SIZE,
    Answers,
    Marks,
    Results,
    SenderStats,
)
from bot.delivery.transport import Result, Transport
from bot.delivery.work import BATCH_SIZE, Job, Work
from bot.storage.campaigns import CampaignRepository
from bot.storage.database import Database
from bot.storage.db import utcnow
from bot.storage.outbox import LEASE, SENDER_OWNER, UNRECORDED_AT_RESTART, OutboxRepository

__all__ = ["Sender", "SenderStats", "stop_sender"]

log = logging.getLogger(__name__)

IDLE_POLL = 5.0  # look for campaigns created elsewhere (another process) this often
LEASE_RETRY = 1.0  # leases not renewed in time: try again this often, sending nothing
STOP_TIMEOUT = 10.0


class Sender:
    """Drains the outbox; one per process. `run(transport)` until `stop()`; `wake()` when a
    campaign is created so it starts now rather than at the next poll."""

    def __init__(
        self,
        settings: Settings,
        engine: Database,
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
        owner: str | None = None,
        lease: timedelta = LEASE,
    ) -> None:
        self.settings = settings
        outbox = self._outbox = OutboxRepository(engine, owner, lease)
        self.owner = outbox.owner
        campaigns = self._campaign_repo = CampaignRepository(engine)
        self._clock = clock
        self._now = now
        self._idle_poll = idle_poll
        self._stop_timeout = stop_timeout
        self._quiet_window = settings.quiet_window
        self._tz = settings.tz
        self._max_in_flight_option = max_in_flight
        self._max_in_flight = self._in_flight_for(settings.send_rate)
        self.limiter = RateLimiter(settings.send_rate, per_chat_interval=PER_CHAT_INTERVAL)
        self.stats = SenderStats()

        self._kick = asyncio.Event()
        self._done = asyncio.Event()
        self._done.set()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._running = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._in_flight = 0
        self._at_capacity = False  # the loop waits for a request to finish or results to land
        self._reload = True
        self._next_poll = -math.inf
        # Moments a look at the outbox was asked for (a retry falls due then), earliest first:
        # a poll serves those due by then and the next poll comes by the earliest one left.
        self._polls_wanted: list[float] = []
        self._quiet: bool | None = None
        self._next_quiet_check = -math.inf
        # The leases on what the sender holds: known held until _leased_at + lease (monotonic
        # seconds; a renewal or a claim with nothing held before moves it), renewed by then.
        self._lease_s = lease.total_seconds()
        self._leased_at = -math.inf
        self._next_renewal = math.inf

        self._work = work = Work(
            outbox, campaigns, now=now, settle=lambda r: self._results.add(r),
            finish=self._finish, batch_size=batch_size,
        )  # fmt: skip
        self._results = Results(
            outbox, work, self.stats, now=now, clock=clock, in_flight=lambda: self._in_flight,
            committed=self._committed, finish=self._finish, retry_due=self._retry_due,
            flush_interval=flush_interval, flush_size=flush_size,
        )  # fmt: skip
        self._answers = Answers(
            self._results, work, self.stats, limiter=lambda: self.limiter, clock=clock, now=now,
            rand=rand, max_attempts=settings.send_max_attempts, backoff_base=backoff_base,
            poll_by=self._poll_by,
        )  # fmt: skip
        self._marks = Marks(outbox, now=now)
        self._progress = Progress(
            outbox, campaigns, self.stats, now=now, kick=self._kick.set, clock=clock,
            interval=progress_interval, retry_base=backoff_base,
        )  # fmt: skip

    def _in_flight_for(self, rate: float) -> int:
        # Enough requests in flight to keep the rate up over a slow link (half a second's
        # worth), few enough that a crash re-sends only a handful.
        return self._max_in_flight_option or max(4, min(200, math.ceil(rate / 2)))

    # ------------------------------------------------------------------ lifecycle

    def start(self, transport: Transport) -> None:
        """Run in a task the sender keeps; `stop()` ends and awaits it."""
        if self._task is not None and not self._task.done():
            return
        self._stopping = False
        self._task = asyncio.create_task(self.run(transport), name="broadcast-sender")

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
        return not (self._work.held or self._progress.queue or self._in_flight or self._results)

    async def run(self, transport: Transport) -> None:
        if self._running:
            raise RuntimeError("the sender is already running")
        self._running = True  # a stop() that came before this point still counts
        self._done.clear()
        limits = transport.limits
        self.limiter = RateLimiter(limits.rate, per_chat_interval=limits.per_chat_interval)
        self._max_in_flight = self._in_flight_for(limits.rate)
        flusher = asyncio.create_task(self._results.loop(), name="broadcast-flush")
        progress = asyncio.create_task(self._progress.loop(), name="broadcast-progress")
        log.info("sender: started, rate=%s/s", limits.rate)
        try:
            await self._reconcile()
            await self._dispatch(transport)
        finally:
            progress.cancel()
            await self._drain()
            await self._results.stop_loop(flusher)
            with contextlib.suppress(asyncio.CancelledError):
                await progress
            await self._results.flush_final()
            await self._release_leases()
            self._forget_memory()
            self._running = False
            self._stopping = False
            self._done.set()
            log.info("sender: stopped")

    async def _reconcile(self) -> None:
        """Deliveries the last run left marked as going out may have reached the messenger
        unrecorded: they are sent again, and their number reported (the duplicate bound)."""
        try:
            await self._outbox.set_status_value(SENDER_OWNER, self.owner)
            unrecorded = await self._outbox.reconcile_sending(self._now())
            await self._outbox.set_status_value(UNRECORDED_AT_RESTART, str(unrecorded))
        except SQLAlchemyError:
            log.exception("sender: could not check for sends left unrecorded by the last run")
            return
        self.stats.unrecorded_at_start = unrecorded
        if unrecorded:
            log.warning(
                "sender: the last run stopped with %s deliveries going out unrecorded; they are "
                "sent again (at most %s duplicates)",
                unrecorded,
                unrecorded,
            )

    async def _drain(self) -> None:
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=self._stop_timeout)
        for task in pending:  # their results are unknown: the rows stay pending, sent again
            task.cancel()
        if pending:
            await asyncio.wait(pending)
            log.warning("sender: %s requests cut off at shutdown", len(pending))

    async def _release_leases(self) -> None:
        """What is held and was not sent goes back at once, not after its lease."""
        held = sorted(self._work.held)
        if not held:
            return
        try:
            await self._outbox.release(held)
        except SQLAlchemyError:
            log.warning("sender: could not give back %s leases; they run out by themselves",
                        len(held))  # fmt: skip

    def _forget_memory(self) -> None:
        self._work.clear()
        self._progress.clear()
        self._reload = True
        self._quiet = None
        self._next_poll = -math.inf
        self._polls_wanted.clear()
        self._next_quiet_check = -math.inf
        self._leased_at = -math.inf
        self._next_renewal = math.inf

    # ------------------------------------------------------------------ the dispatch loop

    async def _dispatch(self, transport: Transport) -> None:
        while not self._stopping:
            self._kick.clear()
            try:
                await self._maintain()
                picked = self._pick(self._clock())
            except Exception:  # the database, or a bug: broadcasting must not stop for good
                log.exception("sender: looking for work failed; retrying in a second")
                await asyncio.sleep(1.0)
                continue
            if isinstance(picked, Job):
                self._launch(self._deliver(transport, picked), picked.chat_id)
            elif isinstance(picked, Control):
                self._launch(self._send_control(transport, picked), picked.chat_id)
            else:
                await self._sleep(picked)

    def _launch(self, coro: Coroutine[Any, Any, None], chat_id: int) -> None:
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
        if self._work.held:
            timeout = min(timeout, self._next_renewal - self._clock())  # keep the leases
        if timeout <= 0 and self._kick.is_set():
            return
        handle = asyncio.get_running_loop().call_later(max(timeout, 0.0), self._kick.set)
        try:
            await self._kick.wait()
        finally:
            handle.cancel()

    def _pick(self, now: float) -> Job | Control | float | None:
        """The next message whose chat and the global rate allow it now, with the slot taken
        by the caller; otherwise how long to wait (None: until something happens)."""
        work, progress = self._work, self._progress
        self._at_capacity = (
            self._in_flight >= self._max_in_flight
            or len(self._results) >= self._results.max_unflushed
        )
        if self._at_capacity:
            return None
        if not self._leases_held(now):
            # The leases could not be renewed in time (the database is away): they may be
            # another sender's by now, so nothing goes out until a renewal succeeds.
            return LEASE_RETRY
        if not (progress.queue or work.ready(now)):
            return work.next_deferred(now)
        global_wait = self.limiter.global_wait(now)
        if global_wait > 0:
            return global_wait
        picked = progress.pick(self.limiter, now) or work.pick(self.limiter, now)
        if picked is not None:
            return picked
        waits = [] if (deferred := work.next_deferred(now)) is None else [deferred]
        if (control_wait := progress.wait(self.limiter, now)) is not None:
            waits.append(control_wait)
        return min(waits) if waits else None

    # ------------------------------------------------------------------ finding work

    async def _maintain(self) -> None:
        clock = self._clock()
        if self._work.held and clock >= self._next_renewal:
            await self._renew_leases()
        if clock >= self._next_quiet_check:
            self._next_quiet_check = clock + 1.0
            await self._check_quiet_hours()
        if self._work.queued >= self._work.batch_size // 2:
            return
        if self._reload or clock >= self._next_poll:
            await self._reload_campaigns()
        if self._work.undrained:
            held_before = bool(self._work.held)
            claimed_at = self._clock()
            due = await self._work.refill(quiet=bool(self._quiet))
            if not held_before and self._work.held:
                # Everything held now was leased by this claim (older leases were renewed).
                self._leases_confirmed(claimed_at)
            if due is not None:
                seconds = max(0.0, (due - self._now()).total_seconds())
                self._poll_by(self._clock() + seconds)

    def _leases_held(self, now: float | None = None) -> bool:
        """What the sender holds is surely still its own (renewed within the lease)."""
        if not self._work.held:
            return True
        return (self._clock() if now is None else now) < self._leased_at + self._lease_s

    def _leases_confirmed(self, moment: float) -> None:
        self._leased_at = moment
        self._next_renewal = moment + self._lease_s / 3

    async def _renew_leases(self) -> None:
        started = self._clock()
        held = sorted(self._work.held)
        kept = await self._outbox.renew(held, self._now())
        self._leases_confirmed(started)
        lost = self._work.drop_unsent(set(held) - kept)
        if lost:
            log.warning(
                "sender: %s deliveries were taken by another sender after their leases ran "
                "out; left to it",
                lost,
            )

    async def _check_quiet_hours(self) -> None:
        end = quiet_hours_end(self._now(), self._quiet_window, self._tz)
        quiet = end is not None
        if quiet == self._quiet:
            return
        self._quiet = quiet
        self._reload = True
        if quiet:
            paused = await self._work.enter_quiet_hours()
            if self._quiet_window is not None:
                await self._progress.paused(paused, self._quiet_window[1])
        else:
            await self._work.leave_quiet_hours()
            self._progress.resumed()

    async def _reload_campaigns(self) -> None:
        self._reload = False
        clock = self._clock()
        wanted = self._polls_wanted
        while wanted and wanted[0] <= clock:  # this poll finds what fell due by now
            heapq.heappop(wanted)
        # Retries falling due later keep their moment: a poll for one of them must not push
        # the next one back to the idle poll.
        self._next_poll = min(clock + self._idle_poll, wanted[0] if wanted else math.inf)
        in_progress = await self._work.reload(quiet=bool(self._quiet))
        paused_until = self._quiet_window[1] if self._quiet_window is not None else None
        await self._progress.track_new(in_progress, paused_until)

    # ------------------------------------------------------------------ sending

    async def _deliver(self, transport: Transport, job: Job) -> None:
        part = job.parts[job.parts_sent]
        try:
            await self._marks.marked(job, lambda: self._work.upcoming(self._max_in_flight))
        except SQLAlchemyError:
            log.warning("sender: could not mark delivery %s as going out; retrying", job.id)
            self._work.defer(job, self._clock() + 1.0)  # not sent: no attempt used
            self._finished_request(job.chat_id)
            return
        except BaseException:
            self._finished_request(job.chat_id)
            raise
        if not self._leases_held():  # they ran out while the mark was being committed
            self._work.defer(job, self._clock() + LEASE_RETRY)  # not sent: no attempt used
            self._finished_request(job.chat_id)
            return
        try:
            if job.edit:
                assert job.message_id is not None
                result = await transport.edit(job.chat_id, job.message_id, part)
            else:
                result = await transport.send(job.chat_id, part)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug in the transport: fail this one, don't retry it
            log.error("sender: delivery %s failed", job.id, exc_info=exc)
            self._answers.answered(job, Result.permanent(repr(exc)), logged=True)
        else:
            self._answers.answered(job, result)
        finally:
            self._finished_request(job.chat_id)

    def _finished_request(self, chat_id: int) -> None:
        self.limiter.release(chat_id, self._clock())
        self._in_flight -= 1
        # Always wake the loop: a finished request may have freed capacity, or deferred the
        # next part of a message to a moment the sleeping loop doesn't know about yet.
        self._kick.set()

    async def _send_control(self, transport: Transport, control: Control) -> None:
        try:
            await self._progress.send(
                transport, control, lambda seconds: self.limiter.pause(seconds, self._clock())
            )
        finally:
            self._finished_request(control.chat_id)

    # ------------------------------------------------------------------ results

    def _committed(self) -> None:
        if self._at_capacity:
            self._kick.set()

    def _poll_by(self, moment: float) -> None:
        """Look at the outbox again by `moment` (a retry falls due then)."""
        heapq.heappush(self._polls_wanted, moment)
        self._next_poll = min(self._next_poll, moment)

    def _retry_due(self, due: datetime) -> None:
        """A retry was recorded, due at `due`: poll by then (at once if that has passed)."""
        seconds = max(0.0, (due - self._now()).total_seconds())
        self._poll_by(self._clock() + seconds)
        if seconds == 0.0:
            self._kick.set()

    async def _finish(self, campaign_ids: list[int], now: datetime | None = None) -> None:
        for campaign_id in await self._outbox.finish_done(campaign_ids, now or self._now()):
            self._work.forget_campaign(campaign_id)
            log.info("sender: campaign %s finished", campaign_id)
            await self._progress.finished(campaign_id)


async def stop_sender(sender: Sender) -> None:
    """Dispatcher shutdown: requests in flight finish and their results are committed."""
    await sender.stop()
