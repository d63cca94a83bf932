"""Alerts to the owners (ADMIN_IDS) in Telegram when something breaks, and «снова работает»
when it clears.

The checker runs from the timetable's heartbeat every minute and reads the same picture as
`python -m bot status` (services/status.py: its `Problem`s, their codes and lines), so an alert
and the status never disagree: an alert is the problem's title and its status line. Alerted:
sending stalled or paused by Telegram for more than a few minutes, a feed failing for a day, the
nightly backup failing, the database's disk nearly full or the database refusing writes. A
rejected token can't be told through Telegram: it goes to the log only, the same way.

One alert per problem per hour at most (a feed's or the backup's: per day), and one «снова
работает» when it clears. What was alerted and when is kept in runtime_status
(`alerted:<problem>`), so a restart doesn't alert again; while the database refuses writes, in
memory. An alert that could not be delivered is not counted: the next check tries again.
Alerts go through the messenger's transport (bot/delivery/transport.py), not the outbox: a
stalled outbox must not hold back the alert that it stalled.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy.exc import SQLAlchemyError

from bot import texts
from bot.config import Settings
from bot.content.models import MessagePart
from bot.delivery.transport import Result
from bot.services.status import Problem, status_report
from bot.storage.database import Database
from bot.storage.feeds import FeedRepository
from bot.storage.timetable import ALERTED, FEED_FAILING_SINCE, RuntimeStatusRepository

log = logging.getLogger(__name__)

# Problems the owners are told of in Telegram, and the one that can only be logged.
TELEGRAM = frozenset(
    {"send_stalled", "send_paused", "feed_failing", "backup_failed", "db_nearly_full",
     "db_unwritable"}
)  # fmt: skip
LOG_ONLY = frozenset({"token_rejected"})
# A problem alerted only once it has lasted this long (status names it earlier).
LASTING = {"feed_failing": timedelta(days=1)}
# At most one alert per problem per this long while it lasts.
REPEAT = timedelta(hours=1)
# A feed's or the nightly backup's state changes once a run: a day between reminders.
REPEAT_OF = {"feed_failing": timedelta(days=1), "backup_failed": timedelta(days=1)}


class AlertTransport(Protocol):
    """What the checker needs of a messenger: bot/delivery/transport.py `Transport.send`."""

    async def send(self, chat_id: int, part: MessagePart) -> Result: ...


@dataclass(frozen=True, slots=True)
class Alerted:
    at: datetime  # when the owners were last told
    what: str  # what «снова работает» will name


def _code(ident: str) -> str:
    return ident.split(":", 1)[0]


def _parse(value: str) -> Alerted | None:
    at, _, what = value.partition("\t")
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        return None
    return Alerted(moment if moment.tzinfo else moment.replace(tzinfo=UTC), what)


class Alerts:
    def __init__(
        self, settings: Settings, engine: Database, *, transport: AlertTransport | None = None
    ) -> None:
        self._settings = settings
        self._engine = engine
        self._status = RuntimeStatusRepository(engine)
        self._feeds = FeedRepository(engine)
        self._transport = transport
        self._alerted: dict[str, Alerted] | None = None

    def attach(self, transport: AlertTransport) -> None:
        """The messenger to alert through, once the bot is up."""
        self._transport = transport

    async def check(self, now: datetime, *, write_error: str | None = None) -> str:
        """Alert what is wrong now, and what cleared; returns a line for the timetable's log.
        `write_error`: the heartbeat could not write to the database just now."""
        await self._track_feeds(now)
        report = await status_report(self._settings, self._engine, now, write_error=write_error)
        alerted = await self._memory()
        present: dict[str, Problem] = {}
        for problem in report.found:
            if problem.code not in TELEGRAM | LOG_ONLY:
                continue
            lasting = LASTING.get(problem.code)
            if lasting is not None and (problem.since is None or now - problem.since < lasting):
                continue
            present[problem.ident] = problem
        done: list[str] = []
        for ident, problem in present.items():
            last = alerted.get(ident)
            if last is not None and now - last.at < REPEAT_OF.get(problem.code, REPEAT):
                continue
            text = texts.ALERT.format(
                title=texts.ALERT_TITLES[problem.code], text=problem.text.removeprefix("⚠ ")
            )
            if await self._tell(ident, text):
                what = texts.ALERT_BACK[problem.code].format(subject=problem.subject)
                alerted[ident] = Alerted(now, what)
                await self._remember(ident, alerted[ident])
                done.append(f"alert={ident}")
        for ident in [i for i in alerted if i not in present]:
            if await self._tell(ident, texts.ALERT_CLEARED.format(what=alerted[ident].what)):
                del alerted[ident]
                await self._forget(ident)
                done.append(f"cleared={ident}")
        return " ".join(done)

    async def _tell(self, ident: str, text: str) -> bool:
        """True once someone was told (or, for what Telegram can't carry, it was logged)."""
        owners = self._settings.admin_ids
        if _code(ident) in LOG_ONLY or not owners:
            log.error("alert (log only): %s: %s", ident, text)
            return True
        if self._transport is None:
            log.error("alert not sent (the bot is not connected yet): %s: %s", ident, text)
            return False
        told = 0
        for owner in owners:
            result = await self._transport.send(owner, MessagePart(text))
            if result.done:
                told += 1
            else:
                log.warning(
                    "alert not delivered: owner=%s problem=%s outcome=%s %s",
                    owner, ident, result.outcome, result.error,
                )  # fmt: skip
        if told:
            log.warning("alert sent to %s of %s owners: %s", told, len(owners), ident)
        return told > 0

    async def _memory(self) -> dict[str, Alerted]:
        if self._alerted is None:
            try:
                beats = await self._status.all()
            except SQLAlchemyError:
                log.exception("alerts: could not read what was alerted before")
                beats = {}
            self._alerted = {}
            for key, (value, _) in beats.items():
                if key.startswith(ALERTED) and (found := _parse(value)) is not None:
                    self._alerted[key.removeprefix(ALERTED)] = found
        return self._alerted

    async def _remember(self, ident: str, alerted: Alerted) -> None:
        try:
            await self._status.put(
                f"{ALERTED}{ident}", f"{alerted.at.isoformat()}\t{alerted.what}", alerted.at
            )
        except SQLAlchemyError as exc:  # kept in memory: this process won't repeat it
            log.warning("alerts: could not record an alert: %s", type(exc).__name__)

    async def _forget(self, ident: str) -> None:
        try:
            await self._status.remove(f"{ALERTED}{ident}")
        except SQLAlchemyError as exc:
            log.warning("alerts: could not record a cleared alert: %s", type(exc).__name__)

    async def _track_feeds(self, now: datetime) -> None:
        """Since when each feed has been failing (the feeds table counts failures only): the
        first failure's time when seen at once, else the moment it was first seen."""
        try:
            beats = await self._status.all()
            feeds = await self._feeds.all()
            failing = {feed.id: feed for feed in feeds if feed.enabled and feed.error_count}
            for feed_id, feed in failing.items():
                if f"{FEED_FAILING_SINCE}{feed_id}" in beats:
                    continue
                first = feed.last_fetch_at if feed.error_count == 1 and feed.last_fetch_at else now
                await self._status.put(f"{FEED_FAILING_SINCE}{feed_id}", first.isoformat(), now)
            for key in beats:
                if key.startswith(FEED_FAILING_SINCE):
                    feed_id_text = key.removeprefix(FEED_FAILING_SINCE)
                    if not feed_id_text.isdigit() or int(feed_id_text) not in failing:
                        await self._status.remove(key)
        except SQLAlchemyError as exc:
            log.warning("alerts: could not track failing feeds: %s", type(exc).__name__)
