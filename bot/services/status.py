"""`python -m bot status`: what an operator checks when "the bot is quiet".

Everything is read from the database the running bot writes to (heartbeats in runtime_status,
campaigns and their deliveries), so the command works from another shell, and `now` is a
parameter: a test looks at the picture as an operator would minutes into an incident.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot import texts
from bot.config import Settings
from bot.content.models import CampaignStatus
from bot.delivery.limits import quiet_hours_end
from bot.storage.campaigns import CampaignRepository
from bot.storage.database import Database
from bot.storage.feeds import FeedRepository
from bot.storage.outbox import LAST_SEND_AT, UNRECORDED_AT_RESTART
from bot.storage.timetable import (
    LAST_POLL_AT,
    LAST_TICK_AT,
    POLL_CONFLICT_SINCE,
    RuntimeStatusRepository,
)

# A heartbeat older than this means the bot (or its sender) has stopped.
STALE = timedelta(minutes=5)
# A healthy bot's last recorded poll is at most a heartbeat interval (a minute) plus one long
# poll old; a minute more than that is an outage, not chance.
POLL_SLACK = timedelta(minutes=2)
# A 409 that lasted this long (as the bot itself saw it) is another process, not a restart.
CONFLICT_REPORTED_AFTER = timedelta(seconds=30)
# This many failed fetches in a row (each spaced by the feed's back-off) is a failing feed,
# not a site that hiccupped once.
FEED_FAILING_AFTER = 3


@dataclass(frozen=True, slots=True)
class Problem:
    code: str  # stable, for monitoring: never_run, tick_stale, poll_conflict, poll_stale, ...
    text: str  # one Russian line


@dataclass(frozen=True, slots=True)
class StatusReport:
    lines: list[str]
    found: list[Problem]  # any makes the exit code 1
    facts: dict[str, object]  # the same picture for `status --json` (stable keys)

    @property
    def problems(self) -> list[str]:
        return [problem.text for problem in self.found]

    def as_json(self) -> dict[str, object]:
        return {
            "ok": not self.found,
            **self.facts,
            "problems": [{"code": p.code, "text": p.text} for p in self.found],
        }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _time(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


async def status_report(settings: Settings, engine: Database, now: datetime) -> StatusReport:
    tz = settings.tz
    beats = await RuntimeStatusRepository(engine).all()
    campaigns = CampaignRepository(engine)
    lines = [texts.STATUS_TITLE]
    found: list[Problem] = []
    facts: dict[str, object] = {"checked_at": now.isoformat(), "ran": bool(beats)}
    if not beats:
        # Nothing has ever written a heartbeat (the sender writes one at its start, the
        # timetable every minute): this database has never seen a running bot.
        found.append(Problem("never_run", texts.STATUS_NEVER_RAN))

    def moment(key: str) -> datetime | None:
        value = beats.get(key)
        if value is None:
            return None
        if key == LAST_POLL_AT:  # the poll's own time (older bots wrote the job's as updated_at)
            return _time(value[0]) or value[1]
        return value[1]

    for key, label in texts.STATUS_KEYS.items():
        when = moment(key)
        shown = texts.console_time(when.astimezone(tz), now) if when else texts.STATUS_NEVER
        lines.append(f"  {label}: {shown}")
        facts[key] = _iso(when)

    pending = await campaigns.pending_total()
    lines.append(
        texts.STATUS_PENDING.format(texts.count(pending, "сообщение", "сообщения", "сообщений"))
    )
    facts["pending"] = pending
    active = await campaigns.in_progress()
    shown_campaigns: list[dict[str, object]] = []
    facts["campaigns"] = shown_campaigns
    lines.append(texts.STATUS_CAMPAIGNS if active else texts.STATUS_NO_CAMPAIGNS)
    quiet_until = quiet_hours_end(now, settings.quiet_window, tz)
    waiting_for_morning = 0
    for campaign in active:
        counts = await campaigns.counts(campaign.id)
        line = texts.STATUS_CAMPAIGN.format(
            id=campaign.id, title=campaign.title, sent=counts.sent, total=counts.total,
            failed=counts.failed, blocked=counts.blocked,
        )  # fmt: skip
        night = campaign.status is CampaignStatus.PAUSED and quiet_until is not None
        if night and quiet_until is not None:
            # Paused for the night, as it should be: not an alarm.
            line += texts.STATUS_QUIET_PAUSE.format(until=f"{quiet_until.astimezone(tz):%H:%M}")
            waiting_for_morning += counts.pending
        lines.append(line)
        shown_campaigns.append(
            {"id": campaign.id, "title": campaign.title, "sent": counts.sent,
             "total": counts.total, "failed": counts.failed, "blocked": counts.blocked,
             "pending": counts.pending, "paused_for_night": night}
        )  # fmt: skip

    resent = beats.get(UNRECORDED_AT_RESTART)
    facts["resent_at_restart"] = (
        int(resent[0]) if resent is not None and resent[0].isdigit() else 0
    )
    if resent is not None and resent[0].isdigit() and int(resent[0]) > 0:
        # What the sender found unrecorded at its last start: not an alarm, but the one
        # way a subscriber gets a message twice, so the operator hears of it.
        lines.append(
            texts.STATUS_RESENT.format(
                when=texts.console_time(resent[1].astimezone(tz), now),
                count=texts.count(int(resent[0]), "сообщение", "сообщения", "сообщений"),
            )
        )

    tick = moment(LAST_TICK_AT)
    if tick is not None and now - tick > STALE:
        minutes = int((now - tick) / timedelta(minutes=1))
        found.append(Problem("tick_stale", texts.STATUS_STALE_TICK.format(minutes=minutes)))
    running = tick is not None and now - tick <= STALE
    conflict = beats.get(POLL_CONFLICT_SINCE)
    conflict_since = _time(conflict[0]) if conflict else None
    last_poll = moment(LAST_POLL_AT)
    poll_deadline = POLL_SLACK + timedelta(seconds=settings.polling_timeout)
    if (
        running
        and conflict is not None
        and conflict_since is not None
        and conflict[1] - conflict_since >= CONFLICT_REPORTED_AFTER  # as of the last heartbeat
    ):
        text = texts.STATUS_CONFLICT.format(
            duration=texts.console_duration(now - conflict_since),
            since=f"{conflict_since.astimezone(tz):%H:%M:%S}",
        )
        found.append(Problem("poll_conflict", text))
    elif running and last_poll is not None and now - last_poll > poll_deadline:
        text = texts.STATUS_POLL_STALE.format(
            duration=texts.console_duration(now - last_poll),
            since=f"{last_poll.astimezone(tz):%H:%M:%S}",
        )
        found.append(Problem("poll_stale", text))
    sent = moment(LAST_SEND_AT)
    if pending > waiting_for_morning and sent is not None and now - sent > STALE:
        minutes = int((now - sent) / timedelta(minutes=1))
        found.append(Problem("send_stalled", texts.STATUS_STALLED.format(minutes=minutes)))
    failing: list[dict[str, object]] = []
    facts["failing_feeds"] = failing
    for feed in await FeedRepository(engine).all():
        if not feed.enabled or feed.error_count < FEED_FAILING_AFTER:
            continue
        since = feed.last_fetch_at
        failing.append(
            {"id": feed.id, "url": feed.url, "errors": feed.error_count,
             "last_error": feed.last_error or "", "last_fetch_at": _iso(since)}
        )  # fmt: skip
        text = texts.STATUS_FEED_FAILING.format(
            url=feed.url,
            errors=texts.count(feed.error_count, "раз", "раза", "раз"),
            error=feed.last_error or "—",
        )
        found.append(Problem("feed_failing", text))
    return StatusReport(lines, found, facts)
