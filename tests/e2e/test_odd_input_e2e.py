"""Odd input from the outside world — numbers no record can have, lone surrogates, control
characters — gets a clear answer and leaves no traceback in the log."""

from __future__ import annotations

import logging

import pytest

from bot import texts
from bot.storage.questions import QuestionRepository
from tests.support.harness import EDITOR_ID, RunningBot, agree, onboard

BAD_NUMBERS = ("-1", "0", str(2**63), str(10**30), "²", "١٢", "1" * 5000)
NUMBER_COMMANDS = (
    "/edit {}",
    "/edit №{}",
    "/export rsvp {}",
    "/feeds {}",
    "/feeds remove {}",
    "/editors remove {}",
    "/editors add {}",
)


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


@pytest.mark.parametrize("command", NUMBER_COMMANDS)
async def test_commands_answer_a_bad_number_clearly(
    running_bot: RunningBot, command: str, caplog: pytest.LogCaptureFixture
) -> None:
    editor = running_bot.person(EDITOR_ID, "Редактор")
    for number in BAD_NUMBERS:
        reply = await editor.say_one(command.format(number))
        assert reply["text"] != texts.SOMETHING_WENT_WRONG, (command, number)
        assert len(reply["text"]) < 1000
    assert not tracebacks(caplog)


# --- lone surrogates and control characters ------------------------------------------------------

# A lone surrogate can't be UTF-8: Telegram's JSON carries it as the escape "\ud800".
ODD = "\ud800\x00\x1b\u0085"


async def test_lone_surrogates_and_control_characters_get_normal_answers(
    running_bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    emu = running_bot.emu
    teacher = running_bot.person(1701, "Анна")
    question = await agree(teacher)
    _, step = await teacher.tap(question, "Педагог")
    _, step = await teacher.tap(step, "Школа")
    [topics] = await teacher.say(f"ГБОУ СОШ{ODD} № 5")
    assert "тем" in topics["text"].lower()
    subscriber = await running_bot.subscribers.get(1701)
    assert subscriber is not None and subscriber.org_name is not None
    assert "\x00" not in subscriber.org_name and "\ud800" not in subscriber.org_name
    _, step = await teacher.tap(topics, "Готово")
    await teacher.tap(step, "Раз в неделю")

    [asked] = await teacher.say(f"/ask Когда{ODD} семинар?")
    assert "передан" in asked["text"]
    [stored] = await QuestionRepository(running_bot.engine).open_questions(10)
    assert "\ud800" not in stored.text and "\x00" not in stored.text

    [found] = await teacher.say(f"/search семинар{ODD}")
    assert found["text"]
    [plain] = await teacher.say(f"что в марте{ODD}")
    assert plain["text"]

    menu = emu.last_message(1701)
    answer, _ = await teacher.tap_data(menu, f"s1:menu{ODD}", expect="answer")
    assert "устарела" in answer.params["text"]

    running_bot.person(EDITOR_ID, "Редактор")
    emu.mark()
    emu.send_message(
        EDITOR_ID, f"подпись{ODD}", document=emu.upload(b"\xff\xfe", f"plan{ODD}.txt")
    )
    assert (await emu.next_message(EDITOR_ID))["text"]
    assert not tracebacks(caplog)


# --- names that show nothing, or show something else -----------------------------------------


async def test_an_organisation_name_of_nothing_visible_is_called_empty(
    running_bot: RunningBot,
) -> None:
    teacher = running_bot.person(1702, "Анна")
    question = await agree(teacher)
    _, step = await teacher.tap(question, "Педагог")
    await teacher.tap(step, "Школа")
    for blank in ("\u3000 \u3000", "\u200b\u200d\u2060", "\u202e\u202c", "\u3164"):
        [reply] = await teacher.say(blank)
        assert "пустое" in reply["text"] and "длинное" not in reply["text"], repr(blank)
        assert "«Пропустить»" in reply["text"]  # the button under the question at first
    subscriber = await running_bot.subscribers.get(1702)
    assert subscriber is not None and subscriber.org_name is None
    [topics] = await teacher.say("\u202eакшоШ\u200b № 5")  # shows «5 № Школа» in a client
    assert "тем" in topics["text"].lower()
    subscriber = await running_bot.subscribers.get(1702)
    assert subscriber is not None and subscriber.org_name == "акшоШ № 5"


async def test_a_case_organisation_of_nothing_visible_is_asked_again(
    running_bot: RunningBot,
) -> None:
    editor = running_bot.person(EDITOR_ID, "Редактор")
    kinds = await editor.say_one("/new")
    await editor.tap(kinds, "Опыт площадки")
    [_, asked] = await editor.say("Кейс школы\nОписание кейса.", replies=2)
    assert "организац" in asked["text"].lower()
    [again] = await editor.say("\u200b\u2066\u2069")
    assert "пустой" in again["text"]
    [understood, site] = await editor.say("Школа\u202e № 5", replies=2)
    assert understood["text"] == "Понял: площадка — Школа № 5"
    assert "Тип площадки" in site["text"]


async def test_in_settings_a_bad_organisation_name_points_to_the_button_that_is_there(
    running_bot: RunningBot,
) -> None:
    """In /settings the button under the question is «Без названия», not «Пропустить»."""
    teacher = running_bot.person(1703, "Анна")
    await onboard(teacher)
    menu = await teacher.say_one("/settings")
    _, asked = await teacher.tap(menu, "Название:")
    rows = asked["reply_markup"]["inline_keyboard"]
    assert any(button["text"] == "Без названия" for row in rows for button in row)
    [empty] = await teacher.say("\u200b ")
    [long] = await teacher.say("Школа " * 100)
    for reply in (empty, long):
        assert "«Без названия»" in reply["text"] and "Пропустить" not in reply["text"]
