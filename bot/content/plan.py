"""The annual plan: items, sections, audiences and timing phrases resolved to dates.

One core, `parse_plan_rows`, reads a plan as rows of cells by the columns its header names
(plan_columns). Two readers feed it. A Word table (plan_docx) gives its rows and cells as they
are. Text gives them in one of two shapes: a table copied out of Word, a row per line with tabs
between cells (`_tab_rows`); or the table as Word or a PDF viewer exports it (`_line_rows`): a
title with the year, the header's words, sections «N. …» or «I. …», then numbered rows («1»,
«1.», «1.2.1») whose cells are wrapped over many lines, one cell after another, sometimes two
cells on one line («3 Заседания … совета Два раза в год», «В течение года ИМЦ»), with blank
lines, repeated headers and page numbers where the pages broke. Nothing marks where one cell
ends, so such a row is cut at its timing: the first place where a timing phrase starts a line
or a capitalised word and resolves. What comes before it is the title; after it, the cells
the header names after the timing, told apart where a line starts a new cell, an empty cell
left empty by what the others hold (a cell naming people is an audience or a responsible).

Timing phrases are resolved for any school year (1 September – 30 June unless the plan's title
names its own dates). The year comes from the title («на 2023-2024 учебный год», «2023/24 уч.
г.»; «на 2024 год» is a calendar-year plan: January – December, the school year (2024, 2024)),
else from the years the rows' timings name, else it is asked for. A month without a year:
September – December belong to the first year, January – August to the second, except an
August that opens the plan (the August teachers' council), which is the first year's.

Decisions on ambiguous phrases (tests pin each one down):
- «В течение (учебного) года», «весь год», «постоянно» → the school year as a range.
- A single month, quarter, half-year or date → a range over its days; «Сентябрь 2021-июнь 2022»
  → a range from the first day of the first month to the last day of the last one.
- A quarter is a calendar quarter; without a year it takes the year of its first month
  (I, II, III → the second year, IV → the first).
- «I/II полугодие» without a year, or with a school year («2026/2027 учебного года»), is the
  school half: 1 September – 31 December, 1 January – 30 June. With one calendar year
  («II полугодие 2026») it is the calendar half: January – June, July – December.
- A list of months («Сентябрь 2021, март, июнь 2022») → "months"; a month without a year takes
  the year from its neighbours read in order, or by the school-year rule if none has one.
- «N раз(а) в месяц/квартал/полугодие/год», «дважды в год», «ежемесячно», «ежеквартально»,
  «ежегодно» → "recurring" over the school year. When the months are named («2 раза в год
  (октябрь, апрель)») the named months are more useful than the count: → "months".
- «По плану …», «По планам площадок», «По графику …», «По согласованию», «По запросу»,
  «По мере необходимости» → "undated": ongoing, no dates of its own.
- A quarter of the school year («четверть») is I: 1 September – 31 October, II: 1 November –
  31 December, III: 1 January – 31 March, IV: 1 April – 31 May (real quarters end at the
  holidays, a few days earlier), in the plan's school year or the one written with it («I
  четверть 2024-2025 уч. г.»); with a calendar year («III четверть 2025») the year of its months.
  «II–III четверть» → a range. «1 раз в четверть», «каждую четверть», «в конце (каждой)
  четверти» → "recurring" every school quarter; «в конце I четверти» does not resolve.
- «Еженедельно», «1 раз в неделю», «каждый вторник», «по четвергам» → "recurring" weekly; the
  named days («еженедельно, по вторникам и четвергам») are kept as `weekdays`.
- A deadline «до 15 сентября», «не позднее 20.05.2024» → a range from the plan's first day to
  that day; «до мая» (before May, or through it?) does not resolve. An open start «с 14
  октября», «с ноября», «со II полугодия» → from its first day to the plan's last day.
- A school year on its own («2024-2025 уч. г.», «2023/24 учебный год») → that school year; but
  not in a row of text, where it ends titles («…на 2024-2025 учебный год»).
- A year after a comma («Ноябрь, 2023») belongs to the month. Typos are forgiven: a doubled word
  («в течение течение года»), a missing space («до15 сентября», «сентябрь-октябрь2024»),
  «в теч. года», «втечение года».
- «В течение месяца» does not resolve: which month only a month heading could tell.
- A bare year («2022») does not resolve: a title ending in «Школа 2030» must not become a timing.
- A row whose timing cannot be resolved is still listed, with {"kind": "undated"}, and also goes
  to `unresolved` with the reason, so an editor sees it and nothing in the plan is lost.
"""

from __future__ import annotations

import calendar
import codecs
import re
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from itertools import combinations
from typing import ClassVar, Protocol, TypeAlias

from bot.content.models import OrgKind, Role
from bot.content.plan_columns import Field, column_fields, header_field

SCHOOL_YEAR_START = (9, 1)  # (month, day)
SCHOOL_YEAR_END = (6, 30)

# --- errors --------------------------------------------------------------------------------------


class PlanProblem(StrEnum):
    """Why a file cannot be read as a plan at all (the CLI words each one in Russian)."""

    DOCX = "docx"  # a Word .docx given to decode_plan (plan_docx.plan_text reads them)
    BROKEN_DOCX = "broken_docx"  # a zip that python-docx cannot read as a Word document
    DOC = "doc"  # an old binary Word .doc
    PDF = "pdf"
    NO_SCHOOL_YEAR = "no_school_year"  # the title names no «2021-2022» and none was given
    NO_ITEMS = "no_items"  # no numbered rows found
    BINARY = "binary"  # no text at all: a picture, an archive, a program renamed .txt or .docx


class PlanFormatError(ValueError):
    def __init__(self, problem: PlanProblem, detail: str, *, title: str = "") -> None:
        super().__init__(detail)
        self.problem = problem
        self.title = title  # what the plan calls itself, when it got that far


# --- when: the resolved timing -------------------------------------------------------------------


def _iso_month(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


@dataclass(frozen=True, slots=True)
class DateRange:
    """From `start` to `end`, both days included; an exact date is a range of one day."""

    kind: ClassVar[str] = "range"
    start: date
    end: date

    def to_json(self) -> dict[str, object]:
        return {"kind": self.kind, "start": self.start.isoformat(), "end": self.end.isoformat()}

    def bounds(self) -> tuple[date, date] | None:
        return self.start, self.end


@dataclass(frozen=True, slots=True)
class Months:
    """Listed months, as (year, month), in order."""

    kind: ClassVar[str] = "months"
    months: tuple[tuple[int, int], ...]

    def to_json(self) -> dict[str, object]:
        return {"kind": self.kind, "months": [_iso_month(y, m) for y, m in self.months]}

    def bounds(self) -> tuple[date, date] | None:
        (y1, m1), (y2, m2) = self.months[0], self.months[-1]
        return date(y1, m1, 1), _month_end(y2, m2)


class Every(StrEnum):
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    HALF_YEAR = "half-year"
    YEAR = "year"
    SCHOOL_QUARTER = "school-quarter"  # «четверть», a quarter of the school year (see _TERMS)


@dataclass(frozen=True, slots=True)
class Recurring:
    """`times` times every `every`, between `start` and `end` (the school year).

    `weekdays` (0 = Monday) are the days a weekly activity is held on, when the plan names them
    («еженедельно, по четвергам» → (3,)); empty otherwise, and then left out of the JSON.
    """

    kind: ClassVar[str] = "recurring"
    every: Every
    times: int
    start: date
    end: date
    weekdays: tuple[int, ...] = ()

    def to_json(self) -> dict[str, object]:
        json: dict[str, object] = {
            "kind": self.kind,
            "every": self.every.value,
            "times": self.times,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
        }
        if self.weekdays:
            json["weekdays"] = list(self.weekdays)
        return json

    def bounds(self) -> tuple[date, date] | None:
        return self.start, self.end


@dataclass(frozen=True, slots=True)
class Undated:
    """Ongoing, with no dates of its own («По планам площадок»), or not resolved."""

    kind: ClassVar[str] = "undated"

    def to_json(self) -> dict[str, object]:
        return {"kind": self.kind}

    def bounds(self) -> tuple[date, date] | None:
        return None


When: TypeAlias = DateRange | Months | Recurring | Undated


# --- the school year -----------------------------------------------------------------------------

_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
_DASH_CLASS = f"[-{_DASHES}]"
_SCHOOL_YEAR_RE = re.compile(
    rf"(?<![\d.])((?:19|20)\d\d)\s*(?:{_DASH_CLASS}|/)\s*((?:19|20)?\d\d)(?![\d.])"
)


def _school_year_pair(first: str, second: str) -> tuple[int, int] | None:
    a = int(first)
    b = int(second) if len(second) == 4 else a // 100 * 100 + int(second)
    if len(second) == 2 and b <= a:  # «2099/00»
        b += 100
    return (a, b) if b == a + 1 else None


def school_year_from_title(text: str) -> tuple[int, int] | None:
    """(2021, 2022) from «…на 2021-2022 учебный год», «2026/2027», «2026–27»; None if absent."""
    for match in _SCHOOL_YEAR_RE.finditer(text):
        pair = _school_year_pair(match[1], match[2])
        if pair:
            return pair
    return None


@dataclass(frozen=True, slots=True)
class _Year:
    """A school year and its days: the context a timing phrase is resolved in.

    A calendar-year plan («на 2024 год») is the school year (2024, 2024): its days are
    January – December, and every month is in that year. `august_first`: an August that opens
    the plan (the August teachers' council) is the first year's, not the second's."""

    first: int
    start: date
    end: date
    august_first: bool = False

    @property
    def second(self) -> int:
        return self.first + 1

    @property
    def calendar(self) -> bool:
        return (self.start.month, self.start.day, self.end.month, self.end.day) == (1, 1, 12, 31)

    @classmethod
    def of(
        cls,
        school_year: tuple[int, int],
        period: tuple[date, date] | None,
        *,
        august_first: bool = False,
    ) -> _Year:
        first = school_year[0]
        if period is None and school_year[1] == first:
            period = date(first, 1, 1), date(first, 12, 31)
        if period is not None:
            return cls(first, period[0], period[1], august_first)
        return cls(
            first,
            date(first, *SCHOOL_YEAR_START),
            date(first + 1, *SCHOOL_YEAR_END),
            august_first,
        )

    def shifted(self, first: int) -> _Year:
        """The same school days in another school year («…2026/2027 учебного года»)."""
        delta = first - self.first
        return _Year(
            first,
            self.start.replace(year=self.start.year + delta),
            self.end.replace(year=self.end.year + delta),
            self.august_first,
        )

    def year_of(self, month: int) -> int:
        if month >= self.start.month or (month == 8 and self.august_first):
            return self.first
        return self.second


# --- timing phrases ------------------------------------------------------------------------------

_MONTH_FORMS: dict[str, int] = {}
for _number, _forms in enumerate(
    (
        "январь января январе январю янв",
        "февраль февраля феврале февралю фев февр",
        "март марта марте марту мар",
        "апрель апреля апреле апрелю апр",
        "май мая мае маю",
        "июнь июня июне июню июн",
        "июль июля июле июлю июл",
        "август августа августе августу авг",
        "сентябрь сентября сентябре сентябрю сен сент",
        "октябрь октября октябре октябрю окт",
        "ноябрь ноября ноябре ноябрю ноя нояб",
        "декабрь декабря декабре декабрю дек",
    ),
    start=1,
):
    for _form in _forms.split():
        _MONTH_FORMS[_form] = _number

_MONTH = "(?:" + "|".join(sorted(_MONTH_FORMS, key=len, reverse=True)) + ")"
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}
_ORDINAL_WORDS = {
    "перв": "1",
    "втор": "2",
    "трет": "3",
    "четверт": "4",
}
_COUNT_WORDS = {
    "один": 1, "одна": 1, "два": 2, "две": 2, "дважды": 2, "три": 3, "трижды": 3,
    "четыре": 4, "пять": 5, "шесть": 6,
}  # fmt: skip
_EVERY_WORDS = {
    "неделю": Every.WEEK,
    "месяц": Every.MONTH,
    "квартал": Every.QUARTER,
    "полугодие": Every.HALF_YEAR,
    "год": Every.YEAR,
    "четверть": Every.SCHOOL_QUARTER,
}
_EVERY_ADVERBS = {
    "еженедельно": Every.WEEK,
    "ежемесячно": Every.MONTH,
    "ежеквартально": Every.QUARTER,
    "ежеполугодно": Every.HALF_YEAR,
    "ежегодно": Every.YEAR,
}
_SY_TOKEN = r"@(\d{4})"  # a school year after normalisation: «2026/2027 учебного года» → @2026


