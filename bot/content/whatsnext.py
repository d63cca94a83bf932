"""What's-next questions: a head's free-text question (or `/next`) read as a date window and an
audience, and which items answer it.

The question is read with a fixed `today`, so tests and the handler agree on what «завтра» is.
Decisions (tests pin each one down):
- `/next`, «что дальше?», «ближайшие мероприятия» and an audience alone («что для координаторов»)
  cover the next DEFAULT_HORIZON_DAYS days, today included.
- «на этой неделе» is today to Sunday; «на следующей неделе» is next Monday to Sunday.
- A month («в марте», «планы на декабрь») is its next occurrence: asked in November, March is next
  year's; the current month runs from today to its end. «В этом месяце» is the current month,
  «в следующем месяце» the whole next one, «до конца года» today to 31 December.
- A day («15 марта», «на 15.03», «15.03.2027») is one day, its next occurrence unless the year is
  written. A month with a year («в марте 2022») is that whole month, past or not.
- A month or a day outside the current school year (September to August) carries its year in
  the label: «Мероприятия в марте 2022».
- A topic asked about without a window («когда экспертный совет?») looks TOPIC_HORIZON_DAYS
  ahead (see content.intents).
- When a question names two windows («в марте на этой неделе»), the first one written counts.
- Audience words are matched by stem, so any case ending works («координаторам», «детсадов»).
  What the question names replaces the asker's own, one dimension at a time: «для детских
  садов» asked by a school head means heads (the asker's role) of kindergartens. «Для всех»
  names every role and every organisation kind.
- Texts about something else («как подписаться», «отписаться от мероприятий», «спасибо за
  мероприятия») are not what's-next questions: None, so the handler can answer with help.

Labels are Russian headings for the answer: «Ближайшие мероприятия», «Мероприятия на этой
неделе», «Мероприятия в марте», «Мероприятия в марте для координаторов», «Мероприятия для
педагогов детских садов».
"""

from __future__ import annotations

import calendar
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo

from bot.content.models import Item, OrgKind, Role
from bot.content.topics import item_topics

DEFAULT_HORIZON_DAYS = 30  # `/next` and «что дальше?»: today and the 29 days after it
TOPIC_HORIZON_DAYS = 365  # «когда экспертный совет?»: whenever it is this coming year

# Russian words of the labels; texts.py may take them from here (it imports content, not back).
MONTHS_GENITIVE = (
    "января", "февраля", "марта", "апреля", "мая", "июня",
    "июля", "августа", "сентября", "октября", "ноября", "декабря",
)  # fmt: skip
MONTHS_PREPOSITIONAL = (
    "январе", "феврале", "марте", "апреле", "мае", "июне",
    "июле", "августе", "сентябре", "октябре", "ноябре", "декабре",
)  # fmt: skip
LABEL_UPCOMING = "Ближайшие мероприятия"
LABEL_EVENTS = "Мероприятия"
LABEL_TODAY = "Мероприятия сегодня"
LABEL_TOMORROW = "Мероприятия завтра"
LABEL_DAY_AFTER_TOMORROW = "Мероприятия послезавтра"
LABEL_THIS_WEEK = "Мероприятия на этой неделе"
LABEL_NEXT_WEEK = "Мероприятия на следующей неделе"
LABEL_YEAR_END = "Мероприятия до конца года"
LABEL_MONTH = "Мероприятия в {month}"  # prepositional: «в марте»
LABEL_DAY = "Мероприятия {day} {month}"  # genitive: «15 марта»
LABEL_FOR = "для {audience}"
LABEL_FOR_EVERYONE = "всех"
LABEL_AND = " и "
ROLE_GENITIVE: dict[Role, str] = {
    Role.HEAD: "руководителей",
    Role.COORDINATOR: "координаторов",
    Role.TEACHER: "педагогов",
    Role.PRESCHOOL: "воспитателей",
    Role.METHODIST: "методистов",
    Role.OTHER: "других участников",
}
ORG_KIND_GENITIVE: dict[OrgKind, str] = {
    OrgKind.SCHOOL: "школ",
    OrgKind.KINDERGARTEN: "детских садов",
    OrgKind.EXTRA: "доп. образования",
    OrgKind.OTHER: "других организаций",
}


