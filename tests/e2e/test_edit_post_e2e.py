"""/edit through the running bot: an editor corrects a published post, in the bot and in the
messages already sent."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from bot.content.models import Item, ItemKind, ItemStatus, SubscriberStatus
from bot.storage.editors import AuditRepository
from bot.storage.items import ItemRepository
from bot.storage.schema import campaigns, deliveries
from tests.support.emulator import Call
from tests.support.harness import EDITOR_ID, Person, RunningBot, subscribe

TITLE = "Семинар переносится"
BODY = "Семинар пройдёт в ауд. 12."
NEW_TITLE = "Семинар перенесён"
NEW_BODY = "Семинар пройдёт в ауд. 14 в 15:00."
TEACHERS = (2301, 2302, 2303)


def _report(emu: Any, words: str) -> Any:
    def predicate(call: Call) -> bool:
        text = str(call.params.get("text", ""))
        return call.chat_id == EDITOR_ID and "завершена" in text and words in text

    return predicate


async def _published(
    running_bot: RunningBot, teachers: tuple[int, ...] = TEACHERS, **attachment: Any
) -> Item:
    """An announcement published to `teachers`, its report in the editor's chat."""
    running_bot.person(EDITOR_ID, "Редактор")
    for chat_id in teachers:
        await subscribe(
            running_bot.person(chat_id, "Учитель"), topics_off=(), frequency="Раз в неделю"
        )
    items = ItemRepository(running_bot.engine)
    item = await items.add(
        Item(
            id=0,
            kind=ItemKind.ANNOUNCEMENT,
            title=TITLE,
            body=BODY,
            status=ItemStatus.APPROVED,
            author_id=EDITOR_ID,
            **attachment,
        )
    )
    emu = running_bot.emu
    emu.mark()
    await running_bot.services.publisher.publish_item(
        item, datetime.now(UTC), created_by=EDITOR_ID, progress_chat_id=EDITOR_ID
    )
    running_bot.services.wake()
    report = await emu.wait_for(_report(emu, f"/edit {item.id}"), timeout=10)
    assert f"доставлено {len(teachers)} из {len(teachers)}" in report.params["text"]
    for chat_id in teachers:
        message = emu.last_message(chat_id)
        assert TITLE in str(message.get("text", message.get("caption", "")))
    return item


async def _new_text(editor: Person, item: Item, current_title: str = TITLE) -> dict[str, Any]:
    """/edit ID, then the new text with a bold word; returns the question with the buttons."""
    [current] = await editor.say(f"/edit {item.id}")
    assert f"Публикация № {item.id}" in current["text"]
    assert current_title in current["text"]
    text = f"{NEW_TITLE}\n{NEW_BODY}"
    bold = {"type": "bold", "offset": len(NEW_TITLE) + 1 + NEW_BODY.index("ауд. 14"), "length": 7}
    editor.emu.mark()
    editor.emu.send_message(EDITOR_ID, text, entities=[bold])
    return await editor.emu.next_message(EDITOR_ID)


def _bold(message: dict[str, Any]) -> list[str]:
    raw = message["text"].encode("utf-16-le")
    return [
        raw[2 * e["offset"] : 2 * (e["offset"] + e["length"])].decode("utf-16-le")
        for e in message.get("entities", [])
        if e["type"] == "bold"
    ]


async def test_edit_changes_the_item_and_all_sent_messages(running_bot: RunningBot) -> None:
    emu = running_bot.emu
    item = await _published(running_bot)
    sent = {chat_id: emu.last_message(chat_id)["message_id"] for chat_id in TEACHERS}
    # Pausing afterwards doesn't keep a correction of a message already in the chat away.
    await running_bot.subscribers.set_status(TEACHERS[2], SubscriberStatus.PAUSED)
    editor = running_bot.person(EDITOR_ID, "Редактор")

    question = await _new_text(editor, item)
    [shown] = [m for m in emu.messages(EDITOR_ID) if "Сейчас текст такой" in m.get("text", "")]
    assert BODY in shown["text"]
    assert "обновлён в боте" in question["text"]
    stored = await ItemRepository(running_bot.engine).get(item.id)
    assert stored is not None and (stored.title, stored.body) == (NEW_TITLE, NEW_BODY)
    assert json.loads(stored.body_entities or "[]") == [
        {"type": "bold", "offset": NEW_BODY.index("ауд. 14"), "length": 7}
    ]

    emu.mark()
    _, started = await editor.tap(question, "Изменить и в отправленных сообщениях (3)")
    assert "Меняю текст в отправленных сообщениях (3)" in started["text"]
    report = await emu.wait_for(_report(emu, "доставлено 3 из 3"), timeout=10)
    assert "ошибок 0" in report.params["text"]
    for chat_id in TEACHERS:
        message = emu.message(chat_id, sent[chat_id])
        assert message["text"] == f"📢 {NEW_TITLE}\n\n{NEW_BODY}"
        assert _bold(message) == [NEW_TITLE, "ауд. 14"]
        # The old message changed; nothing new was sent.
        assert emu.last_message(chat_id)["message_id"] == sent[chat_id]
    # /stats («Подробнее: Рассылки») lists the post and its edit with the command to correct it
    # again.
    [stats] = await editor.say("/stats")
    _, campaigns = await editor.tap(stats, "Рассылки", expect="send")
    assert campaigns["text"].count(f"/edit {item.id}") == 2
    assert "правка" in campaigns["text"]


