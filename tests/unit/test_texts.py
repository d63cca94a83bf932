from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot import texts
from bot.content.models import (
    Frequency,
    Item,
    ItemKind,
    OrgKind,
    Role,
    Subscriber,
    SubscriberStatus,
    Topic,
)

MSK = ZoneInfo("Europe/Moscow")


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (0, "0 мероприятий"),
        (1, "1 мероприятие"),
        (2, "2 мероприятия"),
        (4, "4 мероприятия"),
        (5, "5 мероприятий"),
        (11, "11 мероприятий"),
        (12, "12 мероприятий"),
        (14, "14 мероприятий"),
        (21, "21 мероприятие"),
        (22, "22 мероприятия"),
        (101, "101 мероприятие"),
        (111, "111 мероприятий"),
        (1200, "1\u00a0200 мероприятий"),
    ],
)
def test_count_uses_russian_plural_forms(n: int, expected: str) -> None:
    assert texts.count(n, "мероприятие", "мероприятия", "мероприятий") == expected


def test_dates_read_the_way_people_write_them() -> None:
    assert texts.format_date(date(2027, 3, 19)) == "пт, 19 марта"
    assert texts.format_date(datetime(2027, 3, 15, 10, 0, tzinfo=MSK)) == "пн, 15 марта, 10:00"
    assert texts.format_date(datetime(2027, 3, 15, 0, 0, tzinfo=MSK)) == "пн, 15 марта"
    assert texts.format_range(date(2027, 3, 1), date(2027, 3, 15)) == "с 1 по 15 марта"
    assert texts.format_range(date(2027, 2, 28), date(2027, 3, 3)) == "с 28 февраля по 3 марта"
    assert texts.in_month(3) == "в марте"


def test_profile_keeps_user_text_as_plain_text() -> None:
    subscriber = Subscriber(
        chat_id=1,
        name="<b>Анна</b>",
        username=None,
        role=Role.PRESCHOOL,
        org_kind=OrgKind.KINDERGARTEN,
        org_name="ДОУ <№ 5> & *ко*",
        topics=frozenset({Topic.EVENTS, Topic.CASES}),
        frequency=Frequency.DAILY,
        status=SubscriberStatus.ACTIVE,
    )
    text, entities = texts.profile(subscriber).render()
    assert "Детский сад, ДОУ <№ 5> & *ко*" in text
    assert "Воспитатель детского сада" in text
    assert "мероприятия, опыт площадок" in text
    assert "каждый рабочий день" in text
    # Only the bot's own keys are bold; the organisation name carries no entity.
    org_offset = text.index("ДОУ")
    assert all(not (e.offset <= org_offset < e.offset + e.length) for e in entities)


def test_every_command_in_the_menu_is_described_in_help() -> None:
    help_text, _ = texts.help_text(is_editor=False).render()
    for command in texts.SUBSCRIBER_COMMANDS:
        assert f"/{command.command}" in help_text
    assert "/stats" not in help_text
    assert "/stats" in texts.help_text(is_editor=True).render()[0]


def test_a_reminder_says_when_it_comes_from_today() -> None:
    """Said on Tuesday 1 December: an event on Wednesday is reminded of tonight."""
    tz = MSK
    today = date(2026, 12, 1)

    def event_on(day: date) -> Item:
        return Item(0, ItemKind.EVENT, "Семинар", starts_at=datetime.combine(day, time(10), tz))

    assert texts.reminder_day(event_on(date(2026, 12, 2)), tz, today) == "сегодня вечером"
    assert texts.reminder_day(event_on(date(2026, 12, 3)), tz, today) == "завтра вечером"
    assert (
        texts.reminder_day(event_on(date(2026, 12, 8)), tz, today)
        == "вечером накануне, пн, 7 декабря"
    )