@dataclass(frozen=True)
class NextQuery:
    start: date  # inclusive
    end: date  # inclusive
    roles: frozenset[Role]  # empty: the asker's own role applies
    org_kinds: frozenset[OrgKind]  # empty: the asker's own organisation kind applies
    explicit_audience: bool  # the question named an audience: it overrides the asker's
    label: str  # Russian heading for the answer
    topics: tuple[int, ...] = ()  # content.topics.SUBJECTS named, in the order written
    # False: the question named no window, the default one applies. Not part of equality: two
    # queries for the same days and audience are the same question.
    window_named: bool = field(default=True, compare=False)


def default_query(today: date) -> NextQuery:
    """`/next`: the next DEFAULT_HORIZON_DAYS days, today included, for the asker's audience."""
    end = today + timedelta(days=DEFAULT_HORIZON_DAYS - 1)
    return NextQuery(
        today, end, frozenset(), frozenset(), False, LABEL_UPCOMING, window_named=False
    )


def topic_query(today: date, text: str = "") -> NextQuery:
    """A topic asked about without a window («конкурсы воспитателям»): the coming
    TOPIC_HORIZON_DAYS days, for the audience the text names, if any."""
    end = today + timedelta(days=TOPIC_HORIZON_DAYS - 1)
    roles, orgs = _audience(_normalise(text))
    explicit = bool(roles or orgs)
    label = LABEL_UPCOMING
    if explicit:
        label = f"{LABEL_EVENTS} " + LABEL_FOR.format(audience=audience_label(roles, orgs))
    return NextQuery(today, end, roles, orgs, explicit, label, window_named=False)


def school_year(day: date) -> int:
    """The year a school year starts in: September 2021 to August 2022 is 2021."""
    return day.year if day.month >= 9 else day.year - 1


# --- reading the question ------------------------------------------------------------------------


def _normalise(text: str) -> str:
    """Lower case, ё as е, words and numbers separated by single spaces; dates keep their dots."""
    s = text.lower().replace("ё", "е")
    s = re.sub(r"^\s*/next(?:@\w+)?\b", " дальше ", s)
    s = re.sub(r"[^\w.]+|_", " ", s)
    s = re.sub(r"(?<!\d)\.|\.(?!\d)", " ", s)  # «доп.», «?.», but not «15.03»
    return " ".join(s.split())


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _next_month(today: date) -> tuple[int, int]:
    return (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)


@dataclass(frozen=True, slots=True)
class _Window:
    start: date
    end: date
    label: str
    dated: bool = False  # a month or a day: its label takes the year outside this school year


def _month_window(today: date, year: int, month: int, *, whole: bool = False) -> _Window:
    start = date(year, month, 1) if whole else max(today, date(year, month, 1))
    label = LABEL_MONTH.format(month=MONTHS_PREPOSITIONAL[month - 1])
    return _Window(start, _month_end(year, month), label, dated=True)


def _month_of_year(today: date, m: re.Match[str]) -> _Window | None:
    year = int(m[2])
    if not 1990 <= year <= 2100:
        return None
    return _month_window(today, year, _MONTH_FORMS[m[1]], whole=True)


def _month_named(today: date, month: int) -> _Window:
    """The next occurrence of `month`: this year's if it has not ended, else next year's."""
    year = today.year if month >= today.month else today.year + 1
    return _month_window(today, year, month)


def _day(today: date, day: int, month: int, year: int | None) -> _Window | None:
    """The next occurrence of a day (or that exact day when its year is written)."""
    years = [year] if year is not None else list(range(today.year, today.year + 9))
    for candidate in years:
        if not 1 <= month <= 12 or not 1 <= day <= calendar.monthrange(candidate, month)[1]:
            continue
        moment = date(candidate, month, day)
        if year is not None or moment >= today:
            label = LABEL_DAY.format(day=day, month=MONTHS_GENITIVE[month - 1])
            return _Window(moment, moment, label, dated=True)
    return None


