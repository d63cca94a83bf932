"""The inline keyboards: their layout, and that a keyboard shared between chats stays as it was."""

from __future__ import annotations

from dataclasses import replace

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.content.models import ItemKind, OrgKind, Role, Subscriber, SubscriberStatus, Topic
from bot.telegram import keyboards as kb
from bot.telegram.callbacks import (
    Flow,
    OpenSettings,
    QueueAction,
    QueueDo,
    Section,
    Shelf,
    ToggleTopic,
)

ACTIVE = Subscriber(
    chat_id=1, name="u1", username=None, role=Role.TEACHER, org_kind=OrgKind.SCHOOL, org_name=None
)
PAUSED = replace(ACTIVE, chat_id=2, status=SubscriberStatus.PAUSED)


def labels(markup: InlineKeyboardMarkup | None) -> list[list[str]]:
    assert markup is not None
    return [[button.text for button in row] for row in markup.inline_keyboard]


def test_the_settings_menu_shows_the_values_and_offers_pause_or_resume() -> None:
    assert labels(kb.settings_menu(ACTIVE)) == [
        ["Роль: Педагог"],
        ["Организация: школа"],
        ["Название: не указано"],
        ["Темы: все"],
        ["Дайджест: раз в неделю"],
        ["⏸ Приостановить рассылку"],
        ["📣 Поделиться с коллегой"],
        ["Закрыть"],
    ]
    assert labels(kb.settings_menu(PAUSED))[5] == ["▶️ Возобновить рассылку"]
    named = replace(
        ACTIVE,
        org_name="ГБОУ Средняя общеобразовательная школа № 123 имени А. С. Пушкина",
        topics=frozenset({Topic.MATERIALS, Topic.EVENTS}),
    )
    name, topics = (row[0] for row in labels(kb.settings_menu(named))[2:4])
    assert name.startswith("Название: ГБОУ Средняя") and name.endswith("…") and len(name) <= 40
    assert topics == "Темы: материалы, мероприятия"
    data = kb.settings_menu(ACTIVE).inline_keyboard[0][0].callback_data
    assert data == OpenSettings(section=Section.ROLE).pack()


def test_a_shared_keyboard_is_not_changed_by_building_another_one() -> None:
    menu = kb.settings_menu(ACTIVE)
    before = menu.model_dump()
    kb.settings_menu(PAUSED)
    assert kb.settings_menu(ACTIVE) is menu  # built once, the same object for everyone
    assert menu.model_dump() == before

    none = kb.topics(Flow.SETTINGS, frozenset())
    some = kb.topics(Flow.SETTINGS, frozenset({Topic.EVENTS}))
    assert labels(none)[1] == ["⬜ Мероприятия"]
    assert labels(some)[1] == ["✅ Мероприятия"]
    assert labels(kb.topics(Flow.SETTINGS, frozenset()))[1] == ["⬜ Мероприятия"]

    plain = kb.roles(Flow.ONBOARDING)
    kb.roles(Flow.ONBOARDING, Role.TEACHER)
    assert [row for row in labels(plain) if "✓ Педагог" in row] == []


def test_onboarding_and_settings_steps_differ_only_by_the_back_button() -> None:
    onboarding = labels(kb.org_kinds(Flow.ONBOARDING))
    settings = labels(kb.org_kinds(Flow.SETTINGS, OrgKind.SCHOOL))
    assert onboarding == [["Школа", "Детский сад"], ["Доп. образование", "Другое"]]
    assert settings == [["✓ Школа", "Детский сад"], ["Доп. образование", "Другое"], ["← Назад"]]
    back = kb.org_kinds(Flow.SETTINGS).inline_keyboard[-1][0]
    assert back == InlineKeyboardButton(text="← Назад", callback_data="s1:menu")


def test_a_topic_button_carries_its_topic_and_flow() -> None:
    button = kb.topics(Flow.ONBOARDING, frozenset()).inline_keyboard[2][0]
    assert ToggleTopic.unpack(button.callback_data or "") == ToggleTopic(
        flow=Flow.ONBOARDING, topic=Topic.CASES
    )


def test_a_lone_card_has_no_buttons() -> None:
    assert kb.card(Shelf.MATERIALS, 0, 1, 5, votes=False).inline_keyboard == []
    assert labels(kb.card(Shelf.CASES, 1, 3, 5, votes=True)) == [
        ["👍 Полезно", "🙅 Не про меня"],
        ["◂ Назад", "Ещё ▸"],
    ]


def test_a_queue_card_of_an_item_that_cannot_be_approved_starts_with_reject() -> None:
    approvable = kb.queue_card(7, 1, 3, approvable=True, kind=ItemKind.MATERIAL)
    other = kb.queue_card(7, 0, 1, approvable=False, kind=ItemKind.MATERIAL)
    assert [len(row) for row in approvable.inline_keyboard] == [2, 2, 2, 1, 1, 2]
    assert [len(row) for row in other.inline_keyboard] == [1, 2, 2, 1, 1]
    first = QueueDo.unpack(other.inline_keyboard[0][0].callback_data or "")
    assert (first.action, first.item_id, first.index) == (QueueAction.REJECT, 7, 0)


def test_the_new_post_audience_is_two_buttons_a_row() -> None:
    markup = kb.new_audience(frozenset({Role.HEAD}), frozenset())
    rows = labels(markup)
    assert [len(row) for row in rows] == [2, 2, 2, 2, 2, 3]
    assert rows[0][0] == "✓ Руководитель"
    assert rows[5] == ["◂ Назад", "Всем", "Готово →"]
    # Each «Другое» says which one it is.
    assert "Другое (роль)" in rows[2] and "Другое (организация)" in rows[4]
    everything = [label for row in rows for label in row]
    assert len(everything) == len(set(everything))
