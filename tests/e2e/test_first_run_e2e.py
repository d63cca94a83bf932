"""The first run on a phone, as a teacher, an educator and a head: the bot's description, the
consent, the questions, and what comes right after «Готово» — counted in taps and lines."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from bot import texts
from bot.content.models import Item, ItemKind, ItemStatus, OrgKind, Role, Topic
from bot.storage.items import ItemRepository
from tests.support.harness import Person, RunningBot, agree

PHONE_WIDTH = 34  # characters of a message line on a phone held upright


def phone_lines(text: str) -> int:
    """How many lines a message takes on a phone screen (a long line wraps)."""
    return sum(max(1, math.ceil(len(line) / PHONE_WIDTH)) for line in text.splitlines())


def labels(running_bot: RunningBot, message: dict[str, Any]) -> list[str]:
    return [text for text, _ in running_bot.emu.buttons(message)]


def menu_rows(running_bot: RunningBot, chat_id: int) -> list[list[str]]:
    keyboard = running_bot.emu.reply_keyboard(chat_id)
    assert keyboard is not None, "no main menu under the input field"
    return [[button["text"] for button in row] for row in keyboard["keyboard"]]


async def seed_events(running_bot: RunningBot) -> datetime:
    items = ItemRepository(running_bot.engine)
    tz = running_bot.settings.tz
    soon = datetime.now(tz).replace(hour=10, minute=0, second=0, microsecond=0)
    for title, days, roles, orgs in (
        ("Заседание Экспертного совета", 3, {Role.HEAD}, set()),
        ("Семинар для воспитателей", 4, set(), {OrgKind.KINDERGARTEN}),
        ("Мастер-класс для педагогов", 5, {Role.TEACHER}, set()),
        ("Конкурс «Педагог года»", 6, set(), set()),
    ):
        await items.add(
            Item(0, ItemKind.EVENT, title, status=ItemStatus.APPROVED,
                 starts_at=soon + timedelta(days=days), audience_roles=frozenset(roles),
                 audience_orgs=frozenset(orgs))
        )  # fmt: skip
    return soon


def next_weekly_digest(now: datetime) -> datetime:
    """The default timetable: Mondays at 9:00."""
    monday = (now + timedelta(days=(7 - now.weekday()) % 7)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    return monday if monday > now else monday + timedelta(days=7)


async def test_the_bot_describes_itself_in_russian_at_start_up(running_bot: RunningBot) -> None:
    emu = running_bot.emu
    assert emu.descriptions[""] == texts.BOT_DESCRIPTION
    assert emu.short_descriptions[""] == texts.BOT_SHORT_DESCRIPTION
    assert "«Инфозона»" in emu.descriptions[""] and "ИМЦ" in emu.short_descriptions[""]
    assert len(emu.short_descriptions[""]) <= 120 and len(emu.descriptions[""]) <= 512


async def test_a_teacher_agrees_answers_five_questions_and_sees_what_is_coming(
    running_bot: RunningBot,
) -> None:
    await seed_events(running_bot)
    emu = running_bot.emu
    anna = running_bot.person(3001, "Анна")
    taps = 0
    [greeting] = await anna.say("/start")
    taps += 1  # START
    assert phone_lines(greeting["text"]) <= 12, greeting["text"]
    assert labels(running_bot, greeting) == ["✅ Согласен(на)", "🔒 Что хранится"]
    assert "/privacy" in greeting["text"]
    # /privacy is one tap away, and the consent stays on the screen under it.
    _, privacy = await anna.tap(greeting, "Что хранится", expect="send")
    assert "152-ФЗ" in privacy["text"]
    assert await running_bot.subscribers.get(3001) is None

    _, step = await anna.tap(greeting, "Согласен")
    for label in ("Педагог", "Школа", "Пропустить", "Готово"):
        taps += 1
        _, step = await anna.tap(step, label)
    assert "Шаг 5 из 5" in step["text"]
    emu.mark()
    _, summary = await anna.tap(step, "Раз в неделю")
    taps += 2  # consent, frequency
    coming = await emu.next_message(3001)
    assert taps == 7

    assert "Готово! Вы подписаны" in summary["text"] and "Педагог · Школа" in summary["text"]
    assert phone_lines(summary["text"]) <= 6, summary["text"]
    # Passing the bot on is one tap from the summary.
    assert labels(running_bot, summary) == ["📣 Поделиться с коллегой"]
    # What comes next, for her role: the teachers' master class and the contest for everyone,
    # not the heads' council nor the kindergartens' seminar.
    text = coming["text"]
    assert "Ближайшее для вас" in text
    assert "Мастер-класс для педагогов" in text and "Конкурс «Педагог года»" in text
    assert "Экспертного совета" not in text and "для воспитателей" not in text
    monday = next_weekly_digest(datetime.now(running_bot.settings.tz))
    assert f"Первый дайджест — {texts.format_date(monday.date())}, в 09:00" in text
    assert "Объявления ИМЦ приходят сразу" in text
    assert phone_lines(text) <= 10, text
    assert menu_rows(running_bot, 3001) == [
        ["📅 Что дальше", "📚 Материалы"],
        ["💡 Опыт площадок", "🔎 Поиск"],
        ["✉️ Вопрос в ИМЦ", "⚙️ Настройки"],
    ]
    keyboard = emu.reply_keyboard(3001)
    assert keyboard is not None and keyboard.get("is_persistent") is True


async def test_an_educator_from_a_poster_link_is_asked_three_questions(
    running_bot: RunningBot,
) -> None:
    await seed_events(running_bot)
    olga = running_bot.person(3002, "Ольга")
    step = await agree(olga, "/start role_preschool")
    # The link said who she is and the role says where she works: only three steps left.
    assert "Шаг 1 из 3. Как называется ваша организация?" in step["text"]
    [topics] = await olga.say("Детский сад № 45")
    assert "Шаг 2 из 3" in topics["text"]
    _, step = await olga.tap(topics, "Готово")
    assert "Шаг 3 из 3" in step["text"]
    running_bot.emu.mark()
    _, summary = await olga.tap(step, "Каждый рабочий день")
    coming = await running_bot.emu.next_message(3002)
    assert "Воспитатель детского сада · Детский сад № 45" in summary["text"]
    assert "Семинар для воспитателей" in coming["text"]
    assert "Экспертного совета" not in coming["text"]
    subscriber = await running_bot.subscribers.get(3002)
    assert subscriber is not None
    assert subscriber.role is Role.PRESCHOOL and subscriber.org_kind is OrgKind.KINDERGARTEN
    assert subscriber.source == "role_preschool"  # the link is kept as her source


async def test_an_educator_who_taps_her_role_is_not_asked_where_she_works(
    running_bot: RunningBot,
) -> None:
    nina = running_bot.person(3003, "Нина")
    step = await agree(nina, "/start src_kindergartens")
    assert "Шаг 1 из 5. Кто вы?" in step["text"]
    _, step = await nina.tap(step, "Воспитатель детского сада")
    assert "Шаг 2 из 4. Как называется ваша организация?" in step["text"]
    subscriber = await running_bot.subscribers.get(3003)
    assert subscriber is not None and subscriber.org_kind is OrgKind.KINDERGARTEN
    assert subscriber.source == "src_kindergartens"


async def test_a_head_who_wants_no_events_nor_announcements_is_told_only_what_she_chose(
    running_bot: RunningBot,
) -> None:
    await seed_events(running_bot)
    head = running_bot.person(3004, "Елена")
    step = await agree(head, "/start role_head")
    assert "Шаг 1 из 4. Где вы работаете?" in step["text"]
    _, step = await head.tap(step, "Школа")
    _, step = await head.tap(step, "Пропустить")
    _, step = await head.tap(step, "Мероприятия")
    _, step = await head.tap(step, "Объявления")
    _, step = await head.tap(step, "Готово")
    assert "приходят сразу" not in step["text"]
    assert "В дайджесте — материалы, опыт площадок." in step["text"]
    running_bot.emu.mark()
    _, summary = await head.tap(step, "Раз в неделю")
    coming = await running_bot.emu.next_message(3004)
    assert "Руководитель · Школа" in summary["text"]
    assert "Темы: материалы, опыт площадок" in summary["text"]
    assert "Ближайшее" not in coming["text"] and "Экспертного совета" not in coming["text"]
    assert "Объявления" not in coming["text"]
    assert "Первый дайджест" in coming["text"]
    subscriber = await running_bot.subscribers.get(3004)
    assert subscriber is not None and subscriber.topics == {Topic.MATERIALS, Topic.CASES}


async def test_the_organisation_step_refuses_a_command_a_link_and_a_question(
    running_bot: RunningBot,
) -> None:
    teacher = running_bot.person(3005, "Анна")
    step = await agree(teacher)
    _, step = await teacher.tap(step, "Педагог")
    _, step = await teacher.tap(step, "Школа")
    for typed, expected in (
        ("/школа123", "Это команда"),
        ("https://school123.spb.ru", "Ссылка не подойдёт"),
        ("school123.ru", "Ссылка не подойдёт"),
        ("когда экспертный совет", "Похоже на вопрос"),
        ("а где расписание?", "Похоже на вопрос"),
    ):
        [refusal] = await teacher.say(typed)
        assert expected in refusal["text"], typed
        assert "«Пропустить»" in refusal["text"]
        subscriber = await running_bot.subscribers.get(3005)
        assert subscriber is not None and subscriber.org_name is None, typed
    [topics] = await teacher.say("ГБОУ СОШ № 123")
    assert "Шаг 4 из 5" in topics["text"]
    subscriber = await running_bot.subscribers.get(3005)
    assert subscriber is not None and subscriber.org_name == "ГБОУ СОШ № 123"


async def test_a_known_command_at_the_organisation_step_still_works(
    running_bot: RunningBot,
) -> None:
    teacher = running_bot.person(3006, "Анна")
    step = await agree(teacher)
    _, step = await teacher.tap(step, "Педагог")
    await teacher.tap(step, "Школа")
    [privacy] = await teacher.say("/privacy")
    assert "152-ФЗ" in privacy["text"]
    [topics] = await teacher.say("Лицей № 7")  # the step was kept
    assert "Шаг 4 из 5" in topics["text"]


async def test_a_subscriber_shares_a_link_and_a_colleague_comes_by_it(
    running_bot: RunningBot,
) -> None:
    emu = running_bot.emu
    anna = running_bot.person(3007, "Анна")
    step = await agree(anna)
    for label in ("Педагог", "Школа", "Пропустить", "Готово", "Раз в неделю"):
        _, step = await anna.tap(step, label)
    link = f"https://t.me/{emu.bot_username}?start=share"
    _, shared = await anna.tap(step, "Поделиться с коллегой", expect="send")  # the summary's
    assert link in shared["text"]
    [menu] = await anna.say("/settings")
    _, shared = await anna.tap(menu, "Поделиться с коллегой", expect="send")
    assert link in shared["text"]
    [(button, _)] = emu.buttons(shared)
    url = shared["reply_markup"]["inline_keyboard"][0][0]["url"]
    assert button == "Выбрать чат" and url.startswith("https://t.me/share/url?url=")

    colleague = Person(emu, 3008, "Мария")
    step = await agree(colleague, "/start share")
    assert "Кто вы?" in step["text"]
    subscriber = await running_bot.subscribers.get(3008)
    assert subscriber is not None and subscriber.source == "share"
