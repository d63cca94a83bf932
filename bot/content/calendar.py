"""«В календарь»: an item as an RFC 5545 .ics file that phones and mail clients import.

Timing, as the item carries it:
- starts_at with a time of day (in the bot's zone) → DTSTART/DTEND with that zone's TZID and its
  VTIMEZONE, and a reminder (VALARM) a day before. Without ends_at the event lasts
  DEFAULT_DURATION: a zero-length event shows as a sliver or not at all in common calendars.
- starts_at at 00:00 local (an exact day, as the plan import stores it) → an all-day event;
  ends_at on a later day makes it span to that day, included.
- No starts_at, but a plan period (period_start/period_end) → an all-day event over the period.
DTEND of an all-day event is exclusive (the day after the last), as RFC 5545 says.
Only a zone with an IANA name has a VTIMEZONE; with UTC or a tzinfo without a name (a fixed
offset), times are written in UTC («…Z»), which every calendar shows in its own zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from icalendar import Alarm, Calendar, Event

from bot.content.digest import truncate_words
from bot.content.models import Item

PRODID = "-//IMC//Infozona bot//RU"
DEFAULT_DURATION = timedelta(hours=1)
REMIND_BEFORE = timedelta(days=1)
DESCRIPTION_EXCERPT = 600  # characters of the body; the rest is one tap away at the URL
# Russian words in the file: content/ sits below texts.py in the layers and cannot import it.
DESCRIPTION_REGISTRATION = "Регистрация: {url}"
DESCRIPTION_MORE = "Подробнее: {url}"
ALARM_TEXT = "Завтра: {title}"


class NoDatesError(ValueError):
    """The item has no day to put in a calendar (an undated activity «По планам площадок»)."""


@dataclass(frozen=True, slots=True)
class _Timing:
    start: date | datetime
    end: date | datetime
    timed: bool


def _local(moment: datetime, tz: tzinfo) -> datetime:
    if moment.tzinfo is None:  # naive: stored as UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(tz)


def _timing(item: Item, tz: tzinfo) -> _Timing | None:
    if item.starts_at is not None:
        start = _local(item.starts_at, tz)
        end = _local(item.ends_at, tz) if item.ends_at is not None else None
        if start.time() != time():
            if end is None or end <= start:
                end = start + DEFAULT_DURATION
            return _Timing(start, end, timed=True)
        last = end.date() if end is not None and end.date() > start.date() else start.date()
        return _Timing(start.date(), last + timedelta(days=1), timed=False)
    first = item.period_start or item.period_end
    last_day = item.period_end or item.period_start
    if first is None or last_day is None:
        return None
    return _Timing(first, max(first, last_day) + timedelta(days=1), timed=False)


def can_export(item: Item) -> bool:
    """Whether the item has days to put in a calendar: show «В календарь» only then."""
    return item.starts_at is not None or (item.period_start or item.period_end) is not None


def _web_url(url: str | None) -> str | None:
    return url if url and url.startswith(("https://", "http://")) else None


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _description(item: Item) -> str:
    parts = []
    if excerpt := truncate_words(item.body.strip(), DESCRIPTION_EXCERPT):
        parts.append(excerpt)
    if registration := _web_url(item.registration_url):
        parts.append(DESCRIPTION_REGISTRATION.format(url=registration))
    if more := _web_url(item.url):
        parts.append(DESCRIPTION_MORE.format(url=more))
    return "\n\n".join(parts)


def event_ics(item: Item, tz: tzinfo, *, now: datetime, domain: str = "infozona") -> bytes:
    """A calendar with one VEVENT for the item; the same item and `now` give the same bytes.

    The UID is stable per item, so importing the file again updates the event, not doubles it.
    Raises NoDatesError for an item without days (check with can_export first).
    """
    timing = _timing(item, tz)
    if timing is None:
        raise NoDatesError(f"item {item.id} has no dates")
    zoned = getattr(tz, "key", None) not in (None, "UTC", "Etc/UTC")
    if timing.timed and not zoned:
        assert isinstance(timing.start, datetime) and isinstance(timing.end, datetime)
        timing = _Timing(timing.start.astimezone(UTC), timing.end.astimezone(UTC), timed=True)
    title = _one_line(item.title)

    event = Event()
    event.add("uid", f"item-{item.id}@{domain}")
    event.add("dtstamp", _local(now, UTC))
    event.add("summary", title)
    event.add("dtstart", timing.start)
    event.add("dtend", timing.end)
    if item.place and (place := _one_line(item.place)):
        event.add("location", place)
    if url := _web_url(item.url):
        event.add("url", url)
    if description := _description(item):
        event.add("description", description)
    if timing.timed:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", ALARM_TEXT.format(title=title))
        alarm.add("trigger", -REMIND_BEFORE)
        event.add_component(alarm)

    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add_component(event)
    if timing.timed and zoned:
        # Only the days the event spans: the zone's whole history would be hundreds of lines.
        assert isinstance(timing.start, datetime) and isinstance(timing.end, datetime)
        cal.add_missing_timezones(
            first_date=timing.start.date(), last_date=timing.end.date() + timedelta(days=1)
        )
    ical: bytes = cal.to_ical()
    return ical


def ics_filename(item: Item) -> str:
    """«infozona-event-12.ics»: ASCII, so every client keeps the name."""
    return f"infozona-{item.kind.value}-{item.id}.ics"
