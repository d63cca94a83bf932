"""A digest you can act on, without a bot: the plan's activities of the fortnight, the buttons
under each message, the picture, and how the transport makes them Telegram's."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot import texts
from bot.content.digest import (
    DigestContent,
    DigestPool,
    pack_indexed,
    plan_begins,
    select_content,
    weekly_period,
)
from bot.content.formatting import Bold, BotLink, as_list
from bot.content.models import (
    Button,
    ButtonAction,
    Frequency,
    Item,
    ItemKind,
    ItemStatus,
    MessagePart,
    Role,
    Topic,
)
from bot.storage.campaigns import decode_parts, encode_parts
from bot.telegram import keyboards as kb
from bot.telegram.callbacks import DigestAction, DigestDo, Remind
from bot.telegram.transport import entities, prepare
from tests.unit.test_digest import RUN, WEEK, event, group, material

MSK = ZoneInfo("Europe/Moscow")
TODAY = RUN.date()  # Monday 30 November 2026


def plan_row(item_id: int, first: date, last: date, **fields: object) -> Item:
    values: dict[str, object] = {
        "title": f"Пункт плана {item_id}",
        "status": ItemStatus.APPROVED,
        "approved_at": RUN - timedelta(days=60),
        "source_key": f"plan:2026-2027:{item_id}",
        "period_start": first,
        "period_end": last,
    }
    values.update(fields)
    return Item(item_id, ItemKind.EVENT, **values)  # type: ignore[arg-type]


def test_plan_activities_beginning_in_the_fortnight_come_in_the_digest() -> None:
    soon = plan_row(1, TODAY + timedelta(days=3), TODAY + timedelta(days=10))
    month = plan_row(2, date(2026, 12, 1), date(2026, 12, 31))
    year_long = plan_row(3, date(2026, 9, 1), date(2027, 6, 30))  # «в течение года»
    begun = plan_row(4, TODAY - timedelta(days=2), TODAY + timedelta(days=5))
    later = plan_row(5, TODAY + timedelta(days=20), TODAY + timedelta(days=25))
    quarter = plan_row(6, date(2026, 12, 1), date(2027, 2, 28))
    listed = plan_row(
        7, date(2026, 9, 1), date(2027, 6, 30),
        timing_json=json.dumps({"kind": "months", "months": ["2026-09", "2026-12", "2027-03"]}),
    )  # fmt: skip
    draft = plan_row(8, TODAY + timedelta(days=3), TODAY + timedelta(days=4), status="draft")
    imc_only = plan_row(9, TODAY + timedelta(days=1), TODAY + timedelta(days=2),
                        audience_roles=frozenset({Role.METHODIST}))  # fmt: skip
    rows = [soon, month, year_long, begun, later, quarter, listed, draft, imc_only]
    pool = DigestPool.gather(rows, WEEK, RUN, tz=MSK)
    assert [i.id for i in pool.plans] == [2, 7, 9, 1]  # the soonest beginning first
    assert plan_begins(listed, TODAY, TODAY + timedelta(days=14)) == date(2026, 12, 1)
    teacher = select_content(pool, group())
    assert [i.id for i in teacher.plans] == [2, 7, 1]  # the IMC's own rows are its staff's
    assert select_content(pool, group(topics=frozenset({Topic.MATERIALS}))).empty
    # A daily digest keeps those beginning within two days (or new since the last one).
    daily = DigestPool.gather(rows, WEEK, RUN, Frequency.DAILY, tz=MSK)
    assert [i.id for i in daily.plans] == [2, 7, 9]


def test_buttons_under_each_message_and_the_last_row() -> None:
    content = DigestContent(
        materials=(material(1), material(2, image_url="https://school.example/a.jpg")),
        events=(
            event(10, title="Сегодня днём", starts_at=RUN + timedelta(hours=4)),
            event(11, title="Семинар для координаторов экспериментальных площадок района"),
            event(12, title="Фестиваль"),
        ),
    )
    (part,) = texts.digest_messages(content, Frequency.WEEKLY, WEEK, MSK)
    assert part.buttons == (
        (Button("⏰ Напомнить: Семинар для координаторов…", ButtonAction.REMIND, 11),),
        (Button("⏰ Напомнить: Фестиваль", ButtonAction.REMIND, 12),),
        (Button("⚙️ Настройки", ButtonAction.SETTINGS), Button("⏸ Пауза", ButtonAction.PAUSE)),
    )  # an event on the issue's own day: a reminder would come too late
    assert part.preview_url == "https://school.example/a.jpg"


def test_a_long_digest_has_reminders_per_message_and_the_last_row_once() -> None:
    content = DigestContent(
        materials=tuple(material(n, body="Описание материала " * 20) for n in range(30)),
        events=tuple(event(100 + n, days_ahead=2 + n / 10) for n in range(40)),
    )
    parts = texts.digest_messages(content, Frequency.WEEKLY, WEEK, MSK)
    assert len(parts) > 2
    last_rows = [p.buttons[-1] for p in parts if p.buttons]
    assert last_rows.count(texts.DIGEST_LAST_ROW) == 1 and parts[-1].buttons[-1] == last_rows[-1]
    for part in parts:
        reminders = [
            row[0].item_id for row in part.buttons if row[0].action is ButtonAction.REMIND
        ]
        assert len(reminders) <= texts.DIGEST_REMIND_MAX
        for item_id in reminders:  # a reminder sits under the message that lists the event
            assert f"Мероприятие {item_id}\n" in part.text + "\n"
        assert sum(len(row) for row in part.buttons) <= 100
    assert all(p.preview_url is None for p in parts)  # no item has a picture


def test_a_message_ends_before_telegram_would_drop_entities() -> None:
    block = as_list(Bold("a"), Bold("b"), Bold("c")).as_part()  # three entities
    packed = pack_indexed([block] * 50, entities_limit=100)
    assert [len(held) for _, held in packed] == [33, 17]
    assert all(len(part.entities) <= 100 for part, _ in packed)


def test_parts_keep_their_buttons_and_preview_in_the_outbox() -> None:
    part = MessagePart(
        "Дайджест",
        buttons=(
            (Button("⏰ Напомнить: Семинар", ButtonAction.REMIND, 7),),
            texts.DIGEST_LAST_ROW,
        ),
        preview_url="https://school.example/a.jpg",
    )
    plain = MessagePart("Пост")
    stored = encode_parts([part, plain])
    assert decode_parts(stored) == (part, plain)
    assert json.loads(stored)[1] == {"text": "Пост"}  # nothing unset is stored


def test_the_transport_makes_links_into_the_bot_and_buttons_telegrams() -> None:
    part = as_list(Bold(BotLink("Семинар", payload="item_12")), "Подробнее").as_part()
    (link,) = [e for e in entities(part, "infozona_bot") or [] if e.type == "text_link"]
    assert link.url == "https://t.me/infozona_bot?start=item_12"
    assert link.offset == 0 and link.length == len("Семинар")
    # Without the bot's name (never in practice), the title stays plain rather than broken.
    assert [e.type for e in entities(part) or []] == ["bold"]

    digest = MessagePart(
        "Дайджест",
        buttons=(
            (Button("⏰ Напомнить: Семинар", ButtonAction.REMIND, 12),),
            texts.DIGEST_LAST_ROW,
        ),
        preview_url="https://school.example/a.jpg",
    )
    prepared = prepare(digest)
    assert prepared.markup is not None
    rows = [[(b.text, b.callback_data) for b in row] for row in prepared.markup.inline_keyboard]
    assert rows == [
        [("⏰ Напомнить: Семинар", Remind(item_id=12).pack())],
        [
            ("⚙️ Настройки", DigestDo(action=DigestAction.SETTINGS).pack()),
            ("⏸ Пауза", DigestDo(action=DigestAction.PAUSE).pack()),
        ],
    ]
    assert prepared.preview.url == "https://school.example/a.jpg"
    assert prepared.preview.is_disabled is False and prepared.preview.show_above_text
    assert prepare(MessagePart("Пост")).markup is None
    assert prepare(MessagePart("Пост")).preview.is_disabled is True


def test_pause_turns_into_resume_and_back_keeping_the_other_buttons() -> None:
    markup = prepare(
        MessagePart(
            "Дайджест",
            buttons=(
                (Button("⏰ Напомнить: Семинар", ButtonAction.REMIND, 12),),
                texts.DIGEST_LAST_ROW,
            ),
        )
    ).markup
    assert markup is not None
    paused = kb.digest_paused(markup, paused=True)
    assert [b.text for row in paused.inline_keyboard for b in row] == [
        "⏰ Напомнить: Семинар", "⚙️ Настройки", "▶️ Возобновить рассылку",
    ]  # fmt: skip
    assert paused.inline_keyboard[-1][-1].callback_data == "dg1:r"
    again = kb.digest_paused(paused, paused=False)
    assert [b.callback_data for b in again.inline_keyboard[-1]] == ["dg1:s", "dg1:p"]


def test_the_title_gives_the_issue_own_days_in_local_time() -> None:
    late = weekly_period(datetime(2026, 11, 29, 22, 30, tzinfo=UTC))  # Monday 01:30 in Moscow
    assert texts.digest_title(Frequency.WEEKLY, late, MSK).endswith("· 30 ноября – 6 декабря")
