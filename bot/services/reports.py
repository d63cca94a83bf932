"""The editors' figures (/stats) and CSV exports (/export), composed without a messenger.

The CSV files are UTF-8 with a byte-order mark and `;` between fields: Excel with Russian
regional settings uses the semicolon as its list separator (the comma is the decimal mark), and
without the BOM it reads UTF-8 as windows-1251 and shows mojibake. LibreOffice and Google Sheets
read these files too. Cells that begin like a formula are prefixed with an apostrophe, so a
subscriber's name such as «=HYPERLINK(…)» stays text in a spreadsheet.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from bot import texts
from bot.content.digest import pack_blocks, truncate_words
from bot.content.models import CampaignKind, MessagePart, Subscriber
from bot.storage.reports import ReportRepository, RsvpRow
from bot.storage.subscribers import SubscriberRepository

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


async def stats(
    reports: ReportRepository, subscribers: SubscriberRepository, tz: tzinfo, now: datetime
) -> list[MessagePart]:
    """The figures as messages: one as a rule, split on section bounds if it outgrows
    Telegram's limit."""
    today = now.astimezone(tz).date()
    this_monday = today - timedelta(days=today.weekday())
    first_monday = this_monday - timedelta(weeks=texts.STATS_WEEKS - 1)
    since = datetime.combine(first_monday, time(0), tzinfo=tz)
    moments = [m.astimezone(tz) for m in await reports.subscribed_since(since)]
    campaigns = await reports.recent_campaigns(texts.STATS_CAMPAIGNS)
    events = await reports.upcoming_rsvps(now, texts.STATS_EVENTS)
    votes = await reports.top_feedback(texts.STATS_FEEDBACK)
    blocks = [
        texts.subscriber_stats(
            await subscribers.count_by("status"),
            await subscribers.count_by("role"),
            await subscribers.count_by("org_kind"),
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
    return pack_blocks([texts.message_part(block) for block in blocks])


# --- /export -----------------------------------------------------------------------------------


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    if isinstance(value, str) and text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def _when(moment: datetime | None, tz: tzinfo) -> str:
    return moment.astimezone(tz).strftime("%d.%m.%Y %H:%M") if moment else ""


def _subscriber_row(subscriber: Subscriber, tz: tzinfo) -> list[str]:
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
        _when(subscriber.created_at, tz),
    ]


def _rsvp_row(row: RsvpRow, tz: tzinfo) -> list[str]:
    return [str(row.chat_id), _cell(row.name), _cell(row.org_name), _when(row.pressed_at, tz)]


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


@dataclass(frozen=True, slots=True)
class Export:
    data: bytes
    filename: str
    caption: str
    rows: int


def _people(rows: int) -> str:
    return texts.count(rows, "человек", "человека", "человек")


async def subscribers_csv(reports: ReportRepository, tz: tzinfo, now: datetime) -> Export:
    file = _CsvFile()
    file.header(texts.SUBSCRIBERS_CSV_HEADER)
    async for subscriber in reports.stream_subscribers():
        file.row(_subscriber_row(subscriber, tz))
    today = now.astimezone(tz).date()
    return Export(
        file.data(),
        f"infozona-subscribers-{today:%Y-%m-%d}.csv",
        texts.EXPORT_SUBSCRIBERS_CAPTION.format(count=_people(file.rows)),
        file.rows,
    )


async def rsvp_csv(reports: ReportRepository, item_id: int, tz: tzinfo) -> Export | None:
    """Who pressed «Напомнить» under an event, or None if there is no such event."""
    event = await reports.event(item_id)
    if event is None:
        return None
    starts = event.starts_at.astimezone(tz) if event.starts_at else None
    when = texts.format_date(starts) if starts else texts.EXPORT_NO_DATE
    file = _CsvFile()
    file.header([texts.RSVP_CSV_EVENT, _cell(event.title), _when(event.starts_at, tz)])
    file.header(texts.RSVP_CSV_HEADER)
    async for row in reports.stream_rsvps(event.item_id):
        file.row(_rsvp_row(row, tz))
    day = f"-{starts:%Y-%m-%d}" if starts else ""
    caption = texts.EXPORT_RSVP_CAPTION.format(
        title=truncate_words(event.title, 200), when=when, count=_people(file.rows)
    )
    return Export(file.data(), f"infozona-rsvp-{event.item_id}{day}.csv", caption, file.rows)