_DASH_RUN = re.compile(f"[{_DASHES}]")
_ABBREVIATION_DOT = re.compile(r"(?<!\d)\.|\.(?!\d)")
_WHITESPACE = re.compile(r"\s+")
_ORDINAL_SUFFIX = re.compile(r"\b(\d|i{1,3}|iv)\s*-\s*(?:й|ый|ой|ий|е|ое|го|ого|м|ом|я|ая)\b")
_ORDINAL_RES = tuple(
    (re.compile(rf"\b{stem}(?:ый|ий|ой|ое|ом|ого|ая|ую)\b"), digit)
    for stem, digit in _ORDINAL_WORDS.items()
)
_AROUND_DASH = re.compile(r"\s*-\s*")
_AROUND_COMMA = re.compile(r"\s*,\s*")
_OPEN_BRACKET = re.compile(r"\(\s*")
_CLOSE_BRACKET = re.compile(r"\s*\)")
_YEAR_WORD = re.compile(r"(?<![\d.])(\d{4})\s*(?:гг|г|года|году|год)\b")
_SCHOOL_YEAR_PAIR = re.compile(
    r"(?<![\d.])(\d{4}) ?(?:-|/) ?(\d{4}|\d\d)(?![\d.])"
    r"(?: (?:учебн\w*|уч)(?: (?:год\w*|г)\b)?)?"
)
_BARE_SCHOOL_YEAR = re.compile(r"\b(?:учебн\w*|уч) (?:год\w*|г)\b")
# Typos and shorthands people write: «втечение», «в теч. года», «до15 сентября»,
# «сентябрь-октябрь2024», «в течение течение года», «01.10.2023г.».
_GLUED_TECHENIE = re.compile(r"\bвтечени")
_GLUED_AFTER_TECHENIE = re.compile(r"\b(течени[еия])(?=года\b|месяца\b|учебн|всего\b)")
_SHORT_TECHENIE = re.compile(r"\bтеч\b")
_LETTER_DIGIT = re.compile(r"(?<=[а-я])(?=\d)|(?<=\d)(?=[а-я])")
_DOUBLED_WORD = re.compile(r"\b([^\W\d_]+)(?: \1\b)+")
_DATE_YEAR_WORD = re.compile(r"(\d{1,2}\.\d{1,2}\.\d{2,4}) (?:гг|г|года|году|год)\b")
_YEAR_AFTER_COMMA = re.compile(r"\b([а-я]+), (\d{4})(?![\d.])")  # «ноябрь, 2023»


def _year_after_comma(match: re.Match[str]) -> str:
    return f"{match[1]} {match[2]}" if match[1] in _MONTH_FORMS else match[0]


def _normalise(text: str, year: _Year) -> str:
    """Lower case, one kind of dash, single spaces, years and school years as tokens."""
    # The patterns are compiled once: a long row tries thousands of candidate timings.
    s = text.lower().replace("ё", "е").replace("\u0456", "i")  # Cyrillic і typed for Roman I
    s = _DASH_RUN.sub("-", s)
    s = _ABBREVIATION_DOT.sub(" ", s)  # abbreviation dots; dates keep theirs
    s = _GLUED_TECHENIE.sub("в течени", s)
    s = _GLUED_AFTER_TECHENIE.sub(r"\1 ", s)  # «в течениигода»
    s = _LETTER_DIGIT.sub(" ", s)
    s = _WHITESPACE.sub(" ", s).strip()
    s = _SHORT_TECHENIE.sub("течение", s)
    s = _DOUBLED_WORD.sub(r"\1", s)
    s = _ORDINAL_SUFFIX.sub(r"\1", s)  # «1-й»
    for pattern, digit in _ORDINAL_RES:
        s = pattern.sub(digit, s)
    s = _AROUND_DASH.sub(" - ", s)
    s = _AROUND_COMMA.sub(", ", s)
    s = _OPEN_BRACKET.sub(" (", s)
    s = _CLOSE_BRACKET.sub(")", s)
    s = _YEAR_WORD.sub(r"\1", s)
    s = _DATE_YEAR_WORD.sub(r"\1", s)
    s = _YEAR_AFTER_COMMA.sub(_year_after_comma, s)

    def school_year(match: re.Match[str]) -> str:
        pair = _school_year_pair(match[1], match[2])
        return f"@{pair[0]}" if pair else match[0]

    s = _SCHOOL_YEAR_PAIR.sub(school_year, s)
    s = _BARE_SCHOOL_YEAR.sub(f"@{year.first}", s)
    s = _WHITESPACE.sub(" ", s)
    return s.strip(" ,;:")


def _strip_remarks(s: str) -> str:
    """Without parenthesised remarks: «Октябрь 2021 (по согласованию)» → «октябрь 2021»."""
    return re.sub(r"\s*\([^()]*\)", "", s).strip(" ,;:")


_UNDATED_RE = re.compile(
    r"^(?:(?:по|согласно) (?:[\w-]+ )?(?:плану|планам|графику|графикам)\b"
    r"|по (?:согласованию|запросу|запросам|мере необходимости|необходимости)\b)"
)
_WHOLE_YEAR_RE = re.compile(
    rf"^(?:(?:в )?течени[еия] (?:всего )?(?:года|{_SY_TOKEN}|(\d{{4}}))"
    rf"|весь (?:год|{_SY_TOKEN})|постоянно|круглогодично|{_SY_TOKEN})$"
)


def _whole_year(s: str, year: _Year, *, bare: bool = True) -> DateRange | None:
    """The whole year: «в течение года», «весь 2024/2025 уч. г.», «2024-2025 уч. г.».

    A school year on its own («2024-2025 уч. г.») only when `bare`: inside a row of text it is
    as likely to end the title («Анализ работы за 2023-2024 учебный год»).
    """
    match = _WHOLE_YEAR_RE.match(s)
    if not match or (match[4] and not bare):
        return None
    school = match[1] or match[3] or match[4]
    if school:
        year = year.shifted(int(school))
    elif match[2]:
        calendar_year = int(match[2])
        return DateRange(date(calendar_year, 1, 1), date(calendar_year, 12, 31))
    return DateRange(year.start, year.end)


_PER = rf"(?P<per>{'|'.join(_EVERY_WORDS)}|@(?P<sy>\d{{4}}))\b(?P<tail>.*)$"
_RECURRING_RES = (
    re.compile(rf"^(?:(?P<n>\d{{1,2}}|{'|'.join(_COUNT_WORDS)}) )?раза? в {_PER}"),
    re.compile(rf"^(?P<n>дважды|трижды) в {_PER}"),
    re.compile(rf"^(?P<adverb>{'|'.join(_EVERY_ADVERBS)})\b(?P<tail>.*)$"),
    re.compile(rf"^кажд\w* (?P<per>{'|'.join(_EVERY_WORDS)})\b(?P<tail>.*)$"),
)


def _recurring(s: str, year: _Year) -> When | None:
    for pattern in _RECURRING_RES:
        match = pattern.match(s)
        if match:
            break
    else:
        return None
    groups = match.groupdict()
    if groups.get("adverb"):
        every = _EVERY_ADVERBS[groups["adverb"]]
    elif groups.get("sy"):
        every, year = Every.YEAR, year.shifted(int(groups["sy"]))
    else:
        every = _EVERY_WORDS[groups["per"]]
    n = groups.get("n")
    times = 1 if not n else int(n) if n.isdigit() else _COUNT_WORDS[n]
    if times < 1:
        return None
    tail = groups["tail"].strip(" ,;:-")
    if tail.startswith("(") and tail.endswith(")"):
        tail = tail[1:-1].strip(" ,;:")
    days = _weekdays(tail, prefix_needed=False) if tail and every is Every.WEEK else None
    if days is not None:
        return Recurring(every, times if n else len(days), year.start, year.end, days)
    if tail:
        whole = _whole_year(tail, year)
        if whole is not None:
            year = _Year(year.first, whole.start, whole.end)
        else:
            # The named months, or None: an unknown tail is not ignored here.
            return _month_list(re.sub(r"^во? ", "", tail), year)
    return Recurring(every, times, year.start, year.end)


_WEEKDAY_STEMS = ("понедельник", "вторник", "сред", "четверг", "пятниц", "суббот", "воскресень")
_WEEKDAY_RE = re.compile(
    rf"^(?:по |кажд\w* |во? )?({'|'.join(_WEEKDAY_STEMS)})(?:а|у|ам|ы|е|ям)?$"
)
_WEEKLY_RE = re.compile(r"^(?:по|кажд\w*) ")


def _weekdays(s: str, *, prefix_needed: bool = True) -> tuple[int, ...] | None:
    """(1, 3) from «по вторникам и четвергам», «каждый вторник, четверг»; None otherwise."""
    if prefix_needed and not _WEEKLY_RE.match(s):
        return None
    days: set[int] = set()
    for part in re.split(r", (?:и )?| и ", s):
        match = _WEEKDAY_RE.match(part)
        if not match:
            return None
        days.add(_WEEKDAY_STEMS.index(match[1]))
    return tuple(sorted(days))


def _weekly(s: str, year: _Year) -> Recurring | None:
    """«каждый вторник», «по четвергам»: weekly on the named days."""
    days = _weekdays(s)
    if days is None:
        return None
    return Recurring(Every.WEEK, len(days), year.start, year.end, days)


