"""`python -m bot status`: what an operator checks when "the bot is quiet".

Everything is read from the database the running bot writes to (heartbeats in runtime_status,
campaigns and their deliveries), so the command works from another shell, and `now` is a
parameter: a test looks at the picture as an operator would minutes into an incident.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import make_url

from bot import texts
from bot.config import Settings
from bot.content.models import CampaignStatus
from bot.delivery.limits import quiet_hours_end
from bot.services.retention import RetentionService
from bot.storage.campaigns import CampaignRepository
from bot.storage.database import Database
from bot.storage.feeds import FeedRepository
from bot.storage.outbox import LAST_SEND_AT, SEND_PAUSED, SENDER_OWNER, UNRECORDED_AT_RESTART
from bot.storage.timetable import (
    BACKUP_FAILED,
    FEED_FAILING_SINCE,
    LAST_POLL_AT,
    LAST_TICK_AT,
    POLL_CONFLICT_SINCE,
    TOKEN_REJECTED_SINCE,
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
# Telegram asking the sender to wait (flood control) is routine for seconds; a wait that adds
# up to this much since the last message went out is "sending paused by Telegram".
PAUSE_REPORTED_AFTER = timedelta(minutes=3)
MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Problem:
    code: str  # stable, for monitoring: never_run, tick_stale, poll_conflict, poll_stale, ...
    text: str  # one Russian line
    # For the owners' alerts (services/alerts.py): which one of its code this is (a feed's
    # problem is "feed_failing:<id>"; "" means the code alone), since when it has lasted if
    # known, and what it is about (a feed's URL).
    key: str = ""
    since: datetime | None = None
    subject: str = ""

    @property
    def ident(self) -> str:
        return self.key or self.code


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


def database_file(settings: Settings) -> Path | None:
    """The SQLite file of DATABASE_URL (None for another database)."""
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def _disk(settings: Settings) -> tuple[float, float] | None:
    """The SQLite file's size with its write-ahead log, and the free space of its disk, MB."""
    path = database_file(settings)
    if path is None:
        return None
    try:
        size = sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())
        free = shutil.disk_usage(path.parent).free
    except OSError:
        return None
    return size / MB, free / MB


def _backup_since(settings: Settings, moment: datetime) -> bool:
    """A backup was made after `moment` (by the timetable or by hand), and its second copy too
    when BACKUP_COPY_DIR asks for one."""
    folders = [Path(settings.backup_dir)]
    if (copy_dir := settings.backup_copy_path()) is not None:
        folders.append(copy_dir)
    try:
        return all(
            any(c.stat().st_mtime > moment.timestamp() for c in folder.glob("infozona-*.db"))
            for folder in folders
        )
    except OSError:
        return False


async def status_report(
    settings: Settings, engine: Database, now: datetime, *, write_error: str | None = None
) -> StatusReport:
    """`write_error`: the running bot's own heartbeat could not be written just now (the
    database refuses writes); the report names it."""
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
    owner = beats.get(SENDER_OWNER)
    facts["sender_owner"] = owner[0] if owner else None
    if owner is not None and owner[0].count(":") >= 2:
        host, pid, _ = owner[0].rsplit(":", 2)
        taken_at = texts.console_time(owner[1].astimezone(tz), now)
        lines.append(texts.STATUS_SENDER.format(host=host, pid=pid, since=taken_at))

    pending = await campaigns.pending_total()
    lines.append(
        texts.STATUS_PENDING.format(texts.count(pending, "сообщение", "сообщения", "сообщений"))
    )
    facts["pending"] = pending
    lines.append(await _retention_line(settings, engine, now, facts))
    active = await campaigns.in_progress()
    shown_campaigns: list[dict[str, object]] = []
    facts["campaigns"] = shown_campaigns
    lines.append(texts.STATUS_CAMPAIGNS if active else texts.STATUS_NO_CAMPAIGNS)
    quiet_until = quiet_hours_end(now, settings.quiet_window, tz)
    waiting_for_morning = 0
    waiting_since: list[datetime] = []  # campaigns with messages waiting: created when
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
        elif counts.pending and campaign.created_at is not None:
            waiting_since.append(campaign.created_at)
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
    held = pending > waiting_for_morning
    paused = beats.get(SEND_PAUSED)
    pause = paused[0].split(" ") if paused is not None and paused[0] else []
    pause_since = _time(pause[0]) if len(pause) == 2 else None
    pause_until = _time(pause[1]) if len(pause) == 2 else None
    facts["send_paused_until"] = _iso(pause_until)
    told_to_wait = (
        held
        and pause_since is not None
        and pause_until is not None
        and pause_until - pause_since >= PAUSE_REPORTED_AFTER
        and now <= pause_until + STALE  # long after the wait ended, nothing out: stalled
    )
    if told_to_wait and pause_since is not None and pause_until is not None:
        text = texts.STATUS_SEND_PAUSED.format(
            since=f"{pause_since.astimezone(tz):%H:%M}",
            until=f"{pause_until.astimezone(tz):%H:%M}",
            duration=texts.console_duration(pause_until - pause_since),
            pending=texts.count(pending, "сообщение", "сообщения", "сообщений"),
        )
        found.append(Problem("send_paused", text, since=pause_since))
    sent = moment(LAST_SEND_AT)
    if not told_to_wait and held and sent is not None and now - sent > STALE:
        minutes = int((now - sent) / timedelta(minutes=1))
        found.append(Problem("send_stalled", texts.STATUS_STALLED.format(minutes=minutes)))
    elif not told_to_wait and held and sent is None and waiting_since:
        # Nothing has ever gone out: stalled from the oldest waiting campaign on.
        oldest = min(waiting_since)
        if now - oldest > STALE:
            minutes = int((now - oldest) / timedelta(minutes=1))
            text = texts.STATUS_STALLED_NEVER_SENT.format(minutes=minutes)
            found.append(Problem("send_stalled", text))
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
        failing_since = beats.get(f"{FEED_FAILING_SINCE}{feed.id}")
        found.append(
            Problem(
                "feed_failing", text, key=f"feed_failing:{feed.id}", subject=feed.url,
                since=_time(failing_since[0]) if failing_since else None,
            )
        )  # fmt: skip
    _health(settings, beats, now, found, facts, running=running, write_error=write_error)
    return StatusReport(lines, found, facts)