_MONTH_FORMS: dict[str, int] = {}
for _number, _forms in enumerate(
    (
        "январь января январе январю",
        "февраль февраля феврале февралю",
        "март марта марте марту",
        "апрель апреля апреле апрелю",
        "май мая мае маю",
        "июнь июня июне июню",
        "июль июля июле июлю",
        "август августа августе августу",
        "сентябрь сентября сентябре сентябрю",
        "октябрь октября октябре октябрю",
        "ноябрь ноября ноябре ноябрю",
        "декабрь декабря декабре декабрю",
    ),
    start=1,
):
    for _form in _forms.split():
        _MONTH_FORMS[_form] = _number
_MONTH = "(?:" + "|".join(sorted(_MONTH_FORMS, key=len, reverse=True)) + ")"

_THIS = r"(?:эт(?:а|у|ой|ом|от)|текущ\w*|нынешн\w*)"
_NEXT = r"(?:следующ\w*|будущ\w*)"


def _this_week(today: date) -> _Window:
    return _Window(today, today + timedelta(days=6 - today.weekday()), LABEL_THIS_WEEK)


def _next_week(today: date) -> _Window:
    monday = today + timedelta(days=7 - today.weekday())
    return _Window(monday, monday + timedelta(days=6), LABEL_NEXT_WEEK)


def _day_offset(days: int, label: str) -> Callable[[date, re.Match[str]], _Window]:
    def build(today: date, _: re.Match[str]) -> _Window:
        day = today + timedelta(days=days)
        return _Window(day, day, label)

    return build


def _numeric_day(today: date, m: re.Match[str]) -> _Window | None:
    year = int(m[3]) if m[3] else None
    if year is not None and year < 100:
        year += 2000
    return _day(today, int(m[1]), int(m[2]), year)


_WINDOWS: tuple[tuple[re.Pattern[str], Callable[[date, re.Match[str]], _Window | None]], ...] = (
    (re.compile(r"\bпослезавтра\w*"), _day_offset(2, LABEL_DAY_AFTER_TOMORROW)),
    (re.compile(r"\bзавтра\w*"), _day_offset(1, LABEL_TOMORROW)),
    (re.compile(r"\bсегодня\w*"), _day_offset(0, LABEL_TODAY)),
    (re.compile(rf"\b{_NEXT} недел\w*"), lambda today, _: _next_week(today)),
    (
        re.compile(rf"\b{_THIS} недел\w*|\bна недел[еию]\b|\bдо конца недели\b"),
        lambda today, _: _this_week(today),
    ),
    (
        re.compile(rf"\b{_NEXT} месяц\w*"),
        lambda today, _: _month_window(today, *_next_month(today)),
    ),
    (
        re.compile(rf"\b{_THIS} месяц\w*|\bдо конца месяца\b"),
        lambda today, _: _month_window(today, today.year, today.month),
    ),
    (
        re.compile(rf"\bдо конца (?:{_THIS} )?года\b|\bдо нового года\b|\bв {_THIS} году\b"),
        lambda today, _: _Window(today, date(today.year, 12, 31), LABEL_YEAR_END),
    ),
    (re.compile(r"\b(\d{1,2})\.(\d{1,2})(?:\.(\d{4}|\d\d))?\b"), _numeric_day),
    (
        re.compile(rf"\b(\d{{1,2}}) ({_MONTH})(?: (\d{{4}}))?\b"),
        lambda today, m: _day(today, int(m[1]), _MONTH_FORMS[m[2]], int(m[3]) if m[3] else None),
    ),
    (re.compile(rf"\b({_MONTH}) (\d{{4}})\b"), _month_of_year),
    (re.compile(rf"\b({_MONTH})\b"), lambda today, m: _month_named(today, _MONTH_FORMS[m[1]])),
)

