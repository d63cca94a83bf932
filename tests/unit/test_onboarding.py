"""The first run's rules: the steps someone is asked, poster links, names that aren't names."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot import texts
from bot.content.models import Role, Topic
from bot.content.onboarding import (
    NameProblem,
    Step,
    org_name_problem,
    preset_role,
    role_link,
    step_number,
    steps,
)


@pytest.mark.parametrize(
    ("source", "role"),
    [
        ("role_preschool", Role.PRESCHOOL),
        ("role_head", Role.HEAD),
        ("role_teacher_school12", Role.TEACHER),
        ("role_coordinator-poster3", Role.COORDINATOR),
        ("role_nobody", None),
        ("src_school12", None),
        ("share", None),
        (None, None),
    ],
)
def test_a_poster_link_presets_the_role_it_names(source: str | None, role: Role | None) -> None:
    assert preset_role(source) is role


def test_every_role_has_a_link_that_presets_it() -> None:
    assert all(preset_role(role_link(role)) is role for role in Role)


def test_the_steps_leave_out_what_a_link_or_a_role_already_says() -> None:
    assert len(steps(None, None)) == 5
    assert steps(None, Role.PRESCHOOL) == (
        Step.ROLE, Step.ORG_NAME, Step.TOPICS, Step.FREQUENCY,
    )  # fmt: skip
    assert steps("role_preschool", Role.PRESCHOOL) == (Step.ORG_NAME, Step.TOPICS, Step.FREQUENCY)
    assert step_number(Step.ORG_KIND, "role_head", Role.HEAD) == (1, 4)
    assert step_number(Step.FREQUENCY, None, Role.TEACHER) == (5, 5)


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("/start", NameProblem.COMMAND),
        ("/школа", NameProblem.COMMAND),
        ("https://school123.spb.ru", NameProblem.LINK),
        ("www.school.ru", NameProblem.LINK),
        ("school123.ru", NameProblem.LINK),
        ("детсад45.рф", NameProblem.LINK),
        ("t.me/imc_channel", NameProblem.LINK),
        ("@imc_channel", NameProblem.LINK),
        ("когда экспертный совет", NameProblem.QUESTION),
        ("Что по конкурсам?", NameProblem.QUESTION),
        ("а где расписание?", NameProblem.QUESTION),
        ("Подскажите, как подать заявку", NameProblem.QUESTION),
        ("ГБОУ СОШ № 123", None),
        ("Детский сад № 45 «Солнышко»", None),
        ("ГБДОУ д/с № 7", None),
        ("Лицей № 239", None),
        ("Дом творчества «Радуга»", None),
    ],
)
def test_the_organisation_step_knows_a_name_from_what_is_not_one(
    typed: str, problem: NameProblem | None
) -> None:
    assert org_name_problem(typed) is problem


def test_texts_name_the_topics_she_kept() -> None:
    everything = frozenset(Topic)
    assert texts.short_topics(everything) == "все"
    assert texts.short_topics(everything - {Topic.ANNOUNCEMENTS}) == "все, кроме объявлений"
    assert texts.short_topics(frozenset({Topic.MATERIALS, Topic.EVENTS})) == (
        "материалы, мероприятия"
    )
    assert "приходят сразу" not in texts.frequency_hint(frozenset({Topic.MATERIALS}))
    assert texts.frequency_hint(frozenset({Topic.MATERIALS})) == "В дайджесте — материалы."
    only = texts.frequency_hint(frozenset({Topic.ANNOUNCEMENTS}))
    assert only.startswith("Объявления ИМЦ приходят сразу") and "—" not in only


def test_the_first_run_message_says_what_she_will_get() -> None:
    tz = ZoneInfo("Europe/Moscow")
    monday = datetime(2026, 12, 7, 9, 0, tzinfo=tz)
    no_events = texts.first_run([], monday, frozenset({Topic.MATERIALS}), tz).render()[0]
    assert "Ближайш" not in no_events and "Объявления" not in no_events
    assert "Первый дайджест — пн, 7 декабря, в 09:00" in no_events
    off = texts.first_run([], None, frozenset({Topic.EVENTS}), tz).render()[0]
    assert "Дайджест вы не получаете" in off and "Ближайших мероприятий" in off
