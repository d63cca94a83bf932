"""The timetable: cron and interval jobs that call services.

Every job is an idempotent transition keyed by its slot (`digest:weekly:2026-W48`,
`backup:2026-11-27`): the database remembers which slots ran, so a restart, a misfire caught up
late or a second instance never produces a second digest. The scheduler itself holds no state.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bot import texts
from bot.config import Settings
from bot.content.models import Frequency
from bot.services.retention import RetentionService
from bot.storage.backup import BackupCopyError, backup_sqlite
from bot.storage.timetable import (
    BACKUP_FAILED,
    LAST_POLL_AT,
    LAST_TICK_AT,
    POLL_CONFLICT_SINCE,
    TOKEN_REJECTED_SINCE,
    RuntimeStatusRepository,
    TimetableRepository,
)

if TYPE_CHECKING:
    from bot.services.container import Services

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class Entry:
    id: str
    title: str  # Russian, for `python -m bot schedule`
    trigger: Any  # an APScheduler trigger
    grace: timedelta  # how late a run may still happen (after downtime)


@dataclass(frozen=True, slots=True)
class JobSpec(Entry):
    run: Callable[[datetime], Awaitable[str]]  # takes the fire time, returns an outcome line


def timetable(settings: Settings) -> list[Entry]:
    """The jobs and when they run, from settings."""
    tz = settings.tz

    def cron(line: str) -> Any:
        return CronTrigger.from_crontab(line, timezone=tz)

    every_minute = IntervalTrigger(minutes=1, timezone=tz)
    entries = [
        Entry("digest-weekly", "Еженедельный дайджест", cron(settings.digest_weekly_cron),
              timedelta(hours=6)),
        Entry("digest-daily", "Ежедневный дайджест", cron(settings.digest_daily_cron),
              timedelta(hours=3)),
        Entry("reminders", "Напоминания о завтрашних мероприятиях",
              cron(settings.reminders_cron), timedelta(hours=2)),
        Entry("scheduled-posts", "Публикация запланированных постов (каждую минуту)",
              every_minute, timedelta(minutes=5)),
        Entry("feeds", f"Опрос лент сайтов (каждые {settings.feed_poll_minutes} мин)",
              IntervalTrigger(minutes=settings.feed_poll_minutes, timezone=tz),
              timedelta(minutes=settings.feed_poll_minutes)),
        Entry("heartbeat", "Отметка «бот работает» для python -m bot status (каждую минуту)",
              every_minute, timedelta(minutes=1)),
    ]  # fmt: skip
    if settings.delivery_retention_days:
        entries.append(
            Entry("retention", f"Свёртка доставок рассылок старше "
                  f"{settings.delivery_retention_days} дн. в счётчики",
                  cron(settings.delivery_retention_cron), timedelta(hours=12))
        )  # fmt: skip
    if make_url(settings.database_url).get_backend_name() == "sqlite":
        entries.append(
            Entry("purge", "Затирание удалённого по /forget в журнале базы (каждую минуту, "
                  "пока его читают)", every_minute, timedelta(minutes=1))
        )  # fmt: skip
        entries.append(
            Entry(
                "backup",
                f"Резервная копия базы в {settings.backup_dir} (хранятся {settings.backup_keep})",
                cron(settings.backup_cron),
                timedelta(hours=6),
            )
        )
    return entries


def next_reminders_run(settings: Settings, now: datetime) -> datetime | None:
    """When the timetable next sends tomorrow's event reminders (in the bot's time zone)."""
    trigger = CronTrigger.from_crontab(settings.reminders_cron, timezone=settings.tz)
    fire: datetime | None = trigger.get_next_fire_time(None, now)
    return fire


def next_weekly_digest(settings: Settings, now: datetime) -> datetime | None:
    """When the timetable next sends the weekly digest, the one most subscribers read."""
    trigger = CronTrigger.from_crontab(settings.digest_weekly_cron, timezone=settings.tz)
    fire: datetime | None = trigger.get_next_fire_time(None, now)
    return fire


def weekly_slot(when: datetime) -> str:
    year, week, _ = when.isocalendar()
    return f"digest:weekly:{year}-W{week:02d}"


def daily_slot(when: datetime) -> str:
    return f"digest:daily:{when:%Y-%m-%d}"


def missed_fire(trigger: Any, now: datetime, grace: timedelta) -> datetime | None:
    """The latest fire time of `trigger` within (now - grace, now], if any.

    APScheduler keeps jobs in memory and forgets runs missed while the bot was down; at start
    the timetable asks this to catch up on them (the slot keys stop double runs).
    """
    fire = trigger.get_next_fire_time(None, now - grace)
    latest = None
    while fire is not None and fire <= now:
        latest = fire
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    return latest


class Timetable:
    """The jobs run on the same `Services` the handlers use: its publisher does the work, its
    feed service polls, its `wake` tells the delivery engine."""

    def __init__(
        self,
        settings: Settings,
        services: Services,
        *,
        poll_feeds: bool = True,
        last_poll: Callable[[], datetime | None] = lambda: None,
        poll_conflict: Callable[[], datetime | None] = lambda: None,
        token_rejected: Callable[[], datetime | None] = lambda: None,
        alerts: AlertChecker | None = None,
        clock: Clock | None = None,
        polling: bool = True,
    ) -> None:
        engine = services.engine
        self._settings = settings
        self._work: TimetableWork = services.publisher
        self._feeds: FeedPoller | None = services.feeds if poll_feeds else None
        self._wake_sender = services.wake
        self._privacy = services.privacy
        self._retention = RetentionService(engine, settings.delivery_retention_days)
        self._clock = clock or (lambda: datetime.now(settings.tz))
        self._slots = TimetableRepository(engine)
        self._status = RuntimeStatusRepository(engine)
        self._scheduler: AsyncIOScheduler | None = None
        self._catch_up: asyncio.Task[None] | None = None
        self._last_poll = last_poll
        self._poll_conflict = poll_conflict
        self._token_rejected = token_rejected
        self._alerts = alerts
        # False in a `worker` (updates come to `web` by webhook): no polling to report, and a
        # poll time left by an earlier `run` on this database must not read as a stale poll.
        self._polling = polling

    def jobs(self) -> list[JobSpec]:
        runs: dict[str, Callable[[datetime], Awaitable[str]]] = {
            "digest-weekly": self.weekly_digest,
            "digest-daily": self.daily_digest,
            "reminders": self.reminders,
            "scheduled-posts": self.scheduled_posts,
            "feeds": self.poll_feeds,
            "heartbeat": self.heartbeat,
            "backup": self.backup,
            "purge": self.purge,
            "retention": self.retention,
        }
        return [
            JobSpec(e.id, e.title, e.trigger, e.grace, runs[e.id])
            for e in timetable(self._settings)
        ]

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        scheduler = AsyncIOScheduler(timezone=self._settings.tz)
        for spec in self.jobs():
            scheduler.add_job(
                self._fire,
                spec.trigger,
                args=[spec],
                id=spec.id,
                name=spec.title,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=int(spec.grace.total_seconds()),
                replace_existing=True,
            )
        scheduler.start()
        self._scheduler = scheduler
        self._catch_up = asyncio.create_task(self.catch_up())

    @property
    def running(self) -> bool:
        """Its scheduler is started (and not shut down)."""
        return self._scheduler is not None and bool(self._scheduler.running)

    async def shutdown(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        if self._catch_up is not None:
            await self._catch_up
            self._catch_up = None

    async def catch_up(self) -> None:
        """Run what fell due while the bot was down, if still within each job's grace."""
        now = self._clock()
        for spec in self.jobs():
            if isinstance(spec.trigger, IntervalTrigger):
                continue
            fire = missed_fire(spec.trigger, now, spec.grace)
            if fire is not None:
                await self._fire(spec, fire)

    async def _fire(self, spec: JobSpec, fire_time: datetime | None = None) -> None:
        when = fire_time or self._clock()
        try:
            outcome = await spec.run(when)
        except Exception:
            log.exception("timetable job failed: job=%s", spec.id)
            return
        if outcome:
            log.info("timetable job done: job=%s %s", spec.id, outcome)

    # --- jobs --------------------------------------------------------------------------------

    async def weekly_digest(self, when: datetime) -> str:
        return await self._digest(Frequency.WEEKLY, weekly_slot(when), when - timedelta(days=7))

    async def daily_digest(self, when: datetime) -> str:
        slot = daily_slot(when)
        previous = await self._slots.last_started("digest:daily:")
        since = previous if previous is not None else when - timedelta(days=1)
        return await self._digest(Frequency.DAILY, slot, since)

    async def _digest(self, frequency: Frequency, slot: str, since: datetime) -> str:
        """The campaign key is the slot: creating it is atomic, and a taken key is a no-op."""
        now = self._clock()
        outcome = await self._work.digest(frequency, slot, since, now)
        if await self._slots.claim(slot, now):
            await self._slots.finish(slot, outcome)
        self._wake()
        return f"slot={slot} {outcome}"

    async def reminders(self, when: datetime) -> str:
        outcome = await self._work.reminders(when)
        self._wake()
        return outcome

    async def scheduled_posts(self, when: datetime) -> str:
        outcome = await self._work.due_posts(when)
        if outcome:
            self._wake()
        return outcome

    async def poll_feeds(self, when: datetime) -> str:
        if self._feeds is None:
            return ""
        return str(await self._feeds.poll_due_feeds(when))

    async def heartbeat(self, when: datetime) -> str:
        """What `python -m bot status` reads: this tick's time, and the polling's own times —
        when getUpdates last succeeded (not when this job ran: through an outage that stays put)
        and since when it has been answered 409 Conflict ("" when it is not)."""
        now = self._clock().astimezone(UTC)
        write_error: str | None = None
        try:
            await self._status.put(LAST_TICK_AT, now.isoformat(), now)
            last_poll = self._last_poll()
            if not self._polling:
                await self._status.remove(LAST_POLL_AT)
            elif last_poll is not None:
                await self._status.put(LAST_POLL_AT, last_poll.isoformat(), last_poll)
            conflict = self._poll_conflict()
            await self._status.put(
                POLL_CONFLICT_SINCE, conflict.isoformat() if conflict else "", now
            )
            rejected = self._token_rejected()
            await self._status.put(
                TOKEN_REJECTED_SINCE, rejected.isoformat() if rejected else "", now
            )
        except SQLAlchemyError as exc:
            # The database refuses writes (disk full, read-only): the owners hear of it.
            write_error = _db_error(exc)
            log.error("heartbeat: the database refuses writes: %s", write_error)
        if self._alerts is None:
            return ""
        return await self._alerts.check(now, write_error=write_error)

    async def purge(self, when: datetime) -> str:
        """Retry what /forget could not finish on disk while someone was reading."""
        return await self._privacy.purge()

    async def retention(self, when: datetime) -> str:
        slot = f"retention:{when:%Y-%m-%d}"
        if not await self._slots.claim(slot):
            return f"slot={slot} already taken"
        try:
            result = await self._retention.run()
        except BaseException:
            await self._slots.release(slot)  # what was folded stays folded; the rest next time
            raise
        await self._slots.finish(slot, result.outcome())
        return f"slot={slot} {result.outcome()}"

    async def backup(self, when: datetime) -> str:
        slot = f"backup:{when:%Y-%m-%d}"
        if not await self._slots.claim(slot):
            return f"slot={slot} already taken"
        try:
            path = await backup_sqlite(
                self._settings.database_url,
                Path(self._settings.backup_dir),
                self._settings.backup_keep,
                when,
                copy_dir=self._settings.backup_copy_path(),
            )
        except BaseException as exc:
            await self._slots.release(slot)
            if isinstance(exc, Exception):
                failed_at = self._clock().astimezone(UTC).isoformat()
                # "<when>|<what failed>|<the folder to check>": the second copy's own folder
                # when only that failed (the first copy is there).
                folder = self._settings.backup_dir
                error = str(exc) or type(exc).__name__
                if isinstance(exc, BackupCopyError):
                    folder, error = str(exc.copy_dir), texts.backup_copy_error(exc.detail)
                await self._record_backup(f"{failed_at}|{error}|{folder}")
            raise
        await self._slots.finish(slot, f"backup={path}")
        await self._record_backup("")
        return f"slot={slot} backup={path}"

    async def _record_backup(self, failure: str) -> None:
        """For status and the owners' alerts: "<when>|<what failed>", or "" after a success."""
        try:
            await self._status.put(BACKUP_FAILED, failure, self._clock().astimezone(UTC))
        except SQLAlchemyError:
            log.exception("backup: could not record its outcome")

    def _wake(self) -> None:
        self._wake_sender()


def _db_error(exc: SQLAlchemyError) -> str:
    """The driver's own words (SQLAlchemy's text adds the statement and its values)."""
    orig = getattr(exc, "orig", None)
    return (str(orig) if orig is not None else "") or type(exc).__name__


class AlertChecker(Protocol):
    """services/alerts.py `Alerts`: run after every heartbeat."""

    async def check(self, now: datetime, *, write_error: str | None = None) -> str: ...


class FeedPoller(Protocol):
    async def poll_due_feeds(self, now: datetime | None = None) -> object: ...


class TimetableWork(Protocol):
    """What the timetable asks of the services; each returns a one-line outcome for the log."""

    async def digest(
        self, frequency: Frequency, slot: str, since: datetime, now: datetime
    ) -> str: ...

    async def reminders(self, when: datetime) -> str: ...

    async def due_posts(self, when: datetime) -> str: ...