# Words that ask what is coming without naming when.
_UPCOMING = re.compile(
    r"\bдальше\b|\bближайш\w*|\bпредстоящ\w*|\bгрядущ\w*|\bанонс\w*|\bафиш\w*|\bплан(?:ы|ах)\b"
    r"|\bчто (?:будет|будут|планируется|намечается|намечено|запланировано|ожидается|нас ждет)\b"
    r"|\bмероприятия\b|\bмероприятий\b|\bсобытия\b|\bсобытий\b"
)
_EVENTS_WORD = re.compile(r"\bмероприятия\b|\bмероприятий\b|\bсобытия\b|\bсобытий\b")
_THANKS = re.compile(r"\bспасибо\b|\bблагодар\w*")
# Another request that mentions events («отписаться от мероприятий», «настроить рассылку для
# учителей») belongs to another handler.
_OTHER_INTENT = re.compile(
    r"\b(?:от|под|переподп?)пис\w*|\bнастро[ийе]\w*|\bотключ\w*|\bудал(?:и|ить|ите)\w*"
)
_ASKS = re.compile(r"\bдля\b|\bчто\b|\bкакие\b|\bкого\b")
# Words around an audience that do not change the question: «а координаторам?».
_FILLER = frozenset({
    "а", "и", "ну", "ли", "есть", "у", "вас", "там", "сейчас", "пожалуйста", "подскажите",
    "скажите", "бот", "по", "для", "что",
})  # fmt: skip

_NOUN = r"(?:ь|я|ю|ем|е|и|ей|ям|ями|ях|ов|ам|ами|ах|а|у|ом|ы)?\b"
_DEPUTIES = re.compile(r"\bзам\w* (?:руководител|директор|заведующ)\w*")
_ROLE_PATTERNS: tuple[tuple[re.Pattern[str], Role], ...] = (
    (re.compile(rf"\b(?:руководител|директор){_NOUN}|\bзаведующ\w*|\bадминистрац\w*"), Role.HEAD),
    (
        re.compile(rf"\b(?:координатор|завуч){_NOUN}|\bзаместител\w*|\bзамдиректор\w*"),
        Role.COORDINATOR,
    ),
    (re.compile(rf"\b(?:педагог|учител|преподавател){_NOUN}"), Role.TEACHER),
    (re.compile(rf"\bвоспитател{_NOUN}"), Role.PRESCHOOL),
    (re.compile(rf"\bметодист{_NOUN}"), Role.METHODIST),
)
_ORG_PATTERNS: tuple[tuple[re.Pattern[str], OrgKind], ...] = (
    (
        re.compile(
            rf"\bшкол\w*|\b(?:[гм]?б?оу|сош|гимнази{_NOUN})\b|\bлице(?:й|я|ю|ем|е|и|ев|ям|ях)\b"
        ),
        OrgKind.SCHOOL,
    ),
    (
        re.compile(
            rf"\bдетск\w* сад\w*|\bдетсад\w*|\bсадик\w*|\bсад{_NOUN}|\b[гм]?б?до[оу]\b|\bдошкол\w*"
        ),
        OrgKind.KINDERGARTEN,
    ),
    (
        re.compile(
            r"\bдоп(?:олнительн\w*)? образ\w*|\bдопобраз\w*|\bдоп\b|\b(?:удо|одод|ддт|цдо)\b"
        ),
        OrgKind.EXTRA,
    ),
)
_EVERYONE = re.compile(r"\bдля (?:всех|любых|каждого)\b")


def _first_window(s: str, today: date) -> _Window | None:
    found: list[tuple[int, int, _Window]] = []
    for order, (pattern, build) in enumerate(_WINDOWS):
        for match in pattern.finditer(s):
            window = build(today, match)
            if window is not None:
                found.append((match.start(), order, window))
                break
    return min(found, key=lambda f: (f[0], f[1]))[2] if found else None


def _audience(s: str) -> tuple[frozenset[Role], frozenset[OrgKind]]:
    orgs = frozenset(kind for pattern, kind in _ORG_PATTERNS if pattern.search(s))
    s = _DEPUTIES.sub("заместители", s)  # deputies of heads are not heads
    roles = frozenset(role for pattern, role in _ROLE_PATTERNS if pattern.search(s))
    return roles, orgs


