"""The inline keyboards, built from the callback data in `bot.telegram.callbacks`."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot import texts
from bot.content.models import (
    Frequency,
    OrgKind,
    Role,
    Subscriber,
    SubscriberStatus,
    Topic,
)
from bot.telegram.callbacks import (
    Action,
    AnswerQuestion,
    AudienceAction,
    Calendar,
    Card,
    Confirm,
    EditSent,
    FeedAction,
    FeedDesk,
    Flow,
    NewAudience,
    NewConfirm,
    NewKind,
    NewSkip,
    NewStep,
    NewWhen,
    NextPage,
    OpenSettings,
    PlanUnresolved,
    QueueAction,
    QueueCard,
    QueueDo,
    Remind,
    Section,
    SetFrequency,
    SetOrgKind,
    SetRole,
    Shelf,
    SkipOrgName,
    ToggleTopic,
    TopicsDone,
    Vote,
    WhenMode,
)


def _checked(label: str, on: bool) -> str:
    return f"✓ {label}" if on else label


def _back(builder: InlineKeyboardBuilder, flow: Flow) -> None:
    if flow is Flow.SETTINGS:
        builder.button(text="← Назад", callback_data=OpenSettings(section=Section.MENU))


def roles(flow: Flow, current: Role | None = None) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for role, label in texts.ROLE_LABELS.items():
        builder.button(
            text=_checked(label, role is current), callback_data=SetRole(flow=flow, role=role)
        )
    _back(builder, flow)
    builder.adjust(1, 1, 2, 2, 1)
    return builder.as_markup()


def org_kinds(flow: Flow, current: OrgKind | None = None) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for kind, label in texts.ORG_KIND_LABELS.items():
        builder.button(
            text=_checked(label, kind is current),
            callback_data=SetOrgKind(flow=flow, org_kind=kind),
        )
    _back(builder, flow)
    builder.adjust(2, 2, 1)
    return builder.as_markup()


def org_name(flow: Flow) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    label = texts.org_name_skip(flow is Flow.ONBOARDING)
    builder.button(text=label, callback_data=SkipOrgName(flow=flow))
    _back(builder, flow)
    builder.adjust(1)
    return builder.as_markup()


def topics(flow: Flow, chosen: frozenset[Topic]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for topic in texts.TOPIC_ORDER:
        mark = "✅" if topic in chosen else "⬜"
        builder.button(
            text=f"{mark} {texts.TOPIC_LABELS[topic]}",
            callback_data=ToggleTopic(flow=flow, topic=topic),
        )
    builder.button(text="Готово", callback_data=TopicsDone(flow=flow))
    builder.adjust(1)
    return builder.as_markup()


def frequencies(flow: Flow, current: Frequency | None = None) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for frequency, label in texts.FREQUENCY_LABELS.items():
        builder.button(
            text=_checked(label, frequency is current),
            callback_data=SetFrequency(flow=flow, frequency=frequency),
        )
    _back(builder, flow)
    builder.adjust(1)
    return builder.as_markup()


def settings_menu(subscriber: Subscriber) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text="Роль", callback_data=OpenSettings(section=Section.ROLE))
    builder.button(text="Тип организации", callback_data=OpenSettings(section=Section.ORG_KIND))
    builder.button(
        text="Название организации", callback_data=OpenSettings(section=Section.ORG_NAME)
    )
    builder.button(text="Темы", callback_data=OpenSettings(section=Section.TOPICS))
    builder.button(text="Частота дайджеста", callback_data=OpenSettings(section=Section.FREQUENCY))
    if subscriber.status is SubscriberStatus.PAUSED:
        builder.button(
            text="▶️ Возобновить рассылку", callback_data=OpenSettings(section=Section.RESUME)
        )
    else:
        builder.button(
            text="⏸ Приостановить рассылку", callback_data=OpenSettings(section=Section.PAUSE)
        )
    builder.button(text="Закрыть", callback_data=OpenSettings(section=Section.CLOSE))
    builder.adjust(2, 1, 2, 1, 1)
    return builder.as_markup()


def confirm(action: Action, yes_label: str, no_label: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=yes_label, callback_data=Confirm(action=action, yes=True))
    builder.button(text=no_label, callback_data=Confirm(action=action, yes=False))
    builder.adjust(1)
    return builder.as_markup()


def confirm_stop() -> InlineKeyboardMarkup:
    return confirm(Action.STOP, "Да, приостановить", "Нет, продолжать")


def confirm_forget() -> InlineKeyboardMarkup:
    return confirm(Action.FORGET, "Удалить мои данные", "Отмена")


# --- what's next and browsing ------------------------------------------------------------------


def next_answer(
    actions: list[tuple[int, int, bool, bool]], more: NextPage | None
) -> InlineKeyboardMarkup | None:
    """A row per entry that can be reminded of or added to a calendar; «Ещё» when there is more.

    actions: (number shown, item id, can remind, can export).
    """
    builder = InlineKeyboardBuilder()
    sizes: list[int] = []
    for number, item_id, can_remind, can_export in actions:
        row = 0
        if can_remind:
            builder.button(text=f"⏰ Напомнить: {number}", callback_data=Remind(item_id=item_id))
            row += 1
        if can_export:
            builder.button(
                text=f"📅 В календарь: {number}", callback_data=Calendar(item_id=item_id)
            )
            row += 1
        if row:
            sizes.append(row)
    if more is not None:
        builder.button(text="Ещё ▸", callback_data=more)
        sizes.append(1)
    if not sizes:
        return None
    builder.adjust(*sizes)
    return builder.as_markup()


def card(shelf: Shelf, index: int, total: int, item_id: int, votes: bool) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    sizes: list[int] = []
    if votes:
        builder.button(text="👍 Полезно", callback_data=Vote(item_id=item_id, useful=True))
        builder.button(text="🙅 Не про меня", callback_data=Vote(item_id=item_id, useful=False))
        sizes.append(2)
    nav = 0
    if index > 0:
        builder.button(text="◂ Назад", callback_data=Card(shelf=shelf, index=index - 1))
        nav += 1
    if index + 1 < total:
        builder.button(text="Ещё ▸", callback_data=Card(shelf=shelf, index=index + 1))
        nav += 1
    if nav:
        sizes.append(nav)
    builder.adjust(*sizes)
    return builder.as_markup()


# --- the editors' queue (/queue) -----------------------------------------------------------------


def queue_card(item_id: int, index: int, total: int, approvable: bool) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    labels = texts.QUEUE_BUTTONS
    sizes: list[int] = []
    if approvable:
        builder.button(
            text=labels["approve"],
            callback_data=QueueDo(action=QueueAction.APPROVE, item_id=item_id, index=index),
        )
    builder.button(
        text=labels["reject"],
        callback_data=QueueDo(action=QueueAction.REJECT, item_id=item_id, index=index),
    )
    sizes.append(2 if approvable else 1)
    for action in (QueueAction.EDIT, QueueAction.MOVE):
        builder.button(
            text=labels[action.value],
            callback_data=QueueDo(action=action, item_id=item_id, index=index),
        )
    sizes.append(2)
    for action in (QueueAction.PUBLISH, QueueAction.DELETE):
        builder.button(
            text=labels[action.value],
            callback_data=QueueDo(action=action, item_id=item_id, index=index),
        )
        sizes.append(1)
    nav = 0
    if index > 0:
        builder.button(text=labels["back"], callback_data=QueueCard(index=index - 1))
        nav += 1
    if index + 1 < total:
        builder.button(text=labels["forward"], callback_data=QueueCard(index=index + 1))
        nav += 1
    if nav:
        sizes.append(nav)
    builder.adjust(*sizes)
    return builder.as_markup()


def queue_confirm(action: QueueAction, item_id: int, index: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=texts.QUEUE_CONFIRM[action.value][1],
        callback_data=QueueDo(action=action, item_id=item_id, index=index, sure=True),
    )
    builder.button(text=texts.QUEUE_BUTTONS["no"], callback_data=QueueCard(index=index))
    builder.adjust(1)
    return builder.as_markup()


# --- /new: an editor's post --------------------------------------------------------------------


def new_kinds() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for kind, label in texts.NEW_KIND_LABELS.items():
        builder.button(text=label, callback_data=NewKind(kind=kind))
    builder.adjust(2, 2)
    return builder.as_markup()


def new_skip(step: NewStep) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=texts.NEW_SKIP, callback_data=NewSkip(step=step))
    return builder.as_markup()


def new_audience(roles: frozenset[Role], orgs: frozenset[OrgKind]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for role, label in texts.ROLE_LABELS.items():
        builder.button(
            text=_checked(label, role in roles),
            callback_data=NewAudience(action=AudienceAction.ROLE, code=role.value),
        )
    for kind, label in texts.ORG_KIND_LABELS.items():
        builder.button(
            text=_checked(label, kind in orgs),
            callback_data=NewAudience(action=AudienceAction.ORG, code=kind.value),
        )
    builder.button(
        text=_checked(texts.NEW_AUDIENCE_ALL, not roles and not orgs),
        callback_data=NewAudience(action=AudienceAction.ALL),
    )
    builder.button(
        text=texts.NEW_AUDIENCE_DONE, callback_data=NewAudience(action=AudienceAction.DONE)
    )
    builder.adjust(2, 2, 2, 2, 2, 2)
    return builder.as_markup()


def new_when() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for mode in WhenMode:
        builder.button(text=texts.NEW_WHEN_LABELS[mode.value], callback_data=NewWhen(mode=mode))
    builder.adjust(1)
    return builder.as_markup()


def new_confirm(publish_now: bool) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=texts.NEW_PUBLISH if publish_now else texts.NEW_SAVE,
        callback_data=NewConfirm(publish=True),
    )
    builder.button(text=texts.NEW_DROP, callback_data=NewConfirm(publish=False))
    builder.adjust(2)
    return builder.as_markup()


# --- editors' feeds desk: /feeds ---------------------------------------------------------------


def feeds_desk(feeds: list[tuple[int, str]]) -> InlineKeyboardMarkup | None:
    """A button per feed: (id, short label)."""
    if not feeds:
        return None
    builder = InlineKeyboardBuilder()
    for feed_id, label in feeds:
        builder.button(
            text=f"№{feed_id} {label}"[:60],
            callback_data=FeedDesk(action=FeedAction.OPEN, feed_id=feed_id),
        )
    builder.adjust(1)
    return builder.as_markup()


def feed_card(feed_id: int, enabled: bool, auto_approve: bool) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    if enabled:
        builder.button(
            text=texts.FEED_DESK_BUTTON_PAUSE,
            callback_data=FeedDesk(action=FeedAction.PAUSE, feed_id=feed_id),
        )
    else:
        builder.button(
            text=texts.FEED_DESK_BUTTON_RESUME,
            callback_data=FeedDesk(action=FeedAction.RESUME, feed_id=feed_id),
        )
    if auto_approve:
        builder.button(
            text=texts.FEED_DESK_BUTTON_AUTO_OFF,
            callback_data=FeedDesk(action=FeedAction.AUTO_OFF, feed_id=feed_id),
        )
    else:
        builder.button(
            text=texts.FEED_DESK_BUTTON_AUTO_ON,
            callback_data=FeedDesk(action=FeedAction.AUTO_ON, feed_id=feed_id),
        )
    builder.button(
        text=texts.FEED_DESK_BUTTON_REMOVE,
        callback_data=FeedDesk(action=FeedAction.REMOVE, feed_id=feed_id),
    )
    builder.button(
        text=texts.FEED_DESK_BUTTON_BACK, callback_data=FeedDesk(action=FeedAction.LIST)
    )
    builder.adjust(2, 1, 1)
    return builder.as_markup()


def feed_remove_confirm(feed_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=texts.FEED_DESK_BUTTON_REMOVE_YES,
        callback_data=FeedDesk(action=FeedAction.REMOVE_YES, feed_id=feed_id),
    )
    builder.button(
        text=texts.FEED_DESK_BUTTON_REMOVE_NO,
        callback_data=FeedDesk(action=FeedAction.OPEN, feed_id=feed_id),
    )
    builder.adjust(1)
    return builder.as_markup()


def feed_back() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=texts.FEED_DESK_BUTTON_BACK, callback_data=FeedDesk(action=FeedAction.LIST)
    )
    return builder.as_markup()


# --- questions to the IMC and the plan upload ---------------------------------------------------


def answer_question(question_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=texts.ANSWER_BUTTON, callback_data=AnswerQuestion(question_id=question_id))
    return builder.as_markup()


def open_questions(question_ids: list[int]) -> InlineKeyboardMarkup | None:
    if not question_ids:
        return None
    builder = InlineKeyboardBuilder()
    for question_id in question_ids:
        builder.button(
            text=f"{texts.ANSWER_BUTTON}: № {question_id}",
            callback_data=AnswerQuestion(question_id=question_id),
        )
    builder.adjust(2)
    return builder.as_markup()


def plan_unresolved(first_year: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=texts.PLAN_UNRESOLVED_BUTTON, callback_data=PlanUnresolved(first_year=first_year)
    )
    return builder.as_markup()


def edit_sent(item_id: int, version: int, count: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=texts.EDIT_SENT_BUTTON.format(count=count),
        callback_data=EditSent(item_id=item_id, version=version, everywhere=True),
    )
    builder.button(
        text=texts.EDIT_BOT_ONLY_BUTTON,
        callback_data=EditSent(item_id=item_id, version=version, everywhere=False),
    )
    builder.adjust(1)
    return builder.as_markup()
