"""/queue through the running bot: editors approve, reject, delete, edit, reschedule and
publish what waits for them; stale and forged buttons change nothing."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from bot.content.feeds import FeedKind
from bot.content.models import Frequency, Item, ItemKind, ItemStatus
from bot.storage.editors import AuditRepository, EditorRepository
from bot.storage.feeds import FeedRepository
from bot.storage.items import ItemRepository
from bot.telegram import callbacks as cb
from tests.support.harness import EDITOR_ID, Person, RunningBot, onboard


async def feed_item(running_bot: RunningBot, title: str, body: str = "Текст записи.") -> Item:
    feed = await FeedRepository(running_bot.engine).add(
        f"https://school{len(title)}.example/rss", FeedKind.MATERIAL, title="Школа №1"
    )
    assert feed is not None
    return await ItemRepository(running_bot.engine).add(
        Item(0, ItemKind.MATERIAL, title, body=body, status=ItemStatus.PENDING,
             feed_id=feed.id, guid=f"guid-{title}")
    )  # fmt: skip


async def draft(running_bot: RunningBot, title: str) -> Item:
    return await ItemRepository(running_bot.engine).add(
        Item(0, ItemKind.ANNOUNCEMENT, title, body="Черновик объявления.", author_id=EDITOR_ID)
    )


async def status_of(running_bot: RunningBot, item: Item) -> ItemStatus | None:
    stored = await ItemRepository(running_bot.engine).get(item.id)
    return stored.status if stored else None


async def open_queue(editor: Person) -> dict[str, Any]:
    return await editor.say_one("/queue")


async def test_feed_item_approved_from_queue_reaches_the_weekly_digest(
    running_bot: RunningBot,
) -> None:
    teacher = running_bot.person(1501, "Ирина")
    await onboard(teacher)
    item = await feed_item(running_bot, "Рекомендации по проектной неделе")
    await draft(running_bot, "Совещание координаторов")
    items = ItemRepository(running_bot.engine)
    await items.add(
        Item(0, ItemKind.ANNOUNCEMENT, "Запланированный пост", status=ItemStatus.SCHEDULED,
             publish_at=datetime.now(running_bot.settings.tz) + timedelta(days=3))
    )  # fmt: skip
    editor = running_bot.person(EDITOR_ID, "Редактор")

    card = await open_queue(editor)
    assert "Очередь: 1 из 3" in card["text"]
    assert "На проверке: 1 · Черновики: 1 · Запланировано: 1" in card["text"]
    assert "На проверке · из ленты" in card["text"]
    # The preview is the post itself, as subscribers would get it.
    assert "📚 Новый материал: Рекомендации по проектной неделе" in card["text"]
    approve = running_bot.emu.button_data(card, "Одобрить")

    answer, card = await editor.tap(card, "Одобрить")
    assert "войдёт в ближайший дайджест" in answer.params["text"]
    assert await status_of(running_bot, item) is ItemStatus.APPROVED
    stored = await items.get(item.id)
    assert stored is not None and stored.approved_at is not None
    # The same place now shows the next item.
    assert "Очередь: 1 из 2" in card["text"] and "Совещание координаторов" in card["text"]
    assert "На проверке: 0 · Черновики: 1 · Запланировано: 1" in card["text"]

    # A second press of the old «Одобрить» (a double tap, another editor): nothing changes.
    answer, _ = await editor.tap_data(card, approve, expect="answer")
    assert "уже обработали: она одобрена" in answer.params["text"]
    again = await items.get(item.id)
    assert again == stored

    now = datetime.now(running_bot.settings.tz)
    running_bot.emu.mark()
    outcome = await running_bot.services.publisher.digest(
        Frequency.WEEKLY, "digest:weekly:queue-test", now - timedelta(days=7), now
    )
    assert "campaign=" in outcome
    running_bot.services.wake()
    digest = await running_bot.emu.next_message(1501)
    assert "Рекомендации по проектной неделе" in digest["text"]


async def test_reject_and_delete_ask_first(running_bot: RunningBot) -> None:
    pending = await feed_item(running_bot, "Сомнительная новость")
    mine = await draft(running_bot, "Лишний черновик")
    editor = running_bot.person(EDITOR_ID, "Редактор")
    card = await open_queue(editor)

    _, card = await editor.tap(card, "Отклонить")
    assert "Отклонить эту запись?" in card["text"]
    assert [text for text, _ in running_bot.emu.buttons(card)] == ["Да, отклонить", "Нет, назад"]
    _, card = await editor.tap(card, "Нет, назад")
    assert "Отклонить эту запись?" not in card["text"]
    assert await status_of(running_bot, pending) is ItemStatus.PENDING

    _, card = await editor.tap(card, "Отклонить")
    answer, card = await editor.tap(card, "Да, отклонить")
    assert answer.params["text"] == "Отклонено."
    assert await status_of(running_bot, pending) is ItemStatus.REJECTED
    assert "Лишний черновик" in card["text"] and "📝 Черновик" in card["text"]

    _, card = await editor.tap(card, "Удалить")
    assert "Удалить эту запись совсем?" in card["text"]
    answer, card = await editor.tap(card, "Да, удалить")
    assert answer.params["text"] == "Удалено."
    assert await status_of(running_bot, mine) is None
    assert "Очередь пуста" in card["text"]


async def test_deleting_a_feed_item_keeps_it_from_coming_back(running_bot: RunningBot) -> None:
    item = await feed_item(running_bot, "Дубль из ленты")
    editor = running_bot.person(EDITOR_ID, "Редактор")
    card = await open_queue(editor)
    _, card = await editor.tap(card, "Удалить")
    _, card = await editor.tap(card, "Да, удалить")
    # Archived, not removed: the feed's next poll sees its guid and leaves it alone.
    assert await status_of(running_bot, item) is ItemStatus.ARCHIVED
    assert "Очередь пуста" in card["text"]


async def test_edit_text_keeps_entities_and_refuses_overlong(running_bot: RunningBot) -> None:
    item = await feed_item(running_bot, "Конкурс проектов", body="Старый текст.")
    editor = running_bot.person(EDITOR_ID, "Редактор")
    card = await open_queue(editor)
    _, prompt = await editor.tap(card, "Изменить текст", expect="send")
    assert "Пришлите новый текст для «Конкурс проектов»" in prompt["text"]

    [refusal] = await editor.say("слово " * 800)
    assert "Слишком длинно" in refusal["text"] and "Сократите текст" in refusal["text"]
    assert (await ItemRepository(running_bot.engine).get(item.id)).body == "Старый текст."  # type: ignore[union-attr]

    text = "Заявки до 15 марта, подробности на сайте."
    bold = {"type": "bold", "offset": 0, "length": 19}
    running_bot.emu.mark()
    running_bot.emu.send_message(EDITOR_ID, text, entities=[bold])
    saved = await running_bot.emu.next_message(EDITOR_ID)
    assert "Текст обновлён" in saved["text"] and "черновики" in saved["text"]
    fresh = await running_bot.emu.next_message(EDITOR_ID)
    assert text in fresh["text"] and "📝 Черновик" in fresh["text"]
    start = fresh["text"].index(text)
    shifted = [e for e in fresh.get("entities", []) if e["type"] == "bold" and e["length"] == 19]
    assert shifted and len(fresh["text"][:start].encode("utf-16-le")) // 2 == shifted[0]["offset"]
    stored = await ItemRepository(running_bot.engine).get(item.id)
    assert stored is not None and stored.status is ItemStatus.DRAFT
    assert stored.body == text
    assert json.loads(stored.body_entities or "[]") == [bold]
    # The old card lost its buttons: the fresh one is the card to use.
    assert running_bot.emu.buttons(running_bot.emu.message(EDITOR_ID, card["message_id"])) == []


async def test_reschedule_reads_a_date_and_time(running_bot: RunningBot) -> None:
    item = await draft(running_bot, "Объявление о семинаре")
    editor = running_bot.person(EDITOR_ID, "Редактор")
    card = await open_queue(editor)
    _, prompt = await editor.tap(card, "Перенести", expect="send")
    assert "Когда опубликовать" in prompt["text"]
    [bad] = await editor.say("в среду")
    assert "Не понял дату и время" in bad["text"]
    [bad] = await editor.say("31.02 10:00")
    assert "Не понял дату и время" in bad["text"]
    [past] = await editor.say("01.09.2020 10:00")
    assert "уже прошло" in past["text"]
    done, fresh = await editor.say("15.03.2099 10:00", replies=2)
    assert "Запланировано на" in done["text"] and "15 марта, 10:00" in done["text"]
    assert "Запланировано на" in fresh["text"]
    stored = await ItemRepository(running_bot.engine).get(item.id)
    assert stored is not None and stored.status is ItemStatus.SCHEDULED
    assert stored.publish_at == datetime(2099, 3, 15, 10, 0, tzinfo=running_bot.settings.tz)


async def test_publish_now_reaches_subscribers_and_reports_to_the_editor(
    running_bot: RunningBot,
) -> None:
    teacher = running_bot.person(1601, "Ольга")
    await onboard(teacher)
    item = await feed_item(running_bot, "Срочно: методический день")
    editor = running_bot.person(EDITOR_ID, "Редактор")
    card = await open_queue(editor)
    _, card = await editor.tap(card, "Опубликовать сейчас")
    assert "Опубликовать сейчас?" in card["text"]
    running_bot.emu.mark()
    answer, card = await editor.tap(card, "Да, опубликовать")
    assert "получателей — 1" in answer.params["text"]
    post = await running_bot.emu.next_message(1601)
    assert "Срочно: методический день" in post["text"]
    report = await running_bot.emu.wait_for(
        lambda c: c.chat_id == EDITOR_ID and "завершена" in str(c.params.get("text", "")),
        timeout=10,
    )
    assert "доставлено 1 из 1" in report.params["text"]
    assert await status_of(running_bot, item) is ItemStatus.PUBLISHED
    assert "Очередь пуста" in card["text"]


async def test_non_editors_queue_and_forged_buttons_are_refused(running_bot: RunningBot) -> None:
    item = await feed_item(running_bot, "Новость площадки")
    stranger = running_bot.person(1701, "Гость")
    [refusal] = await stranger.say("/queue")
    assert "для редакторов" in refusal["text"]
    forged = cb.QueueDo(action=cb.QueueAction.APPROVE, item_id=item.id, index=0, sure=True)
    answer, _ = await stranger.tap_data(refusal, forged.pack(), expect="answer")
    assert "для редакторов" in answer.params["text"]
    await running_bot.handled(lambda u: u.callback_query is not None)
    assert await status_of(running_bot, item) is ItemStatus.PENDING
    log = await AuditRepository(running_bot.engine).recent()
    refused = [(e.actor_id, e.action, e.allowed) for e in reversed(log) if e.actor_id == 1701]
    assert refused == [(1701, "/queue", False), (1701, "qd1", False)]


async def test_a_second_editor_learns_the_item_was_handled(running_bot: RunningBot) -> None:
    item = await feed_item(running_bot, "Новость для двоих")
    await EditorRepository(running_bot.engine).add(1801, "Мария", EDITOR_ID)
    owner = running_bot.person(EDITOR_ID, "Редактор")
    maria = running_bot.person(1801, "Мария")
    owner_card = await open_queue(owner)
    maria_card = await open_queue(maria)
    await owner.tap(owner_card, "Одобрить")
    for label in ("Отклонить", "Опубликовать сейчас", "Удалить", "Одобрить"):
        answer, _ = await maria.tap(maria_card, label, expect="answer")
        assert "уже обработали: она одобрена" in answer.params["text"]
    assert await status_of(running_bot, item) is ItemStatus.APPROVED
    assert not running_bot.emu.calls_of("sendMessage", 1801)[1:]  # no post, no progress
