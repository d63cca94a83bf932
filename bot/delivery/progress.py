"""The editor's progress message of a campaign: sent first, edited every PROGRESS_INTERVAL
while the campaign goes out, and replaced by the final report when it is done.

Progress messages go through the same transport and limiter as the deliveries (the engine's
loop sends them, ahead of the deliveries); only the newest text of a campaign is ever queued.
A progress edit that fails is simply superseded by the next one; the final report has no next
one, so an outage (network, 5xx, a proxy's HTML page) retries it with a growing pause.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from datetime import time as dtime

from sqlalchemy.exc import SQLAlchemyError

from bot import texts
from bot.content.models import Campaign, CampaignKind, CampaignStatus, MessagePart
from bot.delivery.limits import BACKOFF_BASE, RateLimiter
from bot.delivery.results import SenderStats
from bot.delivery.transport import Outcome, Transport
from bot.storage.campaigns import CampaignRepository
from bot.storage.outbox import OutboxRepository

log = logging.getLogger("bot.delivery.engine")

PROGRESS_INTERVAL = 2.0
REPORT_RETRY_CAP = 60.0  # the longest pause between two tries of a final report
REPORT_ATTEMPTS = 30  # then it is given up (about half an hour of outage)


@dataclass(slots=True)
class Control:
    """A progress message for the editor: sent first, edited afterwards; latest text wins."""

    campaign_id: int
    chat_id: int
    content: MessagePart
    final: bool = False
    not_before: float = -math.inf  # a retried report waits until then (the engine's clock)
    attempts: int = 0  # failed tries of a final report


@dataclass(slots=True)
class CampaignState:
    campaign: Campaign
    message_id: str | None
    last_text: str | None = None
    control: Control | None = None  # queued, not yet sent
    resumes_at: dtime | None = None  # paused for quiet hours until then
    done: bool = False


class Progress:
    """The campaigns the engine has seen, and their queued progress messages."""

    def __init__(
        self,
        outbox: OutboxRepository,
        campaigns: CampaignRepository,
        stats: SenderStats,
        *,
        now: Callable[[], datetime],
        kick: Callable[[], None],
        clock: Callable[[], float],
        interval: float = PROGRESS_INTERVAL,
        retry_base: float = BACKOFF_BASE,
    ) -> None:
        self._outbox = outbox
        self._campaigns = campaigns
        self._stats = stats
        self._now = now
        self._kick = kick
        self._clock = clock
        self._interval = interval
        self._retry_base = retry_base
        self.states: dict[int, CampaignState] = {}
        self.queue: deque[Control] = deque()

    def clear(self) -> None:
        self.states.clear()
        self.queue.clear()

    async def track_new(self, in_progress: list[Campaign], paused_until: dtime | None) -> None:
        """Start following the campaigns in progress the engine had not seen yet (one paused for
        quiet hours resumes at `paused_until`)."""
        for campaign in in_progress:
            if campaign.id in self.states:
                continue
            log.info(
                "sender: campaign %s %r (%s): %s recipients",
                campaign.id,
                campaign.key,
                campaign.status.value,
                campaign.total,
            )
            paused = campaign.status is CampaignStatus.PAUSED
            state = CampaignState(
                campaign, campaign.progress_message_id, resumes_at=paused_until if paused else None
            )
            self.states[campaign.id] = state
            if campaign.progress_chat_id is not None:
                await self.update(state)

    async def paused(self, campaign_ids: list[int], resumes_at: dtime) -> None:
        for campaign_id in campaign_ids:
            state = self.states.get(campaign_id)
            if state is not None:
                state.resumes_at = resumes_at
                await self.update(state)

    def resumed(self) -> None:
        for state in self.states.values():
            state.resumes_at = None

    async def finished(self, campaign_id: int) -> None:
        state = self.states.get(campaign_id)
        campaign = state.campaign if state else await self._campaigns.get(campaign_id)
        if state is None or campaign is None or campaign.progress_chat_id is None:
            self.states.pop(campaign_id, None)
            return
        state.done = True
        await self.update(state, final=True)

    async def loop(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            for state in list(self.states.values()):
                if state.done or state.campaign.progress_chat_id is None:
                    continue
                try:
                    await self.update(state)
                except SQLAlchemyError:
                    log.exception("sender: progress of campaign %s", state.campaign.id)

    async def update(self, state: CampaignState, *, final: bool = False) -> None:
        """Queue the campaign's current progress (or, `final`, its report) unless unchanged."""
        campaign = state.campaign
        if campaign.progress_chat_id is None:
            return
        counts = await self._campaigns.counts(campaign.id)
        if final:
            finished = await self._campaigns.get(campaign.id)
            ended = finished.finished_at if finished and finished.finished_at else self._now()
            started = campaign.started_at or campaign.created_at or ended
            posted = campaign.kind in (CampaignKind.POST, CampaignKind.EDIT)
            content = texts.message_part(
                texts.broadcast_report(
                    campaign.title,
                    counts,
                    (ended - started).total_seconds(),
                    item_id=campaign.item_id if posted else None,
                )
            )
        else:
            content = texts.message_part(
                texts.broadcast_progress(campaign.title, counts, state.resumes_at)
            )
        if not final and content.text == state.last_text:
            return
        if state.control is not None:  # not sent yet: send the newest text instead
            state.control.content = content
            state.control.final = state.control.final or final
        else:
            state.control = Control(campaign.id, campaign.progress_chat_id, content, final)
            self.queue.append(state.control)
        self._kick()

    def pick(self, limiter: RateLimiter, now: float) -> Control | None:
        for index, control in enumerate(self.queue):
            if control.not_before <= now and limiter.chat_wait(control.chat_id, now) == 0:
                del self.queue[index]
                return control
        return None

    def wait(self, limiter: RateLimiter, now: float) -> float | None:
        """Seconds until a queued message may go (None: nothing queued)."""
        if not self.queue:
            return None
        return min(
            max(control.not_before - now, min(limiter.chat_wait(control.chat_id, now), 1.0))
            for control in self.queue
        )

    async def send(
        self, transport: Transport, control: Control, pause: Callable[[float], None]
    ) -> None:
        """Send or edit the progress message; flood control requeues it (after `pause`), any
        other failure is logged and the next update tries again."""
        state = self.states.get(control.campaign_id)
        if state is not None:
            state.control = None
        try:
            if state is not None and state.message_id is not None:
                result = await transport.edit(control.chat_id, state.message_id, control.content)
                if result.outcome is Outcome.SENT:
                    self._stats.progress_edits += 1
            else:
                result = await transport.send(control.chat_id, control.content)
                if result.outcome is Outcome.SENT and state is not None:
                    assert result.message_id is not None
                    state.message_id = result.message_id
                    await self._outbox.set_progress_message(control.campaign_id, result.message_id)
        except Exception as exc:  # the database, the network, a bug: the next update retries
            log.warning("sender: progress message of campaign %s: %r", control.campaign_id, exc)
            if self._retry_report(state, control):
                return
        else:
            if result.outcome is Outcome.RETRY_AFTER:
                self._stats.retry_after += 1
                pause(result.retry_after)
                self._requeue(state, control)
                return
            if result.done:
                if state is not None:
                    state.last_text = control.content.text
            else:
                log.warning(
                    "sender: progress message of campaign %s: %s",
                    control.campaign_id,
                    result.error,
                )
                if result.outcome is Outcome.TRANSIENT and self._retry_report(state, control):
                    return
        if control.final:
            self.states.pop(control.campaign_id, None)

    def _requeue(self, state: CampaignState | None, control: Control) -> None:
        if state is not None and state.control is None:
            state.control = control
            self.queue.appendleft(control)

    def _retry_report(self, state: CampaignState | None, control: Control) -> bool:
        """An outage hit the final report: try it again after a pause doubling from the
        engine's backoff base; False once it has had its tries (or for an ordinary progress
        update, which the next one supersedes)."""
        if not control.final or state is None:
            return False
        control.attempts += 1
        if control.attempts >= REPORT_ATTEMPTS:
            log.error("sender: final report of campaign %s given up", control.campaign_id)
            return False
        delay = min(REPORT_RETRY_CAP, self._retry_base * 2 ** (control.attempts - 1))
        control.not_before = self._clock() + delay
        self._requeue(state, control)
        return True
