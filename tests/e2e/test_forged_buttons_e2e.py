"""Stale and forged buttons get a polite answer, change nothing, and log no traceback."""

from __future__ import annotations

import logging

import pytest

from bot.content.models import Role
from tests.support.harness import RunningBot, onboard


@pytest.mark.parametrize(
    "data",
    [
        "r1:o:hacker",  # a role that does not exist
        "r1:o",  # too few parts
        "zz:1:2",  # an unknown prefix
        "",  # empty
        "s1:menu:extra:parts",
        "c1:stop:maybe",  # not a boolean
        "r0:o:head",  # an old version of the role button
    ],
)
async def test_forged_callback_data_changes_nothing(
    running_bot: RunningBot, data: str, caplog: pytest.LogCaptureFixture
) -> None:
    teacher = running_bot.person(601)
    await onboard(teacher)
    before = await running_bot.subscribers.get(601)
    message = running_bot.emu.last_message(601)
    answer, _ = await teacher.tap_data(message, data, expect="answer")
    assert "устарела" in answer.params["text"]
    assert await running_bot.subscribers.get(601) == before
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


async def test_someone_elses_button_is_refused(
    running_bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    owner = running_bot.person(602, "Владелец")
    await onboard(owner, role="Педагог")
    intruder = running_bot.person(603, "Чужой")
    await onboard(intruder, role="Методист")
    owners_message = running_bot.emu.last_message(602)
    answer, _ = await intruder.tap_data(owners_message, "r1:s:head", expect="answer")
    assert "не для вас" in answer.params["text"]
    assert (await running_bot.subscribers.get(602)).role is Role.TEACHER  # type: ignore[union-attr]
    assert (await running_bot.subscribers.get(603)).role is Role.METHODIST  # type: ignore[union-attr]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


async def test_buttons_after_forget_do_nothing(running_bot: RunningBot) -> None:
    teacher = running_bot.person(604)
    await onboard(teacher)
    [menu] = await teacher.say("/settings")
    [confirm] = await teacher.say("/forget")
    await teacher.tap(confirm, "Удалить мои данные")
    answer, _ = await teacher.tap(menu, "Роль", expect="answer")
    assert "не подписаны" in answer.params["text"]
    answer, _ = await teacher.tap_data(menu, "r1:s:head", expect="answer")
    assert await running_bot.subscribers.get(604) is None