async def test_edit_only_in_the_bot_edits_nothing_sent(running_bot: RunningBot) -> None:
    emu = running_bot.emu
    item = await _published(running_bot, TEACHERS[:1])
    editor = running_bot.person(EDITOR_ID, "Редактор")
    question = await _new_text(editor, item)
    emu.mark()
    _, done = await editor.tap(question, "Только в боте")
    assert "изменена только в боте" in done["text"]
    # The old button does nothing now.
    answer, _ = await editor.tap(question, "Изменить и в отправленных", expect="answer")
    assert "устарела" in answer.params["text"]
    stored = await ItemRepository(running_bot.engine).get(item.id)
    assert stored is not None and stored.body == NEW_BODY
    post = emu.last_message(TEACHERS[0])
    assert TITLE in post["text"]
    edits = emu.calls_of("editMessageText", TEACHERS[0])
    assert not [c for c in edits if c.params.get("message_id") == post["message_id"]]


async def test_a_message_gone_from_one_chat_fails_and_the_rest_are_edited(
    running_bot: RunningBot,
) -> None:
    emu = running_bot.emu
    item = await _published(running_bot)
    async with running_bot.engine.begin() as conn:  # as if the message were no longer there
        post = sa.select(campaigns.c.id).where(campaigns.c.key == f"post:{item.id}")
        await conn.execute(
            deliveries.update()
            .where(deliveries.c.campaign_id == post.scalar_subquery())
            .where(deliveries.c.chat_id == TEACHERS[0])
            .values(message_id="999999")
        )
    editor = running_bot.person(EDITOR_ID, "Редактор")
    question = await _new_text(editor, item)
    emu.mark()
    await editor.tap(question, "Изменить и в отправленных")
    report = await emu.wait_for(_report(emu, "доставлено 2 из 3"), timeout=10)
    assert "ошибок 1" in report.params["text"]
    for chat_id in TEACHERS[1:]:
        assert NEW_TITLE in emu.last_message(chat_id)["text"]
    assert TITLE in emu.last_message(TEACHERS[0])["text"]
    async with running_bot.engine.connect() as conn:
        rows = (
            await conn.execute(
                sa.select(deliveries.c.chat_id, deliveries.c.status, deliveries.c.error)
                .join(campaigns, campaigns.c.id == deliveries.c.campaign_id)
                .where(campaigns.c.kind == "edit")
            )
        ).all()
    by_chat = {row.chat_id: (row.status, row.error) for row in rows}
    assert by_chat[TEACHERS[0]] == ("failed", "Bad Request: message to edit not found")
    assert all(by_chat[c] == ("sent", None) for c in TEACHERS[1:])
    # Not retried: one attempt at the missing message.
    tries = emu.calls_of("editMessageText", TEACHERS[0])
    assert len([c for c in tries if c.params.get("message_id") == 999999]) == 1


async def test_non_editors_and_forged_buttons_are_refused_and_audited(
    running_bot: RunningBot,
) -> None:
    item = await _published(running_bot, TEACHERS[:1])
    teacher = running_bot.person(TEACHERS[0], "Учитель")
    [refusal] = await teacher.say(f"/edit {item.id}")
    assert "для редакторов" in refusal["text"]
    post = running_bot.emu.last_message(TEACHERS[0])
    answer, _ = await teacher.tap_data(post, f"ed1:{item.id}:1:1", expect="answer")
    assert "для редакторов" in answer.params["text"]
    await running_bot.handled(lambda u: u.callback_query is not None)
    stored = await ItemRepository(running_bot.engine).get(item.id)
    assert stored is not None and stored.body == BODY
    log = await AuditRepository(running_bot.engine).recent()
    refused = [e for e in log if e.actor_id == TEACHERS[0] and not e.allowed]
    assert len(refused) == 2