def _only_audience(s: str) -> bool:
    """«Координаторам», «а детсадам?»: nothing but an audience and filler words."""
    for pattern, _ in (*_ORG_PATTERNS, *_ROLE_PATTERNS):
        s = pattern.sub(" ", s)
    return all(word in _FILLER for word in s.split())


def audience_label(roles: Iterable[Role], org_kinds: Iterable[OrgKind]) -> str:
    """«координаторов», «педагогов детских садов», «школ и детских садов»; all of both: «всех»."""
    roles, org_kinds = frozenset(roles), frozenset(org_kinds)
    if roles == frozenset(Role) and org_kinds == frozenset(OrgKind):
        return LABEL_FOR_EVERYONE
    role_words = [ROLE_GENITIVE[r] for r in Role if r in roles]
    org_words = [ORG_KIND_GENITIVE[k] for k in OrgKind if k in org_kinds]
    parts = [LABEL_AND.join(words) for words in (role_words, org_words) if words]
    return " ".join(parts)


def parse_next_query(text: str, today: date) -> NextQuery | None:
    """The window and audience a "what's next" question asks about; None for any other text."""
    s = _normalise(text)
    if not s or _OTHER_INTENT.search(s):
        return None
    window = _first_window(s, today)
    named = window is not None
    roles, orgs = _audience(s)
    if _EVERYONE.search(s):
        roles, orgs = frozenset(Role), frozenset(OrgKind)
    explicit = bool(roles or orgs)
    if window is None:
        upcoming = [m[0] for m in _UPCOMING.finditer(s)]
        if not upcoming and not (explicit and (_ASKS.search(s) or _only_audience(s))):
            return None  # «привет, я учитель» tells, does not ask
        only_events = all(_EVENTS_WORD.fullmatch(word) for word in upcoming)
        if not explicit and only_events and _THANKS.search(s):
            return None  # «спасибо за мероприятия» thanks, does not ask
        base = default_query(today)
        window = _Window(base.start, base.end, LABEL_EVENTS if explicit else base.label)
        named = False
    label = window.label
    if window.dated and school_year(window.start) != school_year(today):
        label += f" {window.start.year}"
    if explicit:
        label += " " + LABEL_FOR.format(audience=audience_label(roles, orgs))
    return NextQuery(window.start, window.end, roles, orgs, explicit, label, window_named=named)


# --- which items answer it -----------------------------------------------------------------------


def covers(item_start: date | None, item_end: date | None, query: NextQuery) -> bool:
    """Whether days from `item_start` to `item_end` (inclusive) meet the query's window.

    One missing end means a single day; both missing (an undated, ongoing activity) is never
    in a window: it has no days to show.
    """
    if item_start is None and item_end is None:
        return False
    start = item_start or item_end
    end = item_end or item_start
    assert start is not None and end is not None
    return start <= query.end and end >= query.start


def window_moments(query: NextQuery, tz: tzinfo) -> tuple[datetime, datetime]:
    """The window as moments for a database query: [local midnight of start, of the day after
    end)."""
    since = datetime.combine(query.start, time(), tz)
    until = datetime.combine(query.end + timedelta(days=1), time(), tz)
    return since, until


def item_days(item: Item, tz: tzinfo) -> tuple[date, date] | None:
    """The local days an item takes: an event's from starts_at to ends_at, else the plan period."""
    if item.starts_at is not None:
        start = _local_day(item.starts_at, tz)
        end = _local_day(item.ends_at, tz) if item.ends_at is not None else start
        return start, max(start, end)
    first = item.period_start or item.period_end
    last = item.period_end or item.period_start
    if first is None or last is None:
        return None
    return first, max(first, last)


def _local_day(moment: datetime, tz: tzinfo) -> date:
    return moment.astimezone(tz).date() if moment.tzinfo is not None else moment.date()


