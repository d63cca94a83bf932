"""Odd input from the outside world — numbers no record can have, lone surrogates, control
characters — gets a clear answer and leaves no traceback in the log."""

from __future__ import annotations

import logging

import pytest

from bot import texts
from tests.support.harness import EDITOR_ID, RunningBot

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
