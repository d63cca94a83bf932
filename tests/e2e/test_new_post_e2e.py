"""/new through the running bot: an editor writes a post on the phone and it reaches people."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bot.content.models import Item, ItemKind, ItemStatus
from bot.services.publishing import post_parts
from bot.storage.editors import AuditRepository
from bot.storage.items import ItemRepository
from bot.storage.schema import items
from tests.support.emulator import BotAPIEmulator
from tests.support.harness import (
    EDITOR_ID,
    Person,
    RunningBot,
    bot_running,
    subscribe,
)

CHANNEL_ID = -1001234567890
TITLE = "Семинар переносится"
BODY = "Важно: семинар для координаторов пройдёт в ауд. 12."


@pytest.fixture
async def bot_with_channel(emu: BotAPIEmulator, tmp_path: Path) -> AsyncIterator[RunningBot]:
    emu.chat(CHANNEL_ID, type="channel", title="Инфозона")
    async with bot_running(emu, tmp_path, channel_id=CHANNEL_ID) as running:
        yield running


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _entity_text(message: dict[str, Any], kind: str) -> list[str]:
    """The pieces of a message's text under entities of a kind."""
    raw = message["text"].encode("utf-16-le")
    return [
        raw[2 * e["offset"] : 2 * (e["offset"] + e["length"])].decode("utf-16-le")
        for e in message.get("entities", [])
        if e["type"] == kind
    ]


async def _start(editor: Person, kind: str) -> dict[str, Any]:
    [prompt] = await editor.say("/new")
    assert "Новая публикация" in prompt["text"]
    _, step = await editor.tap(prompt, kind)
    assert "Первая строка станет заголовком" in step["text"]
    return step


async def _send_text(editor: Person, text: str, entities: list[dict[str, Any]]) -> dict[str, Any]:
    """The post's text sent; the bot says what it understood, then asks the next step."""
    editor.emu.mark()
    editor.emu.send_message(editor.id, text, entities=entities)
    understood = await editor.emu.next_message(editor.id)
    assert understood["text"].startswith(f"Понял: «{text.partition(chr(10))[0]}»")
    return await editor.emu.next_message(editor.id)


async def test_an_announcement_published_now_reaches_its_subscribers_formatting_intact(
    running_bot: RunningBot,
) -> None:
    emu = running_bot.emu
    first, second, quiet = (running_bot.person(i, "Учитель") for i in (2101, 2102, 2103))
    for person in (first, second):
        await subscribe(person, topics_off=(), frequency="Раз в неделю")
    await subscribe(quiet, topics_off=("Объявления ИМЦ",), frequency="Раз в неделю")
    editor = running_bot.person(EDITOR_ID, "Редактор")

    await _start(editor, "Объявление")
    text = f"{TITLE}\n\n{BODY}"
    bold_at = text.index("семинар")
    bold = {"type": "bold", "offset": _utf16(text[:bold_at]), "length": len("семинар")}
    audience = await _send_text(editor, text, [bold])
    assert "Кому?" in audience["text"]
    _, audience = await editor.tap(audience, "Всем")
    _, when = await editor.tap(audience, "Готово")
    assert "Когда опубликовать?" in when["text"]
    emu.mark()
    emu.press(EDITOR_ID, when, emu.button_data(when, "Сейчас"))
    preview = await emu.next_message(EDITOR_ID)
    summary = await emu.next_message(EDITOR_ID)
    assert preview["text"] == f"📢 {TITLE}\n\n{BODY}"
    assert _entity_text(preview, "bold") == [TITLE, "семинар"]
    assert "Кому: всем подписчикам" in summary["text"] and "Когда: сейчас" in summary["text"]

    emu.mark()
    emu.press(EDITOR_ID, summary, emu.button_data(summary, "Опубликовать"))
    for person in (first, second):
        post = await emu.next_message(person.id)
        assert post["text"] == preview["text"]
        assert _entity_text(post, "bold") == [TITLE, "семинар"]
    report = await emu.wait_for(
        lambda c: (
            c.method == "editMessageText"
            and c.chat_id == EDITOR_ID
            and "завершена" in str(c.params.get("text"))
        )
    )
    assert "доставлено 2 из 2" in str(report.params["text"])
    assert "Публикую" in emu.message(EDITOR_ID, summary["message_id"])["text"]
    assert not [m for m in emu.messages(quiet.id) if TITLE in m.get("text", "")]
    stored, _ = await ItemRepository(running_bot.engine).latest(ItemKind.ANNOUNCEMENT, limit=5)
    assert [(i.title, i.status, i.author_id) for i in stored] == [
        (TITLE, ItemStatus.PUBLISHED, EDITOR_ID)
    ]
    assert json.loads(stored[0].body_entities or "[]") == [
        {"type": "bold", "offset": BODY.index("семинар"), "length": len("семинар")}
    ]


