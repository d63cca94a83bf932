"""/queue through the running bot: an editor changes a feed item's kind and title before
approving it; stale and forged kind buttons change nothing."""

from __future__ import annotations

from bot.content.feeds import FeedKind
from bot.content.models import Item, ItemKind, ItemStatus
from bot.storage.editors import EditorRepository
from bot.storage.feeds import FeedRepository
from bot.storage.items import ItemRepository
from bot.telegram import callbacks as cb
from tests.support.harness import EDITOR_ID, RunningBot, onboard

URL = "https://school1.example/news/42"


async def feed_item(running_bot: RunningBot, title: str) -> Item:
    feed = await FeedRepository(running_bot.engine).add(
        "https://school1.example/rss", FeedKind.CASE, title="Школа №1"
    )
    assert feed is not None
    return await ItemRepository(running_bot.engine).add(
        Item(0, ItemKind.CASE, title, body="Поздравляем команду школы с победой.", url=URL,
             status=ItemStatus.PENDING, feed_id=feed.id, guid="guid-contest")
    )  # fmt: skip


async def stored(running_bot: RunningBot, item: Item) -> Item:
    found = await ItemRepository(running_bot.engine).get(item.id)
    assert found is not None
    return found


async def test_a_feed_item_becomes_an_announcement_with_a_new_title_and_goes_out(
    running_bot: RunningBot,
) -> None:
    teacher = running_bot.person(1901, "Анна")
    await onboard(teacher)
    item = await feed_item(running_bot, "Итоги конкурса")
    editor = running_bot.person(EDITOR_ID, "Редактор")
    card = await editor.say_one("/queue")
    assert "💡 Опыт площадок: Итоги конкурса" in card["text"]
    labels = [text for text, _ in running_bot.emu.buttons(card)]
    assert "Вид: опыт площадок" in labels and "✏️ Изменить заголовок" in labels

    _, kinds = await editor.tap(card, "Вид: опыт площадок")
    assert "Какой это вид записи?" in kinds["text"]
    assert [text for text, _ in running_bot.emu.buttons(kinds)] == [
        "📚 Материал", "📅 Событие", "✓ 💡 Опыт площадок", "📢 Объявление", "Нет, назад",
    ]  # fmt: skip
    answer, card = await editor.tap(kinds, "Объявление")
    assert answer.params["text"] == "Вид: объявление ✓"
    assert "📢 Итоги конкурса" in card["text"] and "Опыт площадок" not in card["text"]
    labels = [text for text, _ in running_bot.emu.buttons(card)]
    assert "Вид: объявление" in labels and "✅ Одобрить и разослать" in labels
    assert (await stored(running_bot, item)).kind is ItemKind.ANNOUNCEMENT

    _, prompt = await editor.tap(card, "Изменить заголовок", expect="send")
    assert "Пришлите новый заголовок для «Итоги конкурса»" in prompt["text"]
    markup = running_bot.emu.calls_of("sendMessage", EDITOR_ID)[-1].params["reply_markup"]
    assert markup["force_reply"] is True
    assert markup["input_field_placeholder"] == "Новый заголовок"
    [empty] = await editor.say("   ")
    assert "Нужен заголовок" in empty["text"]
    [long] = await editor.say("Очень " * 60)
    assert "Заголовок слишком длинный" in long["text"]
    assert (await stored(running_bot, item)).title == "Итоги конкурса"
    done, card = await editor.say("Поздравляем победителей конкурса «Учитель года»", replies=2)
    assert "Заголовок обновлён" in done["text"] and "черновики" in done["text"]
    assert "📢 Поздравляем победителей конкурса «Учитель года»" in card["text"]
    assert "Поздравляем команду школы с победой." in card["text"]  # the body stays
    after = await stored(running_bot, item)
    assert after.title == "Поздравляем победителей конкурса «Учитель года»"
    assert (after.body, after.url, after.kind) == (item.body, URL, ItemKind.ANNOUNCEMENT)
    assert after.status is ItemStatus.DRAFT  # the feed's next poll won't put its title back

    # Approving an announcement sends it out (announcements never go into a digest): asked first.
    _, card = await editor.tap(card, "Одобрить и разослать")
    assert "Объявления не входят в дайджест" in card["text"]
    running_bot.emu.mark()
    answer, card = await editor.tap(card, "Да, разослать")
    assert "получателей — 1" in answer.params["text"]
    post = await running_bot.emu.next_message(1901)
    assert post["text"].startswith("📢 Поздравляем победителей конкурса «Учитель года»")
    assert "Поздравляем команду школы с победой." in post["text"]
    assert any(e.get("url") == URL for e in post.get("entities", []))
    assert (await stored(running_bot, item)).status is ItemStatus.PUBLISHED
    assert "Очередь пуста" in card["text"]


async def test_stale_and_forged_kind_buttons_change_nothing(running_bot: RunningBot) -> None:
    item = await feed_item(running_bot, "Новость площадки")
    await EditorRepository(running_bot.engine).add(1801, "Мария", EDITOR_ID)
    owner = running_bot.person(EDITOR_ID, "Редактор")
    maria = running_bot.person(1801, "Мария")
    _, owner_kinds = await owner.tap(await owner.say_one("/queue"), "Вид:")
    _, maria_kinds = await maria.tap(await maria.say_one("/queue"), "Вид:")

    await maria.tap(maria_kinds, "Материал")
    # The owner's picker was opened before Maria's change: it changes nothing and says so.
    answer, card = await owner.tap(owner_kinds, "Событие")
    assert "уже изменили: сейчас — материал" in answer.params["text"]
    assert "📚 Новый материал: Новость площадки" in card["text"]
    assert (await stored(running_bot, item)).kind is ItemKind.MATERIAL

    # An event needs a date to reach a digest: the editor is told at once.
    _, kinds = await owner.tap(card, "Вид: материал")
    answer, card = await owner.tap(kinds, "Событие")
    assert answer.params.get("show_alert") is True and "нет даты" in answer.params["text"]
    assert "Вид: событие" in [text for text, _ in running_bot.emu.buttons(card)]
    _, kinds = await owner.tap(card, "Вид: событие")
    answer, card = await owner.tap(kinds, "Материал")
    assert answer.params["text"] == "Вид: материал ✓"

    # A button that doesn't unpack (a kind that doesn't exist) reaches nothing.
    bad = f"qk1:{item.id}:0:material:poem"
    answer, _ = await owner.tap_data(card, bad, expect="answer")
    assert "устарела" in answer.params["text"]
    # A non-editor's forged press is refused.
    forged = cb.QueueSetKind(item_id=item.id, index=0, was=ItemKind.MATERIAL, kind=ItemKind.EVENT)
    stranger = running_bot.person(1702, "Гость")
    [refusal] = await stranger.say("/queue")
    answer, _ = await stranger.tap_data(refusal, forged.pack(), expect="answer")
    assert "для редакторов" in answer.params["text"]
    assert (await stored(running_bot, item)).kind is ItemKind.MATERIAL

    # Once the item left the queue, a kind button says where it is and changes nothing.
    _, kinds = await owner.tap(card, "Вид:")
    await maria.tap(await maria.say_one("/queue"), "Одобрить")
    answer, _ = await owner.tap(kinds, "Событие", expect="answer")
    assert "уже обработали: она одобрена" in answer.params["text"]
    after = await stored(running_bot, item)
    assert (after.kind, after.status) == (ItemKind.MATERIAL, ItemStatus.APPROVED)
