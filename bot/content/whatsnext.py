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
  written.
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
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from bot.content.models import Item, OrgKind, Role

DEFAULT_HORIZON_DAYS = 30  # `/next` and «что дальше?»: today and the 29 days after it

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


def default_query(today: date) -> NextQuery:
    """`/next`: the next DEFAULT_HORIZON_DAYS days, today included, for the asker's audience."""
    end = today + timedelta(days=DEFAULT_HORIZON_DAYS - 1)
    return NextQuery(today, end, frozenset(), frozenset(), False, LABEL_UPCOMING)


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


def _month_window(today: date, year: int, month: int) -> _Window:
    start = max(today, date(year, month, 1))
    label = LABEL_MONTH.format(month=MONTHS_PREPOSITIONAL[month - 1])
    return _Window(start, _month_end(year, month), label)


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
            return _Window(moment, moment, label)
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
    label = window.label
    if explicit:
        label += " " + LABEL_FOR.format(audience=audience_label(roles, orgs))
    return NextQuery(window.start, window.end, roles, orgs, explicit, label)


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
    orgs = query.org_kinds or (frozenset({org_kind}) if org_kind is not None else None)
    role_ok = roles is None or not item.audience_roles or bool(item.audience_roles & roles)
    org_ok = orgs is None or not item.audience_orgs or bool(item.audience_orgs & orgs)
    return role_ok and org_ok


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