async def test_an_event_scheduled_for_tomorrow_is_published_by_the_due_posts_job(
    running_bot: RunningBot,
) -> None:
    emu = running_bot.emu
    teacher = running_bot.person(2201, "Учитель")
    await subscribe(teacher, topics_off=(), frequency="Раз в неделю")
    editor = running_bot.person(EDITOR_ID, "Редактор")

    await _start(editor, "Мероприятие")
    ask_date = await _send_text(editor, "Семинар координаторов\nПриходите все.", [])
    assert "Когда мероприятие?" in ask_date["text"]
    [bad] = await editor.say("тридцатого февраля")
    assert "Не понял дату" in bad["text"]
    [past] = await editor.say("01.01.2020 10:00")
    assert "уже прошло" in past["text"]
    [understood, ask_place] = await editor.say("15.12.2099 10:00", replies=2)
    assert understood["text"] == "Понял: вт, 15 декабря 2099, 10:00"
    assert "Где оно пройдёт?" in ask_place["text"]
    [understood, ask_link] = await editor.say("ИМЦ, ауд. 12", replies=2)
    assert understood["text"] == "Понял: место — ИМЦ, ауд. 12"
    assert "Ссылка на регистрацию" in ask_link["text"]
    [bad_link] = await editor.say("регистрация у секретаря")
    assert "не похоже на ссылку" in bad_link["text"]
    [_, audience] = await editor.say("https://imc.example.ru/reg", replies=2)
    _, audience = await editor.tap(audience, "Педагог")
    _, when = await editor.tap(audience, "Готово")
    assert "Когда опубликовать?" in when["text"]
    [understood, _, summary] = await editor.say("завтра в 9", replies=3)
    assert understood["text"].startswith("Понял: опублику")
    assert "Кому: Педагог" in summary["text"] and "по расписанию" in summary["text"]
    await editor.tap(summary, "Сохранить")
    assert "будет опубликовано" in emu.message(EDITOR_ID, summary["message_id"])["text"]

    repo = ItemRepository(running_bot.engine)
    [event] = await repo.due_scheduled(datetime.now(UTC) + timedelta(days=2))
    assert event.status is ItemStatus.SCHEDULED and event.place == "ИМЦ, ауд. 12"
    assert event.registration_url == "https://imc.example.ru/reg"
    assert event.publish_at is not None and event.publish_at > datetime.now(UTC)
    publisher = running_bot.services.publisher
    assert await publisher.due_posts(datetime.now(UTC)) == ""  # not yet

    # Tomorrow at 9 has come (the outbox sends by the real clock, so the time is moved back).
    async with running_bot.engine.begin() as conn:
        await conn.execute(
            items.update()
            .where(items.c.id == event.id)
            .values(publish_at=datetime.now(UTC) - timedelta(minutes=1))
        )
    emu.mark()
    assert await publisher.due_posts(datetime.now(UTC)) == "published=1"
    running_bot.services.wake()
    post = await emu.next_message(teacher.id)
    assert post["text"].startswith("📅 Семинар координаторов")
    assert "ИМЦ, ауд. 12" in post["text"] and "Приходите все." in post["text"]
    assert (await repo.get(event.id)).status is ItemStatus.PUBLISHED  # type: ignore[union-attr]


async def test_a_draft_survives_a_restart_and_cancel_drops_it(running_bot: RunningBot) -> None:
    editor = running_bot.person(EDITOR_ID, "Редактор")
    await _start(editor, "Опыт площадки")
    [long] = await editor.say("Кейс\n" + "а" * 3600)
    assert "слишком длинный" in long["text"]
    ask_org = await _send_text(editor, "Проектная неделя\nКак школа провела неделю.", [])
    assert "Какая организация" in ask_org["text"]

    await running_bot.restart()
    [_, ask_site] = await editor.say("ГБОУ Школа № 12", replies=2)
    assert "Тип площадки" in ask_site["text"]
    [_, audience] = await editor.say("районная опорная площадка", replies=2)
    _, when = await editor.tap(audience, "Готово")
    editor.emu.mark()
    editor.emu.press(EDITOR_ID, when, editor.emu.button_data(when, "Черновик"))
    preview = await editor.emu.next_message(EDITOR_ID)
    assert "💡 Опыт площадок: Проектная неделя" in preview["text"]
    assert "🏫 ГБОУ Школа № 12" in preview["text"]
    summary = await editor.emu.next_message(EDITOR_ID)
    assert "Когда: черновик" in summary["text"]

    [cancelled] = await editor.say("/cancel")
    assert "черновик удалён" in cancelled["text"]
    [nothing] = await editor.say("/cancel")
    assert "Отменять нечего" in nothing["text"]
    answer, _ = await editor.tap(summary, "Сохранить", expect="answer")
    assert "устарела" in answer.params["text"]  # the dialog is gone
    async with running_bot.engine.connect() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(items))).scalar() == 0


async def test_a_draft_is_saved_as_a_draft(running_bot: RunningBot) -> None:
    editor = running_bot.person(EDITOR_ID, "Редактор")
    await _start(editor, "Материал")
    audience = await _send_text(editor, "Памятка по проектам\nСм. вложение.", [])
    _, when = await editor.tap(audience, "Готово")
    editor.emu.mark()
    editor.emu.press(EDITOR_ID, when, editor.emu.button_data(when, "Черновик"))
    await editor.emu.next_message(EDITOR_ID)
    summary = await editor.emu.next_message(EDITOR_ID)
    await editor.tap(summary, "Сохранить")
    async with running_bot.engine.connect() as conn:
        rows = (await conn.execute(sa.select(items.c.title, items.c.status))).all()
    assert [tuple(r) for r in rows] == [("Памятка по проектам", "draft")]


