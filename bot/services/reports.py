"""The editors' figures (/stats: a short summary, a picture, a section per «Подробнее») and
exports (/export: .xlsx and CSV), composed without a messenger.

The .xlsx is a real table (bold header row frozen at the top, column widths, an autofilter):
it opens on a phone in Excel or Google Sheets, where a CSV opens as text.

The CSV files are UTF-8 with a byte-order mark and `;` between fields: Excel with Russian
regional settings uses the semicolon as its list separator (the comma is the decimal mark), and
without the BOM it reads UTF-8 as windows-1251 and shows mojibake. LibreOffice and Google Sheets
read these files too. Cells that begin like a formula are prefixed with an apostrophe, so a
subscriber's name such as «=HYPERLINK(…)» stays text in a spreadsheet.
"""

from __future__ import annotations

import asyncio
import csv
import gc
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from functools import cache
from typing import Any, Protocol

from bot import texts
from bot.content.digest import pack_blocks, truncate_words
from bot.content.models import CampaignKind, MessagePart, Role, Subscriber, SubscriberStatus
from bot.services import charts
from bot.storage.reports import (
    STREAM_CHUNK,
    CampaignLine,
    EventRsvps,
    ItemVotes,
    ReportRepository,
    RsvpRow,
    SubscriberTotals,
)

CSV_ENCODING = "utf-8-sig"  # the BOM tells Excel the file is UTF-8
CSV_DELIMITER = ";"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Characters XML 1.0 (so .xlsx) cannot hold; a Telegram name may carry them.
ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
XLSX_MAX_ROWS = 1_048_576  # the autofilter spans every row a sheet can have
EXPORT_EVENTS_DAYS_BACK = 14


# --- /stats ------------------------------------------------------------------------------------


class Section(StrEnum):
    """A «Подробнее» button under /stats: the section it details."""

    SUBSCRIBERS = "subscribers"
    CAMPAIGNS = "campaigns"
    EVENTS = "events"
    FEEDBACK = "feedback"


def week_starts(this_monday: date, weeks: int, tz: tzinfo) -> list[datetime]:
    """The first moments (midnight on Monday in the settings' zone) of the `weeks` ISO weeks
    ending with the one of `this_monday`, oldest first."""
    return [
        datetime.combine(this_monday - timedelta(weeks=n), time(0), tzinfo=tz)
        for n in range(weeks - 1, -1, -1)
    ]


@dataclass(frozen=True, slots=True)
class Stats:
    """The figures of /stats, read with a few aggregate queries (never a row per subscriber)."""

    today: date
    totals: SubscriberTotals
    mondays: list[date]
    new_by_week: dict[tuple[int, str], int]  # (week index, role code) → newcomers
    campaigns: list[CampaignLine]
    events: list[EventRsvps]
    votes: list[ItemVotes]

    def new_in_week(self, week: int) -> int:
        return sum(n for (w, _), n in self.new_by_week.items() if w == week)

    @property
    def weeks(self) -> list[tuple[date, int]]:
        return [(monday, self.new_in_week(n)) for n, monday in enumerate(self.mondays)]


async def gather(reports: ReportRepository, tz: tzinfo, now: datetime) -> Stats:
    today = now.astimezone(tz).date()
    this_monday = today - timedelta(days=today.weekday())
    starts = week_starts(this_monday, texts.STATS_WEEKS, tz)
    return Stats(
        today=today,
        totals=await reports.subscriber_totals(),
        mondays=[start.date() for start in starts],
        new_by_week=await reports.new_by_week_and_role(starts),
        campaigns=await reports.recent_campaigns(texts.STATS_CAMPAIGNS),
        events=await reports.upcoming_rsvps(now, texts.STATS_EVENTS),
        votes=await reports.top_feedback(texts.STATS_FEEDBACK),
    )


def _created(line: CampaignLine, tz: tzinfo) -> date | None:
    return line.created_at.astimezone(tz).date() if line.created_at else None


def summary(stats: Stats, tz: tzinfo) -> MessagePart:
    """The caption under the picture: at most 15 lines, one per section."""
    by_status = stats.totals.by_status
    next_event = stats.events[0] if stats.events else None
    return texts.message_part(
        texts.stats_summary(
            today=stats.today,
            totals=(
                stats.totals.total,
                by_status.get(SubscriberStatus.ACTIVE.value, 0),
                by_status.get(SubscriberStatus.PAUSED.value, 0),
                by_status.get(SubscriberStatus.BLOCKED.value, 0),
            ),
            unfinished=stats.totals.unfinished,
            new_weeks=sum(n for _, n in stats.weeks),
            new_this_week=stats.new_in_week(len(stats.mondays) - 1),
            campaigns=[
                (c.title, c.kind.value, _created(c, tz), c.counts) for c in stats.campaigns
            ],
            event=(
                (
                    next_event.title,
                    next_event.starts_at.astimezone(tz) if next_event.starts_at else None,
                    next_event.count,
                )
                if next_event
                else None
            ),
            votes=(sum(v.useful for v in stats.votes), sum(v.not_for_me for v in stats.votes)),
        )
    )


