"""A teacher joins, sets preferences, pauses, leaves — through the Bot API emulator."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from aiogram.types import Update

from bot.content.models import Frequency, OrgKind, Role, SubscriberStatus, Topic
from tests.support.harness import EDITOR_ID, Person, RunningBot, agree, onboard


async def test_full_onboarding(running_bot: RunningBot) -> None:
    anna = running_bot.person(501, "Анна")
    [greeting] = await anna.say("/start src_school12")
    assert "«Инфозона»" in greeting["text"]
    assert "хранит ваш Telegram ID" in greeting["text"] and "/privacy" in greeting["text"]
    # Nothing is stored before she agrees.
    assert await running_bot.subscribers.get(501) is None
    _, question = await anna.tap(greeting, "Согласен(на)")
    assert "Шаг 1 из 5. Кто вы?" in question["text"]
    labels = [text for text, _ in running_bot.emu.buttons(question)]
    assert labels == [
        "Руководитель",
        "Заместитель / координатор",
        "Педагог",
        "Воспитатель детского сада",
        "Методист",
        "Другое",
    ]

    _, step = await anna.tap(question, "Педагог")
    assert "Шаг 2 из 5. Где вы работаете?" in step["text"]
    _, step = await anna.tap(step, "Школа")
    assert "Шаг 3 из 5" in step["text"]

    [topics] = await anna.say("  ГБОУ   СОШ № 123 ")
    assert "Шаг 4 из 5" in topics["text"]
    # The organisation question's buttons are gone, so it can't be answered twice.
    assert not running_bot.emu.buttons(running_bot.emu.message(501, step["message_id"]))
    assert all(text.startswith("✅") for text, _ in running_bot.emu.buttons(topics)[:4])

    _, topics = await anna.tap(topics, "Мероприятия")
    assert "⬜ Мероприятия" in [text for text, _ in running_bot.emu.buttons(topics)]
    _, step = await anna.tap(topics, "Готово")
    assert "Шаг 5 из 5" in step["text"]
    # She switched events off: the frequency step doesn't promise them.
    assert "Объявления ИМЦ приходят сразу, в дайджесте — материалы, опыт площадок" in step["text"]
    _, summary = await anna.tap(step, "Каждый рабочий день")
    assert "Готово! Вы подписаны" in summary["text"]
    assert "ГБОУ СОШ № 123" in summary["text"]
    assert "Педагог" in summary["text"]

    subscriber = await running_bot.subscribers.get(501)
    assert subscriber is not None
    assert subscriber.onboarded
    assert subscriber.role is Role.TEACHER
    assert subscriber.org_kind is OrgKind.SCHOOL
    assert subscriber.org_name == "ГБОУ СОШ № 123"
    assert subscriber.topics == {Topic.MATERIALS, Topic.CASES, Topic.ANNOUNCEMENTS}
    assert subscriber.frequency is Frequency.DAILY
    assert subscriber.source == "src_school12"
    assert subscriber.status is SubscriberStatus.ACTIVE


async def test_organisation_name_too_long_keeps_the_question(running_bot: RunningBot) -> None:
    olga = running_bot.person(502, "Ольга")
    question = await agree(olga)
    _, step = await olga.tap(question, "Воспитатель детского сада")
    # A воспитатель ДОО works in a детский сад: straight to its name, one step fewer.
    assert "Шаг 2 из 4. Как называется ваша организация?" in step["text"]
    [error] = await olga.say("Д" * 201)
    assert "Слишком длинное название" in error["text"]
    [sticker_answer] = await olga.say("")  # a message with no text, like a sticker
    assert "текстом" in sticker_answer["text"]
    [topics] = await olga.say("ДОУ № 45")
    assert "Шаг 3 из 4" in topics["text"]
    subscriber = await running_bot.subscribers.get(502)
    assert subscriber is not None and subscriber.org_name == "ДОУ № 45"
    assert subscriber.org_kind is OrgKind.KINDERGARTEN and subscriber.role is Role.PRESCHOOL


async def test_topics_cannot_all_be_switched_off(running_bot: RunningBot) -> None:
    ivan = running_bot.person(503, "Иван")
    await onboard(ivan)
    [menu] = await ivan.say("/settings")
    _, topics = await ivan.tap(menu, "Темы")
    for label in ("Методические", "Мероприятия", "Опыт площадок"):
        _, topics = await ivan.tap(topics, label)
    answer, topics = await ivan.tap(topics, "Объявления", expect="answer")
    assert answer.params.get("show_alert") is True
    assert "последняя включённая тема" in answer.params["text"]
    # Refused before saving: the last topic stays on, in the database and on the button.
    subscriber = await running_bot.subscribers.get(503)
    assert subscriber is not None and subscriber.topics == {Topic.ANNOUNCEMENTS}
    assert "✅ Объявления ИМЦ" in [text for text, _ in running_bot.emu.buttons(topics)]
    answer, menu = await ivan.tap(topics, "Готово")
    assert "Темы: объявления ИМЦ" in [text for text, _ in running_bot.emu.buttons(menu)]


async def test_second_start_shows_settings_and_creates_no_second_row(
    running_bot: RunningBot,
) -> None:
    anna = running_bot.person(504)
    await onboard(anna)
    [again] = await anna.say("/start src_elsewhere")
    assert "Вы уже подписаны" in again["text"]
    assert "Роль: Педагог" in again["text"]
    async with running_bot.engine.connect() as conn:
        rows = (await conn.execute(sa.text("SELECT source FROM subscribers"))).all()
    assert rows == [(None,)]


async def test_settings_change_topics_and_frequency(running_bot: RunningBot) -> None:
    pavel = running_bot.person(505, "Павел")
    await onboard(pavel, role="Руководитель")
    [menu] = await pavel.say("/settings")
    assert "Ваши настройки" in menu["text"]

    def labels(message: dict[str, Any]) -> list[str]:
        return [text for text, _ in running_bot.emu.buttons(message)]

    # Every button shows its value, so the message itself stays two lines.
    assert labels(menu)[:5] == [
        "Роль: Руководитель",
        "Организация: школа",
        "Название: не указано",
        "Темы: все",
        "Дайджест: раз в неделю",
    ]
    assert len(menu["text"].splitlines()) == 2
    _, topics = await pavel.tap(menu, "Темы")
    _, topics = await pavel.tap(topics, "Методические")
    _, topics = await pavel.tap(topics, "Опыт площадок")
    answer, menu = await pavel.tap(topics, "Готово")
    assert answer.params.get("text") == "Сохранено ✓"
    assert "Темы: мероприятия, объявления ИМЦ" in labels(menu)
    _, choices = await pavel.tap(menu, "Дайджест:")
    assert "✓ Раз в неделю" in labels(choices)
    _, menu = await pavel.tap(choices, "Не присылать")
    assert "Дайджест: не присылать" in labels(menu)
    await pavel.tap(menu, "Название:")
    [menu] = await pavel.say("Лицей № 7")
    assert "Название: Лицей № 7" in labels(menu)

    subscriber = await running_bot.subscribers.get(505)
    assert subscriber is not None
    assert subscriber.topics == {Topic.EVENTS, Topic.ANNOUNCEMENTS}
    assert subscriber.frequency is Frequency.OFF
    assert subscriber.org_name == "Лицей № 7"
    assert subscriber.role is Role.HEAD


async def test_stop_then_start(running_bot: RunningBot) -> None:
    maria = running_bot.person(506, "Мария")
    await onboard(maria)
    [confirm] = await maria.say("/stop")
    assert "Приостановить рассылку?" in confirm["text"]
    _, kept = await maria.tap(confirm, "Нет")
    assert "продолжается" in kept["text"]
    assert (await running_bot.subscribers.get(506)).status is SubscriberStatus.ACTIVE  # type: ignore[union-attr]

    [confirm] = await maria.say("/stop")
    _, done = await maria.tap(confirm, "Да, приостановить")
    assert "приостановлена" in done["text"] and "/start" in done["text"]
    assert (await running_bot.subscribers.get(506)).status is SubscriberStatus.PAUSED  # type: ignore[union-attr]
    [again] = await maria.say("/stop")
    assert "уже на паузе" in again["text"]

    [back] = await maria.say("/start")
    assert "С возвращением" in back["text"]
    subscriber = await running_bot.subscribers.get(506)
    assert subscriber is not None and subscriber.status is SubscriberStatus.ACTIVE
    assert subscriber.role is Role.TEACHER  # settings survived the pause


async def test_blocking_and_unblocking_the_bot(running_bot: RunningBot) -> None:
    emu = running_bot.emu
    nina = running_bot.person(507, "Нина")
    await onboard(nina)

    def status_change(new: str) -> Callable[[Update], bool]:
        return lambda u: (
            u.my_chat_member is not None and u.my_chat_member.new_chat_member.status == new
        )

    emu.block_bot(507)
    await running_bot.handled(status_change("kicked"))
    subscriber = await running_bot.subscribers.get(507)
    assert subscriber is not None and subscriber.status is SubscriberStatus.BLOCKED
    emu.unblock_bot(507)
    await running_bot.handled(status_change("member"))
    subscriber = await running_bot.subscribers.get(507)
    assert subscriber is not None and subscriber.status is SubscriberStatus.ACTIVE


async def test_forget_leaves_no_personal_data(running_bot: RunningBot, tmp_path: Path) -> None:
    emu = running_bot.emu
    emu.user(508, first_name="Евлампия", username="evlampia_teacher")
    person = Person(emu, 508, "Евлампия")
    emu.user(508, first_name="Евлампия", username="evlampia_teacher")
    question = await agree(person, "/start src_forgetme")
    _, step = await person.tap(question, "Методист")
    _, step = await person.tap(step, "Доп. образование")
    await person.say("Дом творчества Радуга")

    [confirm] = await person.say("/forget")
    assert "Удалить ваши данные" in confirm["text"]
    await person.tap(confirm, "Отмена")
    assert await running_bot.subscribers.get(508) is not None

    [confirm] = await person.say("/forget")
    _, done = await person.tap(confirm, "Удалить мои данные")
    assert "данные удалены" in done["text"]
    assert await running_bot.subscribers.get(508) is None

    async with running_bot.engine.connect() as conn:
        tables = await conn.run_sync(lambda c: sa.inspect(c).get_table_names())
        for table in tables:
            for row in (await conn.execute(sa.text(f'SELECT * FROM "{table}"'))).all():
                flat = " ".join(str(value) for value in row)
                # The chat id as a number of its own anywhere; a keyed hash (the «forgotten»
                # list's 64 hex digits) may contain those digits by chance, and says nothing.
                numbers = {
                    number
                    for value in row
                    if not re.fullmatch(r"[0-9a-f]{64}", str(value))
                    for number in re.findall(r"\d+", str(value))
                }
                assert "508" not in numbers, (table, row)
                assert "Евлампия" not in flat and "evlampia" not in flat, (table, row)
    # Deleted rows are overwritten, not left in free pages or the write-ahead log.
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("infozona.db*"))
    for secret in ("Евлампия", "evlampia_teacher", "Дом творчества Радуга", "src_forgetme"):
        assert secret.encode() not in raw, secret

    [nothing] = await person.say("/forget")
    assert "ничего не хранится" in nothing["text"]


async def test_free_text_gets_a_helpful_hint(running_bot: RunningBot) -> None:
    stranger = running_bot.person(509, "Гость")
    [answer] = await stranger.say("здравствуйте, где расписание семинаров?")
    assert "мероприятий не нашлось" in answer["text"]  # a question about seminars: answered
    [hint] = await stranger.say("здравствуйте")
    assert running_bot.emu.buttons(hint)[0][0] == "☰ Меню"
    await onboard(stranger)
    [thanks] = await stranger.say("спасибо!")
    assert thanks["text"].startswith("Пожалуйста!")
    [help_message] = await stranger.say("/help")
    for command in ("/start", "/settings", "/stop", "/privacy", "/forget"):
        assert command in help_message["text"]
    assert "/stats" not in help_message["text"]


async def test_privacy_explains_what_is_stored(running_bot: RunningBot) -> None:
    reader = running_bot.person(510)
    [privacy] = await reader.say("/privacy")
    assert "152-ФЗ" in privacy["text"]
    assert "/forget" in privacy["text"]
    assert running_bot.settings.operator_name in privacy["text"]


async def test_command_menus_for_subscribers_and_editors(running_bot: RunningBot) -> None:
    emu = running_bot.emu
    default = [c["command"] for c in emu.my_commands({"type": "default"})]
    assert default[:2] == ["next", "events"]  # what people come for, first
    assert {"start", "settings", "stop", "forget", "search"} <= set(default)
    assert "stats" not in default
    # The editor had not opened the bot when it started: their menu comes at the next start.
    emu.user(EDITOR_ID, first_name="Редактор")
    await running_bot.restart()
    editor = [c["command"] for c in emu.my_commands({"type": "chat", "chat_id": EDITOR_ID})]
    assert "panel" in editor and "forget" not in editor and len(editor) <= 8
    descriptions = [c["description"] for c in emu.my_commands({"type": "default"})]
    assert all(any("а" <= ch <= "я" for ch in d.lower()) for d in descriptions)


async def test_editor_sees_subscriber_counts_others_are_refused(running_bot: RunningBot) -> None:
    teacher = running_bot.person(511)
    await onboard(teacher)
    [refusal] = await teacher.say("/stats")
    assert "для редакторов" in refusal["text"]
    editor = running_bot.person(EDITOR_ID, "Редактор")
    [stats] = await editor.say("/stats")
    assert "1 подписчик:" in stats["caption"]
    _, subscribers = await editor.tap(stats, "Подписчики", expect="send")
    assert "Всего 1 подписчик" in subscribers["text"]
    assert "Педагог — 1" in subscribers["text"]


async def test_a_failure_inside_the_bot_gets_an_apology_not_silence(
    running_bot: RunningBot,
) -> None:
    teacher = running_bot.person(512)
    await onboard(teacher)
    async with running_bot.engine.begin() as conn:
        await conn.execute(sa.text("ALTER TABLE subscribers RENAME TO subscribers_gone"))
    [apology] = await teacher.say("/settings")
    assert "Что-то пошло не так" in apology["text"]
