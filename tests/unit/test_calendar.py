"""«В календарь»: the .ics for an item, parsed back with icalendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar, Event

from bot.content.calendar import NoDatesError, can_export, event_ics, ics_filename
from bot.content.models import Item, ItemKind

MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
TITLE = "Семинар для координаторов инновационной деятельности образовательных учреждений района"
PLACE = "ИМЦ Центрального района, ул. Ленина, д. 5, каб. 12"


def _item(**fields: Any) -> Item:
    base: dict[str, Any] = {"id": 12, "kind": ItemKind.EVENT, "title": TITLE}
    return Item(**(base | fields))


def _event(data: bytes) -> Event:
    cal = Calendar.from_ical(data)
    events = cal.walk("VEVENT")
    assert len(events) == 1
    event = events[0]
    assert isinstance(event, Event)
    return event


TIMED = _item(
    starts_at=datetime(2027, 3, 15, 7, 0, tzinfo=UTC),  # 10:00 in Moscow
    ends_at=datetime(2027, 3, 15, 9, 30, tzinfo=UTC),
    place=PLACE,
    url="https://imc.example.ru/events/12",
    registration_url="https://forms.example.ru/seminar",
    body="Обсудим планы площадок на второе полугодие.\n\nВозьмите с собой программу.",
)


def test_timed_event_keeps_its_zone_and_fields() -> None:
    data = event_ics(TIMED, MSK, now=NOW)
    event = _event(data)
    assert str(event["uid"]) == "item-12@infozona"
    assert str(event["summary"]) == TITLE
    assert str(event["location"]) == PLACE
    assert str(event["url"]) == "https://imc.example.ru/events/12"
    assert event.decoded("dtstamp") == NOW
    start, end = event.decoded("dtstart"), event.decoded("dtend")
    assert start == datetime(2027, 3, 15, 10, 0, tzinfo=MSK)
    assert end == datetime(2027, 3, 15, 12, 30, tzinfo=MSK)
    assert event["dtstart"].params["TZID"] == "Europe/Moscow"
    assert b"DTSTART;TZID=Europe/Moscow:20270315T100000" in data
    cal = Calendar.from_ical(data)
    assert [str(tz["tzid"]) for tz in cal.walk("VTIMEZONE")] == ["Europe/Moscow"]
    assert str(cal["version"]) == "2.0" and str(cal["prodid"])

    description = str(event["description"])
    assert description.startswith("Обсудим планы площадок на второе полугодие.")
    assert "Регистрация: https://forms.example.ru/seminar" in description
    assert "Подробнее: https://imc.example.ru/events/12" in description

    alarms = event.walk("VALARM")
    assert len(alarms) == 1
    assert str(alarms[0]["action"]) == "DISPLAY"
    assert alarms[0].decoded("trigger") == timedelta(days=-1)


def test_output_is_deterministic_for_a_fixed_now() -> None:
    assert event_ics(TIMED, MSK, now=NOW) == event_ics(TIMED, MSK, now=NOW)
    later = event_ics(TIMED, MSK, now=NOW + timedelta(hours=1))
    assert later != event_ics(TIMED, MSK, now=NOW)
    assert _event(later)["uid"] == _event(event_ics(TIMED, MSK, now=NOW))["uid"]


def test_cyrillic_survives_long_lines_and_special_characters() -> None:
    item = _item(
        id=7,
        title="Акция «Педагогический опыт — району»; этап 2, часть 1 " * 3,
        place="Школа № 123; актовый зал, 2 этаж",
        starts_at=datetime(2027, 4, 2, 11, 0, tzinfo=UTC),
    )
    data = event_ics(item, MSK, now=NOW)
    assert all(len(line) <= 75 for line in data.split(b"\r\n"))  # folded by octets
    event = _event(data)
    assert str(event["summary"]) == " ".join(item.title.split())
    assert str(event["location"]) == "Школа № 123; актовый зал, 2 этаж"
    data.decode("utf-8")


def test_timed_event_without_end_lasts_an_hour() -> None:
    item = _item(starts_at=datetime(2027, 3, 15, 7, 0, tzinfo=UTC))
    event = _event(event_ics(item, MSK, now=NOW))
    assert event.decoded("dtend") - event.decoded("dtstart") == timedelta(hours=1)
    assert "location" not in event and "url" not in event and "description" not in event


def test_exact_day_without_time_is_all_day() -> None:
    # the plan import stores «20.12.2026» as local midnight
    item = _item(
        starts_at=datetime(2026, 12, 20, tzinfo=MSK),
        period_start=date(2026, 12, 20),
        period_end=date(2026, 12, 20),
    )
    data = event_ics(item, MSK, now=NOW)
    event = _event(data)
    assert event.decoded("dtstart") == date(2026, 12, 20)
    assert event.decoded("dtend") == date(2026, 12, 21)  # exclusive
    assert b"DTSTART;VALUE=DATE:20261220" in data
    assert not event.walk("VALARM")
    assert not Calendar.from_ical(data).walk("VTIMEZONE")


def test_midnight_utc_is_not_midnight_in_moscow() -> None:
    item = _item(starts_at=datetime(2026, 12, 20, tzinfo=UTC))  # 03:00 in Moscow
    event = _event(event_ics(item, MSK, now=NOW))
    assert event.decoded("dtstart") == datetime(2026, 12, 20, 3, 0, tzinfo=MSK)


def test_days_without_time_span_to_their_last_day() -> None:
    item = _item(
        starts_at=datetime(2027, 3, 22, tzinfo=MSK), ends_at=datetime(2027, 3, 24, tzinfo=MSK)
    )
    event = _event(event_ics(item, MSK, now=NOW))
    assert (event.decoded("dtstart"), event.decoded("dtend")) == (
        date(2027, 3, 22),
        date(2027, 3, 25),
    )


def test_ongoing_activity_covers_its_period() -> None:
    item = _item(
        id=3,
        title="Цикл обучающих мероприятий площадок",
        period_start=date(2026, 9, 1),
        period_end=date(2027, 6, 30),
        timing_text="Сентябрь 2026-июнь 2027",
    )
    event = _event(event_ics(item, MSK, now=NOW, domain="imc.example.ru"))
    assert str(event["uid"]) == "item-3@imc.example.ru"
    assert event.decoded("dtstart") == date(2026, 9, 1)
    assert event.decoded("dtend") == date(2027, 7, 1)
    assert not event.walk("VALARM")


@pytest.mark.parametrize("tz", [timezone(timedelta(hours=3)), UTC, ZoneInfo("UTC")])
def test_zone_without_a_name_or_utc_writes_utc(tz: tzinfo) -> None:
    data = event_ics(TIMED, tz, now=NOW)
    event = _event(data)
    assert event.decoded("dtstart") == datetime(2027, 3, 15, 7, 0, tzinfo=UTC)
    assert b"DTSTART:20270315T070000Z" in data
    assert not Calendar.from_ical(data).walk("VTIMEZONE")


def test_undated_item_has_no_calendar() -> None:
    item = _item(timing_text="По планам площадок")
    assert not can_export(item)
    assert can_export(TIMED)
    with pytest.raises(NoDatesError):
        event_ics(item, MSK, now=NOW)


def test_only_web_links_are_written() -> None:
    item = _item(
        starts_at=datetime(2027, 3, 15, 7, tzinfo=UTC),
        url="javascript:alert(1)",
        registration_url="tg://resolve?domain=x",
    )
    event = _event(event_ics(item, MSK, now=NOW))
    assert "url" not in event and "description" not in event


def test_filename_is_ascii() -> None:
    assert ics_filename(TIMED) == "infozona-event-12.ics"
    assert ics_filename(_item(id=5, kind=ItemKind.ANNOUNCEMENT)) == "infozona-announcement-5.ics"
    assert ics_filename(TIMED).isascii()