def detail(stats: Stats, section: Section, tz: tzinfo) -> list[MessagePart]:
    """What a «Подробнее» button answers: its section of the old long report."""
    if section is Section.SUBSCRIBERS:
        block = texts.subscriber_stats(
            stats.totals.by_status,
            stats.totals.by_role,
            stats.totals.by_org,
            stats.totals.unfinished,
            stats.weeks,
        )
    elif section is Section.CAMPAIGNS:
        block = texts.stats_campaigns(
            [
                (
                    c.title,
                    c.kind.value,
                    c.created_at.astimezone(tz) if c.created_at else None,
                    c.counts,
                    c.item_id if c.kind in (CampaignKind.POST, CampaignKind.EDIT) else None,
                )
                for c in stats.campaigns
            ]
        )
    elif section is Section.EVENTS:
        block = texts.stats_rsvps(
            [(e.item_id, e.title, e.starts_at, e.count) for e in stats.events], tz
        )
    else:
        block = texts.stats_feedback(
            [(v.title, v.kind.value, v.useful, v.not_for_me) for v in stats.votes]
        )
    return pack_blocks([texts.message_part(block)])


def chart_data(stats: Stats, tz: tzinfo) -> charts.ChartData:
    roles = [(role.value, texts.ROLE_LABELS[role]) for role in Role]
    roles.append(("", texts.NO_ROLE))
    return charts.ChartData(
        weeks=tuple(f"{monday:%d.%m}" for monday in stats.mondays),
        series=charts.week_series(len(stats.mondays), stats.new_by_week, roles),
        campaigns=tuple(
            charts.CampaignBar(
                texts.campaign_chart_label(c.title, c.kind.value, _created(c, tz)),
                c.counts.sent,
                c.counts.blocked,
                c.counts.failed,
                c.counts.pending,
            )
            for c in stats.campaigns[: texts.STATS_CHART_CAMPAIGNS]
        ),
        campaign_slots=texts.STATS_CHART_CAMPAIGNS,
        words=charts.ChartText(
            weeks_title=texts.STATS_CHART_WEEKS_TITLE,
            weeks_empty=texts.STATS_CHART_WEEKS_EMPTY,
            campaigns_title=texts.STATS_CHART_CAMPAIGNS_TITLE,
            campaigns_empty=texts.STATS_CHART_CAMPAIGNS_EMPTY,
            sent=texts.STATS_CHART_SENT,
            blocked=texts.STATS_CHART_BLOCKED,
            failed=texts.STATS_CHART_FAILED,
            pending=texts.STATS_CHART_PENDING,
            of_total=texts.STATS_CHART_OF_TOTAL,
        ),
    )


async def chart(stats: Stats, tz: tzinfo) -> bytes:
    """The picture as PNG, drawn in a thread: 100+ ms of CPU the event loop doesn't wait on."""
    return await asyncio.to_thread(charts.stats_chart, chart_data(stats, tz))


# --- /export -----------------------------------------------------------------------------------


class ExportFormat(StrEnum):
    XLSX = "xlsx"
    CSV = "csv"


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    if isinstance(value, str) and text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def _when(moment: datetime | None, tz: tzinfo) -> str:
    return moment.astimezone(tz).strftime("%d.%m.%Y %H:%M") if moment else ""


def _local(moment: datetime | None, tz: tzinfo) -> datetime | None:
    """A moment as the settings' wall clock, without a zone: what a spreadsheet cell holds."""
    return moment.astimezone(tz).replace(tzinfo=None) if moment else None


def _subscriber_row(subscriber: Subscriber, tz: tzinfo) -> list[object]:
    """One row, typed (the chat id a number, «Подписался» a moment); each file format writes
    the values its own way. A chat that never finished sign-up is said so in «Статус», and
    gets neither topics nor a digest frequency: it receives nothing."""
    finished = subscriber.onboarded
    topics = ", ".join(texts.TOPIC_LABELS[t] for t in texts.TOPIC_ORDER if t in subscriber.topics)
    return [
        subscriber.chat_id,
        subscriber.name,
        subscriber.username or "",  # without «@»: Excel would read it as a formula
        texts.ROLE_LABELS[subscriber.role] if subscriber.role else "",
        texts.ORG_KIND_LABELS[subscriber.org_kind] if subscriber.org_kind else "",
        subscriber.org_name or "",
        topics if finished else "",
        texts.FREQUENCY_LABELS[subscriber.frequency] if finished else "",
        texts.STATUS_LABELS[subscriber.status] if finished else texts.UNFINISHED_LABEL,
        subscriber.source or "",
        _local(subscriber.created_at, tz),
    ]