# The words of the phrases above and below that _TIMING_WORDS (the row finder's) did not have,
# so a row of text can be cut at «Еженедельно, по четвергам» or «Не позднее 20 мая» too.
_PHRASE_WORDS = frozenset({
    "еженедельно", "неделю", "четверть", "четверти", "каждой", "конце", "итогам", "окончании",
    "не", "позднее", "позже", "срок", "начиная", "теч", "втечение", "втечении", "я", "ая",
    *(stem + ending for stem in _WEEKDAY_STEMS for ending in ("", "а", "у", "ам", "е", "ям")),
})  # fmt: skip
_PHRASE_OPENINGS = ("еженедел", "втечени")

_QUARTER_END_RE = re.compile(r"^(?:в конце|по итогам|по окончании) (?:каждой )?четверти$")


def _quarter_end(s: str, year: _Year) -> Recurring | None:
    """«в конце четверти», «по итогам каждой четверти»: once a school quarter, at its end."""
    if not _QUARTER_END_RE.match(s):
        return None
    return Recurring(Every.SCHOOL_QUARTER, 1, year.start, year.end)


# The quarters of the school year («четверти»), as (first month, last month): I is
# September–October, II November–December, III January–March, IV April–May. Real quarters end
# a few days earlier, at the holidays; the months are the convention a plan's reader uses.
_TERMS = {1: (9, 10), 2: (11, 12), 3: (1, 3), 4: (4, 5)}


@dataclass(frozen=True, slots=True)
class _Point:
    """One end of a span as written: a day, a month, a quarter or a half-year."""

    unit: str  # "day" | "month" | "quarter" | "half" | "term" (a school quarter)
    value: int  # day of month, month, quarter, half or term number
    month: int  # the (first) month, for year inference
    year: int | None = None  # an explicit calendar year
    school: int | None = None  # an explicit school year (halves, terms)

    def span(self, year: int, context: _Year) -> tuple[date, date]:
        if self.unit == "term":  # `year` is not used: a term knows its school year
            first, last = _TERMS[self.value]
            if self.year is not None:  # «III четверть 2025»: the calendar year of its months
                school = self.year if first >= 9 else self.year - 1
            else:
                school = self.school or context.first
            in_year = school if first >= 9 else school + 1
            return date(in_year, first, 1), _month_end(in_year, last)
        if self.unit == "day":
            return date(year, self.month, self.value), date(year, self.month, self.value)
        if self.unit == "month":
            return date(year, self.month, 1), _month_end(year, self.month)
        if self.unit == "quarter":
            return date(year, self.month, 1), _month_end(year, self.month + 2)
        if self.year is None and context.calendar and not self.school:
            year = context.first  # a calendar-year plan's halves are its own
        elif self.year is None:  # the school half
            ctx = context.shifted(self.school) if self.school else context
            if self.value == 1:
                return ctx.start, date(ctx.first, 12, 31)
            return date(ctx.second, 1, 1), ctx.end
        if self.value == 1:  # a calendar half: «I полугодие 2027»
            return date(year, 1, 1), date(year, 6, 30)
        return date(year, 7, 1), date(year, 12, 31)

    @property
    def school_half(self) -> bool:
        return self.unit == "half" and self.year is None

    @property
    def school_bound(self) -> bool:
        """Whether its dates come from the school year, not from a calendar year's inference."""
        return self.school_half or self.unit == "term"


_YEAR = r"(?: (\d{4}))?"
_POINT_RES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], _Point | None]], ...] = (
    (
        re.compile(r"^(\d{1,2})\.(\d{1,2})(?:\.(\d{4}|\d\d))?$"),
        lambda m: _day(int(m[1]), int(m[2]), m[3]),
    ),
    (
        re.compile(rf"^(\d{{1,2}}) ({_MONTH}){_YEAR}$"),
        lambda m: _day(int(m[1]), _MONTH_FORMS[m[2]], m[3]),
    ),
    (
        re.compile(rf"^({_MONTH}){_YEAR}$"),
        lambda m: _Point("month", _MONTH_FORMS[m[1]], _MONTH_FORMS[m[1]], _opt_int(m[2])),
    ),
    (
        re.compile(r"^([1-4]|i{1,3}|iv) (?:квартал\w*|кв)" + _YEAR + "$"),
        lambda m: _numbered("quarter", m[1], m[2]),
    ),
    (
        re.compile(rf"^([12]|i{{1,2}}) полугод\w*(?: (\d{{4}})| {_SY_TOKEN})?$"),
        lambda m: _numbered("half", m[1], m[2], m[3]),
    ),
    (
        re.compile(rf"^([1-4]|i{{1,3}}|iv) четверт\w*(?: (\d{{4}})| {_SY_TOKEN})?$"),
        lambda m: _numbered("term", m[1], m[2], m[3]),
    ),
)


def _opt_int(text: str | None) -> int | None:
    return int(text) if text else None


def _day(day: int, month: int, year_text: str | None) -> _Point | None:
    year = _opt_int(year_text)
    if year is not None and year < 100:
        year += 2000
    if not 1 <= month <= 12 or not 1 <= day <= 31:
        return None
    if day > calendar.monthrange(year or 2000, month)[1]:  # 2000: a leap year for 29.02
        return None
    return _Point("day", day, month, year)


def _numbered(unit: str, number: str, year: str | None, school: str | None = None) -> _Point:
    value = _ROMAN[number] if number in _ROMAN else int(number)
    if unit == "quarter":
        return _Point(unit, value, 3 * value - 2, _opt_int(year))
    if unit == "term":
        return _Point(unit, value, _TERMS[value][0], _opt_int(year), _opt_int(school))
    return _Point(unit, value, 1 if value == 1 else 7, _opt_int(year), _opt_int(school))


def _point(s: str) -> _Point | None:
    s = re.sub(r"^(?:во?|с|со) ", "", s)
    for pattern, build in _POINT_RES:
        match = pattern.match(s)
        if match:
            return build(match)
    return None


def _inherit(start: str, end: _Point) -> _Point | None:
    """The start of «20-21.12.2026», «I-II квартал 2022»: a bare number, in the end's unit."""
    s = re.sub(r"^(?:во?|с|со) ", "", start)
    if end.unit == "day" and re.fullmatch(r"\d{1,2}", s):
        return _day(int(s), end.month, str(end.year) if end.year else None)
    if end.unit in ("quarter", "half", "term") and re.fullmatch(r"[1-4]|i{1,3}|iv", s):
        value = _ROMAN[s] if s in _ROMAN else int(s)
        if not 1 <= value <= (2 if end.unit == "half" else 4):
            return None
        school = str(end.school) if end.school else None
        return _numbered(end.unit, s, str(end.year) if end.year else None, school)
    return None


def _after(month: int, year: int, later_month: int) -> int:
    """The year of the first `later_month` at or after (month, year)."""
    return year if later_month >= month else year + 1


def _range(s: str, context: _Year) -> DateRange | None:
    match = re.match(r"^(?:с|со) (.+?) (?:по|до) (.+)$", s) or re.match(r"^(.+?) - (.+)$", s)
    if not match:
        return None
    end = _point(match[2])
    if end is None:
        return None
    start = _point(match[1]) or _inherit(match[1], end)
    if start is None:
        return None
    if start.school_half and end.school_half:
        school = start.school or end.school
        first_span = start.span(0, context if school is None else context.shifted(school))
        last_span = end.span(0, context if school is None else context.shifted(school))
        return DateRange(first_span[0], last_span[1]) if first_span[0] <= last_span[1] else None
    if start.unit == "term" and end.unit == "term":  # «II–III четверть»
        first_span, last_span = start.span(0, context), end.span(0, context)
        return DateRange(first_span[0], last_span[1]) if first_span[0] <= last_span[1] else None
    if start.school_bound or end.school_bound:
        return None  # «I полугодие – март», «I четверть – декабрь»: too odd to guess
    if start.year is not None and end.year is not None:
        start_year, end_year = start.year, end.year
    elif end.year is not None:
        start_year = (
            end.year if (start.month, start.value) <= (end.month, end.value) else (end.year - 1)
        )
        end_year = end.year
    else:
        start_year = start.year if start.year is not None else context.year_of(start.month)
        end_year = _after(start.month, start_year, end.month)
    first, last = start.span(start_year, context), end.span(end_year, context)
    return DateRange(first[0], last[1]) if first[0] <= last[1] else None


def _month_list(s: str, context: _Year) -> Months | None:
    """«сентябрь 2021, март, июнь 2022», «октябрь и апрель», «сентябрь - октябрь, март»."""
    parts = [p for p in re.split(r", (?:и )?| и ", s) if p]
    # Each entry: (month, explicit year, whether a month range runs on to the next entry).
    entries: list[tuple[int, int | None, bool]] = []
    for part in parts:
        ends = part.split(" - ")
        if len(ends) > 2:
            return None
        points = [_point(end) for end in ends]
        for i, point in enumerate(points):
            if point is None or point.unit != "month":
                return None
            entries.append((point.month, point.year, i + 1 < len(points)))
    if not entries:
        return None
    years = [year for _, year, _ in entries]
    months = [month for month, _, _ in entries]
    if all(year is None for year in years):
        years = [context.year_of(month) for month in months]
        for i in range(1, len(entries)):  # the end of a month range comes after its start
            if entries[i - 1][2]:
                years[i] = _after(months[i - 1], _known(years[i - 1]), months[i])
    else:
        for i in range(len(entries) - 2, -1, -1):  # read backwards from a later explicit year
            if years[i] is None and years[i + 1] is not None:
                later = _known(years[i + 1])
                years[i] = later if months[i] <= months[i + 1] else later - 1
        for i in range(1, len(entries)):
            if years[i] is None:
                years[i] = _after(months[i - 1], _known(years[i - 1]), months[i])
    result: list[tuple[int, int]] = []
    for i, (month, _, runs_on) in enumerate(entries):
        year = _known(years[i])
        result.append((year, month))
        if runs_on:
            y, m = year, month
            target = (_known(years[i + 1]), months[i + 1])
            if target < (y, m):
                return None
            while (y, m) < target:
                y, m = (y + 1, 1) if m == 12 else (y, m + 1)
                if (y, m) < target:
                    result.append((y, m))
    return Months(tuple(sorted(set(result))))


def _known(year: int | None) -> int:
    assert year is not None
    return year


def _point_dates(point: _Point, context: _Year) -> tuple[date, date]:
    if point.school_bound:
        return point.span(0, context)
    year = point.year if point.year is not None else context.year_of(point.month)
    return point.span(year, context)


_DEADLINE_RE = re.compile(r"^(?:(?:в )?срок )?(?:до|не позднее|не позже) (.+)$")
_OPEN_START_RE = re.compile(r"^(?:с|со|начиная с) (.+)$")


def _deadline(s: str, context: _Year) -> DateRange | None:
    """«до 15 сентября», «не позднее 20.05.2024»: from the plan's first day to that day."""
    match = _DEADLINE_RE.match(s)
    point = _point(match[1]) if match else None
    if point is None or point.unit != "day":
        return None  # «до мая»: before May or through May? Not guessed.
    end = _point_dates(point, context)[1]
    return DateRange(context.start, end) if context.start <= end else None


