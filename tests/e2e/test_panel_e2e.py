"""The editors' menu fits a phone: at most 8 commands, /forget out of it, and the rest behind the
«Пульт» (/panel), whose buttons answer exactly as their commands do."""

from __future__ import annotations

from typing import Any

from bot import texts
from bot.storage.editors import AuditRepository
from tests.support.harness import EDITOR_ID, Person, RunningBot, onboard

# The Пульт's buttons and the commands they stand for, the ones that open a dialog last.
PANEL = (
    ("Статистика", "/stats"),
    ("Выгрузка", "/export"),
    ("Ленты сайтов", "/feeds"),
    ("Вопросы", "/questions"),
    ("Очередь", "/queue"),
    ("Редакторы", "/editors"),
    ("Новая публикация", "/new"),
    ("Исправить пост", "/edit"),
)


def shown(message: dict[str, Any]) -> tuple[Any, ...]:
    """What a person sees of a message: its words, their formatting, its buttons, a file."""
    return (
        message.get("text") or message.get("caption"),
        message.get("entities"),
        message.get("reply_markup"),
        "document" in message,
    )


async def typed(running_bot: RunningBot, person: Person, text: str) -> list[tuple[Any, ...]]:
    """Everything the bot answered to `text`, once the update is fully handled."""
    before = len(running_bot.emu.messages(person.id))
    sent = running_bot.emu.send_message(person.id, text)
    await running_bot.handled(
        lambda u: u.message is not None and u.message.message_id == sent["message_id"]
    )
    return [shown(m) for m in running_bot.emu.messages(person.id)[before:]]


async def pressed(
    running_bot: RunningBot, person: Person, message: dict[str, Any], label: str
) -> list[tuple[Any, ...]]:
    """Everything the bot answered to the button `label`, once the press is fully handled."""
    before = len(running_bot.emu.messages(person.id))
    query = running_bot.emu.press(person.id, message, running_bot.emu.button_data(message, label))
    await running_bot.emu.answer_to(query)
    await running_bot.handled(
        lambda u: u.callback_query is not None and u.callback_query.id == query
    )
    return [shown(m) for m in running_bot.emu.messages(person.id)[before:]]


async def test_the_editors_menu_fits_and_the_subscribers_is_unchanged(
    running_bot: RunningBot,
) -> None:
    emu = running_bot.emu
    emu.user(EDITOR_ID, first_name="Редактор")
    await running_bot.restart()
    editor = [c["command"] for c in emu.my_commands({"type": "chat", "chat_id": EDITOR_ID})]
    assert len(editor) <= 8
    assert editor[0] == "panel"
    assert {"new", "queue", "questions"} <= set(editor)
    assert "forget" not in editor
    default = emu.my_commands({"type": "default"})
    assert [(c["command"], c["description"]) for c in default] == [
        (c.command, c.description) for c in texts.SUBSCRIBER_COMMANDS
    ]
    # An editor the owner adds gets the same short menu at once.
    emu.user(1311, first_name="Мария")
    await onboard(running_bot.person(1311, "Мария"))
    owner = running_bot.person(EDITOR_ID, "Владелец")
    [added] = await owner.say("/editors add 1311")
    assert "теперь редактор" in added["text"]
    maria = [c["command"] for c in emu.my_commands({"type": "chat", "chat_id": 1311})]
    assert maria == editor
    # /forget, out of the menu, still works when typed.
    [forget] = await owner.say("/forget")
    assert forget["text"] == texts.NOTHING_TO_FORGET


async def test_every_panel_button_answers_as_its_command(running_bot: RunningBot) -> None:
    await onboard(running_bot.person(1312, "Ольга"))
    owner = running_bot.person(EDITOR_ID, "Владелец")
    [panel] = await owner.say("/panel")
    assert "Пульт" in panel["text"]
    labels = [text for text, _ in running_bot.emu.buttons(panel)]
    assert len(labels) == len(PANEL)
    for label, command in PANEL:
        by_command = await typed(running_bot, owner, command)
        by_button = await pressed(running_bot, owner, panel, label)
        assert by_command, command
        assert by_button == by_command, command
        await typed(running_bot, owner, "/cancel")


async def test_a_plain_editor_has_no_editors_button_and_cannot_forge_one(
    running_bot: RunningBot,
) -> None:
    running_bot.emu.user(1313, first_name="Олег")
    oleg = running_bot.person(1313, "Олег")
    await onboard(oleg)
    owner = running_bot.person(EDITOR_ID, "Владелец")
    await owner.say("/editors add 1313")
    [panel] = await oleg.say("/panel")
    labels = [text for text, _ in running_bot.emu.buttons(panel)]
    assert not any("Редакторы" in label for label in labels)
    assert any("Статистика" in label for label in labels)
    answer, _ = await oleg.tap_data(panel, "pn1:editors", expect="answer")
    assert answer.params["text"] == texts.PANEL_OWNERS_ONLY


async def test_a_forged_panel_button_is_refused_to_a_subscriber(running_bot: RunningBot) -> None:
    stranger = running_bot.person(1314, "Гость")
    await onboard(stranger)
    [refusal] = await stranger.say("/panel")
    assert "для редакторов" in refusal["text"]
    message = running_bot.emu.last_message(1314)
    for command in ("stats", "export", "editors", "new"):
        answer, _ = await stranger.tap_data(message, f"pn1:{command}", expect="answer")
        assert "для редакторов" in answer.params["text"], command
    await running_bot.handled(
        lambda u: u.callback_query is not None and u.callback_query.data == "pn1:new"
    )
    log = await AuditRepository(running_bot.engine).recent()
    refused = {entry.action for entry in log if entry.actor_id == 1314 and not entry.allowed}
    assert {"/panel", "pn1"} <= refused
    assert running_bot.emu.calls_of("sendDocument", 1314) == []