def _rsvp_row(row: RsvpRow, tz: tzinfo) -> list[object]:
    return [row.chat_id, row.name, row.org_name, _local(row.pressed_at, tz)]


class _Table(Protocol):
    extension: str
    rows: int

    async def row(self, values: Sequence[object]) -> None: ...

    async def data(self) -> bytes: ...


class _CsvFile:
    """Rows written as they arrive from the database; encoded once at the end.

    CSV is text only: moments as «01.12.2026 10:00», formula-looking cells prefixed with «'»."""

    extension = "csv"

    def __init__(self, heading: Sequence[Sequence[object]]) -> None:
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, delimiter=CSV_DELIMITER, lineterminator="\r\n")
        self.rows = 0
        for line in heading:
            self._writer.writerow([self._text(v) for v in line])

    @staticmethod
    def _text(value: object) -> str:
        if isinstance(value, datetime):
            return value.strftime("%d.%m.%Y %H:%M")
        return _cell(value)

    async def row(self, values: Sequence[object]) -> None:
        self._writer.writerow([self._text(v) for v in values])
        self.rows += 1

    async def data(self) -> bytes:
        return self._buffer.getvalue().encode(CSV_ENCODING)


@cache
def load_openpyxl() -> None:
    """Import openpyxl once, off the event loop (callers run this in a thread), and freeze
    the ~27 000 long-lived objects it leaves, as start-up's are (bot/heap.py)."""
    import openpyxl
    import openpyxl.cell
    import openpyxl.styles
    import openpyxl.utils  # noqa: F401

    gc.freeze()


class _XlsxFile:
    """A real spreadsheet (openpyxl, write-only mode: rows go to a temporary file as they come,
    never all in memory): a bold header row frozen at the top, set column widths, an autofilter,
    numbers as numbers and moments as dates.

    Writing cells is CPU work (~70 µs a row): rows are buffered and written STREAM_CHUNK at a
    time in a thread, as is the final save, so a big export doesn't stall the bot's other
    answers. A text beginning with «=» is stored as text, never as a formula.
    """

    extension = "xlsx"

    def __init__(
        self, sheet: str, heading: Sequence[Sequence[object]], widths: Sequence[int]
    ) -> None:
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font
        from openpyxl.utils import get_column_letter

        self._cell_type = WriteOnlyCell
        self._workbook = Workbook(write_only=True)
        self._sheet = self._workbook.create_sheet(sheet)
        self._sheet.freeze_panes = f"A{len(heading) + 1}"  # the header stays on screen
        for n, width in enumerate(widths, start=1):
            self._sheet.column_dimensions[get_column_letter(n)].width = width
        last = get_column_letter(len(widths))
        self._sheet.auto_filter.ref = f"A{len(heading)}:{last}{XLSX_MAX_ROWS}"
        bold = Font(bold=True)
        self._pending: list[list[object]] = []
        for line in heading:
            cells = []
            for value in line:
                cell = self._typed(value)
                cell.font = bold
                cells.append(cell)
            self._pending.append(cells)
        self.rows = 0

    def _typed(self, value: object) -> Any:
        cell = self._cell_type(self._sheet, value=None)
        if isinstance(value, str):
            cell.value = ILLEGAL_XML.sub("", value)
            cell.data_type = "s"  # «=HYPERLINK(…)» stays text
        elif isinstance(value, datetime):
            cell.value = value
            cell.number_format = "DD.MM.YYYY HH:MM"
        else:
            cell.value = value
        return cell

    def _values(self, values: Sequence[object]) -> list[object]:
        out: list[object] = []
        for value in values:
            if isinstance(value, datetime) or (isinstance(value, str) and value.startswith("=")):
                out.append(self._typed(value))
            elif isinstance(value, str):
                out.append(ILLEGAL_XML.sub("", value))
            else:
                out.append(value)
        return out

    def _write(self, rows: list[list[object]]) -> None:
        for values in rows:
            self._sheet.append(values)

    async def row(self, values: Sequence[object]) -> None:
        self._pending.append(self._values(values))
        self.rows += 1
        if len(self._pending) >= STREAM_CHUNK:
            pending, self._pending = self._pending, []
            await asyncio.to_thread(self._write, pending)

    def _save(self, rows: list[list[object]]) -> bytes:
        self._write(rows)
        out = io.BytesIO()
        self._workbook.save(out)
        return out.getvalue()

    async def data(self) -> bytes:
        pending, self._pending = self._pending, []
        return await asyncio.to_thread(self._save, pending)