def _dates(s: str, context: _Year) -> When | None:
    whole = _range(s, context) if " - " in s or re.match(r"^со? ", s) else None
    if whole is not None:
        return whole
    opened = _OPEN_START_RE.match(s)
    if opened is not None:
        # «с 14 октября», «со II полугодия»: from its first day to the plan's last day.
        point = _point(opened[1])
        if point is None:
            return None
        start = _point_dates(point, context)[0]
        return DateRange(start, context.end) if start <= context.end else None
    point = _point(s)
    if point is not None:
        return DateRange(*_point_dates(point, context))
    if "," in s or " и " in s:
        listed = _month_list(re.sub(r"^во? ", "", s), context)
        if listed is not None and len(listed.months) > 1:
            return listed
    return None


def _resolve(s: str, year: _Year, *, within_row: bool = False) -> When | None:
    if _UNDATED_RE.match(s):
        return Undated()
    return (
        _whole_year(s, year, bare=not within_row)
        or _recurring(s, year)
        or _weekly(s, year)
        or _quarter_end(s, year)
        or _deadline(s, year)
        or _dates(s, year)
    )


def resolve_timing(
    text: str,
    school_year: tuple[int, int],
    *,
    period: tuple[date, date] | None = None,
    within_row: bool = False,
    august_first: bool = False,
) -> When | None:
    """What a timing cell means, in the plan's school year; None if it is not understood.

    `period` overrides the school year's days (1 September – 30 June) when the plan names its
    own. `within_row`: the text is a candidate cut out of a row of text, not a cell, so a school
    year on its own («2024-2025 уч. г.») is not read as a timing (titles end in them). See the
    module docstring for how each kind of phrase is read.
    """
    year = _Year.of(school_year, period, august_first=august_first)
    s = _normalise(text, year)
    if not s:
        return None
    try:
        when = _resolve(s, year, within_row=within_row)
        if when is None and "(" in s:
            bare = _strip_remarks(s)
            when = _resolve(bare, year, within_row=within_row) if bare else None
    except ValueError:  # a date that does not exist, e.g. «31.04.2027» after year inference
        return None
    return when


# --- audience ------------------------------------------------------------------------------------


def _audience_pattern(stems: str, abbreviations: str = "") -> re.Pattern[str]:
    """Word stems in any case; abbreviations in capitals and as whole words («ДОУ» is no «ОУ»)."""
    pattern = f"(?i:{stems})"
    if abbreviations:
        pattern += f"|(?<![А-ЯЁа-яё])(?:{abbreviations})(?![А-ЯЁа-яё])"
    return re.compile(pattern)


# The IMC («ИМЦ») as the audience means its own staff: methodists. Scientific consultants have
# no role of their own: they choose «другое».
_ROLE_PATTERNS: tuple[tuple[re.Pattern[str], Role], ...] = (
    (_audience_pattern("руководител|директор|администрац"), Role.HEAD),
    (_audience_pattern("координатор|заместител|завуч"), Role.COORDINATOR),
    (_audience_pattern("педагог|учител"), Role.TEACHER),
    (_audience_pattern("воспитател"), Role.PRESCHOOL),
    (_audience_pattern("методист", "ИМЦ"), Role.METHODIST),
    (_audience_pattern("консультант"), Role.OTHER),
)
_ORG_PATTERNS: tuple[tuple[re.Pattern[str], OrgKind], ...] = (
    (_audience_pattern(r"школ", "ОУ|СОШ|ГБОУ|МБОУ|МОУ"), OrgKind.SCHOOL),
    (
        _audience_pattern(r"детск\w*\s+сад|детсад", "ДОО|ДОУ|ГБДОУ|МБДОУ|МДОУ"),
        OrgKind.KINDERGARTEN,
    ),
    (_audience_pattern(r"дополнительн\w*\s+образ", "УДО|ОДОД|ДДТ|ЦДО"), OrgKind.EXTRA),
)


_DEPUTIES = re.compile(r"(?i:заместител\w*\s+(?:руководител|директор)\w*)")


def audience_codes(text: str) -> tuple[frozenset[Role], frozenset[OrgKind]]:
    """The roles and organisation kinds an audience cell names; empty sets mean everyone.

    Roles: «Руководители» → head; «координаторы», «заместители» → coordinator; «педагоги»,
    «учителя» → teacher; «воспитатели» → preschool; «методисты», «ИМЦ» → methodist;
    «научные консультанты» → other. Organisations: «ОУ», «школы» → school; «ДОО», «ДОУ»,
    «детский сад» → kindergarten; «УДО», «дополнительного образования» → extra.
    """
    orgs = frozenset(kind for pattern, kind in _ORG_PATTERNS if pattern.search(text))
    text = _DEPUTIES.sub("заместители", text)  # deputies of heads are not heads
    roles = frozenset(role for pattern, role in _ROLE_PATTERNS if pattern.search(text))
    return roles, orgs


# --- the parsed plan -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlanItem:
    number: int
    section_number: int  # 0 when the plan has no sections
    section_title: str
    title: str
    timing: str  # the timing cell as written, joined onto one line
    audience: str
    result: str
    when: When
    school_year: tuple[int, int]
    responsible: str = ""  # who runs it («Ответственный»): not the audience
    label: str = ""  # the row's number as the document shows it («3», «1.2»); "" when none
    place: str = ""  # where («Место проведения»), when the plan has the column

    @property
    def key(self) -> str:
        """Stable across re-imports of the same plan: «plan:2021-2022:3»."""
        return f"plan:{self.school_year[0]}-{self.school_year[1]}:{self.number}"

    @property
    def audience_roles(self) -> frozenset[Role]:
        return audience_codes(self.audience)[0]

    @property
    def audience_orgs(self) -> frozenset[OrgKind]:
        return audience_codes(self.audience)[1]

    def to_json(self) -> dict[str, object]:
        return {
            "number": self.number,
            "label": self.label,
            "section": {"number": self.section_number, "title": self.section_title},
            "title": self.title,
            "timing": self.timing,
            "audience": self.audience,
            "responsible": self.responsible,
            "place": self.place,
            "result": self.result,
            "when": self.when.to_json(),
        }


class UnresolvedReason(StrEnum):
    NO_TIMING = "no_timing"  # no timing cell could be told apart in the row
    UNKNOWN_TIMING = "unknown_timing"  # a timing cell whose phrase is not understood
    EMPTY_TIMING = "empty_timing"  # a table row whose timing cell is empty


@dataclass(frozen=True, slots=True)
class Unresolved:
    number: int
    title: str
    timing: str
    reason: UnresolvedReason
    detail: str
    label: str = ""  # the row's number as the document shows it («1.2»)

    @property
    def shown_number(self) -> str:
        """What the editor finds the row by in her document: its label, else its position."""
        return self.label or str(self.number)

    def to_json(self) -> dict[str, object]:
        return {
            "number": self.number,
            "label": self.label,
            "title": self.title,
            "timing": self.timing,
            "reason": self.reason.value,
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True)
class PlanParse:
    title: str
    school_year: tuple[int, int]
    items: tuple[PlanItem, ...]
    unresolved: tuple[Unresolved, ...]
    period: tuple[date, date] | None = None  # the plan's own dates, when its title names them

    @property
    def school_days(self) -> tuple[date, date]:
        """The days of the school year: `period`, or 1 September – 30 June."""
        year = _Year.of(self.school_year, self.period)
        return year.start, year.end

    def to_json(self) -> dict[str, object]:
        return {
            "items": [item.to_json() for item in self.items],
            "unresolved": [entry.to_json() for entry in self.unresolved],
        }


# --- decoding ------------------------------------------------------------------------------------


_BINARY_SIGNATURES = (
    b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM", b"RIFF", b"II*\x00", b"MM\x00*",  # pictures
    b"Rar!", b"7z\xbc\xaf", b"\x1f\x8b", b"BZh", b"\xfd7zXZ", b"MZ", b"\x7fELF",
)  # fmt: skip
# Bytes no text file has (a text's own are tab, line breaks and form feed).
_CONTROL_BYTES = bytes(b for b in range(32) if b not in b"\t\n\r\x0b\x0c") + b"\x7f"


def _mostly_controls(data: bytes) -> bool:
    """More than 1 % control bytes in what has no BOM nor UTF-16's zero bytes: no text."""
    if data[:4] in (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE) or data[:2] in (
        codecs.BOM_UTF16_LE,
        codecs.BOM_UTF16_BE,
    ):
        return False
    sample = data[:65536]
    if sample.count(0) > len(sample) // 50:  # UTF-16 without a BOM: decode_plan reads it
        return False
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    return controls > len(sample) // 100