def wants(item: Item, query: NextQuery, role: Role | None, org_kind: OrgKind | None) -> bool:
    """Whether the item is for the audience asked about: what the question names, else the
    asker's own `role` and `org_kind`, each on its own. What neither names (an asker who has
    not said their role) does not narrow the answer."""
    roles = query.roles or (frozenset({role}) if role is not None else None)
    named_orgs = query.org_kinds or _implied_orgs(query.roles)
    orgs = named_orgs or (frozenset({org_kind}) if org_kind is not None else None)
    role_ok = roles is None or not item.audience_roles or bool(item.audience_roles & roles)
    org_ok = orgs is None or not item.audience_orgs or bool(item.audience_orgs & orgs)
    return role_ok and org_ok


def _implied_orgs(roles: frozenset[Role]) -> frozenset[OrgKind]:
    """«Для воспитателей» names kindergartens too: educators work nowhere else."""
    return frozenset({OrgKind.KINDERGARTEN}) if roles == {Role.PRESCHOOL} else frozenset()


def answer_items(
    items: Iterable[Item], query: NextQuery, tz: tzinfo
) -> tuple[list[Item], list[Item]]:
    """Items in the window: dated events by start, then ongoing plan activities covering it.

    Dated means the item has starts_at. Ongoing activities are listed narrowest period first:
    «март» says more about a March question than «в течение года» does.
    """
    dated: list[tuple[datetime, int, Item]] = []
    ongoing: list[tuple[int, date, int, Item]] = []
    for item in items:
        days = item_days(item, tz)
        if days is None or not covers(*days, query):
            continue
        if item.starts_at is not None:
            dated.append((item.starts_at, item.id, item))
            continue
        months = listed_months(item)
        if months is not None:
            # «Сентябрь, март, июнь»: only the named months count, not the gaps between them.
            spans = [(date(y, m, 1), _month_last_day(y, m)) for y, m in months]
            hits = [span for span in spans if covers(*span, query)]
            if not hits:
                continue
            days = hits[0]
        ongoing.append(((days[1] - days[0]).days, days[0], item.id, item))
    dated.sort(key=lambda entry: entry[:2])
    ongoing.sort(key=lambda entry: entry[:3])
    return [entry[-1] for entry in dated], [entry[-1] for entry in ongoing]


def listed_months(item: Item) -> list[tuple[int, int]] | None:
    """The (year, month) pairs of a plan row timed by listed months; None for other timing."""
    if not item.timing_json:
        return None
    try:
        timing = json.loads(item.timing_json)
    except ValueError:
        return None
    if not isinstance(timing, dict) or timing.get("kind") != "months":
        return None
    pairs = []
    for text in timing.get("months", []):
        year, _, month = str(text).partition("-")
        if year.isdigit() and month.isdigit():
            pairs.append((int(year), int(month)))
    return pairs