async def test_a_non_editor_is_refused_new_and_audited(running_bot: RunningBot) -> None:
    stranger = running_bot.person(2301, "Гость")
    [refusal] = await stranger.say("/new")
    assert "для редакторов" in refusal["text"]
    await running_bot.handled(
        lambda u: u.message is not None and u.message.text == "/new" and u.message.chat.id == 2301
    )
    log = await AuditRepository(running_bot.engine).recent()
    assert [(e.actor_id, e.action, e.allowed) for e in log] == [(2301, "/new", False)]


async def test_a_published_post_goes_to_the_channel_once(bot_with_channel: RunningBot) -> None:
    running_bot = bot_with_channel
    emu = running_bot.emu
    teacher = running_bot.person(2401, "Учитель")
    await subscribe(teacher, topics_off=(), frequency="Раз в неделю")
    editor = running_bot.person(EDITOR_ID, "Редактор")
    await _start(editor, "Объявление")
    audience = await _send_text(editor, f"{TITLE}\n{BODY}", [])
    _, when = await editor.tap(audience, "Готово")
    emu.mark()
    emu.press(EDITOR_ID, when, emu.button_data(when, "Сейчас"))
    await emu.next_message(EDITOR_ID)
    summary = await emu.next_message(EDITOR_ID)
    await editor.tap(summary, "Опубликовать")
    post = await emu.next_message(teacher.id)
    in_channel = await emu.next_message(CHANNEL_ID)
    assert in_channel["text"] == post["text"] == f"📢 {TITLE}\n\n{BODY}"

    # Publishing the same item again (a double tap, the timetable racing) sends nothing more.
    [item], _ = await ItemRepository(running_bot.engine).latest(ItemKind.ANNOUNCEMENT, limit=1)
    publisher = running_bot.services.publisher
    assert await publisher.publish_item(item, datetime.now(UTC)) is None
    async with running_bot.engine.connect() as conn:
        keys = (await conn.execute(sa.text("SELECT key FROM campaigns ORDER BY key"))).all()
    assert [k for (k,) in keys if k.endswith(f":{item.id}")] == [
        f"channel:{item.id}",
        f"post:{item.id}",
    ]
    assert len([m for m in emu.messages(CHANNEL_ID) if TITLE in m.get("text", "")]) == 1


async def test_a_photo_goes_out_with_the_post_as_its_caption(running_bot: RunningBot) -> None:
    emu = running_bot.emu
    teacher = running_bot.person(2501, "Учитель")
    await subscribe(teacher, topics_off=(), frequency="Раз в неделю")
    editor = running_bot.person(EDITOR_ID, "Редактор")
    await _start(editor, "Объявление")
    photo = emu.upload(b"\xff\xd8 a jpeg", "afisha.jpg", "image/jpeg")
    text = f"{TITLE}\n{BODY}"
    bold_at = text.index("семинар")
    bold = {"type": "bold", "offset": _utf16(text[:bold_at]), "length": len("семинар")}
    emu.mark()
    emu.send_message(EDITOR_ID, text, photo=[photo], caption_entities=[bold])
    understood = await emu.next_message(EDITOR_ID)
    assert understood["text"] == f"Понял: «{TITLE}», текст — 51 знак, с фото"
    audience = await emu.next_message(EDITOR_ID)
    _, when = await editor.tap(audience, "Готово")
    emu.mark()
    emu.press(EDITOR_ID, when, emu.button_data(when, "Сейчас"))
    preview = await emu.next_message(EDITOR_ID)
    summary = await emu.next_message(EDITOR_ID)
    assert preview["caption"] == f"📢 {TITLE}\n\n{BODY}" and "photo" in preview
    await editor.tap(summary, "Опубликовать")
    post = await emu.next_message(teacher.id)
    assert post["caption"] == preview["caption"]
    assert emu.file_content(post) == b"\xff\xd8 a jpeg"
    raw = post["caption"].encode("utf-16-le")
    assert [
        raw[2 * e["offset"] : 2 * (e["offset"] + e["length"])].decode("utf-16-le")
        for e in post["caption_entities"]
        if e["type"] == "bold"
    ] == [TITLE, "семинар"]


def test_a_long_post_sends_its_file_first_and_the_text_after() -> None:
    item = Item(1, ItemKind.MATERIAL, "Памятка", body="а" * 2000,
                attachment_file_id="file-1", attachment_kind="document")  # fmt: skip
    first, second = post_parts(item, UTC)
    assert (first.document, first.text) == ("file-1", "")
    assert second.document is None and second.text.endswith("а" * 2000)
    [short] = post_parts(replace(item, body="Коротко"), UTC)
    assert short.document == "file-1" and short.text.endswith("Коротко")