async def _retention_line(
    settings: Settings, engine: Database, now: datetime, facts: dict[str, object]
) -> str:
    """Delivery retention: its age, and the nightly job's last run."""
    days = settings.delivery_retention_days
    last = await RetentionService(engine, days).last_run()
    facts["retention"] = {
        "days": days,
        "last_run_at": _iso(last[0]) if last else None,
        "rows": last[1] if last else None,
    }
    if not days:
        return texts.STATUS_RETENTION_OFF
    if last is None:
        return texts.STATUS_RETENTION_NEVER.format(days=days)
    return texts.STATUS_RETENTION.format(
        days=days,
        when=texts.console_time(last[0].astimezone(settings.tz), now),
        rows=texts.count(last[1], "доставка", "доставки", "доставок"),
    )


def _health(
    settings: Settings,
    beats: dict[str, tuple[str, datetime]],
    now: datetime,
    found: list[Problem],
    facts: dict[str, object],
    *,
    running: bool,
    write_error: str | None,
) -> None:
    """The token, the nightly backup, the database's disk and writes."""
    tz = settings.tz
    rejected = beats.get(TOKEN_REJECTED_SINCE)
    rejected_since = _time(rejected[0]) if rejected else None
    facts["token_rejected_since"] = _iso(rejected_since) if running else None
    if running and rejected_since is not None:
        text = texts.STATUS_TOKEN_REJECTED.format(
            since=f"{rejected_since.astimezone(tz):%H:%M:%S}",
            duration=texts.console_duration(now - rejected_since),
        )
        found.append(Problem("token_rejected", text, since=rejected_since))
    backup = beats.get(BACKUP_FAILED)
    failed_at, error, folder = (*backup[0].split("|", 2), "", "")[:3] if backup else ("", "", "")
    failed = _time(failed_at)
    if failed is not None and _backup_since(settings, failed):
        failed = None  # a good copy since (`python -m bot backup` after a fix, say)
    facts["backup_failed_at"] = _iso(failed)
    if failed is not None:
        text = texts.STATUS_BACKUP_FAILED.format(
            when=texts.console_time(failed.astimezone(tz), now), error=error or "—",
            folder=folder or settings.backup_dir,
        )  # fmt: skip
        found.append(Problem("backup_failed", text, since=failed))
    disk = _disk(settings)
    facts["db_size_mb"] = round(disk[0], 1) if disk else None
    facts["disk_free_mb"] = round(disk[1]) if disk else None
    if disk is not None:
        size, free = disk
        limit = settings.alert_db_size_mb
        if free < settings.alert_disk_free_mb:
            text = texts.STATUS_DISK_LOW.format(
                free=f"{free:.0f}", least=f"{settings.alert_disk_free_mb:.0f}"
            )
            found.append(Problem("db_nearly_full", text))
        elif limit and size > limit:
            text = texts.STATUS_DB_LARGE.format(size=f"{size:.1f}", most=f"{limit:g}")
            found.append(Problem("db_nearly_full", text))
    facts["db_write_error"] = write_error
    if write_error is not None:
        text = texts.STATUS_DB_UNWRITABLE.format(error=write_error)
        found.append(Problem("db_unwritable", text))
