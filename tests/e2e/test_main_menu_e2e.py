"""The main menu under the input field, as a teacher, an educator and a head: every button does
what its command does, and a command that needs words asks for them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot import texts
from bot.content.models import Item, ItemKind, ItemStatus, Role
from bot.storage.items import ItemRepository
from tests.support.harness import EDITOR_ID, RunningBot, agree, onboard

MENU = ("📅 Что дальше", "📚 Материалы", "💡 Опыт площадок", "🔎 Поиск", "✉️ Вопрос в ИМЦ")


async def seed(running_bot: RunningBot) -> None:
    items = ItemRepository(running_bot.engine)
    soon = datetime.now(running_bot.settings.tz).replace(hour=10, minute=0, second=0)
    await items.add(
        Item(0, ItemKind.EVENT, "Заседание Экспертного совета", status=ItemStatus.APPROVED,
             starts_at=soon + timedelta(days=3), audience_roles=frozenset({Role.HEAD}))
    )  # fmt: skip
    await items.add(
        Item(0, ItemKind.EVENT, "Мастер-класс по проектной деятельности",
             status=ItemStatus.APPROVED, starts_at=soon + timedelta(days=4))
    )  # fmt: skip
    await items.add(
        Item(0, ItemKind.MATERIAL, "Проектная деятельность в начальной школе",
             status=ItemStatus.APPROVED, approved_at=soon - timedelta(days=1),
             body="Сборник районных практик.")
    )  # fmt: skip
    await items.add(
        Item(0, ItemKind.CASE, "Опыт школы № 7: проектная неделя", status=ItemStatus.APPROVED,
             approved_at=soon - timedelta(days=2), body="Как школа провела неделю проектов.")
    )  # fmt: skip


def sent_markup(running_bot: RunningBot, chat_id: int) -> dict[str, Any]:
    call = running_bot.emu.calls_of("sendMessage", chat_id)[-1]
    markup = call.params.get("reply_markup")
    assert isinstance(markup, dict), call.params
    return markup


async def test_each_button_answers_as_its_command_does(running_bot: RunningBot) -> None:
    await seed(running_bot)
    emu = running_bot.emu
    anna = running_bot.person(3101, "Анна")
    await onboard(anna)
    for label, command in zip(
        ("📅 Что дальше", "📚 Материалы", "💡 Опыт площадок", "⚙️ Настройки"),
        ("/next", "/materials", "/cases", "/settings"),
        strict=True,
    ):
        [by_command] = await anna.say(command)
        [by_button] = await anna.say(label)
        assert by_button["text"] == by_command["text"], label
        assert emu.buttons(by_button) == emu.buttons(by_command), label
    [typed] = await anna.say("настройки")  # the words typed without the emoji work too
    assert "Ваши настройки" in typed["text"]


async def test_search_asks_what_to_find_and_finds_the_reply(running_bot: RunningBot) -> None:
    await seed(running_bot)
    anna = running_bot.person(3102, "Анна")
    await onboard(anna)
    for bare in ("🔎 Поиск", "/search"):
        [prompt] = await anna.say(bare)
        assert prompt["text"].startswith("🔎 Что найти?"), bare
        assert "после команды" not in prompt["text"]  # no usage line
        markup = sent_markup(running_bot, 3102)
        assert markup.get("force_reply") is True
        assert markup.get("input_field_placeholder") == texts.SEARCH_PLACEHOLDER
    [found] = await anna.say("проектная деятельность")
    assert found["text"].startswith("🔎 «проектная деятельность»: 1 из 2")
    assert "проектной деятельности" in found["text"]
    # The prompt was answered: the next words are not searched again.
    [after] = await anna.say("проектная деятельность")
    assert not after["text"].startswith("🔎 «проектная деятельность»: 1 из")


async def test_a_question_to_the_imc_from_the_menu(running_bot: RunningBot) -> None:
    emu = running_bot.emu
    running_bot.person(EDITOR_ID, "Редактор")
    olga = running_bot.person(3103, "Ольга")
    await onboard(olga, role="Воспитатель детского сада")
    [prompt] = await olga.say("✉️ Вопрос в ИМЦ")
    assert "Напишите вопрос" in prompt["text"]
    markup = sent_markup(running_bot, 3103)
    assert markup.get("force_reply") is True
    assert markup.get("input_field_placeholder") == texts.ASK_PLACEHOLDER
    [sent] = await olga.say("Когда курсы для воспитателей по ФОП ДО?")
    assert "передан специалистам ИМЦ" in sent["text"]
    notice = await emu.next_message(EDITOR_ID)
    assert "Когда курсы для воспитателей по ФОП ДО?" in notice["text"]
    assert "Воспитатель детского сада, детский сад" in notice["text"]


async def test_a_tap_elsewhere_closes_a_waiting_prompt(running_bot: RunningBot) -> None:
    await seed(running_bot)
    anna = running_bot.person(3104, "Анна")
    await onboard(anna)
    await anna.say("🔎 Поиск")
    [coming] = await anna.say("📅 Что дальше")
    assert "Мастер-класс по проектной деятельности" in coming["text"]
    [reply] = await anna.say("проектная деятельность")
    assert not reply["text"].startswith("🔎 «проектная деятельность»: 1 из")
    await anna.say("✉️ Вопрос в ИМЦ")
    [menu] = await anna.say("⚙️ Настройки")
    assert "Ваши настройки" in menu["text"]
    assert await running_bot.services.questions.open_questions(10) == []


async def test_a_button_is_never_an_organisation_name(running_bot: RunningBot) -> None:
    anna = running_bot.person(3105, "Анна")
    await onboard(anna)
    [menu] = await anna.say("/settings")
    await anna.tap(menu, "Название:")
    [coming] = await anna.say("📅 Что дальше")
    assert "Ваши настройки" not in coming["text"]
    subscriber = await running_bot.subscribers.get(3105)
    assert subscriber is not None and subscriber.org_name is None


async def test_a_head_from_a_poster_gets_the_menu_and_her_council(
    running_bot: RunningBot,
) -> None:
    await seed(running_bot)
    emu = running_bot.emu
    head = running_bot.person(3106, "Елена")
    step = await agree(head, "/start role_head")
    _, step = await head.tap(step, "Школа")
    _, step = await head.tap(step, "Пропустить")
    _, step = await head.tap(step, "Готово")
    await head.tap(step, "Раз в неделю")
    keyboard = emu.reply_keyboard(3106)
    assert keyboard is not None
    labels = [button["text"] for row in keyboard["keyboard"] for button in row]
    assert labels == [*MENU, "⚙️ Настройки"]
    [coming] = await head.say("📅 Что дальше")
    assert "Заседание Экспертного совета" in coming["text"]
    # /start and /help bring the menu back to whoever hid it.
    for command in ("/start", "/help"):
        await head.say(command)
        assert sent_markup(running_bot, 3106).get("is_persistent") is True, command


async def test_no_bare_command_answers_with_a_usage_line(running_bot: RunningBot) -> None:
    anna = running_bot.person(3107, "Анна")
    await onboard(anna)
    for command in texts.SUBSCRIBER_COMMANDS:
        if command.command in {"start", "forget", "stop"}:
            continue
        [reply] = await anna.say(f"/{command.command}")
        assert "после команды" not in reply["text"], command
        await anna.say("/cancel")
