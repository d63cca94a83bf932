"""A moment written the way people write it: «15.12 10:00», «завтра в 9», «в понедельник 10:00»,
«через 2 часа». Pure: the caller passes `now`, and decides whether a past moment is acceptable."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

WEEKDAYS = {
    "понедельник": 0, "пн": 0,
    "вторник": 1, "вт": 1,
    "среда": 2, "среду": 2, "ср": 2,
    "четверг": 3, "чт": 3,
    "пятница": 4, "пятницу": 4, "пт": 4,
    "суббота": 5, "субботу": 5, "сб": 5,
    "воскресенье": 6, "вс": 6,
}  # fmt: skip
MONTHS = {
    "января": 1, "февраля": 2, "марта": 3, "апреля": 4, "мая": 5, "июня": 6,
    "июля": 7, "августа": 8, "сентября": 9, "октября": 10, "ноября": 11, "декабря": 12,
    # As people shorten them in a hurry: «10 дек 10:00», «3 сент. в 9».
    "янв": 1, "фев": 2, "февр": 2, "мар": 3, "апр": 4, "июн": 6, "июл": 7, "авг": 8,
    "сен": 9, "сент": 9, "окт": 10, "ноя": 11, "нояб": 11, "дек": 12,
}  # fmt: skip
RELATIVE_DAYS = {"сегодня": 0, "завтра": 1, "послезавтра": 2}

_TIME = (
    r"(?:в\s+)?(?P<hour>\d{1,2})(?:[:.](?P<minute>\d{2}))?(?:\s*(?P<part>утра|дня|вечера|ночи))?"
)
_NUMERIC_DATE = re.compile(
    r"(?P<day>\d{1,2})[./](?P<month>\d{1,2})(?:[./](?P<year>\d{2}|\d{4}))?\s*,?\s+" + _TIME
)
_WORDED_DATE = re.compile(
    r"(?P<day>\d{1,2})\s+(?P<month>"
    + "|".join(sorted(MONTHS, key=len, reverse=True))
    + r")\.?(?:\s+(?P<year>\d{4}))?(?:\s+года?)?\s*,?\s+"
    + _TIME
)
_DAY_WORD = re.compile(r"(?P<word>" + "|".join(RELATIVE_DAYS) + r")\s*,?\s+" + _TIME)
_WEEKDAY = re.compile(
    r"(?:(?:в|во)\s+)?(?:(?:следующ\w+|ближайш\w+)\s+)?(?P<word>"
    + "|".join(sorted(WEEKDAYS, key=len, reverse=True))
    + r")\s*,?\s+"
    + _TIME
)
_IN = re.compile(r"через\s+(?P<count>\d{1,9}\s+)?(?P<unit>минут\w*|час\w*|дн\w*|день)")


def _time(match: re.Match[str]) -> time | None:
    hour = int(match["hour"])
    minute = int(match["minute"] or 0)
    part = match["part"]
    if part in ("дня", "вечера") and hour < 12:
        hour += 12
    elif part == "ночи" and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def _at(day: date, moment: time, now: datetime) -> datetime:
    return datetime.combine(day, moment, tzinfo=now.tzinfo)


def _dated(match: re.Match[str], month: int, now: datetime) -> datetime | None:
    moment = _time(match)
    if moment is None:
        return None
    year_text = match["year"]
    year = (
        (2000 + int(year_text) if len(year_text) == 2 else int(year_text)) if year_text else None
    )
    try:
        day = date(year or now.year, month, int(match["day"]))
        if year is None and day < now.date():
            # «15.01» written in December means next January.
            day = date(now.year + 1, month, int(match["day"]))
    except ValueError:
        return None
    return _at(day, moment, now)


def lacks_time(text: str, now: datetime) -> bool:
    """`text` names a day but no time of day («10.12», «10 декабря», «завтра»)."""
    return (
        parse_when(text, now) is None and parse_when(f"{text.strip(' .!')} 10:00", now) is not None
    )


def parse_when(text: str, now: datetime) -> datetime | None:
    """The moment `text` names, aware in `now`'s time zone; None if it names none.

    A date without a year is the next such date (today included); a weekday is the next one
    (today if its time is still ahead). The result may be in the past: the caller refuses it.
    """
    cleaned = " ".join(text.lower().replace("ё", "е").split()).strip(" .!")
    local = now
    if match := _NUMERIC_DATE.fullmatch(cleaned):
        month = int(match["month"])
        return _dated(match, month, local) if 1 <= month <= 12 else None
    if match := _WORDED_DATE.fullmatch(cleaned):
        return _dated(match, MONTHS[match["month"]], local)
    if match := _DAY_WORD.fullmatch(cleaned):
        moment = _time(match)
        if moment is None:
            return None
        return _at(local.date() + timedelta(days=RELATIVE_DAYS[match["word"]]), moment, local)
    if match := _WEEKDAY.fullmatch(cleaned):
        moment = _time(match)
        if moment is None:
            return None
        ahead = (WEEKDAYS[match["word"]] - local.weekday()) % 7
        result = _at(local.date() + timedelta(days=ahead), moment, local)
        return result if result > local else result + timedelta(days=7)
    if match := _IN.fullmatch(cleaned):
        count = int(match["count"] or 1)
        unit = match["unit"]
        if unit.startswith("минут"):
            delta = timedelta(minutes=count)
        elif unit.startswith("час"):
            delta = timedelta(hours=count)
        else:
            delta = timedelta(days=count)
        try:
            return (local + delta).replace(second=0, microsecond=0)
        except OverflowError:  # «через 999999999 дней»: past the last date there is
            return None
    return None
