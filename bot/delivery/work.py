"""The engine's work in hand: due deliveries claimed from the outbox and queued until sent.

A claim leases its rows to this sender (outbox.py), and its own leases don't keep them out of
its next claim: what the engine holds is kept out of that by `held` (delivery ids claimed and not
yet committed), so a row is in hand once however often the outbox is read.
Jobs wait in three places: the urgent queue, the ordinary queue, and a heap of jobs deferred to
a moment (the chat's interval, a flood-control pause, the next part of a message).
"""

from __future__ import annotations

import asyncio
import heapq
import logging
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import NoResultFound

from bot.content.models import (
    Campaign,
    CampaignStatus,
    DeliveryStatus,
    MessagePart,
    SubscriberStatus,
)
from bot.delivery.limits import RateLimiter
from bot.storage.campaigns import CampaignRepository
from bot.storage.outbox import DeliveryResult, DueDelivery, OutboxRepository

log = logging.getLogger("bot.delivery.engine")

BATCH_SIZE = 200


@dataclass(slots=True)
class Job:
    """A delivery the sender holds: from the claim until its result is committed."""

    id: int
    campaign_id: int
    chat_id: int
    urgent: bool
    parts: tuple[MessagePart, ...]
    parts_sent: int
    attempts: int
    message_id: str | None = None
    edit: bool = False  # change the sent message `message_id` to parts[0] instead of sending
    # The commit marking it in the outbox as going out (engine.py): set once, kept until its
    # result is recorded (a multi-part message stays marked between its parts).
    marked: asyncio.Future[None] | None = None


