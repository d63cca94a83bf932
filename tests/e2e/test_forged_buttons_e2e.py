"""Stale and forged buttons get a polite answer, change nothing, and log no traceback."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import date
from enum import Enum
from typing import Any

import pytest
import sqlalchemy as sa
from aiogram.filters.callback_data import CallbackData

from bot.content.models import Role
from bot.storage import schema
from bot.storage.database import Database
from bot.telegram import callbacks as cb
from tests.support.harness import EDITOR_ID, RunningBot, onboard


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


# --- every button's fields, forged --------------------------------------------------------------

FORGED_VALUES = ("-1", "0", str(2**63), str(10**30), "abc", "")
# Values no id, index or flag of any button can take: the press is out of date, whatever it is.
NEVER_VALID = frozenset({"-1", str(2**63), str(10**30), "abc"})


def _button_classes() -> list[type[CallbackData]]:
    found = [
        value
        for value in vars(cb).values()
        if isinstance(value, type)
        and issubclass(value, CallbackData)
        and value is not CallbackData
    ]
    return sorted(found, key=lambda cls: cls.__prefix__)


def _sample(cls: type[CallbackData]) -> CallbackData:
    """A well-formed button of the class, pointing at records that do not exist."""
    values: dict[str, Any] = {}
    for name, info in cls.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, Enum):
            values[name] = next(iter(annotation))
        elif annotation is bool:
            values[name] = True
        elif annotation is int:
            values[name] = 2000 if name == "first_year" else 1 if name != "index" else 0
            if name in ("start", "end"):
                values[name] = date(2026, 9, 1).toordinal()
        else:
            values[name] = ""
    return cls(**values)


def _forgeries(cls: type[CallbackData]) -> list[tuple[str, str, str]]:
    """(field, forged value, callback data) with one field of a sample button forged."""
    parts = _sample(cls).pack().split(":")
    forged: list[tuple[str, str, str]] = []
    for position, name in enumerate(cls.model_fields, 1):
        for value in FORGED_VALUES:
            data = ":".join([*parts[:position], value, *parts[position + 1 :]])
            forged.append((name, value, data))
    return forged


async def _snapshot(engine: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every table but the audit log (editors' presses are audited, by design)."""
    async with engine.connect() as conn:
        return {
            table.name: sorted(map(tuple, (await conn.execute(sa.select(table))).all()), key=repr)
            for table in schema.metadata.sorted_tables
            if table.name != "audit_log"
        }


@pytest.mark.parametrize("cls", _button_classes(), ids=lambda cls: cls.__name__)
async def test_every_button_with_forged_fields_changes_nothing(
    running_bot: RunningBot, cls: type[CallbackData], caplog: pytest.LogCaptureFixture
) -> None:
    """Negative, zero, past-BIGINT, huge and non-numeric values in every field of every button:
    each press is answered (once), nothing in the database changes, no traceback is logged."""
    editor = running_bot.person(EDITOR_ID, "Редактор")  # an owner: editor buttons reach handlers
    await onboard(editor)
    message = running_bot.emu.last_message(EDITOR_ID)
    before = await _snapshot(running_bot.engine)
    presses: list[str] = []
    for name, value, data in _forgeries(cls):
        answer, _ = await editor.tap_data(message, data, expect="answer")
        presses.append(str(answer.params["callback_query_id"]))
        if value in NEVER_VALID:
            assert "устарела" in answer.params.get("text", ""), (name, value, data, answer.params)
    assert await _snapshot(running_bot.engine) == before
    answers = Counter(
        str(c.params.get("callback_query_id"))
        for c in running_bot.emu.calls_of("answerCallbackQuery")
    )
    assert [answers[query] for query in presses] == [1] * len(presses)
    failures = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not failures, [r.getMessage() for r in failures]
