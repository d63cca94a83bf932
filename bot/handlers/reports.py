"""/stats and /export: the editors' figures and CSV exports.

The CSV files are UTF-8 with a byte-order mark and `;` between fields: Excel with Russian
regional settings uses the semicolon as its list separator (the comma is the decimal mark), and
without the BOM it reads UTF-8 as windows-1251 and shows mojibake. LibreOffice and Google Sheets
read these files too. Cells that begin like a formula are prefixed with an apostrophe, so a
subscriber's name such as «=HYPERLINK(…)» stays text in a spreadsheet.
"""

from __future__ import annotations

import csv
import io
import logging
from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, Message, MessageEntity

from bot import texts
from bot.config import Settings
from bot.content.digest import pack_blocks, truncate_words
from bot.content.formatting import Text
from bot.content.models import CampaignKind, Subscriber
from bot.services.container import Services
from bot.storage.db import utcnow
from bot.storage.reports import RsvpRow

log = logging.getLogger(__name__)

CSV_ENCODING = "utf-8-sig"  # the BOM tells Excel the file is UTF-8
CSV_DELIMITER = ";"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


# --- /stats ------------------------------------------------------------------------------------


def week_counts(
    moments: Iterable[datetime], this_monday: date, weeks: int
) -> list[tuple[date, int]]:
    """(Monday, newcomers) for the `weeks` ISO weeks ending with the one of `this_monday`;
    `moments` already in the settings' zone."""
    mondays = [this_monday - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]
    counted = Counter(m.date() - timedelta(days=m.weekday()) for m in moments)
    return [(monday, counted.get(monday, 0)) for monday in mondays]


async def stats_command(
    message: Message,
    settings: Settings,
    services: Services,
) -> None:
    tz = settings.tz
    now = utcnow()
    today = now.astimezone(tz).date()
    this_monday = today - timedelta(days=today.weekday())
    first_monday = this_monday - timedelta(weeks=texts.STATS_WEEKS - 1)
    since = datetime.combine(first_monday, time(0), tzinfo=tz)
    moments = [m.astimezone(tz) for m in await services.reports.subscribed_since(since)]
    campaigns = await services.reports.recent_campaigns(texts.STATS_CAMPAIGNS)
    events = await services.reports.upcoming_rsvps(now, texts.STATS_EVENTS)
    votes = await services.reports.top_feedback(texts.STATS_FEEDBACK)
    blocks: list[Text] = [
        texts.subscriber_stats(
            await services.subscribers.count_by("status"),
            await services.subscribers.count_by("role"),
            await services.subscribers.count_by("org_kind"),
        ),
        texts.stats_new_weeks(week_counts(moments, this_monday, texts.STATS_WEEKS)),
        texts.stats_campaigns(
            [
                (
                    c.title,
                    c.kind.value,
                    c.created_at.astimezone(tz) if c.created_at else None,
                    c.counts,
                    c.item_id if c.kind in (CampaignKind.POST, CampaignKind.EDIT) else None,
                )
                for c in campaigns
            ]
        ),
        texts.stats_rsvps([(e.item_id, e.title, e.starts_at, e.count) for e in events], tz),
        texts.stats_feedback([(v.title, v.kind.value, v.useful, v.not_for_me) for v in votes]),
    ]
    # One message as a rule; split on section bounds if it outgrows Telegram's limit.
    for part in pack_blocks([texts.message_part(block) for block in blocks]):
        await message.answer(
            text=part.text,
            entities=[MessageEntity.model_validate(e) for e in part.entities] or None,
        )


# --- /export -----------------------------------------------------------------------------------


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    if isinstance(value, str) and text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def _when(moment: datetime | None, settings: Settings) -> str:
    return moment.astimezone(settings.tz).strftime("%d.%m.%Y %H:%M") if moment else ""


def _subscriber_row(subscriber: Subscriber, settings: Settings) -> list[str]:
    topics = ", ".join(texts.TOPIC_LABELS[t] for t in texts.TOPIC_ORDER if t in subscriber.topics)
    return [
        str(subscriber.chat_id),
        _cell(subscriber.name),
        subscriber.username or "",  # without «@»: Excel would read it as a formula
        texts.ROLE_LABELS[subscriber.role] if subscriber.role else "",
        texts.ORG_KIND_LABELS[subscriber.org_kind] if subscriber.org_kind else "",
        _cell(subscriber.org_name or ""),
        topics,
        texts.FREQUENCY_LABELS[subscriber.frequency],
        texts.STATUS_LABELS[subscriber.status],
        _cell(subscriber.source or ""),
        _when(subscriber.created_at, settings),
    ]