class Work:
    """Claims due deliveries a page at a time and hands them out when their chat is ready."""

    def __init__(
        self,
        outbox: OutboxRepository,
        campaigns: CampaignRepository,
        *,
        now: Callable[[], datetime],
        settle: Callable[[DeliveryResult], None],
        finish: Callable[[list[int]], Awaitable[None]],
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self._outbox = outbox
        self._campaigns = campaigns
        self._now = now
        self._settle_result = settle
        self._finish = finish
        self.batch_size = batch_size

        self.urgent: deque[Job] = deque()
        self.queue: deque[Job] = deque()
        self.deferred: list[tuple[float, int, Job]] = []  # (ready_at, seq, job) heap
        self._seq = 0
        self.held: set[int] = set()  # delivery ids claimed and not yet committed
        # Settled while a claim was reading the outbox: its snapshot may predate their commit.
        self._claiming = False
        self._settled_meanwhile: set[int] = set()
        self._held_by_campaign: Counter[int] = Counter()
        self.order: list[int] = []  # claimable campaigns: urgent first, then oldest first
        self._cursors: dict[int, int] = {}
        self._drained: set[int] = set()  # reached the end of their due rows this round
        self._variants: dict[int, tuple[MessagePart, ...]] = {}
        self._variants_of: dict[int, set[int]] = {}

    # ------------------------------------------------------------------ handing out

    @property
    def queued(self) -> int:
        return len(self.urgent) + len(self.queue)

    def ready(self, now: float) -> bool:
        """Something is queued or due (whether its chat is free is for `pick` to see)."""
        return bool(self.urgent or self.queue) or (
            bool(self.deferred) and self.deferred[0][0] <= now
        )

    def next_deferred(self, now: float) -> float | None:
        """Seconds until the first deferred job is due; None if none is."""
        return self.deferred[0][0] - now if self.deferred else None

    def pick(self, limiter: RateLimiter, now: float) -> Job | None:
        """The first job whose chat the limiter lets through now; those whose chat is busy are
        deferred to when it is free."""
        while self.deferred and self.deferred[0][0] <= now:
            _, _, job = heapq.heappop(self.deferred)
            wait = limiter.chat_wait(job.chat_id, now)
            if wait == 0:
                return job
            self.defer(job, now + min(wait, limiter.per_chat_interval))
        for queue in (self.urgent, self.queue):
            while queue:
                job = queue.popleft()
                wait = limiter.chat_wait(job.chat_id, now)
                if wait == 0:
                    return job
                self.defer(job, now + min(wait, limiter.per_chat_interval))
        return None

    def upcoming(self, count: int) -> list[Job]:
        """Up to `count` queued jobs next in line not marked yet (to mark them in one go)."""
        found: list[Job] = []
        for queue in (self.urgent, self.queue):
            for job in queue:
                if len(found) >= count:
                    return found
                if job.marked is None:
                    found.append(job)
        return found

    def defer(self, job: Job, ready_at: float) -> None:
        self._seq += 1
        heapq.heappush(self.deferred, (ready_at, self._seq, job))

    # ------------------------------------------------------------------ holding

    def unhold(self, delivery_id: int, campaign_id: int) -> None:
        if delivery_id in self.held:
            self.held.discard(delivery_id)
            if self._claiming:
                self._settled_meanwhile.add(delivery_id)
            self._held_by_campaign[campaign_id] -= 1
            if self._held_by_campaign[campaign_id] <= 0:
                del self._held_by_campaign[campaign_id]

    def drop_unsent(self, delivery_ids: set[int]) -> int:
        """Let go of queued jobs whose rows are no longer this sender's; returns how many.
        (A job in flight or waiting to be recorded is left: its result's record is refused.)"""
        if not delivery_ids:
            return 0
        dropped: list[Job] = []
        for job_queue in (self.urgent, self.queue):
            for job in [j for j in job_queue if j.id in delivery_ids]:
                job_queue.remove(job)
                dropped.append(job)
        keep = [entry for entry in self.deferred if entry[2].id not in delivery_ids]
        dropped.extend(entry[2] for entry in self.deferred if entry[2].id in delivery_ids)
        heapq.heapify(keep)
        self.deferred = keep
        for job in dropped:
            self.unhold(job.id, job.campaign_id)
        return len(dropped)

    def holds(self, campaign_id: int) -> bool:
        return bool(self._held_by_campaign[campaign_id])

    def forget_campaign(self, campaign_id: int) -> None:
        """A campaign finished: nothing of it is claimed again."""
        self.order = [c for c in self.order if c != campaign_id]
        self._cursors.pop(campaign_id, None)
        self._drained.discard(campaign_id)
        for variant_id in self._variants_of.pop(campaign_id, set()):
            self._variants.pop(variant_id, None)

    async def enter_quiet_hours(self) -> list[int]:
        """Ordinary campaigns pause and their queued messages are dropped; returns the paused."""
        paused = await self._outbox.pause_for_quiet_hours()
        self.drop_ordinary()
        if paused:
            log.info("sender: quiet hours, campaigns paused: %s", paused)
        return paused

    async def leave_quiet_hours(self) -> None:
        resumed = await self._outbox.resume_after_quiet_hours()
        if resumed:
            log.info("sender: quiet hours over, campaigns resumed: %s", resumed)

    async def reload(self, *, quiet: bool) -> list[Campaign]:
        """Read the campaigns in progress afresh and claim from those that may send now
        (in quiet hours: the urgent ones); returns all in progress."""
        if quiet:
            await self._outbox.pause_for_quiet_hours()  # campaigns created since
        in_progress = await self._campaigns.in_progress()
        self._set_order(claimable(in_progress, quiet=quiet))
        return in_progress

    def _set_order(self, campaigns: list[Campaign]) -> None:
        """The campaigns that may be claimed from now on; queued jobs of others are dropped
        (paused or cancelled meanwhile: their rows stay pending)."""
        self.order = [c.id for c in sorted(campaigns, key=lambda c: (not c.urgent, c.id))]
        self._drained.clear()
        listed = set(self.order)
        for job_queue in (self.urgent, self.queue):
            for job in [j for j in job_queue if j.campaign_id not in listed]:
                job_queue.remove(job)
                self.unhold(job.id, job.campaign_id)

    def drop_ordinary(self) -> None:
        """Quiet hours began: queued ordinary messages wait for the morning (a digest already
        half out is finished, though). Their rows are still pending; nothing is lost."""
        dropped = list(self.queue)
        self.queue.clear()
        keep: list[tuple[float, int, Job]] = []
        for entry in self.deferred:
            job = entry[2]
            if job.urgent or job.parts_sent > 0:
                keep.append(entry)
            else:
                dropped.append(job)
        heapq.heapify(keep)
        self.deferred = keep
        for job in dropped:
            self.unhold(job.id, job.campaign_id)
            self._cursors.pop(job.campaign_id, None)

    def clear(self) -> None:
        self.urgent.clear()
        self.queue.clear()
        self.deferred.clear()
        self.held.clear()
        self._held_by_campaign.clear()
        self.order.clear()
        self._cursors.clear()
        self._drained.clear()
        self._variants.clear()
        self._variants_of.clear()

    # ------------------------------------------------------------------ claiming

    @property
    def undrained(self) -> bool:
        return len(self.order) > len(self._drained)

    async def refill(self, *, quiet: bool) -> datetime | None:
        """Claim up to a batch of due deliveries, campaign by campaign. When every campaign is
        drained and nothing is held: when the next pending delivery becomes due (else None)."""
        now = self._now()
        wanted = self.batch_size
        for campaign_id in list(self.order):
            if campaign_id in self._drained:
                continue
            after = self._cursors.get(campaign_id, 0)
            self._claiming = True
            try:
                rows = await self._outbox.claim_due(
                    campaign_id, now, after_id=after, limit=self.batch_size
                )
            finally:
                self._claiming = False
                settled, self._settled_meanwhile = self._settled_meanwhile, set()
            if len(rows) < self.batch_size:
                self._drained.add(campaign_id)
                self._cursors[campaign_id] = 0
            else:
                self._cursors[campaign_id] = rows[-1].id
            # A row whose result was committed while the claim read the outbox may come back
            # as it was before (pending): it is not taken again — sent twice, otherwise.
            fresh = [row for row in rows if row.id not in self.held and row.id not in settled]
            for row in fresh:
                await self._take(row)
            wanted -= len(fresh)
            if not rows and after == 0 and not self.holds(campaign_id):
                # Nothing due and nothing held: finished, unless rows wait for a retry.
                await self._finish([campaign_id])
            if wanted <= 0:
                break
        if len(self.order) == len(self._drained) and not self.held:
            return await self._outbox.next_due_at(urgent_only=quiet)
        return None

    async def _take(self, row: DueDelivery) -> None:
        self.held.add(row.id)
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
        job = Job(
            row.id, row.campaign_id, row.chat_id, row.urgent, parts, row.parts_sent, row.attempts,
            message_id=row.message_id if row.edit else None, edit=row.edit,
        )  # fmt: skip
        (self.urgent if row.urgent else self.queue).append(job)

    def _settle(self, row: DueDelivery, status: DeliveryStatus, error: str | None) -> None:
        """A delivery decided without sending anything."""
        now = self._now()
        self._settle_result(
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

    async def _parts(self, campaign_id: int, variant_id: int | None) -> tuple[MessagePart, ...]:
        if variant_id is None:
            return ()
        parts = self._variants.get(variant_id)
        if parts is None:
            try:
                parts = tuple(await self._campaigns.variant_parts(variant_id))
            except NoResultFound:
                parts = ()
            self._variants[variant_id] = parts
            self._variants_of.setdefault(campaign_id, set()).add(variant_id)
        return parts


def claimable(campaigns: list[Campaign], *, quiet: bool) -> list[Campaign]:
    """Of the campaigns in progress, those to claim from: sending, and urgent in quiet hours."""
    return [c for c in campaigns if c.status is CampaignStatus.SENDING and (c.urgent or not quiet)]
