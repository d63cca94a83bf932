"""Owners manage the team; every editor action and every refusal lands in the audit log."""

from __future__ import annotations

from bot.storage.editors import AuditRepository, EditorRepository
from tests.support.harness import EDITOR_ID, RunningBot, onboard


async def test_owner_adds_editors_by_id_username_and_forward_then_removes(
    running_bot: RunningBot,
) -> None:
    emu = running_bot.emu
    owner = running_bot.person(EDITOR_ID, "Владелец")
    emu.user(1201, first_name="Мария", username="maria_imc")
    maria = running_bot.person(1201, "Мария")
    emu.user(1201, first_name="Мария", username="maria_imc")
    await onboard(maria)
    editors = EditorRepository(running_bot.engine)

    [listing] = await owner.say("/editors")
    assert "Редакторов пока нет" in listing["text"]
    [added] = await owner.say("/editors add @maria_imc")
    assert "Мария теперь редактор" in added["text"]
    assert await editors.is_editor(1201)
    scope = {"type": "chat", "chat_id": 1201}
    assert "panel" in [c["command"] for c in emu.my_commands(scope)]
    [again] = await owner.say("/editors add 1201")
    assert "уже редактор" in again["text"]

    emu.user(1202, first_name="Олег")
    [prompt] = await owner.say("/editors add")
    assert "Перешлите" in prompt["text"]
    forwarded = {"forward_origin": {"type": "user", "date": 0,
                                   "sender_user": {"id": 1202, "is_bot": False,
                                                   "first_name": "Олег"}}}  # fmt: skip
    owner.emu.mark()
    emu.send_message(EDITOR_ID, "Привет, это Олег", **forwarded)
    confirmation = await emu.next_message(EDITOR_ID)
    assert "Олег теперь редактор" in confirmation["text"]

    [listing] = await owner.say("/editors")
    assert "Мария — 1201" in listing["text"] and "Олег — 1202" in listing["text"]
    [removed] = await owner.say("/editors remove 1202")
    assert "удалён" in removed["text"]
    assert not await editors.is_editor(1202)
    [unknown] = await owner.say("/editors add @nobody_here")
    assert "не нашлось" in unknown["text"]

    # An editor who is not an owner can't manage the team.
    [refused] = await maria.say("/editors add 1300")
    assert "для редакторов" in refused["text"] or "Эта команда" in refused["text"]
    assert not await editors.is_editor(1300)
    [stats] = await maria.say("/stats")
    assert "Статистика «Инфозоны»" in stats["caption"]


async def test_refusals_and_editor_actions_are_audited(running_bot: RunningBot) -> None:
    stranger = running_bot.person(1301, "Гость")
    [refusal] = await stranger.say("/stats")
    assert "для редакторов" in refusal["text"]
    [refusal] = await stranger.say("/editors add 1301")
    assert "для редакторов" in refusal["text"]
    owner = running_bot.person(EDITOR_ID, "Владелец")
    await owner.say("/stats")
    # The audit row is written once the handler is done: wait for the update to be handled.
    await running_bot.handled(
        lambda u: (
            u.message is not None and u.message.text == "/stats" and u.message.chat.id == EDITOR_ID
        )
    )
    log = await AuditRepository(running_bot.engine).recent()
    assert [(e.actor_id, e.action, e.allowed) for e in reversed(log)] == [
        (1301, "/stats", False),
        (1301, "/editors", False),
        (EDITOR_ID, "/stats", True),
    ]
    assert not await EditorRepository(running_bot.engine).is_editor(1301)


async def test_an_editors_own_outdated_button_is_stale_not_a_refusal(
    running_bot: RunningBot,
) -> None:
    owner = running_bot.person(EDITOR_ID, "Владелец")
    [listing] = await owner.say("/editors")
    answer, _ = await owner.tap_data(listing, "qd1:garbage", expect="answer")
    assert "устарела" in answer.params["text"]
    await running_bot.handled(lambda u: u.callback_query is not None)
    log = await AuditRepository(running_bot.engine).recent()
    assert all(entry.allowed for entry in log)


async def test_every_editor_command_and_button_is_refused_to_a_stranger(
    running_bot: RunningBot,
) -> None:
    """The whole editors' menu and every editor button prefix, tried by someone who isn't one."""
    from bot.handlers.editors import editor_command_names
    from bot.telegram.callbacks import EDITOR_PREFIXES

    stranger = running_bot.person(1401, "Гость")
    await onboard(stranger)
    commands = editor_command_names()
    assert {"new", "queue", "stats", "export", "feeds", "editors", "questions", "edit"} <= set(
        commands
    )
    for command in commands:
        [refusal] = await stranger.say(f"/{command} 1")
        assert "для редакторов" in refusal["text"], command
    message = running_bot.emu.last_message(1401)
    for prefix in EDITOR_PREFIXES:
        answer, _ = await stranger.tap_data(message, f"{prefix}:1:1", expect="answer")
        assert "для редакторов" in answer.params["text"], prefix
    await running_bot.handled(
        lambda u: (
            u.callback_query is not None and u.callback_query.data == f"{EDITOR_PREFIXES[-1]}:1:1"
        )
    )
    log = await AuditRepository(running_bot.engine).recent(limit=200)
    refused = {entry.action for entry in log if entry.actor_id == 1401 and not entry.allowed}
    assert {f"/{c}" for c in commands} | set(EDITOR_PREFIXES) <= refused
    assert not any(entry.allowed for entry in log if entry.actor_id == 1401)