def _rsvp_row(row: RsvpRow, settings: Settings) -> list[str]:
    return [
        str(row.chat_id),
        _cell(row.name),
        _cell(row.org_name),
        _when(row.pressed_at, settings),
    ]


class _CsvFile:
    """Rows written as they arrive from the database; encoded once at the end."""

    def __init__(self) -> None:
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, delimiter=CSV_DELIMITER, lineterminator="\r\n")
        self.rows = 0

    def header(self, values: Iterable[str]) -> None:
        self._writer.writerow(values)

    def row(self, values: Iterable[str]) -> None:
        self._writer.writerow(values)
        self.rows += 1

    def data(self) -> bytes:
        return self._buffer.getvalue().encode(CSV_ENCODING)


async def export_subscribers(
    message: Message, bot: Bot, settings: Settings, services: Services
) -> None:
    file = _CsvFile()
    file.header(texts.SUBSCRIBERS_CSV_HEADER)
    async for subscriber in services.reports.stream_subscribers():
        file.row(_subscriber_row(subscriber, settings))
    today = utcnow().astimezone(settings.tz).date()
    user_id = message.from_user.id if message.from_user else 0
    log.info("export: user=%s what=subscribers rows=%s", user_id, file.rows)
    await bot.send_document(
        message.chat.id,
        BufferedInputFile(file.data(), filename=f"infozona-subscribers-{today:%Y-%m-%d}.csv"),
        caption=texts.EXPORT_SUBSCRIBERS_CAPTION.format(
            count=texts.count(file.rows, "человек", "человека", "человек")
        ),
    )


async def export_rsvp(
    message: Message, bot: Bot, settings: Settings, services: Services, arg: str
) -> None:
    if not arg.isdigit():
        await message.answer(texts.EXPORT_BAD_EVENT_ID)
        return
    event = await services.reports.event(int(arg))
    if event is None:
        await message.answer(texts.EXPORT_NO_EVENT.format(id=arg))
        return
    starts = event.starts_at.astimezone(settings.tz) if event.starts_at else None
    when = texts.format_date(starts) if starts else texts.EXPORT_NO_DATE
    file = _CsvFile()
    file.header([texts.RSVP_CSV_EVENT, _cell(event.title), _when(event.starts_at, settings)])
    file.header(texts.RSVP_CSV_HEADER)
    async for row in services.reports.stream_rsvps(event.item_id):
        file.row(_rsvp_row(row, settings))
    user_id = message.from_user.id if message.from_user else 0
    log.info("export: user=%s what=rsvp event=%s rows=%s", user_id, event.item_id, file.rows)
    day = f"-{starts:%Y-%m-%d}" if starts else ""
    await bot.send_document(
        message.chat.id,
        BufferedInputFile(file.data(), filename=f"infozona-rsvp-{event.item_id}{day}.csv"),
        caption=texts.EXPORT_RSVP_CAPTION.format(
            title=truncate_words(event.title, 200),
            when=when,
            count=texts.count(file.rows, "человек", "человека", "человек"),
        ),
    )


async def export_command(
    message: Message,
    command: CommandObject,
    bot: Bot,
    settings: Settings,
    services: Services,
) -> None:
    words = (command.args or "").split()
    what = words[0].lower() if words else ""
    if what in ("subscribers", "подписчики") and len(words) == 1:
        await export_subscribers(message, bot, settings, services)
    elif what in ("rsvp", "напомнить") and len(words) == 2:
        await export_rsvp(message, bot, settings, services, words[1].lstrip("№"))
    elif what in ("rsvp", "напомнить"):
        await message.answer(texts.EXPORT_BAD_EVENT_ID)
    else:
        await message.answer(texts.EXPORT_USAGE)


def build_router() -> Router:
    router = Router(name="reports")
    router.message.register(stats_command, Command("stats"))
    router.message.register(export_command, Command("export"))
    return router
