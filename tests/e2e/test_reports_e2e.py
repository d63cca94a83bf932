"""/stats shows the figures of a seeded database (a summary under the picture, the sections
behind «Подробнее»); typed /export commands send CSV files Excel opens."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Any

from bot.content.models import Item, ItemKind, ItemStatus
from bot.storage.db import utcnow
from bot.storage.editors import AuditRepository
from bot.storage.feedback import FeedbackRepository
from bot.storage.items import ItemRepository
from bot.storage.reminders import ReminderRepository
from bot.storage.schema import campaigns, deliveries, subscribers
from tests.support.harness import EDITOR_ID, Person, RunningBot

PEOPLE = [
    # chat id, name, username, role, org kind, org name, days ago
    (2001, "Ирина Петровна", "irina", "head", "school", "Школа №5", 0),
    (2002, "Ольга", None, "preschool", "kindergarten", "Детский сад «Ромашка»", 0),
    (2003, '=HYPERLINK("x")', None, "teacher", "school", None, 14),
    (2004, "Сергей", "sergey", "methodist", "extra", "ДДТ", 14),
    (2005, "Мария", None, "teacher", "school", "Гимназия 1", 14),
    (2006, "Давний", None, "other", "other", None, 100),
]
# Pressed /start two days ago and never answered the questions: not a subscriber.
VISITOR = (2007, "Гость", "guest", 2)


async def seed(running_bot: RunningBot) -> dict[str, Any]:
    engine = running_bot.engine
    now = utcnow()
    async with engine.begin() as conn:
        for chat_id, name, username, role, org_kind, org_name, days in PEOPLE:
            at = now - timedelta(days=days)
            await conn.execute(
                subscribers.insert().values(
                    chat_id=chat_id, name=name, username=username, role=role,
                    org_kind=org_kind, org_name=org_name, topics="events,materials",
                    frequency="weekly", status="blocked" if chat_id == 2005 else "active",
                    source="src_school5" if chat_id == 2001 else None,
                    created_at=at, updated_at=at, onboarded_at=at,
                )
            )  # fmt: skip
        chat_id, name, username, days = VISITOR
        at = now - timedelta(days=days)
        await conn.execute(
            subscribers.insert().values(
                chat_id=chat_id, name=name, username=username, topics="events,materials",
                frequency="weekly", status="active", created_at=at, updated_at=at,
            )
        )  # fmt: skip
        campaign_id = (
            await conn.execute(
                campaigns.insert()
                .values(key="post:test", kind="post", title="Семинар координаторов",
                        status="sending", total=4, created_at=now - timedelta(days=1))
                .returning(campaigns.c.id)
            )
        ).scalar_one()  # fmt: skip
        # The pending one is due next year: the running sender leaves it alone.
        later = now + timedelta(days=365)
        for chat_id, status in (
            (2001, "sent"),
            (2002, "sent"),
            (2005, "blocked"),
            (2004, "pending"),
        ):
            await conn.execute(
                deliveries.insert().values(
                    campaign_id=campaign_id, chat_id=chat_id, status=status, next_attempt_at=later
                )
            )
    items = ItemRepository(engine)
    tz = running_bot.settings.tz
    soon = datetime.now(tz).replace(hour=10, minute=0, second=0, microsecond=0)
    council = await items.add(
        Item(0, ItemKind.EVENT, "Заседание Экспертного совета", status=ItemStatus.APPROVED,
             starts_at=soon + timedelta(days=5))
    )  # fmt: skip
    lonely = await items.add(
        Item(0, ItemKind.EVENT, "Семинар для воспитателей", status=ItemStatus.APPROVED,
             starts_at=soon + timedelta(days=9))
    )  # fmt: skip
    material = await items.add(
        Item(0, ItemKind.MATERIAL, "Сборник практик", status=ItemStatus.APPROVED,
             approved_at=now)
    )  # fmt: skip
    reminders = ReminderRepository(engine)
    await reminders.add(council.id, 2001, now=now - timedelta(hours=2))
    await reminders.add(council.id, 2002, now=now - timedelta(hours=1))
    feedback = FeedbackRepository(engine)
    await feedback.record(material.id, 2001, True)
    await feedback.record(material.id, 2002, True)
    await feedback.record(material.id, 2004, False)
    return {"council": council, "lonely": lonely, "material": material}


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "Excel needs the BOM to read UTF-8"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))


async def more(editor: Person, stats: dict[str, Any], label: str) -> str:
    """The text a «Подробнее» button under /stats answers with."""
    _, detail = await editor.tap(stats, label, expect="send")
    return str(detail["text"])


async def test_stats_show_the_seeded_figures(running_bot: RunningBot) -> None:
    made = await seed(running_bot)
    editor = running_bot.person(EDITOR_ID, "Редактор")
    [stats] = await editor.say("/stats")
    caption = stats["caption"]
    assert "6 подписчиков: активны 5, на паузе 0, заблокировали бота 1" in caption
    assert "Не завершили регистрацию: 1" in caption
    assert "Новые за 8 недель: 5, на этой неделе: 2" in caption
    assert "Последняя рассылка: «Семинар координаторов» (пост, " in caption
    assert "доставлено 2 из 4" in caption
    assert "«Заседание Экспертного совета», «Напомнить»: 2" in caption
    assert "👍 2 · 🙅 1" in caption
    assert any(e["type"] == "bold" for e in stats["caption_entities"])

    subscribers_text = await more(editor, stats, "Подписчики")
    assert "Всего 6 подписчиков" in subscribers_text
    assert "заблокировали бота 1" in subscribers_text
    assert "Не завершили регистрацию: 1" in subscribers_text
    tz = running_bot.settings.tz
    today = datetime.now(tz).date()
    monday = today - timedelta(days=today.weekday())
    assert "Новые за 8 недель: 5" in subscribers_text
    assert f"{monday:%d.%m} ▇▇▇▇▇▇▇▇ 2" in subscribers_text  # two this week, three earlier

    campaigns_text = await more(editor, stats, "Рассылки")
    assert "«Семинар координаторов» (пост, " in campaigns_text
    assert "✓ 2 · ⛔ 1 · ⚠ 0 · ⏳ 1 из 4" in campaigns_text

    events_text = await more(editor, stats, "Мероприятия")
    assert f"№{made['council'].id} " in events_text
    assert "«Заседание Экспертного совета»: 2 нажатия" in events_text
    assert "«Семинар для воспитателей»: 0 нажатий" in events_text

    feedback_text = await more(editor, stats, "Отзывы")
    assert "«Сборник практик» (материал): 👍 2 · 🙅 1" in feedback_text


async def test_editor_exports_subscribers_as_csv(running_bot: RunningBot) -> None:
    await seed(running_bot)
    editor = running_bot.person(EDITOR_ID, "Редактор")
    [usage] = await editor.say("/export всех")
    assert "/export subscribers" in usage["text"] and "/export rsvp" in usage["text"]

    [document] = await editor.say("/export subscribers")
    assert document["document"]["file_name"].startswith("infozona-subscribers-")
    assert document["document"]["file_name"].endswith(".csv")
    assert "6 человек; не завершили регистрацию: 1" in document["caption"]
    rows = read_csv(running_bot.emu.file_content(document))
    assert rows[0][:4] == ["ID", "Имя", "Username", "Роль"]
    by_id = {row[0]: row for row in rows[1:]}
    assert len(rows) == 8 and set(by_id) == {str(p[0]) for p in PEOPLE} | {str(VISITOR[0])}
    irina = by_id["2001"]
    assert irina[1:10] == [
        "Ирина Петровна", "irina", "Руководитель", "Школа", "Школа №5",
        "Методические материалы, Мероприятия", "Раз в неделю", "рассылка включена", "src_school5",
    ]  # fmt: skip
    assert by_id["2002"][5] == "Детский сад «Ромашка»"
    assert by_id["2005"][8] == "бот заблокирован"
    # A name that looks like a formula stays text in Excel.
    assert by_id["2003"][1] == '\'=HYPERLINK("x")'
    # The visitor who never finished sign-up is said so, last, and gets nothing.
    assert rows[-1][0] == str(VISITOR[0])
    assert rows[-1][6:9] == ["", "", "не завершил(а) регистрацию"]

    await running_bot.handled(
        lambda u: u.message is not None and u.message.text == "/export subscribers"
    )
    log = await AuditRepository(running_bot.engine).recent()
    assert (EDITOR_ID, "/export", True, "/export subscribers") in [
        (e.actor_id, e.action, e.allowed, e.details) for e in log
    ]


async def test_editor_exports_who_pressed_remind(running_bot: RunningBot) -> None:
    made = await seed(running_bot)
    editor = running_bot.person(EDITOR_ID, "Редактор")
    council = made["council"]
    [document] = await editor.say(f"/export rsvp {council.id}")
    starts = council.starts_at.astimezone(running_bot.settings.tz)
    assert document["document"]["file_name"] == f"infozona-rsvp-{council.id}-{starts:%Y-%m-%d}.csv"
    assert "«Заседание Экспертного совета»" in document["caption"]
    assert "2 человека" in document["caption"]
    rows = read_csv(running_bot.emu.file_content(document))
    assert rows[0] == ["Мероприятие", "Заседание Экспертного совета", f"{starts:%d.%m.%Y %H:%M}"]
    assert rows[1] == ["ID чата", "Имя", "Организация", "Нажал «Напомнить»"]
    assert [row[:3] for row in rows[2:]] == [
        ["2001", "Ирина Петровна", "Школа №5"],
        ["2002", "Ольга", "Детский сад «Ромашка»"],
    ]

    [unknown] = await editor.say("/export rsvp 99999")
    assert "Мероприятия №99999 нет" in unknown["text"]
    [material] = await editor.say(f"/export rsvp {made['material'].id}")
    assert "нет" in material["text"]
    [bad] = await editor.say("/export rsvp завтра")
    assert "цифрами" in bad["text"]


async def test_a_non_editor_cannot_export(running_bot: RunningBot) -> None:
    await seed(running_bot)
    stranger = running_bot.person(2001, "Ирина Петровна")
    [refusal] = await stranger.say("/export subscribers")
    assert "для редакторов" in refusal["text"]
    assert not running_bot.emu.calls_of("sendDocument")
    log = await AuditRepository(running_bot.engine).recent()
    assert [(e.actor_id, e.action, e.allowed) for e in log] == [(2001, "/export", False)]