def decode_plan(data: bytes) -> str:
    """The text of an uploaded plan: UTF-8 with or without BOM, UTF-16/32, or windows-1251.

    Word documents and PDFs are refused with PlanFormatError rather than read as garbage.
    """
    if data.startswith(b"PK\x03\x04"):
        raise PlanFormatError(PlanProblem.DOCX, "a .docx file: save the plan as plain text")
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise PlanFormatError(PlanProblem.DOC, "a Word .doc file: save the plan as plain text")
    if data.startswith(b"%PDF"):
        raise PlanFormatError(PlanProblem.PDF, "a PDF file: save the plan as plain text")
    if data.startswith(_BINARY_SIGNATURES) or _mostly_controls(data):
        raise PlanFormatError(PlanProblem.BINARY, "not text: a picture, an archive or a program")
    for bom, encoding in (
        (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: its BOM starts the same
        (codecs.BOM_UTF32_BE, "utf-32-be"),
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding, errors="replace")
    if data.count(0) > len(data) // 50:
        # UTF-16 without a BOM: spaces, digits and line breaks carry a zero byte, on the odd
        # positions in little-endian text.
        odd = data[1::2].count(0)
        even = data[0::2].count(0)
        return data.decode("utf-16-le" if odd >= even else "utf-16-be", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # Nearly any byte string is valid windows-1251, and real UTF-8 Cyrillic almost never
        # is not valid UTF-8, so failing UTF-8 is the test.
        return data.decode("cp1251", errors="replace")


# --- lines and cells -----------------------------------------------------------------------------

_LINE_BREAKS = re.compile(r"[\t\x07\x0b\x0c\u2028\u2029\x85]")
_INVISIBLE = re.compile(r"[\ufeff\u00ad\u200b\u200c\u200d\u2060\x00]")
_SPACES = re.compile(r"[\u00a0\u2007\u202f\u2009\u200a]")
_HEADER_WORDS = frozenset({
    "№", "п/п", "п.п", "п.п.", "пп", "наименование", "мероприятия", "мероприятие", "мероприятий",
    "сроки", "срок", "проведения", "исполнения", "целевая", "аудитория", "ожидаемый", "ожидаемые",
    "результат", "результаты", "ответственный", "ответственные",
    "содержание", "работы", "тема", "дата", "даты", "месяц", "участники", "исполнители",
    "исполнитель", "отметка", "о", "выполнении", "форма", "формы", "примечание",
    "название", "период", "категория", "участников", "ответственный(-ые)", "ответственные(-ый)",
    "место", "основные", "направления", "деятельности", "вид", "виды", "планируемый", "п", "№п/п",
})  # fmt: skip
_LONE_HEADER_WORDS = frozenset({"№", "п/п", "п.п", "п.п.", "пп", "наименование", "сроки"})
_PAGE_JUNK = re.compile(
    r"^(?:-\s*\d{1,3}\s*-|\d{1,3}|\d(?:\s+\d){2,}|(?:стр\.?|страница)\s*\d+(?:\s*из\s*\d+)?)$",
    re.I,
)
_SECTION_RE = re.compile(r"^(\d{1,2})\.\s+(\S.*)$")
_ITEM_RE = re.compile(r"^(\d{1,3})(?:\s+(.*))?$")
# The first word of a line that goes on naming people: an audience line, never a result.
_AUDIENCE_WORD = re.compile(
    r"^(?:руководител\w*|педагог(?:и|ов|ам)?|координатор\w*|воспитател\w*|методист\w*"
    r"|заместител\w*|учител\w*|специалист\w*|родител\w*|обучающи\w*|директор\w*)$",
    re.I,
)


def _clean_lines(text: str) -> list[str]:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _LINE_BREAKS.sub("\n", _INVISIBLE.sub("", _SPACES.sub(" ", text)))
    return [" ".join(line.split()) for line in text.split("\n") if line.strip()]


def _is_header(line: str, *, started: bool) -> bool:
    """The table header, or a piece of it, repeated on every page.

    Inside the table a lone word is a header only if no cell would consist of it.
    """
    words = line.lower().replace(",", " ").replace("|", " ").split()
    if not words or not all(word in _HEADER_WORDS for word in words):
        return False
    return not started or len(words) >= 2 or words[0] in _LONE_HEADER_WORDS


def _starts_cell(previous: str, line: str) -> bool:
    """Whether `line` starts a new cell rather than continuing the one `previous` is in.

    A cell goes on after a line ending in a hyphen or a comma, and into a line that starts in
    lower case, with a digit, a quote or a bracket, or with an abbreviation in capitals («ОУ и
    ДОО»). A capitalised word starts the next cell.
    """
    if previous.endswith(("-", ",")) or not line:
        return False
    first = line[0]
    if not first.isalpha() or first.islower():
        return False
    word = re.match(r"[^\W\d_]+", line)
    return word is not None and (len(word[0]) == 1 or not word[0].isupper())


def _join(lines: Iterable[str]) -> str:
    """Cell lines as one line: a word broken at its hyphen is joined back, spacing tidied."""
    # Pieces and the joined text's last two characters, not a growing string searched for
    # `\S-$` at each line: a long row (or a file of junk) stays linear.
    pieces: list[str] = []
    tail = ""
    for line in lines:
        if pieces and not (len(tail) == 2 and tail[1] == "-" and not tail[0].isspace()):
            pieces.append(" ")
            tail = (tail + " ")[-2:]
        if line or pieces:
            pieces.append(line)
            tail = (tail + line)[-2:]
    text = "".join(pieces)
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\s+([,.;:)»])", r"\1", text)
    text = re.sub(r"([(«])\s+", r"\1", text)
    return text.strip()


_KEEP_DOT = frozenset({"г", "гг", "др", "пр", "см", "им", "ул", "д"})


def _tidy(cell: str) -> str:
    """A cell as a heading: no trailing comma or full stop (but «т.д.», «г.» keep theirs)."""
    cell = cell.strip().rstrip(",;:").rstrip()
    last = cell.rsplit(" ", 1)[-1][:-1]
    if cell.endswith(".") and "." not in last and last.lower() not in _KEEP_DOT:
        cell = cell[:-1].rstrip()
    return cell


# --- finding the timing cell in a row ------------------------------------------------------------

_TIMING_WORDS = frozenset({
    "в", "во", "течение", "течении", "года", "год", "году", "г", "гг", "учебного", "учебный",
    "учебном", "уч", "раз", "раза", "один", "одна", "два", "две", "три", "четыре", "пять",
    "шесть", "дважды", "трижды", "месяц", "квартал", "квартале", "кв", "полугодие", "полугодии",
    "полугодия", "ежемесячно", "ежеквартально", "ежегодно", "ежеполугодно", "каждый", "каждое",
    "каждую", "весь", "всего", "и", "с", "со", "по", "до", "й", "ый", "ой", "ий", "е", "ое", "го",
    "ого", "первое", "второе", "первый", "второй", "третий", "четвертый", "четвёртый", "первом",
    "втором", "третьем", "четвертом", "четвёртом", "постоянно", "круглогодично", "i", "ii", "iii",
    "iv", "і", "іі", "ііі"
}) | _PHRASE_WORDS  # fmt: skip
_TOKEN = re.compile(r"\d{1,2}\.\d{1,2}(?:\.\d{2,4})?|\d+|[^\W\d_]+|[^\s\w]")


def _timing_token(token: str) -> bool:
    low = token.lower()
    return (
        low in _TIMING_WORDS
        or low in _MONTH_FORMS
        or token[0].isdigit()
        or token in ",.-/():;"
        or token in _DASHES
    )


# How the words a phrase can open with begin beyond _TIMING_WORDS: «Течения», «Каждые»,
# «Согласно плану», ordinals («Первая»), «Учебного года», as _resolve's patterns read them.
_TIMING_OPENINGS = (
    "течени", "кажд", "согласно", "перв", "втор", "трет", "четверт", "учебн", *_PHRASE_OPENINGS
)  # fmt: skip


def _may_open_timing(token: str) -> bool:
    """Whether a phrase opening with `token` can resolve at all: every pattern resolve_timing
    knows starts with a timing word, a month, a number or one of _TIMING_OPENINGS. Checked
    before normalising, which is what a long row of junk would spend its time on."""
    low = token.lower().replace("ё", "е").replace("\u0456", "i")
    return _timing_token(token) or _timing_token(low) or low.startswith(_TIMING_OPENINGS)


@dataclass(frozen=True, slots=True)
class _Cut:
    start: int  # offsets into the row's text, lines joined with "\n"
    end: int
    when: When


_FIRST_WORD = re.compile(r"[^\W\d_]+")
# A whole cell tried as a timing is never longer than this: the longest real one («По плану
# редакционно-издательского совета ИМЦ») is a tenth of it, and trying every capitalised word of
# a huge row against the rest of its cell would make junk quadratic.
TIMING_CELL_MAX = 400


class _Lines:
    """A row's text with its line breaks indexed, so no question about a line copies the rest
    of the row: each costs what the line's first word and last character cost."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.breaks = [match.start() for match in re.finditer("\n", text)]
        self._cell_ends: list[int] | None = None

    def _start_of(self, index: int) -> int:
        return self.breaks[index - 1] + 1 if index > 0 else 0

    def _head(self, start: int) -> str:
        """The line starting at `start` cut after its first word and one more character:
        all `_starts_cell` and `_names_people` read of it."""
        word = _FIRST_WORD.match(self.text, start)
        cut = (word.end() if word else start) + 1
        stop = self.text.find("\n", start, cut)
        return self.text[start : stop if stop >= 0 else cut]

    def _last(self, start: int, end: int) -> str:
        """The last character of text[start:end].strip(), or ""."""
        while end > start and self.text[end - 1].isspace():
            end -= 1
        return self.text[end - 1] if end > start else ""

    def line_of(self, end: int) -> tuple[str, str, str | None]:
        """The line around offset `end`: the last character of its part before `end`, its
        rest (from its first visible character; only that character is told), and the head of
        the next line."""
        index = bisect_left(self.breaks, end)
        before = self._last(self._start_of(index), end)
        stop = self.breaks[index] if index < len(self.breaks) else len(self.text)
        first = end
        while first < stop and self.text[first].isspace():
            first += 1
        rest = self.text[first] if first < stop else ""
        if index == len(self.breaks):
            return before, rest, None
        return before, rest, self._head(stop + 1)

    def cell_end(self, start: int) -> int:
        """Where the cell starting at `start` ends: its line plus the lines that continue it."""
        if self._cell_ends is None:
            # One pass from the last line back: each line's cell ends where its own line does
            # if the next one starts a cell, else where the next line's cell ends.
            ends = [len(self.text)] * (len(self.breaks) + 1)
            for index in range(len(self.breaks) - 1, -1, -1):
                stop = self.breaks[index]
                line = self._last(self._start_of(index), stop)
                if _starts_cell(line, self._head(stop + 1)):
                    ends[index] = stop
                else:
                    ends[index] = ends[index + 1]
            self._cell_ends = ends
        return self._cell_ends[bisect_left(self.breaks, start)]


def _names_people(line: str) -> bool:
    word = _FIRST_WORD.match(line)
    return word is not None and word[0][0].isupper() and bool(_AUDIENCE_WORD.match(word[0]))


def _ends_cell(lines: _Lines, end: int, *, strict: bool) -> bool:
    """Whether a timing ending at `end` can end its cell: what follows it starts another one.

    Strict: the next line must start a cell (or name people: «Педагоги…»). Relaxed, tried last:
    the audience may start in lower case, as long as the timing does not end in «-» or «,».
    """
    before, rest, following = lines.line_of(end)
    if rest:
        return rest[0].isupper()
    if following is None:
        return True
    if strict:
        return _starts_cell(before, following) or _names_people(following.capitalize())
    return not before.endswith(("-", ","))


def _opens_line(text: str, start: int) -> bool:
    """Whether `start` begins a line that does not go on from the one before (a lower-case
    timing cell, «сентябрь», «до 15 мая», after a title's last line)."""
    if start == 0 or text[start - 1] != "\n":
        return False
    before = text[: start - 1].rstrip()
    return not before.endswith(("-", ",", "«", "(")) and not _DANGLING.search(before)


# A line ending in a preposition or conjunction goes on in the next one.
_DANGLING = re.compile(r"(?:^|\s)(?:в|во|на|и|с|со|по|к|для|о|об|от|из|за|при|а|или)$", re.I)


def _find_timing(text: str, year: _Year) -> _Cut | None:
    """The first place in a row where a timing cell starts, and where it ends.

    A timing starts at a capitalised word or a number, never at the very start of the row
    (the title comes first). From there, the longest run of timing-like words that resolves and
    ends its cell wins; then the whole cell («По плану редакционно-издательского совета»); then,
    relaxed, a run followed by an audience in lower case.
    """
    school_year, period = (year.first, year.second), (year.start, year.end)
    lines = _Lines(text)
    tokens = list(_TOKEN.finditer(text))
    for k, first in enumerate(tokens):
        start = first.start()
        if start == 0 or not text[start - 1].isspace():
            continue
        opens = first[0][0].isupper() or first[0][0].isdigit() or _opens_line(text, start)
        if not opens or not _may_open_timing(first[0]):
            continue
        run, depth = k, 0
        while run < len(tokens) and run - k < 40:
            token = tokens[run][0]
            depth += (token == "(") - (token == ")")
            if depth <= 0 and token != ")" and not _timing_token(token):
                break
            run += 1
        ends = [tokens[j].end() for j in range(run - 1, k - 1, -1)]
        cell = lines.cell_end(start)
        attempts = [
            *((end, True) for end in ends),
            *([(cell, True)] if cell - start <= TIMING_CELL_MAX else []),
            *((end, False) for end in ends),
        ]
        failed: set[int] = set()  # a relaxed attempt may repeat a strict one's text
        for stop, strict in attempts:
            if stop <= start or stop in failed or not _ends_cell(lines, stop, strict=strict):
                continue
            when = resolve_timing(text[start:stop], school_year, period=period, within_row=True)
            if when is not None:
                return _Cut(start, stop, when)
            failed.add(stop)
    return None


@dataclass(frozen=True, slots=True)
class _Cells:
    title: str
    timing: str
    after: tuple[str, ...]  # the cells after the timing, one per field asked for
    when: When | None


def _split_row(lines: Sequence[str], year: _Year, fields: Sequence[Field]) -> _Cells:
    """A row of lines cut into its title, its timing and the cells of `fields` after it."""
    text = "\n".join(lines)
    cut = _find_timing(text, year)
    title, timing = _join(lines), ""
    rest: Sequence[str] = ()
    if cut is not None:
        title = _join(text[: cut.start].split("\n"))
        timing = _join(text[cut.start : cut.end].split("\n"))
        rest = text[cut.end :].split("\n")
    else:
        # No timing resolves. The audience is usually still recognisable by the people it
        # names; the cell just before it is then the timing nobody understood.
        anchor = next((i for i in range(1, len(lines)) if _names_people(lines[i])), None)
        if anchor is not None:
            timing_from = next(
                (i for i in range(anchor - 1, 0, -1) if _starts_cell(lines[i - 1], lines[i])),
                anchor,
            )
            title = _join(lines[:timing_from])
            timing = _join(lines[timing_from:anchor])
            rest = list(lines[anchor:])
    people_apart = Field.AUDIENCE in fields and Field.RESPONSIBLE in fields
    assigned = _assign(_segments(rest, people_apart=people_apart), fields)
    return _Cells(
        title, timing, tuple(assigned.get(name, "") for name in fields), cut.when if cut else None
    )


# --- the plan ------------------------------------------------------------------------------------


# --- the plan as text: rows inferred for the rows' parser ----------------------------------------


@dataclass(frozen=True, slots=True)
class TextRow:
    """A row the text reader gives parse_plan_rows (a PlanRow): cells in the header's order."""

    cells: tuple[str, ...]
    number: str | None = None
    heading: bool = False
    columns: tuple[int, ...] = ()


_TITLE_DATE = re.compile(rf"(\d{{1,2}})(?:\.(\d{{1,2}})\.| ({_MONTH}) )(\d{{4}})", re.I)


def _period_from_title(title: str) -> tuple[date, date] | None:
    """The plan's own dates when its title names them: «…с 01.09.2026 по 31.08.2027»."""
    found: list[date] = []
    for match in _TITLE_DATE.finditer(title.lower().replace("ё", "е")):
        month = int(match[2]) if match[2] else _MONTH_FORMS[match[3]]
        try:
            found.append(date(int(match[4]), month, int(match[1])))
        except ValueError:
            return None
    if len(found) == 2 and found[0] < found[1]:
        return found[0], found[1]
    return None


# --- tab-separated: a table copied out of Word or a spreadsheet


def _tab_lines(text: str) -> list[str]:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _INVISIBLE.sub("", _SPACES.sub(" ", text)).split("\n")


def _tab_cells(line: str) -> list[str]:
    return [" ".join(cell.split()) for cell in line.split("\t")]


def _tab_rows(text: str) -> tuple[list[str], list[TextRow]] | None:
    """A table copied out of Word: a row per line, its cells between tabs, a row merged
    across the table as a line with no tab. None unless a tabbed line is a header."""
    if "\t" not in text:
        return None
    lines = _tab_lines(text)
    header_at = next(
        (
            index
            for index, line in enumerate(lines)
            if "\t" in line and column_fields(_tab_cells(line)) is not None
        ),
        None,
    )
    if header_at is None:
        return None
    title = [" ".join(line.split()) for line in lines[:header_at] if line.strip()]
    header = _tab_cells(lines[header_at])
    width = len(header)
    rows = [TextRow(tuple(header))]
    for line in lines[header_at + 1 :]:
        if not line.strip():
            continue
        if "\t" not in line.strip():
            rows.append(TextRow((" ".join(line.split()),), heading=True, columns=(0,)))
            continue
        cells = _tab_cells(line)
        cells += [""] * (width - len(cells))
        rows.append(TextRow(tuple(cells)))
    return title, rows


# --- one cell per line (or several): a PDF's text, or the plan pasted as lines

_ROMAN_HEADING = re.compile(
    r"^(?:(?i:раздел)\s+[IVX]{1,5}[.:]?\s+|[IVX]{1,5}[.)]\s*)([^\W\d_].*)$"
)
_CHAPTER = re.compile(r"^раздел\s+(\d{1,2})[.:]?\s+(\S.*)$", re.I)
_LINE_NUMBER = re.compile(r"^(\d{1,3}(?:\.\d{1,3}){0,3})(\.|\))?(?:\s+(.*)|$)")
_NUMBER_GLUED = re.compile(r"^(\d{1,2}(?:\.\d{1,2}){1,3})\.?(?=[А-ЯЁA-Z«])")  # «1.2.Семинар»
_SEED_FIELDS = (Field.TITLE, Field.TIMING, Field.AUDIENCE, Field.RESULT)
_POST_FIELDS = (
    Field.AUDIENCE, Field.RESPONSIBLE, Field.RESULT, Field.FORM, Field.PLACE, Field.MARK
)  # fmt: skip
_PEOPLE_FIELDS = frozenset({Field.AUDIENCE, Field.RESPONSIBLE})
_HEADER_NAMES = {
    Field.NUMBER: "№",
    Field.TITLE: "Мероприятие",
    Field.TIMING: "Сроки",
    Field.AUDIENCE: "Участники",
    Field.RESPONSIBLE: "Ответственные",
    Field.RESULT: "Ожидаемый результат",
    Field.FORM: "Форма проведения",
    Field.PLACE: "Место",
    Field.MARK: "Отметка о выполнении",
}
# Whom a cell names: positions and people («Старший воспитатель», «Петрова А. А.»).
_PEOPLE_WORD = re.compile(
    r"^(?:руководител\w*|педагог\w*|координатор\w*|воспитател\w*|методист\w*|заместител\w*"
    r"|учител\w*|специалист\w*|родител\w*|обучающи\w*|директор\w*|заведующ\w*|старш\w*"
    r"|инструктор\w*|музыкальн\w*|председател\w*|члены|секретар\w*|администраци\w*|классн\w*"
    r"|зам|завуч\w*|психолог\w*|логопед\w*|социальн\w*|участник\w*|все|коллектив\w*"
    r"|молод\w*|аттестуем\w*|ответственн\w*|рабоч\w*|творческ\w*|эксперт\w*|наставник\w*"
    r"|начальник\w*|главн\w*|ведущ\w*|отдел\w*|управлени\w*|комитет\w*|имц|методическ\w*)$",
    re.I,
)
_INITIALS = re.compile(r"\b[А-ЯЁ]\.\s?[А-ЯЁ]\.|\b[А-ЯЁ][а-яё]+\s+[А-ЯЁ]\.")


def _header_fields(lines: Sequence[str]) -> tuple[Field, ...]:
    """The fields a header written as words names, in their order («№ п/п Содержание работы
    Сроки Ответственные»); the seed plan's four when there is no header."""
    words = " ".join(lines).replace("|", " ").split()
    found: list[Field] = []
    index = 0
    while index < len(words):
        pair = header_field(" ".join(words[index : index + 2])) if index + 1 < len(words) else None
        single = header_field(words[index])
        field_found = single or pair
        if field_found is not None and field_found not in found:
            found.append(field_found)
        index += 1
    if Field.TITLE not in found or Field.TIMING not in found:
        return _SEED_FIELDS
    return tuple(name for name in found if name is not Field.NUMBER)


def _names_whom(segment: str) -> bool:
    word = _FIRST_WORD.match(segment)
    return bool(word and _PEOPLE_WORD.match(word[0])) or bool(_INITIALS.search(segment))


def _segments(lines: Sequence[str], *, people_apart: bool = False) -> list[str]:
    """A row's text after its timing cut into cells: a new one at each line that starts one
    (see _starts_cell), unless it goes on naming people («Петрова А. А.», «Педагоги ДОУ») —
    but when both the audience and the responsible have columns, each starts its own."""
    lines = [line.strip() for line in lines if line.strip()]
    groups: list[list[str]] = []
    for line in lines:
        if groups and not (
            _starts_cell(groups[-1][-1], line)
            and (people_apart or not (_names_people(line) and _names_whom(groups[-1][0])))
            and not _INITIALS.match(line)
        ):
            groups[-1].append(line)
        else:
            groups.append([line])
    return [_join(group) for group in groups]


def _assign(segments: list[str], fields: Sequence[Field]) -> dict[Field, str]:
    """The cells after the timing, by the header's fields. More cells than fields: the last
    field takes the rest. Fewer: the empty ones are those whose content fits worst (a cell
    naming people is an audience or a responsible, another is a result or a form), so an empty
    audience cell doesn't shift the responsible into it."""
    if not fields or not segments:
        return {}
    if len(segments) >= len(fields):
        head = segments[: len(fields) - 1]
        return dict(zip(fields, [*head, " ".join(segments[len(fields) - 1 :])], strict=True))
    people = [_names_whom(segment) for segment in segments]

    def score(chosen: tuple[Field, ...]) -> tuple[bool, int, bool]:
        pairs = zip(chosen, people, strict=True)
        fit = sum((name in _PEOPLE_FIELDS) == whom for name, whom in pairs)
        # «Отметка о выполнении» is filled in after the year, if ever: the first to be empty.
        return Field.MARK not in chosen, fit, Field.RESPONSIBLE in chosen

    best = max(combinations(fields, len(segments)), key=score)
    return dict(zip(best, segments, strict=True))


@dataclass(slots=True)
class _Block:
    """A heading or a row of lines, as the text reader meets them."""

    label: str
    lines: list[str] = field(default_factory=list)
    heading: bool = False
    agenda: int = 0  # the next number of a list inside the row's cell («1. О…», «2. О…»)


def _parts(label: str) -> tuple[int, ...]:
    return tuple(int(part) for part in label.split("."))


def _follows(label: str, previous: str | None) -> bool:
    """Whether a row numbered `label` can come after one numbered `previous`: the next at its
    level or above («1.2» → «1.3», «2»), or the first one under it («1.2» → «1.2.1»)."""
    parts = _parts(label)
    if not previous:  # the first numbered row, or after rows with no number
        return all(part == 1 for part in parts) or parts == (1,)
    before = _parts(previous)
    if parts == (*before, 1):
        return True
    return any(parts == (*before[:level], before[level] + 1) for level in range(len(before)))


def _bare_items(lines: Sequence[str]) -> bool:
    """Whether rows are numbered «1», «2» with no dot under sections «1. …»: the seed plan's
    shape, where a section and a row may share a number."""
    expected = 1
    for line in lines:
        is_item, _ = _item_line(line, expected)
        if is_item and not re.match(r"^\d+\.", line):
            expected += 1
    return expected > 1 and any(_SECTION_RE.match(line) for line in lines)


def _item_line(line: str, expected: int) -> tuple[bool, str]:
    """Whether the line opens item `expected` («3», «3 Заседания…»), and the text after it."""
    match = _ITEM_RE.match(line)
    if not match or int(match[1]) != expected:
        return False, ""
    rest = match[2] or ""
    # «2 квартал 2022», «1 раз в полугодие»: a timing that happens to start with the number.
    if rest and (rest[0].islower() or not (rest[0].isalpha() or rest[0] in "«\"'(")):
        return False, ""
    return True, rest


_PLACEHOLDER_YEAR = (2023, 2024)  # only to tell timing cells apart before the year is known


def _timed(block: _Block, year: _Year) -> bool:
    return _find_timing("\n".join(["-", *block.lines]), year) is not None


class _LineReader:
    """Lines into headings and rows. Seed shape (`bare`): sections «N. …» and rows «N» each
    count on their own. Otherwise every numbered line that follows the last row's number
    (see _follows) opens a row, «I. …» and «Раздел N» open headings, and a list inside a cell
    («1. О выборе темы», «2. О плане» under row 3) stays in the cell."""

    def __init__(self, lines: Sequence[str], *, timing_first: bool = False) -> None:
        self.bare = _bare_items(lines)
        self.timing_first = timing_first
        self.blocks: list[_Block] = []
        self.rows = 0
        self.sections = 0
        self.last_label: str | None = None

    @property
    def current(self) -> _Block | None:
        return self.blocks[-1] if self.blocks else None

    def _open(self, label: str, rest: str, *, heading: bool = False) -> None:
        self.blocks.append(_Block(label, [rest] if rest else [], heading))
        if heading:
            self.sections += 1
        else:
            self.rows += 1
            self.last_label = label

    def _in_agenda(self, number: int) -> bool:
        """Whether «number. …» goes on a list inside the open row's cell: its next number, in
        a row with no timing yet."""
        row = self.current
        return (
            row is not None
            and not row.heading
            and row.agenda == number
            and not _timed(row, _Year.of(_PLACEHOLDER_YEAR, None))
        )

    def take(self, line: str) -> bool:
        """Open a heading or a row at `line` if it starts one; False if it goes on the last."""
        roman = _ROMAN_HEADING.match(line)
        if roman and not _MONTH_WORD.match(roman[1]):
            self._open("", line, heading=True)
            return True
        chapter = _CHAPTER.match(line)
        if chapter:
            self._open("", line, heading=True)
            return True
        if self.bare:
            return self._take_bare(line)
        if self.timing_first and _LINE_NUMBER.match(line) is None:
            return self._take_timing(line)
        glued = _NUMBER_GLUED.match(line)
        if glued:
            line = f"{glued[1]} {line[glued.end() :]}"
        match = _LINE_NUMBER.match(line)
        if not match:
            return False
        label, rest = match[1], match[3] or ""
        if rest and (rest[0].islower() or rest[0].isdigit()) and "." not in label and not match[2]:
            return False  # «2 квартал 2022»
        if not _follows(label, self.last_label) or (
            "." not in label and self._in_agenda(int(label))
        ):
            row = self.current
            if row is not None and "." not in label and int(label) in (1, row.agenda):
                row.agenda = int(label) + 1
            return False
        self._open(label, rest)
        return True

    def _take_timing(self, line: str) -> bool:
        """A row of a timing-first table opens at a line that is a timing on its own."""
        if len(line) > 60 or not (line[0].isupper() or line[0].isdigit()):
            return False
        if resolve_timing(line, _PLACEHOLDER_YEAR) is None:
            return False
        self._open("", line)
        return True

    def _take_bare(self, line: str) -> bool:
        match = _SECTION_RE.match(line)
        if match and int(match[1]) == self.sections + 1 and not self._in_agenda(int(match[1])):
            self._open(match[1], line, heading=True)
            return True
        is_item, rest = _item_line(line, self.rows + 1)
        if is_item:
            self._open(str(self.rows + 1), rest)
            return True
        if match and self.current is not None and int(match[1]) in (1, self.current.agenda):
            self.current.agenda = int(match[1]) + 1
        return False


_MONTH_WORD = re.compile(rf"^{_MONTH}\b", re.I)


def _header_lines(lines: Sequence[str]) -> list[str]:
    """The first run of lines that are all header words."""
    start = next((i for i, line in enumerate(lines) if _is_header(line, started=False)), None)
    if start is None:
        return []
    end = start
    while end < len(lines) and _is_header(lines[end], started=False):
        end += 1
    return list(lines[start:end])


def _timing_first_cells(block: _Block, fields: Sequence[Field]) -> tuple[str, str, list[str]]:
    """A row whose timing column comes first («Месяц | Мероприятие | Ответственный»): its
    first line is the timing, then the title, then the cells of `fields`."""
    timing, *rest = block.lines or [""]
    people_apart = Field.AUDIENCE in fields and Field.RESPONSIBLE in fields
    segments = _segments(rest, people_apart=people_apart)
    keep = max(1, len(segments) - len(fields))
    assigned = _assign(segments[keep:], fields)
    return " ".join(segments[:keep]), timing, [assigned.get(name, "") for name in fields]


def _line_rows(text: str, school_year: tuple[int, int] | None) -> tuple[list[str], list[TextRow]]:
    """The title lines, and rows with their cells told apart (see the module docstring): a
    header row first, with the fields the text's header names in its order."""
    lines = _clean_lines(text)
    header = _header_lines(lines)
    fields = _header_fields(header)
    timing_first = fields.index(Field.TIMING) < fields.index(Field.TITLE)
    title_lines: list[str] = []
    reader = _LineReader(lines, timing_first=timing_first)
    started = False
    for line in lines:
        if _is_header(line, started=started):
            started = True
            continue
        # With a header, nothing above it is a row: a table of contents («1.1. Анализ работы
        # … 4»), an order's numbered points.
        if (started or not header) and reader.take(line):
            started = True
        elif not started:
            title_lines.append(line)
        elif _PAGE_JUNK.match(line):
            continue
        elif reader.current is not None:
            reader.current.lines.append(line)

    after = fields[fields.index(Field.TIMING) + 1 :] if not timing_first else fields
    post = [name for name in after if name in _POST_FIELDS]
    columns = (Field.NUMBER, Field.TITLE, Field.TIMING, *post)
    rows = [TextRow(tuple(_HEADER_NAMES[name] for name in columns))]
    title = _plan_title(title_lines)
    year = _Year.of(
        school_year or school_year_from_title(title) or _PLACEHOLDER_YEAR,
        _period_from_title(title),
    )
    for block in reader.blocks:
        if block.heading:
            rows.append(TextRow((_join(block.lines),), heading=True, columns=(0,)))
        elif timing_first:
            row_title, timing, cells = _timing_first_cells(block, post)
            rows.append(TextRow((block.label, row_title, timing, *cells)))
        else:
            split = _split_row(block.lines, year, post)
            rows.append(TextRow((block.label, split.title, split.timing, *split.after)))
    return title_lines, rows


def parse_plan(text: str, school_year: tuple[int, int] | None = None) -> PlanParse:
    """The plan's items with their sections and resolved timing, from its text: a table copied
    with tabs between cells, or lines of cells (see the module docstring), both read into rows
    for parse_plan_rows. The school year comes from the title (or the rows' dates) unless
    given. Raises PlanFormatError when there is none, or when no numbered item is found."""
    tabbed = _tab_rows(text)
    if tabbed is not None:
        return parse_plan_rows(*tabbed, school_year)
    title_lines, rows = _line_rows(text, school_year)
    return parse_plan_rows(title_lines, rows, school_year, in_text=True)


# --- shared by both readers ----------------------------------------------------------------------


_PLAN_WORD = re.compile(r"(?<![^\W\d_])план(?![^\W\d_])", re.I)
_CONTENTS = re.compile(r"^(?:оглавление|содержание)\.?$", re.I)
_CONTENTS_ENTRY = re.compile(r"\.{4,}\s*\d*\s*$")  # «1.1. Анализ работы ....... 4»


def _plan_title(lines: Sequence[str]) -> str:
    """The plan's title: the lines above its table from the first that names the plan («План
    работы…», «ГОДОВОЙ ПЛАН»; an approval stamp, «УТВЕРЖДАЮ…», comes before it), or all of
    them, up to a table of contents if there is one."""
    end = next((i for i, line in enumerate(lines) if _CONTENTS.match(line.strip())), len(lines))
    lines = [line for line in lines[:end] if not _CONTENTS_ENTRY.search(line)]
    start = next((i for i, line in enumerate(lines) if _PLAN_WORD.search(line)), 0)
    return _tidy(_join(lines[start:]))


_CALENDAR_YEAR = re.compile(r"\bна\s+((?:19|20)\d\d)\s*(?:год|г\b|г\.)", re.I)
_DATE_IN_CELL = re.compile(r"(?<![\d.])\d{1,2}\.(\d{1,2})\.((?:19|20)\d\d)(?![\d.])")
_YEAR_IN_CELL = re.compile(r"(?<![\d.])((?:19|20)\d\d)(?![\d.])")
_MONTH_IN_CELL = re.compile(rf"(?<![^\W\d_]){_MONTH}(?![^\W\d_])")


def _school_years_in(timing: str) -> Iterator[tuple[int, int]]:
    """The school years a timing cell's own years point to: «март – апрель 2024 г.» and
    «до 01.10.2023» are in 2023/2024, as is «2023-2024 уч. г.»."""
    text = timing.lower().replace("ё", "е")
    pairs = [_school_year_pair(m[1], m[2]) for m in _SCHOOL_YEAR_RE.finditer(text)]
    yield from (pair for pair in pairs if pair)
    if any(pairs):
        return
    for match in _DATE_IN_CELL.finditer(text):
        month, year = int(match[1]), int(match[2])
        if 1 <= month <= 12:
            yield (year, year + 1) if month >= 9 else (year - 1, year)
    text = _DATE_IN_CELL.sub(" ", text)
    for match in _YEAR_IN_CELL.finditer(text):
        months = list(_MONTH_IN_CELL.finditer(text, 0, match.start()))
        if months:
            month = _MONTH_FORMS[months[-1][0]]
            year = int(match[1])
            yield (year, year + 1) if month >= 9 else (year - 1, year)


def _year_from_rows(timings: Iterable[str]) -> tuple[int, int] | None:
    """The school year most of the rows' own years point to, the first one met on a tie."""
    votes: dict[tuple[int, int], int] = {}
    for timing in timings:
        for pair in _school_years_in(timing):
            votes[pair] = votes.get(pair, 0) + 1
    return max(votes, key=votes.__getitem__) if votes else None


def _plan_year(
    title: str, school_year: tuple[int, int] | None, timings: Sequence[str] = ()
) -> tuple[tuple[int, int], tuple[date, date] | None]:
    """The school year and the plan's own dates if the title names them. The year is the one
    given, or the title's school year, or the title's calendar year («на 2024 год» → (2024,
    2024), January – December), or the one the rows' dates point to; PlanFormatError
    (NO_SCHOOL_YEAR) when there is none."""
    period = _period_from_title(title)
    year_pair = school_year or school_year_from_title(title)
    if year_pair is None:
        calendar_year = _CALENDAR_YEAR.search(title)
        if calendar_year:
            first = int(calendar_year[1])
            return (first, first), period or (date(first, 1, 1), date(first, 12, 31))
        year_pair = _year_from_rows(timings)
    if year_pair is None:
        raise PlanFormatError(
            PlanProblem.NO_SCHOOL_YEAR,
            "the plan's title names no school year such as 2021-2022",
            title=title,
        )
    return year_pair, period


def _august_opens(texts: Iterable[str]) -> bool:
    """Whether the first month the plan names, read in order, is August."""
    for text in texts:
        month = _MONTH_IN_CELL.search(text.lower().replace("ё", "е"))
        if month:
            return _MONTH_FORMS[month[0]] == 8
    return False


def _unresolved(item: PlanItem, empty: UnresolvedReason, empty_detail: str) -> Unresolved:
    """Why an undated row is undated: its timing is not understood, or there is none (`empty`)."""
    if item.timing:
        return Unresolved(
            item.number,
            item.title,
            item.timing,
            UnresolvedReason.UNKNOWN_TIMING,
            f"timing «{item.timing}» is not a phrase the importer understands",
            item.label,
        )
    return Unresolved(item.number, item.title, "", empty, empty_detail, item.label)


# --- the plan as rows of cells (a Word table) ----------------------------------------------------


class PlanRow(Protocol):
    """A table row as a reader gives it (plan_docx.DocxRow is one)."""

    @property
    def cells(self) -> tuple[str, ...]: ...  # one text per cell, a merged cell once

    @property
    def number(self) -> str | None: ...  # Word's automatic number of the first cell: «1.2»

    @property
    def heading(self) -> bool: ...  # one cell spanning the whole row

    @property
    def columns(self) -> tuple[int, ...]: ...  # each cell's first grid column; () if unknown


_ROW_NUMBER = re.compile(r"^(\d{1,3}(?:\.\d{1,3})*)[.)]?$")
# «1. », «2.1. », «II. », «Раздел 3.» before a heading's text; not «III четверть», «1.09.2024».
_HEADING_NUMBER = re.compile(
    r"^(?:раздел\s+(?:\d{1,2}|[IVX]{1,5})[.)]?\s*"
    r"|(?:\d{1,2}(?:\.\d{1,2})*|[IVX]{1,5})[.)](?:\s+|(?=[^\W\d_])))",
    re.I,
)
_ROW_FIELDS = (
    Field.TITLE, Field.TIMING, Field.AUDIENCE, Field.RESPONSIBLE, Field.RESULT, Field.PLACE
)  # fmt: skip


@dataclass(slots=True)
class _Read:
    """A row after the header, read by the columns: a section heading or an item."""

    label: str  # its number as written («1.2»), "" when none
    cells: dict[Field, str]
    heading: str | None = None  # the section's text when the row is a heading

    @property
    def filled(self) -> bool:
        """Whether it has anything but a title: a timing, audience, responsible or result."""
        return any(self.cells[name] for name in _ROW_FIELDS[1:])


@dataclass(frozen=True, slots=True)
class _Columns:
    fields: dict[Field, int]  # each field's grid column
    cells: int  # how many cells the header row has

    @classmethod
    def of(cls, row: PlanRow, found: dict[Field, int]) -> _Columns:
        grid = row.columns or tuple(range(len(row.cells)))
        return cls({name: grid[index] for name, index in found.items()}, len(row.cells))

    def cell(self, row: PlanRow, name: Field) -> str:
        """The text of the row's cell starting at `name`'s column; "" when none starts there
        (a cell merged across it from the left)."""
        column = self.fields.get(name)
        if column is None:
            return ""
        grid = row.columns or tuple(range(len(row.cells)))
        try:
            return row.cells[grid.index(column)].strip()
        except (ValueError, IndexError):
            return ""


def _read_row(row: PlanRow, columns: _Columns) -> _Read | None:
    """The row by its columns; None for an empty row or the «1 2 3 4 5» row under a header."""
    texts = [cell.strip() for cell in row.cells]
    filled = [text for text in texts if text]
    if not filled or all(_ROW_NUMBER.match(text) for text in filled):
        return None
    cells = {name: columns.cell(row, name) for name in _ROW_FIELDS}
    written = columns.cell(row, Field.NUMBER)
    match = _ROW_NUMBER.match(written)
    label = row.number or (match[1] if match else "")
    if row.number and columns.fields.get(Field.TITLE) == (row.columns or (0,))[0]:
        # Word numbered the title cell itself: its number is shown before the text.
        cells[Field.TITLE] = re.sub(rf"^{re.escape(row.number)}[.)]?\s*", "", cells[Field.TITLE])
    read = _Read(label, cells)
    words = [text for text in filled if not _ROW_NUMBER.match(text)]
    merged = bool(row.columns) and columns.fields[Field.TIMING] not in row.columns
    if row.heading:
        read.heading = filled[0]
    elif merged and len(row.cells) < columns.cells:
        read.heading = " ".join(words)  # «1. | Организационная работа», merged to the end
    elif not cells[Field.TITLE] and len(words) == 1 and (not label or written == words[0]):
        # One text in a cell that is not the title's: «1. Организационная работа» typed in
        # the number column, a month («Сентябрь») over the rows done in it. A numbered row
        # with only a timing has lost its title, and is skipped.
        read.heading = words[0]
    return read


def _headings(reads: list[_Read]) -> None:
    """Rows that head a section without being merged: «1.» with no timing over «1.1», «1.2»;
    a title alone, with no number, among numbered rows."""
    numbered = any(read.label for read in reads if read.heading is None)
    for index, read in enumerate(reads):
        if read.heading is not None or read.filled:
            continue
        following = next((r for r in reads[index + 1 :] if r.heading is None), None)
        over = following is not None and following.label.startswith(read.label + ".")
        if (read.label and over) or (not read.label and numbered):
            read.heading = read.cells[Field.TITLE] or None


_WITHIN_MONTH = re.compile(r"^(?:в\s*)?течени[еия]\s+(?:всего\s+)?месяца\.?$", re.I)


def _dating_heading(
    heading: str,
    school_year: tuple[int, int],
    period: tuple[date, date] | None,
    august_first: bool,
) -> When | None:
    """What a heading that is itself a timing («Сентябрь», «I четверть») dates, else None."""
    when = resolve_timing(heading, school_year, period=period, august_first=august_first)
    return when if isinstance(when, DateRange | Months) else None


def _dated_under(timing: str, heading: str, dated_by: When | None) -> str:
    """A row's timing under a heading that dates it: an empty cell takes the heading
    («Сентябрь»); «в течение месяца» under a month is that month, kept as a remark
    («Сентябрь (в течение месяца)»), so the stored timing still reads the same."""
    if dated_by is None:
        return timing
    if not timing:
        return heading
    bounds = dated_by.bounds()
    start = bounds[0] if bounds else None
    one_month = start is not None and bounds == (
        start.replace(day=1),
        _month_end(start.year, start.month),
    )
    if one_month and _WITHIN_MONTH.match(timing):
        return f"{heading} ({timing})"
    return timing


def parse_plan_rows(
    title_lines: Sequence[str],
    rows: Iterable[PlanRow],
    school_year: tuple[int, int] | None = None,
    *,
    in_text: bool = False,
) -> PlanParse:
    """The plan's items from its table rows, read by the columns their header names.

    `title_lines` are the paragraphs above the table (and rows above its header count too).
    A row naming the columns (`column_fields`) is a header: the rows after it are read by its
    columns, up to the next header, so a second table may have its own or continue the first
    one's. A row's number is Word's automatic one or the one typed («1», «1.», «1.2.1»), kept
    as the item's `label`; items are numbered in order whatever their labels. Headings are rows
    merged across the table, rows merged from the title to the end, a lone text in a cell that
    is not the title's, a numbered row with nothing but a title over rows numbered under it
    («1.» over «1.1»), and a title alone among numbered rows. Rows with no title are skipped;
    «Отметка о выполнении» is not read. A heading that is a timing itself («Сентябрь», «I
    четверть») dates the rows under it with an empty timing cell, and a month's «в течение
    месяца» (see `_dated_under`). Raises PlanFormatError when no row is an item or there
    is no school year.
    """
    title_lines = list(title_lines)
    columns: _Columns | None = None
    reads: list[_Read] = []
    for row in rows:
        found = None if row.heading else column_fields(row.cells)
        if found is not None:
            columns = _Columns.of(row, found)
            continue
        if columns is None:  # above the first header: a row of the title
            title_lines.extend(dict.fromkeys(cell.strip() for cell in row.cells if cell.strip()))
            continue
        read = _read_row(row, columns)
        if read is not None:
            reads.append(read)
    _headings(reads)

    title = _plan_title(title_lines)
    entries = [read for read in reads if read.heading is not None or read.cells[Field.TITLE]]
    if not any(read.heading is None for read in entries):
        raise PlanFormatError(PlanProblem.NO_ITEMS, "no rows with a title under a table header")
    year_pair, period = _plan_year(
        title, school_year, [read.cells[Field.TIMING] for read in entries if read.heading is None]
    )
    august_first = (
        period is None
        and year_pair[1] != year_pair[0]
        and _august_opens(
            read.heading if read.heading is not None else read.cells[Field.TIMING]
            for read in entries
        )
    )

    empty = (
        (UnresolvedReason.NO_TIMING, "no timing cell could be told apart from the title")
        if in_text
        else (UnresolvedReason.EMPTY_TIMING, "the row's timing cell is empty")
    )
    items: list[PlanItem] = []
    unresolved: list[Unresolved] = []
    section_number, section_title, dated_by = 0, "", None
    for read in entries:
        if read.heading is not None:
            section_number += 1
            section_title = _tidy(_HEADING_NUMBER.sub("", read.heading))
            dated_by = _dating_heading(section_title, year_pair, period, august_first)
            continue
        timing = _dated_under(_tidy(read.cells[Field.TIMING]), section_title, dated_by)
        when = (
            resolve_timing(timing, year_pair, period=period, august_first=august_first)
            if timing
            else None
        )
        item = PlanItem(
            number=len(items) + 1,
            section_number=section_number,
            section_title=section_title,
            title=_tidy(read.cells[Field.TITLE]),
            timing=timing,
            audience=_tidy(read.cells[Field.AUDIENCE]),
            result=_tidy(read.cells[Field.RESULT]),
            when=when if when is not None else Undated(),
            school_year=year_pair,
            responsible=_tidy(read.cells[Field.RESPONSIBLE]),
            label=read.label,
            place=_tidy(read.cells[Field.PLACE]),
        )
        items.append(item)
        if when is None:
            unresolved.append(_unresolved(item, *empty))
    return PlanParse(title, year_pair, tuple(items), tuple(unresolved), period)