@dataclass(frozen=True, slots=True)
class Export:
    data: bytes
    filename: str
    caption: str
    rows: int
    unfinished: int = 0  # of `rows`: chats that never finished sign-up


def _people(rows: int) -> str:
    return texts.count(rows, "человек", "человека", "человек")


async def _table(
    fmt: ExportFormat, sheet: str, heading: Sequence[Sequence[object]], widths: Sequence[int]
) -> _Table:
    if fmt is ExportFormat.XLSX:
        await asyncio.to_thread(load_openpyxl)
        return _XlsxFile(sheet, heading, widths)
    return _CsvFile(heading)


async def subscribers_file(
    reports: ReportRepository, tz: tzinfo, now: datetime, fmt: ExportFormat = ExportFormat.CSV
) -> Export:
    """Every subscriber, then (counted apart) the chats that never finished sign-up."""
    file = await _table(
        fmt,
        texts.SUBSCRIBERS_SHEET,
        [texts.SUBSCRIBERS_CSV_HEADER],
        texts.SUBSCRIBERS_XLSX_WIDTHS,
    )
    unfinished = 0
    async for subscriber in reports.stream_subscribers():
        unfinished += not subscriber.onboarded
        await file.row(_subscriber_row(subscriber, tz))
    today = now.astimezone(tz).date()
    return Export(
        await file.data(),
        f"infozona-subscribers-{today:%Y-%m-%d}.{file.extension}",
        texts.EXPORT_SUBSCRIBERS_CAPTION.format(
            count=_people(file.rows - unfinished),
            unfinished=texts.unfinished_signups(unfinished),
        ),
        file.rows,
        unfinished,
    )


async def subscribers_csv(reports: ReportRepository, tz: tzinfo, now: datetime) -> Export:
    return await subscribers_file(reports, tz, now, ExportFormat.CSV)


async def rsvp_file(
    reports: ReportRepository, item_id: int, tz: tzinfo, fmt: ExportFormat = ExportFormat.CSV
) -> Export | None:
    """Who pressed «Напомнить» under an event, or None if there is no such event."""
    event = await reports.event(item_id)
    if event is None:
        return None
    starts = event.starts_at.astimezone(tz) if event.starts_at else None
    when = texts.format_date(starts) if starts else texts.EXPORT_NO_DATE
    file = await _table(
        fmt,
        texts.RSVP_SHEET,
        [
            [texts.RSVP_CSV_EVENT, event.title, _local(event.starts_at, tz) or ""],
            texts.RSVP_CSV_HEADER,
        ],
        texts.RSVP_XLSX_WIDTHS,
    )
    async for row in reports.stream_rsvps(event.item_id):
        await file.row(_rsvp_row(row, tz))
    day = f"-{starts:%Y-%m-%d}" if starts else ""
    caption = texts.EXPORT_RSVP_CAPTION.format(
        title=truncate_words(event.title, 200), when=when, count=_people(file.rows)
    )
    return Export(
        await file.data(),
        f"infozona-rsvp-{event.item_id}{day}.{file.extension}",
        caption,
        file.rows,
    )


async def rsvp_csv(reports: ReportRepository, item_id: int, tz: tzinfo) -> Export | None:
    return await rsvp_file(reports, item_id, tz, ExportFormat.CSV)


async def export_events(reports: ReportRepository, now: datetime) -> list[EventRsvps]:
    """Events to pick for «Записи на мероприятие»: upcoming and from the last two weeks."""
    return await reports.export_events(now - timedelta(days=EXPORT_EVENTS_DAYS_BACK))


async def subscriber_totals(reports: ReportRepository) -> SubscriberTotals:
    return await reports.subscriber_totals()


@dataclass(frozen=True, slots=True)
class EventExport:
    """An event picked for «Записи на мероприятие»: what the format question says of it."""

    item_id: int
    title: str
    when: str
    presses: int


async def event_export(reports: ReportRepository, item_id: int, tz: tzinfo) -> EventExport | None:
    event = await reports.event(item_id)
    if event is None:
        return None
    starts = event.starts_at.astimezone(tz) if event.starts_at else None
    return EventExport(
        event.item_id,
        event.title,
        texts.format_date(starts) if starts else texts.EXPORT_NO_DATE,
        await reports.count_rsvps(event.item_id),
    )


def event_button_label(event: EventRsvps, tz: tzinfo) -> str:
    """«6 дек · Заседание Экспертного совета (2)»: fits a phone's button."""
    starts = event.starts_at.astimezone(tz) if event.starts_at else None
    day = f"{starts:%d.%m} · " if starts else ""
    return f"{day}{truncate_words(' '.join(event.title.split()), 40)} ({event.count})"