def _month_last_day(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


# --- the short answer ----------------------------------------------------------------------------

FIRST_SCREEN = 5  # entries on a screen of the answer
LONG_DAYS = 92  # a plan row running longer than a quarter runs "all year": folded
_IMC_ONLY = re.compile(r"имц|методист\w*|специалист\w*|сотрудник\w*|и")


def for_imc(item: Item) -> bool:
    """A plan row whose audience is the IMC itself («Для: ИМЦ»): its own work, not an event."""
    words = _normalise(item.audience_text or "").split()
    return "имц" in words and all(_IMC_ONLY.fullmatch(word) for word in words)


def exportable(item: Item) -> bool:
    """«В календарь» only for a real date or a single month, never for «в течение года»."""
    if item.starts_at is not None:
        return True
    first, last = item.period_start, item.period_end
    return (
        first is not None
        and last is not None
        and (first.year, first.month)
        == (
            last.year,
            last.month,
        )
    )


@dataclass(frozen=True)
class Answer:
    """A what's-next answer in the order it is shown.

    leading: dated events and plan rows of a month or a quarter, by date; year_long: plan rows
    running all year, one folded line on the first screen with a button to open them.
    When the question names a topic and something is about it (`topical`), leading holds only
    what is about it, the asker's own first, and year_long everything else in the window.
    """

    leading: list[Item]
    year_long: list[Item]
    # Items not for the asker's own role and organisation (or any with an audience, for an
    # asker who has not said theirs): their audience is worth a line, the asker's own is not.
    foreign: frozenset[int] = frozenset()
    topical: bool = False

    @property
    def items(self) -> list[Item]:
        return [*self.leading, *self.year_long]

    @property
    def main(self) -> list[Item]:
        """The entries paged from the first screen: the year-long rows if nothing else."""
        return self.leading or self.year_long

    @property
    def folded(self) -> list[Item]:
        return self.year_long if self.leading else []

    @property
    def shown(self) -> int:
        """How many entries the first screen lists."""
        return min(FIRST_SCREEN, len(self.main))


def build_answer(
    items: Iterable[Item],
    query: NextQuery,
    role: Role | None,
    org_kind: OrgKind | None,
    tz: tzinfo,
) -> Answer:
    """The items answering `query` for someone with `role` and `org_kind`, in answer order.

    The asker's own audience narrows what the question does not name; an item about a topic the
    question names is shown whoever it is for, the asker's own first. A named audience («для
    детских садов») narrows everything.
    """
    asked = set(query.topics)
    on_topic: list[tuple[tuple[object, ...], Item]] = []
    dated: list[tuple[tuple[object, ...], Item]] = []
    year_long: list[tuple[tuple[object, ...], Item]] = []
    for item in items:
        if for_imc(item):
            continue
        days = _days_in(item, query, tz)
        if days is None:
            continue
        span = (days[1] - days[0]).days
        is_dated = item.starts_at is not None or span <= LONG_DAYS
        moment = item.starts_at.astimezone(tz).timetz() if item.starts_at is not None else None
        order = (days[0], 0 if moment is not None else 1, str(moment or ""), span, item.id)
        mine = wants(item, query, role, org_kind)
        score = len(asked & item_topics(item)) if asked else 0
        if score:
            if not wants(item, query, None, None):
                continue  # only what the question names narrows what it is about
            on_topic.append(((-score, not mine, not is_dated, *order), item))
        elif not mine:
            continue
        elif is_dated:
            dated.append((order, item))
        else:
            year_long.append(((span, days[0], item.id), item))
    for group in (on_topic, dated, year_long):
        group.sort(key=lambda entry: entry[0])
    topical = bool(on_topic)
    if topical:
        leading = [item for _, item in on_topic]
        rest = [item for _, item in dated] + [item for _, item in year_long]
    else:
        leading = [item for _, item in dated]
        rest = [item for _, item in year_long]
    foreign = frozenset(
        item.id
        for item in (*leading, *rest)
        if (item.audience_roles or item.audience_orgs) and not item.is_for(role, org_kind)
    )
    return Answer(leading, rest, foreign, topical)


def _days_in(item: Item, query: NextQuery, tz: tzinfo) -> tuple[date, date] | None:
    """The item's days that meet the window: for rows timed by listed months, the first month
    named inside it; None if the item is not in the window."""
    days = item_days(item, tz)
    if days is None or not covers(*days, query):
        return None
    if item.starts_at is None:
        months = listed_months(item)
        if months is not None:
            spans = [(date(y, m, 1), _month_last_day(y, m)) for y, m in months]
            hits = [span for span in spans if covers(*span, query)]
            return hits[0] if hits else None
    return days


def describe_window(start: date, end: date, today: date) -> str | None:
    """A label for a window carried by a button: the month, the day or «Ближайшие…»; None when
    only the dates say it."""
    if start == today and (end - start).days + 1 in (DEFAULT_HORIZON_DAYS, TOPIC_HORIZON_DAYS):
        return LABEL_UPCOMING
    window: _Window | None = None
    if (
        (start.year, start.month) == (end.year, end.month)
        and end == _month_end(end.year, end.month)
        and (start.day == 1 or start == today)
    ):
        window = _month_window(today, end.year, end.month, whole=start.day == 1)
    elif start == end:
        window = _day(today, start.day, start.month, start.year)
    if window is None:
        return None
    label = window.label
    if school_year(window.start) != school_year(today):
        label += f" {window.start.year}"
    return label
