"""Owners manage the team; every editor action and every refusal lands in the audit log."""

from __future__ import annotations

from bot.storage.editors import AuditRepository, EditorRepository
from tests.conftest import EDITOR_ID, RunningBot
from tests.test_onboarding_e2e import onboard


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
    assert "stats" in [c["command"] for c in emu.my_commands(scope)]
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
    assert "Подписчики «Инфозоны»" in stats["text"]


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