async def test_unknown_or_missing_id_gets_a_russian_answer(running_bot: RunningBot) -> None:
    editor = running_bot.person(EDITOR_ID, "Редактор")
    [unknown] = await editor.say("/edit 4242")
    assert "Публикации № 4242 нет" in unknown["text"]
    [again] = await editor.say("/edit abc")
    assert "Пришлите номер публикации цифрами" in again["text"]


async def test_a_bare_edit_from_a_tap_asks_for_the_number(running_bot: RunningBot) -> None:
    """A tap on «/edit 12» in a report sends «/edit» alone: the bot asks which post, and the
    number typed next opens it; a word there keeps the question open."""
    item = await _published(running_bot, TEACHERS[:1])
    editor = running_bot.person(EDITOR_ID, "Редактор")
    [question] = await editor.say("/edit")
    assert "Какую публикацию исправить?" in question["text"]
    markup = running_bot.emu.calls_of("sendMessage", EDITOR_ID)[-1].params["reply_markup"]
    assert markup["force_reply"] is True
    assert markup["input_field_placeholder"] == "Номер публикации, например 12"
    [wrong] = await editor.say("вчерашний")
    assert "Пришлите номер публикации цифрами" in wrong["text"]
    [current] = await editor.say(f"№ {item.id}")
    assert (
        f"Публикация № {item.id}" in current["text"] and "Пришлите новый текст" in current["text"]
    )


async def test_an_overlong_text_is_refused_and_the_item_stays(running_bot: RunningBot) -> None:
    item = await _published(running_bot, TEACHERS[:1])
    editor = running_bot.person(EDITOR_ID, "Редактор")
    await editor.say(f"/edit {item.id}")
    [refusal] = await editor.say("слово " * 800)
    assert "Текст слишком длинный" in refusal["text"]
    stored = await ItemRepository(running_bot.engine).get(item.id)
    assert stored is not None and (stored.title, stored.body) == (TITLE, BODY)
    [question] = await editor.say(f"{NEW_TITLE}\n{NEW_BODY}")
    assert "обновлён в боте" in question["text"]


async def test_a_second_edit_with_the_same_text_counts_as_done(running_bot: RunningBot) -> None:
    emu = running_bot.emu
    item = await _published(running_bot, TEACHERS[:2])
    editor = running_bot.person(EDITOR_ID, "Редактор")
    question = await _new_text(editor, item)
    emu.mark()
    await editor.tap(question, "Изменить и в отправленных")
    await emu.wait_for(_report(emu, "доставлено 2 из 2"), timeout=10)
    # The same text again: Telegram answers "message is not modified" — that is done, too.
    question = await _new_text(editor, item, current_title=NEW_TITLE)
    emu.mark()
    await editor.tap(question, "Изменить и в отправленных")
    report = await emu.wait_for(_report(emu, "доставлено 2 из 2"), timeout=10)
    assert "ошибок 0" in report.params["text"]
    unmodified = [c for c in emu.calls_of("editMessageText") if c.chat_id in TEACHERS and not c.ok]
    assert len(unmodified) == 2


async def test_a_photo_post_gets_its_caption_edited(running_bot: RunningBot) -> None:
    emu = running_bot.emu
    photo = emu.upload(b"\xff\xd8 a jpeg", "afisha.jpg", "image/jpeg")
    item = await _published(
        running_bot,
        TEACHERS[:1],
        attachment_file_id=photo["file_id"],
        attachment_kind="photo",
    )
    post = emu.last_message(TEACHERS[0])
    assert "photo" in post and TITLE in post["caption"]
    editor = running_bot.person(EDITOR_ID, "Редактор")
    question = await _new_text(editor, item)
    emu.mark()
    await editor.tap(question, "Изменить и в отправленных сообщениях (1)")
    await emu.wait_for(_report(emu, "доставлено 1 из 1"), timeout=10)
    edited = emu.message(TEACHERS[0], post["message_id"])
    assert edited["caption"] == f"📢 {NEW_TITLE}\n\n{NEW_BODY}" and "photo" in edited


async def test_a_post_still_going_out_is_edited_in_the_bot_only(running_bot: RunningBot) -> None:
    item = await _published(running_bot, TEACHERS[:1])
    async with running_bot.engine.begin() as conn:  # as if paused for quiet hours
        await conn.execute(
            campaigns.update()
            .where(campaigns.c.key == f"post:{item.id}")
            .values(status="paused", finished_at=None)
        )
    editor = running_bot.person(EDITOR_ID, "Редактор")
    answer = await _new_text(editor, item)
    assert "рассылка ещё идёт" in answer["text"] and not answer.get("reply_markup")
    stored = await ItemRepository(running_bot.engine).get(item.id)
    assert stored is not None and stored.title == NEW_TITLE
