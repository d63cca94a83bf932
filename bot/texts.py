"""Every Russian word the bot says, with plural and date helpers.

Messages are built with `bot.content.formatting` (aiogram's formatting shapes, without aiogram),
so whatever a user typed (a name, an organisation) travels as plain text with entities and can
never break the markup. Nothing here imports aiogram: `bot/telegram/` renders for Telegram.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any, NamedTuple

from bot.content.digest import (
    MESSAGE_LIMIT,
    DigestContent,
    Period,
    pack_indexed,
    truncate_words,
)
from bot.content.feeds import FeedErrorKind, FeedKind
from bot.content.formatting import (
    Bold,
    BotLink,
    Code,
    Italic,
    Text,
    TextLink,
    as_key_value,
    as_line,
    as_list,
    shallow,
)
from bot.content.links import telegram_url
from bot.content.models import (
    ORG_NAME_MAX,
    Button,
    ButtonAction,
    CampaignCounts,
    Frequency,
    Item,
    ItemKind,
    ItemStatus,
    MessagePart,
    OrgKind,
    PublishMode,
    Role,
    Subscriber,
    SubscriberStatus,
    Topic,
)
from bot.content.onboarding import NameProblem, Step
from bot.content.whatsnext import MONTHS_GENITIVE, MONTHS_PREPOSITIONAL, audience_label

# --- plurals and dates -------------------------------------------------------------------------


def plural(n: int, one: str, few: str, many: str) -> str:
    """The Russian plural form for n: plural(1, …) → one, 2–4 → few, 5–20 → many."""
    n = abs(n)
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


def thousands(n: int) -> str:
    """«1 200»: thousands grouped with a non-breaking space."""
    return f"{n:,}".replace(",", "\u00a0")


def count(n: int, one: str, few: str, many: str) -> str:
    """«1 мероприятие», «2 мероприятия», «5 мероприятий»; thousands grouped «1 200»."""
    return thousands(n) + " " + plural(n, one, few, many)


WEEKDAYS_SHORT = ("пн", "вт", "ср", "чт", "пт", "сб", "вс")


def format_date(value: date | datetime) -> str:
    """«пт, 15 марта»; with a time of day: «пт, 15 марта, 10:00»."""
    text = f"{WEEKDAYS_SHORT[value.weekday()]}, {value.day} {MONTHS_GENITIVE[value.month - 1]}"
    if isinstance(value, datetime) and (value.hour or value.minute):
        text += f", {value:%H:%M}"
    return text


def format_range(start: date, end: date) -> str:
    """«с 1 по 15 марта», «с 28 февраля по 3 марта», a single day as format_date."""
    if start == end:
        return format_date(start)
    if (start.year, start.month) == (end.year, end.month):
        return f"с {start.day} по {end.day} {MONTHS_GENITIVE[end.month - 1]}"
    return (
        f"с {start.day} {MONTHS_GENITIVE[start.month - 1]} "
        f"по {end.day} {MONTHS_GENITIVE[end.month - 1]}"
    )


def in_month(month: int) -> str:
    """«в марте»."""
    return f"в {MONTHS_PREPOSITIONAL[month - 1]}"


# --- vocabularies --------------------------------------------------------------------------------

ROLE_LABELS: Mapping[Role, str] = {
    Role.HEAD: "Руководитель",
    Role.COORDINATOR: "Заместитель / координатор",
    Role.TEACHER: "Педагог",
    Role.PRESCHOOL: "Воспитатель детского сада",
    Role.METHODIST: "Методист",
    Role.OTHER: "Другое",
}
ORG_KIND_LABELS: Mapping[OrgKind, str] = {
    OrgKind.SCHOOL: "Школа",
    OrgKind.KINDERGARTEN: "Детский сад",
    OrgKind.EXTRA: "Доп. образование",
    OrgKind.OTHER: "Другое",
}
TOPIC_LABELS: Mapping[Topic, str] = {
    Topic.MATERIALS: "Методические материалы",
    Topic.EVENTS: "Мероприятия",
    Topic.CASES: "Опыт площадок",
    Topic.ANNOUNCEMENTS: "Объявления ИМЦ",
}
TOPIC_ORDER = (Topic.MATERIALS, Topic.EVENTS, Topic.CASES, Topic.ANNOUNCEMENTS)
# In a line that lists several (a button, a summary): the words a phone's width allows.
SHORT_TOPIC_LABELS: Mapping[Topic, str] = {
    Topic.MATERIALS: "материалы",
    Topic.EVENTS: "мероприятия",
    Topic.CASES: "опыт площадок",
    Topic.ANNOUNCEMENTS: "объявления ИМЦ",
}
# «все, кроме …»
_TOPICS_EXCEPT: Mapping[Topic, str] = {
    Topic.MATERIALS: "материалов",
    Topic.EVENTS: "мероприятий",
    Topic.CASES: "опыта площадок",
    Topic.ANNOUNCEMENTS: "объявлений",
}
FREQUENCY_LABELS: Mapping[Frequency, str] = {
    Frequency.WEEKLY: "Раз в неделю",
    Frequency.DAILY: "Каждый рабочий день",
    Frequency.OFF: "Не присылать дайджест",
}
DIGEST_SHORT: Mapping[Frequency, str] = {
    Frequency.WEEKLY: "раз в неделю",
    Frequency.DAILY: "каждый рабочий день",
    Frequency.OFF: "не присылать",
}
STATUS_LABELS: Mapping[SubscriberStatus, str] = {
    SubscriberStatus.ACTIVE: "рассылка включена",
    SubscriberStatus.PAUSED: "рассылка на паузе",
    SubscriberStatus.BLOCKED: "бот заблокирован",
}

# --- commands (one list serves the menu and /help) ---------------------------------------------


class Command(NamedTuple):
    """A menu entry: the command without its slash, and what it does."""

    command: str
    description: str


SUBSCRIBER_COMMANDS = (
    Command("next", description="Что дальше: ближайшие мероприятия"),
    Command("events", description="Мероприятия на три месяца"),
    Command("materials", description="Новые методические материалы"),
    Command("cases", description="Опыт площадок"),
    Command("search", description="Поиск по материалам и мероприятиям"),
    Command("ask", description="Задать вопрос ИМЦ"),
    Command("start", description="Начать или возобновить рассылку"),
    Command("settings", description="Изменить настройки"),
    Command("stop", description="Приостановить рассылку"),
    Command("help", description="Что умеет бот"),
    Command("privacy", description="Какие данные хранит бот"),
    Command("forget", description="Удалить мои данные"),
    Command("cancel", description="Отменить начатое"),
)
EDITOR_COMMANDS = (
    *SUBSCRIBER_COMMANDS,
    Command("stats", description="Редактору: статистика"),
    Command("export", description="Редактору: выгрузка в Excel и CSV"),
    Command("feeds", description="Редактору: ленты сайтов"),
    Command("editors", description="Владельцу: редакторы"),
    Command("questions", description="Редактору: вопросы подписчиков"),
    Command("new", description="Редактору: новая публикация"),
    Command("queue", description="Редактору: очередь на проверку"),
    Command("edit", description="Редактору: исправить опубликованный пост"),
    Command("panel", description="Редактору: пульт — все команды редактора кнопками"),
)


# --- the editors' panel («Пульт») ------------------------------------------------------------
# The editors' menu holds at most 8 commands; the rest are the Пульт's buttons. Subscriber-only
# commands (/forget) stay out of it and still work when typed.
EDITOR_MENU_COMMANDS = (
    Command("panel", description="🎛 Пульт: все команды редактора"),
    Command("new", description="Новая публикация"),
    Command("queue", description="Очередь на проверку"),
    Command("questions", description="Вопросы подписчиков"),
    Command("next", description="Что дальше: ближайшие мероприятия"),
    Command("search", description="Поиск по материалам и мероприятиям"),
    Command("settings", description="Изменить настройки"),
    Command("help", description="Что умеет бот"),
)
PANEL_TITLE = "🎛 Пульт редактора. Каждая кнопка делает то же, что её команда:"
PANEL_LABELS: Mapping[str, str] = {
    "new": "✏️ Новая публикация",
    "queue": "📥 Очередь",
    "edit": "🛠 Исправить пост",
    "questions": "❓ Вопросы",
    "stats": "📊 Статистика",
    "export": "📤 Выгрузка",
    "feeds": "📰 Ленты сайтов",
    "editors": "👥 Редакторы",
}
PANEL_OWNERS_ONLY = "Редакторов назначают владельцы бота."


def commands_list(commands: Iterable[Command]) -> Text:
    return as_list(*(as_line(f"/{c.command}", " — ", c.description, end="") for c in commands))


# --- onboarding ----------------------------------------------------------------------------------


def greeting(name: str) -> Text:
    """The first message: who the bot is, what it keeps, and the consent asked before anything
    is stored (the «Согласен(на)» button under it)."""
    return as_list(
        as_line("Здравствуйте, ", name or "коллега", "! 👋", end=""),
        as_line(
            Bold("«Инфозона»"),
            " — бот ИМЦ района: материалы, мероприятия и опыт площадок школ и детских садов.",
            end="",
        ),
        "",
        "🔒 Бот хранит ваш Telegram ID, имя, роль, организацию и темы — только для рассылки. "
        "Подробнее — /privacy, удалить всё — /forget.",
        "",
        "Согласны? Настройка займёт полминуты.",
    )


CONSENT_BUTTON = "✅ Согласен(на)"
CONSENT_PRIVACY_BUTTON = "🔒 Что хранится"

STEP_QUESTIONS: Mapping[Step, tuple[str, str | None]] = {
    Step.ROLE: ("Кто вы?", None),
    Step.ORG_KIND: ("Где вы работаете?", None),
    Step.ORG_NAME: (
        "Как называется ваша организация?",
        "Напишите сообщением, например: «ГБОУ СОШ № 123» или «Детский сад № 45», — или нажмите "
        "«Пропустить».",
    ),
    Step.TOPICS: ("Что вам присылать?", "Нажмите на тему, чтобы включить или выключить её."),
    Step.FREQUENCY: ("Как часто присылать дайджест?", None),
}


def ask_step(step: Step, number: int, total: int, hint: str | None = None) -> Text:
    """«Шаг 2 из 5. Где вы работаете?» with the step's hint (or `hint`) below."""
    question, default_hint = STEP_QUESTIONS[step]
    lines: list[Text | str] = [as_line(Bold(f"Шаг {number} из {total}. "), question, end="")]
    if hint or default_hint:
        lines.append(hint or default_hint or "")
    return as_list(*lines)


def frequency_hint(topics: frozenset[Topic]) -> str:
    """What the digest will hold, in the words of the topics she kept."""
    digest = [t for t in TOPIC_ORDER if t in topics and t is not Topic.ANNOUNCEMENTS]
    listed = ", ".join(SHORT_TOPIC_LABELS[t] for t in digest)
    if Topic.ANNOUNCEMENTS in topics:
        if not digest:
            return "Объявления ИМЦ приходят сразу; дайджест соберёт другие темы, если включите их."
        return f"Объявления ИМЦ приходят сразу, в дайджесте — {listed}."
    return f"В дайджесте — {listed}."


ASK_ORG_NAME_SETTINGS = as_list(
    "Напишите название вашей организации сообщением, например: «ГБОУ СОШ № 123».",
    "Чтобы убрать название, нажмите «Без названия».",
)


def org_name_skip(onboarding: bool) -> str:
    """The button that leaves the name out: skipped at first, cleared in /settings."""
    return "Пропустить" if onboarding else "Без названия"


def org_name_too_long(onboarding: bool) -> str:
    return (
        f"Слишком длинное название — до {ORG_NAME_MAX} символов. Напишите короче "
        f"или нажмите «{org_name_skip(onboarding)}»."
    )


def org_name_empty(onboarding: bool) -> str:
    return (
        "Название пустое — в нём нет ни одной буквы или цифры. Напишите его словами "
        f"или нажмите «{org_name_skip(onboarding)}»."
    )


def org_name_not_text(onboarding: bool) -> str:
    return f"Напишите название организации текстом или нажмите «{org_name_skip(onboarding)}»."


def org_name_refused(problem: NameProblem, onboarding: bool) -> str:
    """A command, a link or a question typed where the organisation's name was asked."""
    skip = org_name_skip(onboarding)
    if problem is NameProblem.COMMAND:
        return f"Это команда, а не название. Напишите название организации или нажмите «{skip}»."
    if problem is NameProblem.LINK:
        return (
            "Ссылка не подойдёт — напишите название словами, например: «ГБОУ СОШ № 123», "
            f"или нажмите «{skip}»."
        )
    return (
        "Похоже на вопрос. Задать его ИМЦ можно после настройки — кнопкой «Вопрос в ИМЦ». "
        f"А сейчас напишите название организации или нажмите «{skip}»."
    )


TOPICS_NONE_SELECTED = (
    "Выберите хотя бы одну тему. Если рассылка сейчас не нужна, её можно приостановить: /stop."
)
TOPICS_LAST_ONE = (
    "Это последняя включённая тема — без тем бот ничего не пришлёт. Если рассылка сейчас "
    "не нужна, её можно приостановить: /stop."
)


def _lower_first(label: str) -> str:
    """«Объявления ИМЦ» → «объявления ИМЦ»: the abbreviation keeps its capitals."""
    return label[:1].lower() + label[1:]


def _topics_text(topics: frozenset[Topic]) -> str:
    chosen = [_lower_first(TOPIC_LABELS[t]) for t in TOPIC_ORDER if t in topics]
    return ", ".join(chosen) if chosen else "не выбраны"


def short_topics(topics: frozenset[Topic]) -> str:
    """«материалы, мероприятия»; «все» when every topic is on, «все, кроме объявлений»."""
    off = [t for t in TOPIC_ORDER if t not in topics]
    if not off:
        return "все"
    if len(off) == 1:
        return f"все, кроме {_TOPICS_EXCEPT[off[0]]}"
    chosen = [SHORT_TOPIC_LABELS[t] for t in TOPIC_ORDER if t in topics]
    return ", ".join(chosen) if chosen else "не выбраны"


def _org_text(subscriber: Subscriber) -> str:
    """«Школа, ГБОУ СОШ № 7»; a name that already says its kind stands alone («Детский сад
    № 45», not «Детский сад, Детский сад № 45»)."""
    org = ORG_KIND_LABELS[subscriber.org_kind] if subscriber.org_kind else "не указана"
    name = subscriber.org_name
    if not name:
        return org
    if subscriber.org_kind and name.casefold().startswith(org.casefold()):
        return name
    return f"{org}, {name}"


def profile(subscriber: Subscriber) -> Text:
    return as_list(
        as_key_value("Роль", ROLE_LABELS[subscriber.role] if subscriber.role else "не указана"),
        as_key_value("Организация", _org_text(subscriber)),
        as_key_value("Темы", _topics_text(subscriber.topics)),
        as_key_value("Дайджест", _lower_first(FREQUENCY_LABELS[subscriber.frequency])),
        as_key_value("Статус", STATUS_LABELS[subscriber.status]),
    )


def onboarding_done(subscriber: Subscriber) -> Text:
    """The last step's message becomes this: what she chose, in four lines."""
    role = ROLE_LABELS[subscriber.role] if subscriber.role else "роль не указана"
    return as_list(
        Bold("✅ Готово! Вы подписаны на «Инфозону»."),
        as_line(role, " · ", _org_text(subscriber), end=""),
        as_key_value("Темы", short_topics(subscriber.topics)),
        as_key_value("Дайджест", DIGEST_SHORT[subscriber.frequency]),
    )


def already_subscribed(subscriber: Subscriber) -> Text:
    return as_list(
        Bold("Вы уже подписаны на «Инфозону»."),
        "",
        profile(subscriber),
        "",
        "Изменить — «⚙️ Настройки» в меню внизу, все команды — /help.",
    )


def resumed(subscriber: Subscriber) -> Text:
    return as_list(
        Bold("С возвращением! Рассылка снова включена."),
        "",
        profile(subscriber),
        "",
        "Изменить — «⚙️ Настройки» в меню внизу.",
    )


# --- settings ------------------------------------------------------------------------------------


def settings_menu(subscriber: Subscriber) -> Text:
    """The buttons under it show every value; the text says only what a button can't."""
    lines: list[Text | str] = [Bold("⚙️ Ваши настройки"), "Нажмите, что изменить."]
    if subscriber.status is SubscriberStatus.PAUSED:
        lines.append("⏸ Рассылка на паузе.")
    return as_list(*lines)


SETTINGS_BUTTON_MAX = 40  # a button wider than a phone is cut by Telegram with «…» anyway


def _fit(label: str) -> str:
    return label if len(label) <= SETTINGS_BUTTON_MAX else label[: SETTINGS_BUTTON_MAX - 1] + "…"


def settings_buttons(subscriber: Subscriber) -> tuple[str, str, str, str, str]:
    """The labels of the /settings buttons: role, organisation kind, name, topics, digest."""
    role = ROLE_LABELS[subscriber.role] if subscriber.role else "не указана"
    kind = ORG_KIND_LABELS[subscriber.org_kind].lower() if subscriber.org_kind else "не указана"
    return (
        _fit(f"Роль: {role}"),
        _fit(f"Организация: {kind}"),
        _fit(f"Название: {subscriber.org_name or 'не указано'}"),
        _fit(f"Темы: {short_topics(subscriber.topics)}"),
        _fit(f"Дайджест: {DIGEST_SHORT[subscriber.frequency]}"),
    )


SETTINGS_ASK_ROLE = "Выберите роль:"
SETTINGS_ASK_ORG_KIND = "Где вы работаете?"
SETTINGS_ASK_TOPICS = "Нажмите на тему, чтобы включить или выключить её, затем «Готово»."
SETTINGS_ASK_FREQUENCY = "Как часто присылать дайджест?"
SAVED = "Сохранено ✓"
SETTINGS_CLOSED = "Настройки сохранены. Вернуться к ним — «⚙️ Настройки» в меню или /settings."
NOT_SUBSCRIBED = "Вы ещё не подписаны. Отправьте /start — настройка займёт полминуты."

# --- first run: what comes next, the main menu, sharing ----------------------------------------

BOT_DESCRIPTION = (
    "«Инфозона» — бот Информационно-методического центра района для педагогов, воспитателей и "
    "руководителей школ и детских садов.\n\n"
    "• дайджест новых методических материалов и опыта инновационных площадок;\n"
    "• ближайшие семинары, советы и конкурсы — с напоминанием накануне;\n"
    "• вопрос специалистам ИМЦ в пару касаний.\n\n"
    "Нажмите «Запустить» — настройка займёт полминуты."
)
BOT_SHORT_DESCRIPTION = (
    "Материалы, мероприятия и опыт площадок ИМЦ района — для школ и детских садов."
)


def first_run(
    upcoming: Sequence[Item], digest_at: datetime | None, topics: frozenset[Topic], tz: tzinfo
) -> Text:
    """Right after «Готово»: the next few entries for her, and when the first digest comes."""
    lines: list[Text | str] = []
    if Topic.EVENTS in topics:
        if upcoming:
            lines.append(Bold("📅 Ближайшее для вас:"))
            lines.extend(
                as_line("• ", _event_when(i, tz), " — ", _title(i), end="") for i in upcoming
            )
        else:
            lines.append("📅 Ближайших мероприятий для вас пока нет — бот сообщит о новых.")
    if digest_at is not None:
        when = digest_at.astimezone(tz)
        lines.append(
            f"📬 Первый дайджест — {format_date(when.date())}, в {when:%H:%M}, если будет новое."
        )
    else:
        lines.append("📬 Дайджест вы не получаете; включить — в «⚙️ Настройки».")
    if Topic.ANNOUNCEMENTS in topics:
        lines.append("Объявления ИМЦ приходят сразу.")
    lines.append("Всё остальное — в меню внизу 👇")
    return as_list(*lines)


MENU_NEXT = "📅 Что дальше"
MENU_MATERIALS = "📚 Материалы"
MENU_CASES = "💡 Опыт площадок"
MENU_SEARCH = "🔎 Поиск"
MENU_ASK = "✉️ Вопрос в ИМЦ"
MENU_SETTINGS = "⚙️ Настройки"
MENU_ROWS = ((MENU_NEXT, MENU_MATERIALS), (MENU_CASES, MENU_SEARCH), (MENU_ASK, MENU_SETTINGS))
MENU_PLACEHOLDER = "Спросите: «что в марте?»"

SEARCH_PROMPT = "🔎 Что найти? Напишите слово или два, например: «проектная деятельность»."
SEARCH_PLACEHOLDER = "например: проектная деятельность"
ASK_PLACEHOLDER = "Ваш вопрос специалистам ИМЦ"

SHARE_BUTTON = "📣 Поделиться с коллегой"
SHARE_PICK_CHAT = "Выбрать чат"
SHARE_TEXT = "«Инфозона» — материалы, мероприятия и опыт площадок ИМЦ района в Telegram:"


def share(link: str) -> Text:
    return as_list(
        Bold("📣 Поделитесь «Инфозоной» с коллегами"),
        "Перешлите это сообщение или отправьте ссылку:",
        link,
    )


# --- pause, resume, forget ---------------------------------------------------------------------

STOP_CONFIRM = as_list(
    Bold("Приостановить рассылку?"),
    "",
    "Пока она на паузе, бот не будет присылать дайджесты, объявления и напоминания. "
    "Настройки сохранятся. Возобновить можно в любой момент командой /start.",
)
STOPPED = "Рассылка приостановлена. Чтобы возобновить, отправьте /start."
ALREADY_STOPPED = "Рассылка уже на паузе. Чтобы возобновить, отправьте /start."
STOP_CANCELLED = "Хорошо, рассылка продолжается."

FORGET_CONFIRM = as_list(
    Bold("Удалить ваши данные из «Инфозоны»?"),
    "",
    "Будут удалены ваш Telegram ID, имя, роль, организация, выбранные темы и ваши вопросы "
    "ИМЦ с ответами, рассылка прекратится. Это нельзя отменить. Обезличенная статистика "
    "рассылок (сколько сообщений отправлено) останется.",
)
FORGOTTEN = "Ваши данные удалены. Если захотите вернуться, отправьте /start."
NOTHING_TO_FORGET = "О вас ничего не хранится: вы не подписаны на «Инфозону»."
FORGET_CANCELLED = "Хорошо, ничего не удалено."


def privacy(operator: str, contact: str | None, *, backup_days: int, log_days: int) -> Text:
    lines: list[Text | str] = [
        Bold("Персональные данные в «Инфозоне»"),
        "",
        as_line(Bold("Кто обрабатывает: "), operator, ".", end=""),
        as_line(
            Bold("Что хранится: "),
            "ваш Telegram ID и имя в Telegram, роль, тип и название организации, выбранные "
            "темы, частота дайджеста, статус подписки, метка ссылки, по которой вы пришли, "
            "даты подписки и изменения настроек; вопросы, которые вы задали ИМЦ через /ask, "
            "и ответы на них.",
            end="",
        ),
        as_line(
            Bold("Зачем: "),
            "чтобы присылать материалы, мероприятия и объявления, подходящие вашей роли и "
            "организации, и считать обезличенную статистику охвата.",
            end="",
        ),
        as_line(
            Bold("Основание: "),
            "ваше согласие (ст. 6 и 9 Федерального закона № 152-ФЗ «О персональных данных»), "
            "которое вы даёте, начиная подписку, и можете отозвать в любой момент.",
            end="",
        ),
        as_line(
            Bold("Кому передаются: "),
            "никому. Данные хранятся на сервере ИМЦ; сообщения доставляет Telegram.",
            end="",
        ),
        as_line(
            Bold("Как удалить: "),
            "команда /forget удаляет все ваши данные сразу. /stop только приостанавливает "
            "рассылку. От вопроса остаются только номер и дата, без текста и без вас.",
            end="",
        ),
        as_line(
            Bold("Сколько хранится: "),
            "пока вы подписаны. Резервные копии базы хранятся ",
            count(backup_days, "день", "дня", "дней"),
            ", затем удаляются; если базу восстановят из копии, бот снова удалит данные всех, "
            "кто воспользовался /forget. Журнал работы бота (в нём бывает ваш Telegram ID, "
            "но нет имени и текстов) хранится ",
            count(log_days, "день", "дня", "дней"),
            ".",
            end="",
        ),
    ]
    if contact:
        lines.append(as_line(Bold("Вопросы: "), contact, end=""))
    return as_list(*lines)


# --- help and fallbacks --------------------------------------------------------------------------


def help_text(is_editor: bool) -> Text:
    return as_list(
        Bold("«Инфозона» — новости инновационной работы школ и детских садов района."),
        "",
        "Бот присылает дайджест методических материалов, мероприятий и опыта площадок, "
        "а также объявления ИМЦ — по вашей роли и выбранным темам.",
        "",
        commands_list(EDITOR_COMMANDS if is_editor else SUBSCRIBER_COMMANDS),
    )


def unknown_message(subscribed: bool) -> Text:
    next_step = (
        "Чтобы изменить подписку — /settings, все команды — /help."
        if subscribed
        else "Чтобы подписаться, отправьте /start."
    )
    return as_list(
        "Такое сообщение бот прочитать не может 🙂 Напишите словами, например «что в марте?» "
        "или «новые материалы».",
        next_step,
    )


# --- outside what the bot reads: groups, photos, stickers ----------------------------------------

MEDIA_HINT = (
    "Спасибо! 🙂 Картинки, стикеры и голосовые я прочитать не умею. Напишите словами — "
    "например, «что в марте для воспитателей», — или задайте вопрос ИМЦ: /ask."
)
OPEN_PRIVATE_CHAT = "Открыть бота"


def group_hint(bot_name: str) -> Text:
    return as_list(
        f"Здравствуйте! Я {bot_name}, бот ИМЦ для педагогов.",
        "В группах я молчу: подписка, дайджест и вопросы в ИМЦ — в личном чате со мной. "
        "Нажмите «Открыть бота» и затем «Старт».",
    )


CANCELLED = "Отменено. Можно начать заново."
NOTHING_TO_CANCEL = "Отменять нечего."
STALE_BUTTON = "Эта кнопка устарела. Отправьте /settings или /start."
NOT_YOUR_BUTTON = "Эта кнопка не для вас."
SOMETHING_WENT_WRONG = "Что-то пошло не так. Попробуйте ещё раз чуть позже."
EDITORS_ONLY = "Эта команда — для редакторов «Инфозоны»."

# --- editors ------------------------------------------------------------------------------------


# --- the editors' team ---------------------------------------------------------------------------

EDITOR_HOW_TO_ADD = (
    "Чтобы добавить редактора, отправьте /editors add и перешлите сюда любое его сообщение, "
    "или /editors add @username (если он подписан на бота), или /editors add 123456789. "
    "Удалить: /editors remove 123456789."
)
EDITOR_SEND_FORWARD = (
    "Перешлите сюда любое сообщение будущего редактора или пришлите его @username или "
    "числовой ID. Отменить — /cancel."
)
EDITOR_ADDED = "Готово: {name} теперь редактор «Инфозоны»; меню редактора у него уже есть."
EDITOR_ALREADY = "{name} уже редактор."
EDITOR_IS_OWNER = "Это владелец из ADMIN_IDS — у него и так все права."
EDITOR_REMOVED = "Редактор {user_id} удалён."
NEW_FIELD_EMPTY = "Ответ пустой — в нём нет ни одной буквы или цифры. Напишите его словами."
EDITOR_NOT_FOUND = "Редактора с ID {user_id} нет в списке."
EDITOR_BAD_ID = "Telegram ID — положительное число, например: /editors add 123456789."
EDITOR_UNKNOWN_USERNAME = (
    "Подписчика {username} не нашлось. Пусть он откроет бота и нажмёт /start, или перешлите его "
    "сообщение, или пришлите числовой ID."
)
EDITOR_HIDDEN_FORWARD = (
    "Telegram скрыл автора этого сообщения (настройки приватности). Пришлите его @username или "
    "числовой ID."
)


def editors_list(owners: Iterable[int], editors: Iterable[tuple[int, str]]) -> str:
    lines = ["Владельцы (ADMIN_IDS): " + (", ".join(str(o) for o in owners) or "—")]
    team = [f"• {name or 'без имени'} — {user_id}" for user_id, name in editors]
    lines.append("Редакторы:" if team else "Редакторов пока нет.")
    lines.extend(team)
    lines.extend(["", EDITOR_HOW_TO_ADD])
    return "\n".join(lines)


# --- the operator's console: `python -m bot schedule`, `status` ------------------------------


def console_time(value: datetime, now: datetime) -> str:
    """«27.11.2026 09:00 (5 мин назад)» for the operator's terminal."""
    ago = int((now - value).total_seconds() // 60)
    if ago < 1:
        when = "только что"
    elif ago < 60:
        when = f"{ago} мин назад"
    elif ago < 48 * 60:
        when = f"{ago // 60} ч {ago % 60} мин назад"
    else:
        when = f"{ago // (24 * 60)} дн назад"
    return f"{value:%d.%m.%Y %H:%M} ({when})"


def console_duration(value: timedelta) -> str:
    """«40 с», «2 мин 30 с», «1 ч 5 мин» for the operator's terminal."""
    seconds = max(0, int(value.total_seconds()))
    if seconds < 60:
        return f"{seconds} с"
    if seconds < 3600:
        return f"{seconds // 60} мин {seconds % 60} с" if seconds % 60 else f"{seconds // 60} мин"
    return f"{seconds // 3600} ч {seconds % 3600 // 60} мин"


SCHEDULE_TITLE = "Расписание «Инфозоны» (часовой пояс {tz}):"
SCHEDULE_NEVER = "не запланировано"
STATUS_TITLE = "Состояние «Инфозоны»:"
STATUS_NEVER = "ещё не было"
STATUS_KEYS = {
    "last_poll_at": "Последний ответ Telegram (опрос обновлений)",
    "last_send_at": "Последняя отправка рассылки",
    "last_tick_at": "Последний такт расписания",
}
STATUS_PENDING = "Ожидают отправки: {}"
# The worker that holds the worker lock (several servers): "host:pid:…" as the sender wrote it.
STATUS_SENDER = "  Рассылку и расписание ведёт: {host}, процесс {pid} (с {since})"
STATUS_CAMPAIGN = (
    "  #{id} «{title}»: отправлено {sent} из {total}, ошибок {failed}, заблокировали {blocked}"
)
STATUS_CAMPAIGNS = "Рассылки в работе:"
STATUS_NO_CAMPAIGNS = "Рассылок в работе нет."
STATUS_STALE_TICK = "⚠ Расписание не отмечалось {minutes} мин: бот, похоже, не запущен."
STATUS_STALLED = (
    "⚠ Сообщения ждут отправки, а последняя отправка была {minutes} мин назад: "
    "проверьте журнал бота."
)
STATUS_QUIET_PAUSE = " — пауза до {until} (тихие часы)"
STATUS_CONFLICT = (
    "⚠ Telegram уже {duration} (с {since}) отвечает на опрос обновлений 409 Conflict: этим же "
    "токеном опрашивает Telegram другой процесс — остановите лишний экземпляр бота."
)
STATUS_POLL_STALE = (
    "⚠ Telegram не отвечает на опрос обновлений {duration} (последний ответ в {since}): "
    "проверьте сеть сервера и журнал бота."
)
# --- delivery retention in `python -m bot status` ---
STATUS_RETENTION = (
    "Доставки старше {days} дн. сворачиваются в счётчики: последний раз {when}, свёрнуто {rows}"
)
STATUS_RETENTION_NEVER = (
    "Доставки старше {days} дн. сворачиваются в счётчики каждую ночь; ещё не сворачивались"
)
STATUS_RETENTION_OFF = "Доставки хранятся бессрочно (DELIVERY_RETENTION_DAYS=0)"
STATUS_RESENT = (
    "После перезапуска {when} отправлены ещё раз {count}: до аварийной остановки они, возможно, "
    "уже ушли, но не были записаны — кто-то мог получить их дважды."
)
STATUS_OK = "Всё в порядке."

# --- a truthful status: `python -m bot status` on a never-run bot, failing feeds ---
STATUS_NEVER_RAN = (
    "⚠ Ни одной отметки о работе: бот ещё не запускался с этой базой. "
    "Запустите его: python -m bot run."
)
STATUS_FEED_FAILING = (
    "⚠ Лента {url} не загружается: {errors} подряд, последняя ошибка: {error}. "
    "Проверьте, открывается ли сайт; отключить ленту можно в /feeds."
)
BACKUP_DONE = "Резервная копия сохранена: {path}"
# --- deployment: the second copy of a backup (BACKUP_COPY_DIR) ---
BACKUP_COPY_DONE = "Вторая копия: {path}"


def backup_copy_error(detail: str) -> str:
    """What failed, for status and the owners' alert, when only the second copy did."""
    return f"первая копия на месте, вторая (BACKUP_COPY_DIR) не записалась — {detail}"


BACKUP_COPY_FAILED = (
    "⚠ Второй копии нет: не удалось записать её в {folder} ({error}). Проверьте, что диск "
    "подключён и папка доступна службе на запись (BACKUP_COPY_DIR)."
)
BACKUP_NO_DATABASE = "Базы {path} нет — копировать нечего. Создать её: python -m bot migrate"
# --- end of the second copy's block ---
RESTORE_MISSING = "Нет такого файла: {path}"
RESTORE_NOT_A_BACKUP = "{path} — не резервная копия базы «Инфозоны» (или файл повреждён)."


def restore_done(path: object, erased: int) -> str:
    line = f"База восстановлена из {path}."
    if erased:
        people = count(erased, "подписчик", "подписчика", "подписчиков")
        line += f" Снова удалены данные тех, кто просил /forget после этой копии: {people}."
    return line


BACKUP_NOT_SQLITE = (
    "Резервное копирование встроено только для SQLite; для PostgreSQL используйте pg_dump."
)

# --- the annual plan import ----------------------------------------------------------------------

PLAN_PROBLEMS: Mapping[str, str] = {
    "docx": "Это документ Word (.docx). Сохраните план как «Обычный текст (.txt)».",
    "doc": (
        "Это документ Word старого формата (.doc). Сохраните план в Word как .docx "
        "или как «Обычный текст (.txt)»."
    ),
    "pdf": "Это PDF. Откройте план в Word и сохраните как .docx или «Обычный текст (.txt)».",
    "no_school_year": (
        "В заголовке плана не найден учебный год (например, «на 2026-2027 учебный год»)."
    ),
    "no_items": "В файле не найдено ни одного пронумерованного мероприятия.",
    "binary": (
        "Это не текст и не документ Word — похоже на картинку, архив или программу. "
        "Пришлите план как .docx или .txt."
    ),
    "broken_docx": (
        "Не удалось прочитать файл как документ Word (.docx): он повреждён или это другой "
        "формат. Сохраните план в Word как .docx или как «Обычный текст (.txt)»."
    ),
}
PLAN_UNRESOLVED_REASONS: Mapping[str, str] = {
    "no_timing": "не удалось найти столбец сроков",
    "unknown_timing": "срок не распознан",
    "empty_timing": "срок не указан",
}
PLAN_FILE_MISSING = "Файл не найден: {path}"
PLAN_DRY_RUN = "Пробный прогон: в базе ничего не изменено."


def plan_report(
    new: int, updated: int, unchanged: int, unresolved: Iterable[tuple[int | str, str, str, str]]
) -> str:
    """«Новых: 13, обновлено: 0, без изменений: 0, не распознано: 0» and the reasons."""
    rows = list(unresolved)
    lines = [
        f"Новых: {new}, обновлено: {updated}, без изменений: {unchanged}, "
        f"не распознано: {len(rows)}."
    ]
    for number, title, timing, reason in rows:
        why = PLAN_UNRESOLVED_REASONS.get(reason, reason)
        shown = timing or "—"
        lines.append(f"  № {number} «{title}»: {why} («{shown}») — сохранено как «без срока».")
    return "\n".join(lines)


# --- feeds: `python -m bot feeds …` and the feed errors editors see -------------------------

FEED_KIND_LABELS = {
    FeedKind.MATERIAL: "материалы",
    FeedKind.CASE: "опыт площадок",
    FeedKind.NEWS: "новости",
}
FEED_ERRORS = {
    FeedErrorKind.TIMEOUT: "сайт не ответил за {timeout:g} с",
    FeedErrorKind.TOO_LARGE: "лента больше {megabytes:g} МБ, не загружена",
    FeedErrorKind.HTTP_STATUS: "сайт ответил кодом HTTP {detail}",
    FeedErrorKind.TOO_MANY_REDIRECTS: "слишком много перенаправлений (больше {redirects})",
    FeedErrorKind.NETWORK: "не удалось связаться с сайтом ({detail})",
    FeedErrorKind.NOT_A_FEED: "по адресу не RSS- и не Atom-лента",
}
FEED_INTERNAL_ERROR = "внутренняя ошибка бота при обработке ленты ({detail})"
FEED_BAD_URL = "Адрес ленты должен начинаться с http:// или https://, а получено: {url}"
FEED_BAD_KIND = (
    "Неизвестный тип ленты «{kind}». Допустимо: material (материалы), case (опыт площадок), "
    "news (новости)."
)
FEED_EXISTS = "Лента с адресом {url} уже добавлена (№{id})."
FEED_NOT_FOUND = "Ленты №{id} нет. Список лент: python -m bot feeds list"
FEED_ADDED = "Лента №{id} добавлена: {url}\nТип: {kind}. {route}"
FEED_ROUTE_AUTO = (
    "Новые записи сразу попадут в ближайший дайджест; записи, которые уже есть в ленте, "
    "сначала пройдут через очередь редактора."
)
FEED_ROUTE_QUEUE = "Новые записи будут ждать проверки в очереди редактора."
FEED_FIRST_POLL = "Первая проверка — при ближайшем опросе лент."
FEED_REMOVED = "Лента №{id} удалена: {url}\nУже загруженные записи остались в боте."
FEEDS_EMPTY = "Лент пока нет. Добавить: python -m bot feeds add URL --kind material|case|news"
FEEDS_TITLE = "Ленты ({count}):"
FEED_LINE = "№{id} · {kind} · {route}{disabled}"
FEED_LINE_ROUTE_AUTO = "сразу в дайджест"
FEED_LINE_ROUTE_QUEUE = "через очередь"
FEED_LINE_DISABLED = " · отключена"
FEED_LINE_NEVER = "ещё не проверялась"
FEED_LINE_CHECKED = "проверена {when}"
FEED_LINE_ERRORS = "ошибок подряд: {count} — {error}"
FEED_LINE_RETRY = "следующая попытка {when}"
CHECK_NO_SOURCE = "Нет такого файла, и это не адрес http(s): {source}"
CHECK_UNREADABLE = "Не удалось прочитать файл {path}: {error}"
CHECK_FAILED = "Ленту не удалось загрузить: {error}"


FEED_CHECK_TOTAL = "Записей, которые бот взял бы из ленты: {count}."


def feed_check_line(entry: Mapping[str, object]) -> str:
    """One entry of `feeds check`: «• 27.11.2026 Заголовок — ссылка»."""
    published = entry.get("published")
    when = f"{published:%d.%m.%Y} " if isinstance(published, datetime) else ""
    if isinstance(published, str):
        when = f"{published[:10]} "
    link = entry.get("link")
    return f"• {when}{entry.get('title')}" + (f" — {link}" if link else "")


# --- start-up (printed to the operator's terminal, not sent) ----------------------------------

NO_TOKEN = """\
Не задан токен бота (BOT_TOKEN).

Как его получить:
  1. Откройте в Telegram @BotFather и отправьте ему /newbot.
  2. Придумайте имя и адрес бота — BotFather пришлёт токен вида 123456789:AAE…
  3. Создайте рядом с Makefile файл .env (образец — .env.example) и впишите строку
       BOT_TOKEN=123456789:AAE…
     или задайте переменную окружения BOT_TOKEN.
  4. Запустите снова: make run
"""
TOKEN_REJECTED = (
    "Telegram не принял токен из BOT_TOKEN. Проверьте его у @BotFather (/token) и в файле .env."
)
API_UNREACHABLE = "Не удалось связаться с Telegram Bot API ({base}): {error}"


def database_busy(
    database: str,
    lock_file: str,
    command: str,
    pid: int | None,
    since: datetime | None,
    holder: str | None,
) -> str:
    """One line: `run` or `migrate` found the database's lock held by another process."""
    if pid is None or since is None:
        who = f"другой процесс (он ещё не записал себя в {lock_file})"
    else:
        who = f"процесс {pid} ({holder}), запущен {since:%d.%m.%Y %H:%M}"
    if command == "run":
        return (
            f"Бот уже работает с базой {database}: {who}. Второй экземпляр разослал бы всё "
            "дважды — остановите первый или укажите другую DATABASE_URL."
        )
    return f"База {database} занята: {who}. Остановите бота и повторите команду."


COMMAND_FAILED = (
    "Команда остановлена из-за непредвиденной ошибки (подробности в журнале выше): {error}"
)

# --- digest --------------------------------------------------------------------------------------

DIGEST_NAME = "Дайджест «Инфозоны»"
DIGEST_MATERIALS = "📚 Новые материалы"
DIGEST_EVENTS = "📅 Ближайшие мероприятия"
DIGEST_CASE = "💡 Опыт площадок"
DIGEST_REGISTRATION = "📝 Регистрация"
DIGEST_PREVIEW_EMPTY = (
    "Для этих настроек дайджест пуст: за период нет подходящих материалов, мероприятий и опыта "
    "площадок. Пустой дайджест подписчикам не отправляется."
)
DIGEST_UNTITLED = "Без названия"
DIGEST_PREVIEW_PART = "— сообщение {number} из {total} —"
DIGEST_PLANS = "🗓 Скоро по плану ИМЦ"
DIGEST_OPEN_HINT = "Нажмите на название, чтобы открыть запись в боте."
DIGEST_REMIND_BUTTON = "⏰ Напомнить: {title}"
DIGEST_SETTINGS_BUTTON = "⚙️ Настройки"
DIGEST_PAUSE_BUTTON = "⏸ Пауза"
DIGEST_RESUME_BUTTON = "▶️ Возобновить рассылку"
# A button shows about this many characters on a phone; the event's title is cut to fit.
DIGEST_BUTTON_TITLE = 28
# «Напомнить» buttons under one message at most: the card of every event has its own.
DIGEST_REMIND_MAX = 10
MATERIAL_EXCERPT = 200
CASE_EXCERPT = 400


def day_span(start: date, end: date) -> str:
    """«23–29 ноября», «30 ноября – 6 декабря», «29 декабря 2026 – 4 января 2027»."""
    if start >= end:
        return format_date(start)
    end_text = f"{end.day} {MONTHS_GENITIVE[end.month - 1]}"
    if start.year != end.year:
        start_text = f"{start.day} {MONTHS_GENITIVE[start.month - 1]} {start.year}"
        return f"{start_text} – {end_text} {end.year}"
    if start.month != end.month:
        return f"{start.day} {MONTHS_GENITIVE[start.month - 1]} – {end_text}"
    return f"{start.day}–{end_text}"


def digest_title(frequency: Frequency, period: Period, tz: tzinfo) -> str:
    """The issue's own days: «Дайджест «Инфозоны» · 30 ноября – 6 декабря» for the week that a
    Monday's issue opens, «… · пн, 30 ноября» for a day's. (The period is what the issue looks
    back on — new materials since the last one — and ends when the issue comes out.)"""
    issued = period.end.astimezone(tz).date()
    if frequency is Frequency.DAILY:
        return f"{DIGEST_NAME} · {format_date(issued)}"
    return f"{DIGEST_NAME} · {day_span(issued, issued + timedelta(days=6))}"


def _and_list(pieces: list[str]) -> str:
    """«a», «a и b», «a, b и c»."""
    if len(pieces) < 2:
        return "".join(pieces)
    return ", ".join(pieces[:-1]) + " и " + pieces[-1]


def _digest_summary(content: DigestContent) -> str:
    pieces = []
    if content.materials:
        n = len(content.materials)
        pieces.append(count(n, "новый материал", "новых материала", "новых материалов"))
    if content.events:
        n = len(content.events)
        pieces.append(
            count(n, "ближайшее мероприятие", "ближайших мероприятия", "ближайших мероприятий")
        )
    if content.plans:
        n = len(content.plans)
        pieces.append(count(n, "пункт плана ИМЦ", "пункта плана ИМЦ", "пунктов плана ИМЦ"))
    if content.case:
        pieces.append("опыт площадки")
    return f"В выпуске: {_and_list(pieces)}."


def _web_url(url: str | None) -> str | None:
    """Only links Telegram can parse become text links: it rejects the whole message over a
    bad one («entity URL … is invalid»). A stored link from before the check, such as
    «http://exa mple.com/a b», leaves its text plain instead."""
    return telegram_url(url)


def _one_line(text: str) -> str:
    """Feed titles arrive with line breaks and runs of spaces; a digest line has neither."""
    return " ".join(text.split())


def _title(item: Item) -> Text:
    title = _one_line(item.title) or DIGEST_UNTITLED
    url = _web_url(item.url)
    return Bold(TextLink(title, url=url)) if url else Bold(title)


def _excerpt(body: str, limit: int) -> str:
    return truncate_words(_one_line(body), limit)


def _event_when(item: Item, tz: tzinfo) -> str:
    assert item.starts_at is not None
    start = item.starts_at.astimezone(tz)
    if item.ends_at is not None:
        end = item.ends_at.astimezone(tz)
        if end.date() > start.date():
            return format_range(start.date(), end.date())
    return format_date(start)


def _open_title(item: Item) -> Text:
    """A digest entry's title: it opens the entry's card in the bot (`?start=item_<id>`)."""
    return Bold(BotLink(_one_line(item.title) or DIGEST_UNTITLED, payload=item_payload(item.id)))


def _material_block(item: Item) -> Text:
    lines: list[Text | str] = [as_line("▫️ ", _open_title(item), end="")]
    if excerpt := _excerpt(item.body, MATERIAL_EXCERPT):
        lines.append(excerpt)
    return as_list(*lines)


def _event_block(item: Item, tz: tzinfo) -> Text:
    lines: list[Text | str] = [
        as_line("▫️ ", _event_when(item, tz), " — ", _open_title(item), end="")
    ]
    details: list[Text | str] = []
    if item.place:
        details.append(f"📍 {_one_line(item.place)}")
    if registration := _web_url(item.registration_url):
        details.append(TextLink(DIGEST_REGISTRATION, url=registration))
    if details:
        lines.append(as_line(*details, sep=" · ", end=""))
    return as_list(*lines)


def _case_block(item: Item) -> Text:
    lines: list[Text | str] = [_open_title(item)]
    if item.organisation:
        lines.append(f"🏫 {_one_line(item.organisation)}")
    if excerpt := _excerpt(item.body, CASE_EXCERPT):
        lines.append(excerpt)
    return as_list(*lines)


def message_part(text: Text) -> MessagePart:
    """Rendered for the outbox: the text plus Bot API MessageEntity dicts."""
    return text.as_part()


def _plan_block(item: Item, tz: tzinfo) -> Text:
    when = _entry_when(item, tz)
    lines: list[Text | str] = [
        as_line("▫️ ", f"{when} — " if when else "", _open_title(item), end="")
    ]
    if item.place:
        lines.append(f"📍 {_one_line(item.place)}")
    return as_list(*lines)


def item_payload(item_id: int) -> str:
    """The start payload of a link that opens an item's card: «item_12»."""
    return f"item_{item_id}"


def digest_button_title(item: Item) -> str:
    """The item's title as a button names it: one line, cut to what a phone shows."""
    return truncate_words(_one_line(item.title) or DIGEST_UNTITLED, DIGEST_BUTTON_TITLE)


def _remind_button(item: Item) -> Button:
    title = digest_button_title(item)
    return Button(DIGEST_REMIND_BUTTON.format(title=title), ButtonAction.REMIND, item.id)


DIGEST_LAST_ROW = (
    Button(DIGEST_SETTINGS_BUTTON, ButtonAction.SETTINGS),
    Button(DIGEST_PAUSE_BUTTON, ButtonAction.PAUSE),
)


def digest_messages(
    content: DigestContent,
    frequency: Frequency,
    period: Period,
    tz: tzinfo,
    *,
    limit: int = MESSAGE_LIMIT,
) -> list[MessagePart]:
    """The digest as Telegram messages, split between items when it outgrows `limit`.

    Each entry's title opens its card in the bot; under each message, «Напомнить» for its
    events that start after the issue's day (a reminder comes the evening before), and under
    the last one «Настройки» and «Пауза». A message shows the picture of its first entry
    that has one (a feed item's first image) as a large preview.
    """
    issued = period.end.astimezone(tz).date()
    sections: list[tuple[str, list[tuple[Text, Item]]]] = [
        (DIGEST_MATERIALS, [(_material_block(item), item) for item in content.materials]),
        (DIGEST_EVENTS, [(_event_block(item, tz), item) for item in content.events]),
        (DIGEST_PLANS, [(_plan_block(item, tz), item) for item in content.plans]),
        (DIGEST_CASE, [(_case_block(content.case), content.case)] if content.case else []),
    ]
    # Headings travel with the item after them, so no message ends on a bare heading.
    lead: list[Text | str] = [
        Bold(digest_title(frequency, period, tz)),
        _digest_summary(content),
        Italic(DIGEST_OPEN_HINT),
        "",
    ]
    blocks: list[MessagePart] = []
    entries: list[Item] = []
    for heading, nodes in sections:
        for index, (node, item) in enumerate(nodes):
            if index == 0:
                node = as_list(*lead, Bold(heading), node)
                lead = []
            blocks.append(message_part(node))
            entries.append(item)
    messages: list[MessagePart] = []
    packed = pack_indexed(blocks, limit)
    for number, (part, held) in enumerate(packed, 1):
        items = [entries[i] for i in held]
        ahead = [
            item
            for item in items
            if item.starts_at is not None and item.starts_at.astimezone(tz).date() > issued
        ]
        rows: list[tuple[Button, ...]] = [
            (_remind_button(item),) for item in ahead[:DIGEST_REMIND_MAX]
        ]
        if number == len(packed):
            rows.append(DIGEST_LAST_ROW)
        preview = next((url for item in items if (url := _web_url(item.image_url))), None)
        messages.append(replace(part, buttons=tuple(rows), preview_url=preview))
    return messages


def item_card(item: Item, tz: tzinfo) -> Text:
    """An entry of the digest opened in the bot: the item as a post; a plan activity without a
    date also says when, for whom and who runs it, as the plan words it."""
    if item.kind is not ItemKind.EVENT or item.starts_at is not None:
        return item_post(item, tz)
    heading = as_line(POST_HEADINGS[item.kind], Bold(_one_line(item.title)), end="")
    lines: list[Text | str] = [heading]
    details: list[Text | str] = []
    if when := _entry_when(item, tz):
        details.append(f"🗓 {when}")
    if item.audience_text:
        details.append(f"Для: {_one_line(item.audience_text)}")
    if item.responsible_text:
        details.append(f"Ответственные: {_one_line(item.responsible_text)}")
    if item.place:
        details.append(f"📍 {_one_line(item.place)}")
    lines.extend(details)
    if body := _body(item):
        lines.extend(["", body])
    if link := _web_url(item.url):
        lines.extend(["", TextLink(POST_MORE, url=link)])
    return as_list(*lines)


DIGEST_PREVIEW_PICTURE = "Картинка над сообщением: {url}"


def digest_preview_text(part: MessagePart) -> str:
    """A digest message for `digest-preview`: its text, the picture it shows and its buttons,
    a row a line («[⚙️ Настройки] [⏸ Пауза]»)."""
    lines = [part.text]
    if part.preview_url:
        lines.append(DIGEST_PREVIEW_PICTURE.format(url=part.preview_url))
    lines.extend(" ".join(f"[{button.text}]" for button in row) for row in part.buttons)
    return "\n".join(lines)


DIGEST_PAUSED = (
    "Рассылка на паузе: дайджесты не придут, пока вы её не возобновите — кнопкой "
    "«▶️ Возобновить рассылку» под дайджестом или командой /start."
)
DIGEST_RESUMED = "Рассылка возобновлена: следующий дайджест придёт по расписанию."
DIGEST_ALREADY_PAUSED = "Рассылка уже на паузе."
DIGEST_ALREADY_ACTIVE = "Рассылка и так идёт."
ITEM_CARD_SUBSCRIBE = "Получать такие записи в дайджесте: /start."


# --- рассылка: progress and report for the editor who started a broadcast ----------------------

BROADCAST_BAR_WIDTH = 10


def broadcast_bar(done: int, total: int) -> str:
    """«▓▓▓▓░░░░░░ 24 %»; rounded down, so 100 % means everything is through."""
    share = done / total if total > 0 else 1.0
    filled = min(BROADCAST_BAR_WIDTH, int(share * BROADCAST_BAR_WIDTH))
    bar = "▓" * filled + "░" * (BROADCAST_BAR_WIDTH - filled)
    return f"{bar} {int(share * 100)}\u00a0%"


def broadcast_duration(seconds: float) -> str:
    """«45 с», «3 мин 12 с», «1 ч 5 мин»."""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} ч {minutes} мин"
    if minutes:
        return f"{minutes} мин {secs} с"
    return f"{secs} с"


def broadcast_progress(title: str, counts: CampaignCounts, resumes_at: time | None = None) -> Text:
    n = thousands
    lines: list[Text | str] = [
        as_line(
            "📣 Рассылка «",
            Bold(title),
            "» — ",
            count(counts.total, "получатель", "получателя", "получателей"),
            end="",
        ),
        f"Отправлено {n(counts.sent)} из {n(counts.total)} · ошибок {n(counts.failed)} · "
        f"заблокировали {n(counts.blocked)}",
        broadcast_bar(counts.total - counts.pending, counts.total),
    ]
    if resumes_at is not None:
        lines.append(f"⏸ Тихие часы: продолжим в {resumes_at:%H:%M}")
    return as_list(*lines)


def broadcast_report(
    title: str, counts: CampaignCounts, seconds: float, item_id: int | None = None
) -> Text:
    """The final report; with `item_id` (a post) it tells how to correct the post."""
    n = thousands
    return as_line(
        "✅ Рассылка «",
        Bold(title),
        f"» завершена: доставлено {n(counts.sent)} из {n(counts.total)}, "
        f"заблокировали {n(counts.blocked)}, ошибок {n(counts.failed)}, "
        f"за {broadcast_duration(seconds)}",
        f"\nИсправить пост: /edit {item_id}" if item_id is not None else "",
        end="",
    )


# --- posts and reminders -------------------------------------------------------------------------

POST_HEADINGS: Mapping[ItemKind, str] = {
    ItemKind.ANNOUNCEMENT: "📢 ",
    ItemKind.MATERIAL: "📚 Новый материал: ",
    ItemKind.EVENT: "📅 ",
    ItemKind.CASE: "💡 Опыт площадок: ",
}
POST_MORE = "Подробнее"
REMINDER_HEADING = "⏰ Напоминание: завтра"


def _checked_links(entities: Iterable[Mapping[str, Any]]) -> Iterable[Mapping[str, Any]]:
    """Web links as Telegram parses them; a tg:// or other link Telegram itself gave an
    editor's text stays as it came."""
    for entity in entities:
        url = entity.get("url")
        if entity.get("type") != "text_link" or not str(url).lower().startswith("http"):
            yield entity
        elif checked := telegram_url(url):
            yield {**entity, "url": checked}


def _body(item: Item) -> Text | str:
    """The item's text, with the editor's own formatting when it was written in Telegram."""
    if item.body_entities:
        # shallow: a feed body stored before nesting was capped may hold thousands; links
        # stored before they were checked the way Telegram parses them lose their link.
        entities = shallow(json.loads(item.body_entities))
        return Text.from_entities(item.body, list(_checked_links(entities)))
    return item.body.strip()


def item_post(item: Item, tz: tzinfo, prefixes: Mapping[ItemKind, str] = POST_HEADINGS) -> Text:
    """An item sent as a post of its own (an announcement, or any item published "now")."""
    heading = as_line(prefixes[item.kind], Bold(_one_line(item.title)), end="")
    lines: list[Text | str] = [heading]
    if item.kind is ItemKind.EVENT and item.starts_at is not None:
        lines.append(_event_details(item, tz))
    if item.kind is ItemKind.CASE and item.organisation:
        lines.append(f"🏫 {_one_line(item.organisation)}")
    body = _body(item)
    if body:
        lines.extend(["", body])
    if link := _web_url(item.url):
        lines.extend(["", TextLink(POST_MORE, url=link)])
    return as_list(*lines)


def _event_details(item: Item, tz: tzinfo) -> Text:
    details: list[Text | str] = [_event_when(item, tz)]
    if item.place:
        details.append(f"📍 {_one_line(item.place)}")
    if registration := _web_url(item.registration_url):
        details.append(TextLink(DIGEST_REGISTRATION, url=registration))
    return as_line(*details, sep=" · ", end="")


def event_reminder(item: Item, tz: tzinfo) -> Text:
    lines: list[Text | str] = [Bold(REMINDER_HEADING), as_line(_title(item), end="")]
    if item.starts_at is not None:
        lines.append(_event_details(item, tz))
    return as_list(*lines)


# --- what's next and browsing ------------------------------------------------------------------

BROWSE_PAGE = 5
NEXT_EMPTY = (
    "За этот период подходящих мероприятий не нашлось. Спросите, например, «что в следующем "
    "месяце?» или «что для координаторов?», или посмотрите все: /events."
)
NEXT_HINT = (
    "Спросите своими словами: «что в марте?», «что на этой неделе?», «что для детских садов?»"
)
EVENTS_LABEL = "Мероприятия на три месяца вперёд"
ASK_NOT_A_QUESTION = (
    "Это не похоже на вопрос о мероприятиях; бот ответил бы подсказкой. Пример: «что в марте?»"
)
PAGE_LABEL = "{label} (продолжение)"
LABEL_WINDOW = "Мероприятия {span}"
REMIND_TOO_LATE = "До мероприятия меньше суток — напоминание уже не успеет прийти."
REMIND_DONE = "Напомню {day}."
REMIND_ALREADY = "Уже напомню {day}."
REMIND_NO_DATE = "У этого мероприятия нет точной даты — напомнить не получится."
REMIND_PAST = "Это мероприятие уже прошло."
ICS_CAPTION = "Откройте файл — мероприятие добавится в календарь телефона."
ICS_NO_DATE = "У этого мероприятия нет дат — добавить в календарь не получится."
ITEM_GONE = "Этой записи больше нет."
VOTE_THANKS = "Спасибо! ИМЦ учтёт это при подборе материалов."
SEARCH_EMPTY = (
    "По запросу «{query}» ничего не нашлось. Попробуйте другое слово или посмотрите последние "
    "материалы: /materials и опыт площадок: /cases."
)
SEARCH_EXPIRED = "Поиск устарел. Отправьте /search и запрос ещё раз."
MATERIALS_EMPTY = (
    "Материалов пока нет. Они появятся здесь, как только редакторы ИМЦ их опубликуют."
)
CASES_EMPTY = "Опыта площадок пока нет. Загляните позже или посмотрите мероприятия: /events."
MATERIALS_NOT_FOUND = (
    "Материалов по запросу «{query}» не нашлось. Попробуйте другое слово или посмотрите все: "
    "/materials."
)
CASES_NOT_FOUND = (
    "Опыта площадок по запросу «{query}» не нашлось. Попробуйте название площадки или тему "
    "одним словом или посмотрите все: /cases."
)
CARD_HEADINGS = {
    "materials": "📚 Материал {index} из {total}",
    "cases": "💡 Опыт площадок: {index} из {total}",
    "search": "🔎 «{query}»: {index} из {total}",
    "found": "💡 Опыт площадок «{query}»: {index} из {total}",
    "mfound": "📚 Материалы «{query}»: {index} из {total}",
}


def _entry_when(item: Item, tz: tzinfo) -> str:
    if item.starts_at is not None:
        return _event_when(item, tz)
    if item.timing_text:
        return _one_line(item.timing_text)
    if item.period_start and item.period_end:
        return format_range(item.period_start, item.period_end)
    return ""


# In a card the heading above says what it is («📚 Материал 2 из 5»): the title gets its sign only.
CARD_PREFIXES: Mapping[ItemKind, str] = {
    ItemKind.ANNOUNCEMENT: "📢 ",
    ItemKind.MATERIAL: "📚 ",
    ItemKind.EVENT: "📅 ",
    ItemKind.CASE: "💡 ",
}


def card(heading: str, item: Item, tz: tzinfo) -> Text:
    return as_list(Italic(heading), "", item_post(item, tz, CARD_PREFIXES))


def reminder_day(item: Item, tz: tzinfo, today: date) -> str:
    """When the reminder comes, said from `today`: «сегодня вечером», «завтра вечером»,
    or «вечером накануне, вт, 1 декабря»."""
    assert item.starts_at is not None
    eve = (item.starts_at.astimezone(tz) - timedelta(days=1)).date()
    if eve == today:
        return "сегодня вечером"
    if eve == today + timedelta(days=1):
        return "завтра вечером"
    return f"вечером накануне, {format_date(eve)}"


# --- the editors' queue (/queue) -----------------------------------------------------------------

QUEUE_EMPTY = "Очередь пуста: новых записей из лент, черновиков и запланированных публикаций нет."
QUEUE_HEADING = "🗂 Очередь: {index} из {total}"
QUEUE_BUTTONS = {
    "approve": "✅ Одобрить",
    "reject": "🚫 Отклонить",
    "edit": "✏️ Изменить текст",
    "move": "⏰ Перенести",
    "publish": "📣 Опубликовать сейчас",
    "delete": "🗑 Удалить",
    "back": "◂",
    "forward": "▸",
    "no": "Нет, назад",
}
QUEUE_CONFIRM = {
    "reject": ("Отклонить эту запись? Подписчики её не увидят.", "Да, отклонить"),
    "delete": ("Удалить эту запись совсем?", "Да, удалить"),
    "publish": ("Опубликовать сейчас? Пост сразу уйдёт подписчикам.", "Да, опубликовать"),
}
QUEUE_DONE = {
    "approve": "Одобрено: запись войдёт в ближайший дайджест.",
    "reject": "Отклонено.",
    "delete": "Удалено.",
}
QUEUE_PUBLISHING = "Публикуем: получателей — {total}. Ход рассылки — в отдельном сообщении."
QUEUE_PUBLISHED_NOBODY = "Опубликовано, но подписчиков с этой темой пока нет."
QUEUE_STATUS_DONE: Mapping[ItemStatus, str] = {
    ItemStatus.APPROVED: "одобрена",
    ItemStatus.REJECTED: "отклонена",
    ItemStatus.PUBLISHED: "опубликована",
    ItemStatus.ARCHIVED: "удалена",
    ItemStatus.SCHEDULED: "запланирована",
    ItemStatus.DRAFT: "в черновиках",
    ItemStatus.PENDING: "на проверке",
}
QUEUE_STALE = "Эту запись уже обработали: она {status}. Ничего не изменено."
QUEUE_ASK_TEXT = (
    "Пришлите новый текст для «{title}» одним сообщением — жирный, курсив и ссылки "
    "сохранятся. Заголовок останется прежним. Передумали — /cancel."
)
QUEUE_TEXT_NOT_TEXT = "Пришлите новый текст обычным сообщением (или /cancel)."
QUEUE_TEXT_TOO_LONG = (
    "Слишком длинно: пост вышел бы на {length} знаков, а в одно сообщение Telegram помещается "
    "{limit}. Сократите текст на {over} знаков и пришлите ещё раз (или /cancel)."
)
QUEUE_TEXT_SAVED = "Текст обновлён ✓"
QUEUE_TEXT_SAVED_DRAFT = (
    "Текст обновлён ✓ Запись перешла в черновики: лента её больше не перепишет."
)
QUEUE_ASK_TIME = (
    "Когда опубликовать «{title}»? Напишите дату и время, например: «15.03 10:00», "
    "«завтра в 9», «в пятницу 10:00» или «через 2 часа» (часовой пояс {tz}). "
    "Передумали — /cancel."
)
QUEUE_TIME_BAD = (
    "Не понял дату и время. Напишите, например: «15.03 10:00», «завтра в 9» или "
    "«в пятницу 10:00» (или /cancel)."
)
QUEUE_TIME_PAST = "Это время уже прошло. Укажите момент в будущем (или /cancel)."
QUEUE_MOVED = "Запланировано на {when} ✓"


def queue_counts(pending: int, drafts: int, scheduled: int) -> str:
    return f"На проверке: {pending} · Черновики: {drafts} · Запланировано: {scheduled}"


def queue_status(item: Item, tz: tzinfo) -> str:
    if item.status is ItemStatus.SCHEDULED and item.publish_at is not None:
        return f"⏰ Запланировано на {format_date(item.publish_at.astimezone(tz))}"
    if item.status is ItemStatus.DRAFT:
        return "📝 Черновик"
    return "🆕 На проверке" + (" · из ленты" if item.feed_id is not None else "")


def queue_card(
    index: int, total: int, counts: str, item: Item, tz: tzinfo, question: str | None = None
) -> Text:
    """The queue's card: where we are, the item's state, then the post exactly as sent."""
    lines: list[Text | str] = [
        Italic(QUEUE_HEADING.format(index=index + 1, total=total)),
        Italic(counts),
        Bold(queue_status(item, tz)),
    ]
    if question:
        lines.append(Bold(f"❓ {question}"))
    lines.extend(["", item_post(item, tz)])
    return as_list(*lines)


# --- /queue: a feed item's kind and title ---

QUEUE_KIND_LABELS: Mapping[ItemKind, str] = {
    ItemKind.MATERIAL: "📚 Материал",
    ItemKind.EVENT: "📅 Событие",
    ItemKind.CASE: "💡 Опыт площадок",
    ItemKind.ANNOUNCEMENT: "📢 Объявление",
}
QUEUE_KIND_BUTTON = "Вид: {kind}"
QUEUE_TITLE_BUTTON = "✏️ Изменить заголовок"
QUEUE_KIND_QUESTION = "Какой это вид записи? От вида зависят заголовок поста и раздел дайджеста."
QUEUE_KIND_DONE = "Вид: {kind} ✓"
QUEUE_KIND_UNDATED = (
    "Вид: событие ✓ У записи нет даты, поэтому в дайджест, в раздел мероприятий, она не "
    "попадёт. Опубликуйте её сейчас или перенесите на нужное время."
)
QUEUE_KIND_STALE = "Вид этой записи уже изменили: сейчас — {kind}. Ничего не изменено."
QUEUE_ASK_TITLE = (
    "Пришлите новый заголовок для «{title}» одной строкой. Текст и ссылка останутся прежними. "
    "Передумали — /cancel."
)
QUEUE_TITLE_PLACEHOLDER = "Новый заголовок"
QUEUE_TITLE_EMPTY = "Нужен заголовок: пришлите его текстом одной строкой (или /cancel)."
QUEUE_TITLE_TOO_LONG = (
    "Заголовок слишком длинный: можно не больше {limit} знаков, и пост должен помещаться в "
    "одно сообщение. Сократите и пришлите ещё раз (или /cancel)."
)
QUEUE_TITLE_SAVED = "Заголовок обновлён ✓"
QUEUE_TITLE_SAVED_DRAFT = (
    "Заголовок обновлён ✓ Запись перешла в черновики: лента её больше не перепишет."
)
# Announcements never go into a digest: approving one from the queue sends it out at once.
QUEUE_APPROVE_ANNOUNCEMENT = "✅ Одобрить и разослать"
QUEUE_CONFIRM_ANNOUNCEMENT = (
    "Объявления не входят в дайджест: одобренное сразу уйдёт подписчикам. Разослать сейчас?",
    "Да, разослать",
)


def queue_kind_name(kind: ItemKind) -> str:
    """«материал», «событие», … for the card's «Вид: …» button."""
    return QUEUE_KIND_LABELS[kind].split(" ", 1)[1].lower()


# --- /new: an editor's post from the phone -----------------------------------------------------

NEW_KIND_LABELS: Mapping[ItemKind, str] = {
    ItemKind.ANNOUNCEMENT: "📢 Объявление",
    ItemKind.MATERIAL: "📚 Материал",
    ItemKind.EVENT: "📅 Мероприятие",
    ItemKind.CASE: "💡 Опыт площадки",
}
NEW_ASK_KIND = "Новая публикация. Что это будет? (/cancel — выйти)"
NEW_ASK_TEXT = (
    "Пришлите текст публикации одним сообщением. Первая строка станет заголовком, остальное — "
    "текстом; оформление (жирный, курсив, ссылки) сохранится. Можно приложить фото или файл "
    "с подписью."
)
NEW_TEXT_EMPTY = "Нужен текст: пришлите сообщение с текстом или фото/файл с подписью."
NEW_TEXT_TOO_LONG = (
    "Текст слишком длинный: {length} знаков, а можно не больше {limit}. Сократите и пришлите "
    "ещё раз — черновик на этом шаге сохранён."
)
NEW_TITLE_TOO_LONG = "Первая строка (заголовок) длиннее {limit} знаков. Сделайте её короче."
NEW_ASK_STARTS_AT = (
    "Когда мероприятие? Напишите дату и время, например: «15.12 10:00», «завтра в 9», "
    "«в понедельник 10:00», «20.12.2026 18:30»."
)
NEW_BAD_WHEN = (
    "Не понял дату и время «{text}». Напишите, например: «15.12 10:00», «завтра в 9», "
    "«в понедельник 10:00», «20.12.2026 18:30»."
)
NEW_WHEN_NEEDS_TIME = "Во сколько? Напишите и время, например: «{text} 10:00»."
NEW_PAST_WHEN = "Это время уже прошло ({when}). Укажите момент в будущем."
NEW_ASK_PLACE = "Где оно пройдёт? Напишите место или нажмите «Пропустить»."
NEW_ASK_REGISTRATION = "Ссылка на регистрацию (https://…) или «Пропустить»."
NEW_BAD_URL = "Это не похоже на ссылку. Нужна ссылка вида https://example.ru/… или «Пропустить»."
NEW_ASK_ORGANISATION = "Какая организация (площадка)? Например: «ГБОУ Школа № 12»."
NEW_ASK_SITE_TYPE = (
    "Тип площадки? Например: «экспериментальная площадка», «районная опорная площадка» — "
    "или «Пропустить»."
)
NEW_FIELD_TOO_LONG = "Слишком длинно: не больше {limit} знаков."
NEW_SKIP = "Пропустить"
NEW_ASK_AUDIENCE = (
    "Кому? Отметьте роли и типы организаций или нажмите «Всем». Ничего не отмечено — всем."
)
NEW_AUDIENCE_ALL = "Всем"
NEW_AUDIENCE_DONE = "Готово →"
# The audience buttons say which «Другое» they are: a role, or a kind of organisation.
NEW_AUDIENCE_OTHER_ROLE = "Другое (роль)"
NEW_AUDIENCE_OTHER_ORG = "Другое (организация)"
NEW_ASK_WHEN = (
    "Когда опубликовать? Нажмите кнопку или напишите время, например «15.12 10:00», «завтра в 9»."
)
NEW_WHEN_LABELS = {
    "now": "🚀 Сейчас",
    "digest": "🗞 С ближайшим дайджестом",
    "draft": "📝 Черновик",
}
NEW_PREVIEW_HEADING = "☝️ Так публикацию увидят подписчики."
NEW_PUBLISH = "✅ Опубликовать"
NEW_SAVE = "✅ Сохранить"
NEW_DROP = "✖️ Отменить"
NEW_CANCELLED = "Публикация отменена, черновик удалён."
NEW_PUBLISHED = "Публикую «{title}»: ход рассылки — в следующем сообщении."
NEW_SCHEDULED = "«{title}» будет опубликовано {when}."
NEW_APPROVED = "«{title}» войдёт в ближайший дайджест."
NEW_DRAFTED = "«{title}» сохранено как черновик."

# The dialog talks back: what it understood of each typed answer, a way back from every step,
# and the preview's own corrections.
NEW_BACK = "◂ Назад"
NEW_EDIT = "✏️ Изменить"
NEW_KEEP = "Оставить как есть"
NEW_NOW_VALUE = "Сейчас: {value}"
NEW_EDITING = "Изменяю: {what}."
NEW_EDIT_LABELS: Mapping[str, str] = {
    "text": "Изменить текст",
    "date": "Изменить дату",
    "place": "Изменить место",
    "reg": "Изменить ссылку",
    "org": "Изменить площадку",
    "site": "Изменить тип",
    "aud": "Изменить кому",
    "when": "Изменить когда",
}
NEW_EDITED_WHAT: Mapping[str, str] = {
    "text": "текст",
    "date": "дату",
    "place": "место",
    "reg": "ссылку на регистрацию",
    "org": "площадку",
    "site": "тип площадки",
    "aud": "кому",
    "when": "когда",
}
NEW_PLACE_LOOKS_LIKE_DATE = (
    "«{text}» похоже на дату: {when}. Это новая дата мероприятия (сейчас — {current})?"
)
NEW_PLACE_IS_DATE = "Да, это новая дата"
NEW_PLACE_IS_PLACE = "Нет, это место"
NEW_DIGEST_NOT_FOR_ANNOUNCEMENT = (
    "Объявления не входят в дайджест — они приходят отдельным сообщением. Выберите «Сейчас», "
    "время или «Черновик»."
)
NEW_DIGEST_TOO_LATE = (
    "Не выйдет с дайджестом: ближайший дайджест — {digest}, а мероприятие раньше, {starts}. "
    "Выберите «Сейчас» или напишите время публикации."
)
NEW_AT_AFTER_START = (
    "Публикация {when} — уже после начала мероприятия ({starts}). Выберите время раньше "
    "или «Сейчас»."
)
NEW_NOBODY = (
    "Сейчас под «Кому» не подходит ни один подписчик (0): отправлять некому. Измените «Кому» "
    "или сохраните черновик."
)
NEW_NOBODY_NOW = (
    "Не отправлено: под «Кому» сейчас не подходит ни один подписчик (0). Черновик на месте — "
    "измените «Кому» или сохраните его как черновик."
)


def new_understood_text(title: str, body: str, attachment: str | None) -> str:
    """«Понял: «Семинар переносится», текст — 52 знака, с фото»."""
    parts = [f"Понял: «{title}»"]
    if body:
        parts.append(f"текст — {count(len(body), 'знак', 'знака', 'знаков')}")
    else:
        parts.append("только заголовок")
    if attachment == "photo":
        parts.append("с фото")
    elif attachment == "document":
        parts.append("с файлом")
    return ", ".join(parts)


def new_moment(value: datetime, today: date) -> str:
    """«ср, 16 декабря, 10:00»; with the year when it isn't this one («ср, 16 декабря 2027,
    10:00»), so a mistyped year shows."""
    if value.year == today.year:
        return format_date(value)
    text = f"{WEEKDAYS_SHORT[value.weekday()]}, {value.day} {MONTHS_GENITIVE[value.month - 1]}"
    text += f" {value.year}"
    if value.hour or value.minute:
        text += f", {value:%H:%M}"
    return text


def new_understood(stage: str, value: str) -> str:
    """One line of what /new understood of a typed answer."""
    labels = {
        "date": "{value}",
        "place": "место — {value}",
        "reg": "регистрация — {value}",
        "org": "площадка — {value}",
        "site": "тип площадки — {value}",
        "when": "опубликую {value}",
    }
    return "Понял: " + labels[stage].format(value=value)


def new_audience_count(people: int) -> str:
    """«Под этот выбор сейчас подходят: 12 подписчиков.»"""
    reach = count(people, "подписчик", "подписчика", "подписчиков")
    return f"Под этот выбор сейчас подходят: {reach}."


def new_role_label(role: Role) -> str:
    return NEW_AUDIENCE_OTHER_ROLE if role is Role.OTHER else ROLE_LABELS[role]


def new_org_label(kind: OrgKind) -> str:
    return NEW_AUDIENCE_OTHER_ORG if kind is OrgKind.OTHER else ORG_KIND_LABELS[kind]


def new_audience_text(roles: Iterable[Role], orgs: Iterable[OrgKind]) -> str:
    role_names = [new_role_label(r) for r in ROLE_LABELS if r in set(roles)]
    org_names = [new_org_label(o) for o in ORG_KIND_LABELS if o in set(orgs)]
    if not role_names and not org_names:
        return "всем подписчикам"
    parts = []
    if role_names:
        parts.append(", ".join(role_names))
    if org_names:
        parts.append(", ".join(org_names))
    return " · ".join(parts)


PUBLISH_MODE_LABELS: Mapping[PublishMode, str] = {
    PublishMode.NOW: "сейчас",
    PublishMode.AT: "по расписанию",
    PublishMode.DIGEST: "с ближайшим дайджестом",
    PublishMode.DRAFT: "черновик",
}


def new_summary(
    kind: ItemKind,
    audience: str,
    people: int,
    mode: PublishMode,
    publish_at: datetime | None,
    tz: tzinfo,
) -> str:
    """The preview's summary: what, to whom (and how many that is now), when."""
    if mode is PublishMode.AT and publish_at is not None:
        when = f"по расписанию: {format_date(publish_at.astimezone(tz))}"
    else:
        when = PUBLISH_MODE_LABELS[mode]
    reach = count(people, "подписчик", "подписчика", "подписчиков")
    lines = [NEW_KIND_LABELS[kind], f"Кому: {audience} (сейчас {reach})", f"Когда: {when}"]
    if people == 0 and mode is PublishMode.NOW:
        lines += ["", NEW_NOBODY]
    else:
        lines += ["", "Всё верно? (/cancel — отменить)"]
    return "\n".join(lines)


# --- editors' reports: /stats and /export ----------------------------------------------------
# One definition of a subscriber everywhere: a chat that finished sign-up, whatever its status;
# a chat that pressed /start and never finished is counted apart («не завершили регистрацию»),
# in /stats and in the exports alike.

STATS_WEEKS = 8
STATS_BAR_WIDTH = 12
STATS_CAMPAIGNS = 10
STATS_CHART_CAMPAIGNS = 5
STATS_EVENTS = 10
STATS_FEEDBACK = 10
STATS_CHART_LABEL = 38  # characters of a campaign's name on the picture
CAMPAIGN_KIND_LABELS: Mapping[str, str] = {
    "digest": "дайджест",
    "post": "пост",
    "reminder": "напоминание",
    "broadcast": "рассылка",
    "edit": "правка",
}
FEEDBACK_KIND_LABELS: Mapping[str, str] = {
    ItemKind.MATERIAL: "материал",
    ItemKind.CASE: "опыт площадки",
    ItemKind.EVENT: "мероприятие",
    ItemKind.ANNOUNCEMENT: "объявление",
}
NO_ROLE = "Роль не указана"
STATS_CHART_WEEKS_TITLE = "Новые подписчики по неделям и ролям"
STATS_CHART_WEEKS_EMPTY = "За 8 недель новых подписчиков нет"
STATS_CHART_CAMPAIGNS_TITLE = "Доставка последних рассылок"
STATS_CHART_CAMPAIGNS_EMPTY = "Рассылок ещё не было"
STATS_CHART_SENT = "доставлено"
STATS_CHART_BLOCKED = "заблокировали бота"
STATS_CHART_FAILED = "ошибка"
STATS_CHART_PENDING = "в очереди"
STATS_CHART_OF_TOTAL = "{sent} из {total}"
STATS_MORE = "Подробнее:"
# «Подробнее» buttons, one per section of the summary.
STATS_SECTION_LABELS: Mapping[str, str] = {
    "subscribers": "👥 Подписчики",
    "campaigns": "📨 Рассылки",
    "events": "📅 Мероприятия",
    "feedback": "👍 Отзывы",
}
STATS_EXPORT_BUTTON = "📤 Выгрузка"
UNFINISHED_LABEL = "не завершил(а) регистрацию"


def unfinished_signups(n: int) -> str:
    return f"не завершили регистрацию: {thousands(n)}"


def campaign_chart_label(title: str, kind: str, created: date | None) -> str:
    """«Семинар координаторов · 30.11» (a digest by its kind: its title is the period)."""
    name = truncate_words(_one_line(title) or DIGEST_UNTITLED, STATS_CHART_LABEL)
    label = f"«{name}»" if kind not in ("digest", "reminder") else name
    return f"{label} · {created:%d.%m}" if created else label


def stats_summary(
    *,
    today: date,
    totals: tuple[int, int, int, int],
    unfinished: int,
    new_weeks: int,
    new_this_week: int,
    campaigns: Sequence[tuple[str, str, date | None, CampaignCounts]],
    event: tuple[str, datetime | None, int] | None,
    votes: tuple[int, int],
) -> Text:
    """The /stats caption under the picture: at most 15 short lines.

    totals: (all, active, paused, blocked) subscribers; campaigns: the latest ones, newest
    first; event: the next event (title, start in the settings' zone, «Напомнить» presses);
    votes: (👍, 🙅) over all materials and cases.
    """
    everyone, active, paused, blocked = totals
    lines: list[Text | str] = [
        Bold(f"📊 Статистика «Инфозоны», {today.day} {MONTHS_GENITIVE[today.month - 1]}"),
        as_line(
            Bold(count(everyone, "подписчик", "подписчика", "подписчиков")),
            f": активны {thousands(active)}, на паузе {thousands(paused)}, "
            f"заблокировали бота {thousands(blocked)}",
            end="",
        ),
        unfinished_signups(unfinished).capitalize(),
        f"Новые за {STATS_WEEKS} недель: {thousands(new_weeks)}, "
        f"на этой неделе: {thousands(new_this_week)}",
    ]
    if campaigns:
        title, kind, created, counts = campaigns[0]
        name = truncate_words(_one_line(title) or DIGEST_UNTITLED, 40)
        when = f", {created:%d.%m}" if created else ""
        lines.append(
            f"Последняя рассылка: «{name}» ({CAMPAIGN_KIND_LABELS.get(kind, kind)}{when}) — "
            f"доставлено {thousands(counts.sent)} из {thousands(counts.total)}"
        )
        if len(campaigns) > 1:
            sent = sum(c.sent for *_, c in campaigns)
            total = sum(c.total for *_, c in campaigns)
            lines.append(
                f"За последние {count(len(campaigns), 'рассылку', 'рассылки', 'рассылок')}: "
                f"доставлено {thousands(sent)} из {thousands(total)}"
            )
    else:
        lines.append("Рассылок ещё не было.")
    if event is not None:
        title, starts, presses = event
        when = format_date(starts) if starts else "без даты"
        lines.append(
            f"Ближайшее мероприятие: {when} — «{truncate_words(_one_line(title), 40)}», "
            f"«Напомнить»: {thousands(presses)}"
        )
    else:
        lines.append("Ближайших мероприятий с датой нет.")
    useful, not_for_me = votes
    lines.append(f"Оценки материалов и опыта площадок: 👍 {useful} · 🙅 {not_for_me}")
    lines.append(Italic("На картинке — новые подписчики по неделям и доставка рассылок."))
    return as_list(*lines)


def stats_bar(n: int, peak: int) -> str:
    """A compact bar scaled to the busiest week; a week with any newcomer shows at least one."""
    if n <= 0 or peak <= 0:
        return "·"
    return "▇" * max(1, round(n * STATS_BAR_WIDTH / peak))


def subscriber_stats(
    by_status: Mapping[str, int],
    by_role: Mapping[str, int],
    by_org: Mapping[str, int],
    unfinished: int,
    weeks: Sequence[tuple[date, int]],
) -> Text:
    """«Подробнее: Подписчики»: by status, role and organisation kind, and new ones by week."""
    total = sum(by_status.values())

    def breakdown(counts: Mapping[str, int], labels: Mapping[str, str]) -> str:
        parts = [f"{labels.get(k, 'не указано')} — {v}" for k, v in counts.items() if v]
        return "; ".join(sorted(parts)) or "—"

    peak = max((n for _, n in weeks), default=0)
    return as_list(
        Bold("Подписчики «Инфозоны»"),
        as_line(
            "Всего ",
            count(total, "подписчик", "подписчика", "подписчиков"),
            ": активны ",
            str(by_status.get(SubscriberStatus.ACTIVE, 0)),
            ", на паузе ",
            str(by_status.get(SubscriberStatus.PAUSED, 0)),
            ", заблокировали бота ",
            str(by_status.get(SubscriberStatus.BLOCKED, 0)),
            end="",
        ),
        as_line(
            unfinished_signups(unfinished).capitalize(),
            " (нажали /start и не ответили на вопросы; в рассылку не входят)",
            end="",
        ),
        as_key_value("По ролям", breakdown(by_role, {k.value: v for k, v in ROLE_LABELS.items()})),
        as_key_value(
            "По организациям",
            breakdown(by_org, {k.value: v for k, v in ORG_KIND_LABELS.items()}),
        ),
        Bold(f"Новые за {len(weeks)} недель: {sum(n for _, n in weeks)}"),
        *(
            as_line(Code(f"{monday:%d.%m}"), " ", stats_bar(n, peak), " ", str(n), end="")
            for monday, n in weeks
        ),
    )


def stats_campaigns(
    lines: Sequence[tuple[str, str, date | None, CampaignCounts, int | None]],
) -> Text:
    """(title, kind code, created, counts, post's item id) of the latest campaigns."""
    if not lines:
        return as_list(Bold("Рассылки"), "Рассылок ещё не было.")
    rows = []
    for title, kind, created, counts, item_id in lines:
        when = f"{created:%d.%m.%Y}" if created else "—"
        rows.append(
            as_line(
                "• ",
                f"«{truncate_words(_one_line(title) or DIGEST_UNTITLED, 60)}»",
                f" ({CAMPAIGN_KIND_LABELS.get(kind, kind)}, {when}): ",
                f"✓ {counts.sent} · ⛔ {counts.blocked} · ⚠ {counts.failed} · ⏳ {counts.pending}",
                f" из {counts.total}",
                f" · /edit {item_id}" if item_id is not None else "",
                end="",
            )
        )
    return as_list(
        Bold(f"Последние рассылки ({len(lines)})"),
        Italic("✓ доставлено · ⛔ заблокировали бота · ⚠ ошибка · ⏳ в очереди"),
        *rows,
    )


def stats_rsvps(events: Sequence[tuple[int, str, datetime | None, int]], tz: tzinfo) -> Text:
    """(event id, title, starts at, presses) of the next events."""
    if not events:
        return as_list(Bold("«Напомнить» по мероприятиям"), "Ближайших мероприятий с датой нет.")
    rows = [
        as_line(
            f"• №{item_id} ",
            format_date(starts.astimezone(tz)) if starts else "без даты",
            f" — «{truncate_words(_one_line(title), 60)}»: ",
            count(n, "нажатие", "нажатия", "нажатий"),
            end="",
        )
        for item_id, title, starts, n in events
    ]
    return as_list(
        Bold("«Напомнить» по ближайшим мероприятиям"),
        *rows,
        Italic("Список нажавших: /export → «Записи на мероприятие»"),
    )


def stats_feedback(votes: Sequence[tuple[str, str, int, int]]) -> Text:
    """(title, item kind code, useful, not for me), most voted first."""
    if not votes:
        return as_list(Bold("Отзывы о материалах и опыте площадок"), "Оценок пока нет.")
    rows = [
        as_line(
            f"• «{truncate_words(_one_line(title), 60)}» ",
            f"({FEEDBACK_KIND_LABELS.get(kind, kind)}): 👍 {useful} · 🙅 {not_for_me}",
            end="",
        )
        for title, kind, useful, not_for_me in votes
    ]
    return as_list(Bold("Отзывы о материалах и опыте площадок"), *rows)


EXPORT_CHOOSE = "📤 Что выгрузить? Файл откроется в Excel или в «Таблицах» на телефоне."
EXPORT_WHAT_LABELS: Mapping[str, str] = {
    "subscribers": "👥 Подписчики",
    "rsvp": "📅 Записи на мероприятие",
}
EXPORT_FORMAT_LABELS: Mapping[str, str] = {
    "xlsx": "📊 Excel (.xlsx)",
    "csv": "📄 CSV",
}
EXPORT_BACK = "◂ Назад"
EXPORT_FORMAT_SUBSCRIBERS = (
    "👥 Подписчики: {count}; {unfinished} (они — в конце списка).\n"
    "В каком виде выгрузить? Excel удобнее на телефоне; CSV — для других программ."
)
EXPORT_FORMAT_EVENT = (
    "📅 «{title}», {when}: нажали «Напомнить» — {count}.\nВ каком виде выгрузить?"
)
EXPORT_PICK_EVENT = (
    "📅 Записи на какое мероприятие? Кто нажал «Напомнить» — ближайшие мероприятия и "
    "прошедшие за 2 недели:"
)
EXPORT_NO_EVENTS = (
    "Мероприятий с датой за последние 2 недели и впереди нет. Если номер известен: /export rsvp №."
)
EXPORT_PREPARING = "Готовлю файл…"
EXPORT_USAGE = (
    "Выгрузки — кнопками: /export. Набрать тоже можно:\n"
    "/export subscribers [xlsx] — все подписчики\n"
    "/export rsvp № [xlsx] — кто нажал «Напомнить» на мероприятии (номера — в /stats)\n"
    "В файлах персональные данные: храните их только в ИМЦ."
)
EXPORT_BAD_EVENT_ID = (
    "Укажите номер мероприятия цифрами: /export rsvp 12. Номера — в /stats, «Мероприятия»."
)
EXPORT_NO_EVENT = "Мероприятия №{id} нет. Номера мероприятий — в /stats, «Мероприятия»."
EXPORT_SUBSCRIBERS_CAPTION = (
    "Подписчики «Инфозоны»: {count}; {unfinished}. Персональные данные — только для ИМЦ."
)
EXPORT_RSVP_CAPTION = "«{title}», {when}: {count}. Персональные данные — только для ИМЦ."
SUBSCRIBERS_SHEET = "Подписчики"
RSVP_SHEET = "Записи"
SUBSCRIBERS_CSV_HEADER = (
    "ID",
    "Имя",
    "Username",
    "Роль",
    "Тип организации",
    "Организация",
    "Темы",
    "Дайджест",
    "Статус",
    "Источник",
    "Подписался",
)
# Column widths of the .xlsx (characters), in the header's order.
SUBSCRIBERS_XLSX_WIDTHS = (14, 28, 16, 26, 18, 32, 40, 22, 26, 16, 17)
RSVP_CSV_EVENT = "Мероприятие"
RSVP_CSV_HEADER = ("ID чата", "Имя", "Организация", "Нажал «Напомнить»")
RSVP_XLSX_WIDTHS = (14, 28, 32, 20)
EXPORT_NO_DATE = "без даты"

# --- editors' feeds desk: /feeds ---------------------------------------------------------------

FEEDS_DESK_USAGE = (
    "Добавить ленту — кнопка «➕ Добавить ленту» или ссылка на неё сообщением после /feeds."
)
FEEDS_DESK_EMPTY = "Лент пока нет. Пришлите ссылку на ленту сайта (RSS или Atom) — я её проверю."
FEEDS_DESK_TITLE = "Ленты сайтов ({count})"
FEED_DESK_WAITING = "в очереди: {count}"
FEED_DESK_PAUSED = "⏸ приостановлена"
FEED_DESK_PICK = "Нажмите ленту, чтобы приостановить или удалить её; новую — пришлите ссылкой."
FEED_DESK_BAD_ID = "Укажите номер ленты цифрами: /feeds remove 3. Номера — в /feeds."
FEED_DESK_NOT_FOUND = "Ленты №{id} нет — возможно, её уже удалили. Список: /feeds"
FEED_DESK_REMOVE_CONFIRM = (
    "Удалить ленту №{id} ({url})? Записи, которые уже загружены, останутся в боте."
)
FEED_DESK_REMOVE_KEPT = "Лента №{id} осталась."
FEED_DESK_PAUSED_DONE = "Лента приостановлена: бот не будет её проверять."
FEED_DESK_RESUMED_DONE = "Лента снова проверяется."
FEED_DESK_AUTO_ON_DONE = "Новые записи этой ленты пойдут сразу в дайджест."
FEED_DESK_AUTO_OFF_DONE = "Новые записи этой ленты будут ждать проверки в очереди."
FEED_DESK_BUTTON_PAUSE = "⏸ Приостановить"
FEED_DESK_BUTTON_RESUME = "▶️ Возобновить"
FEED_DESK_BUTTON_AUTO_ON = "⚡ Сразу в дайджест"
FEED_DESK_BUTTON_AUTO_OFF = "📥 Через очередь"
FEED_DESK_BUTTON_REMOVE = "🗑 Удалить"
FEED_DESK_BUTTON_REMOVE_YES = "Да, удалить"
FEED_DESK_BUTTON_REMOVE_NO = "Нет, оставить"
FEED_DESK_BUTTON_BACK = "← К списку лент"


def feed_desk_state(
    *,
    last_fetch_at: datetime | None,
    error_count: int,
    last_error: str | None,
    waiting: int,
    enabled: bool,
    tz: tzinfo,
) -> str:
    """«проверена 27.11.2026 10:00 · ошибок подряд: 2 — … · в очереди: 3»."""
    state = []
    if not enabled:
        state.append(FEED_DESK_PAUSED)
    if last_fetch_at is None:
        state.append(FEED_LINE_NEVER)
    else:
        when = last_fetch_at.astimezone(tz).strftime("%d.%m.%Y %H:%M")
        state.append(FEED_LINE_CHECKED.format(when=when))
    if error_count:
        state.append(FEED_LINE_ERRORS.format(count=error_count, error=last_error or "—"))
    state.append(FEED_DESK_WAITING.format(count=waiting))
    return " · ".join(state)


FEED_DESK_LABEL_MAX = 34  # a feed's name in the list: with its number, one line of a phone
FEED_DESK_FAILING = "⚠ ошибок подряд: {count}"
FEED_DESK_CHECKED = "проверена {when}"


def feed_desk_line(
    feed_id: int,
    label: str,
    kind: FeedKind,
    auto_approve: bool,
    *,
    last_fetch_at: datetime | None,
    error_count: int,
    waiting: int,
    enabled: bool,
    tz: tzinfo,
) -> Text:
    """A feed in the list, two lines for a phone: «№1 Школа № 5» and «материалы · через
    очередь · проверена 27.11 10:00 · в очереди: 2»; the card has the address and errors."""
    if len(label) > FEED_DESK_LABEL_MAX:
        label = label[: FEED_DESK_LABEL_MAX - 1].rstrip() + "…"
    facts = [
        FEED_KIND_LABELS[kind],
        FEED_LINE_ROUTE_AUTO if auto_approve else FEED_LINE_ROUTE_QUEUE,
    ]
    if not enabled:
        facts.append(FEED_DESK_PAUSED)
    if error_count:
        facts.append(FEED_DESK_FAILING.format(count=error_count))
    elif last_fetch_at is None:
        facts.append(FEED_LINE_NEVER)
    else:
        facts.append(FEED_DESK_CHECKED.format(when=f"{last_fetch_at.astimezone(tz):%d.%m %H:%M}"))
    if waiting:
        facts.append(FEED_DESK_WAITING.format(count=waiting))
    return as_list(as_line(Bold(f"№{feed_id}"), f" {label}", end=""), Italic(" · ".join(facts)))


def feed_desk_entry(
    feed_id: int, kind: FeedKind, auto_approve: bool, url: str, title: str, state: str
) -> Text:
    route = FEED_LINE_ROUTE_AUTO if auto_approve else FEED_LINE_ROUTE_QUEUE
    return as_list(
        as_line(Bold(f"№{feed_id}"), f" · {FEED_KIND_LABELS[kind]} · {route}", end=""),
        as_line(url, f" — «{title}»" if title else "", end=""),
        Italic(state),
    )


def feeds_desk(entries: Sequence[Text]) -> list[Text]:
    """The desk as blocks, so a long list splits between feeds, never inside one."""
    if not entries:
        return [Text(FEEDS_DESK_EMPTY)]
    return [
        Bold(FEEDS_DESK_TITLE.format(count=len(entries))),
        *entries,
        Text(FEED_DESK_PICK),
    ]


# --- /feeds in Russian: a feed added by its link, then two questions by buttons ---

FEED_ADD_BUTTON = "➕ Добавить ленту"
FEED_ADD_PROMPT = (
    "Пришлите ссылку на ленту сайта (RSS или Atom) — я её проверю. Отменить — /cancel."
)
FEED_ADD_PLACEHOLDER = "https://сайт/rss"
FEED_ADD_NOT_LINK = (
    "Это не похоже на ссылку. Пришлите адрес ленты, например https://school5.ru/rss, или /cancel."
)
FEED_ADD_FAILED = (
    "Ленту не добавил: {error}. Ничего не сохранено — пришлите другую ссылку или /cancel."
)
FEED_ADD_NOT_A_FEED = (
    "По этой ссылке не лента, а {what}. Ничего не сохранено.\n"
    "Нужна ссылка на RSS или Atom: на сайте её ищут по значку RSS или словам «RSS», «Лента»; "
    "часто она кончается на /rss или /feed. Пришлите её или /cancel."
)
FEED_ADD_NOT_A_FEED_PAGE = "обычная веб-страница"
FEED_ADD_NOT_A_FEED_OTHER = "что-то другое"
FEED_ADD_FOUND = "Нашёл ленту «{title}»: {entries}."
FEED_ADD_FOUND_UNTITLED = "Нашёл ленту: {entries}."
FEED_ADD_LATEST = "последняя — {date}"
FEED_ADD_MOVED = "Сайт сообщил, что лента переехала насовсем, — сохраню новый адрес: {url}"
FEED_ADD_KIND_QUESTION = "Что в ней?"
FEED_ADD_KINDS = {
    FeedKind.MATERIAL: "📚 Материалы",
    FeedKind.CASE: "💡 Опыт площадок",
    FeedKind.NEWS: "📰 Новости",
}
FEED_ADD_ROUTE_QUESTION = "Новые записи — через очередь или сразу в дайджест?"
FEED_ADD_ROUTE_HINT = (
    "Через очередь: редактор проверит каждую запись в /queue.\n"
    "Сразу в дайджест: новые записи попадут в ближайший дайджест без проверки; то, что уже "
    "есть в ленте, всё равно пройдёт через очередь."
)
FEED_ADD_ROUTE_QUEUE = "📥 Через очередь"
FEED_ADD_ROUTE_AUTO = "⚡ Сразу в дайджест"
FEED_ADD_DONE = "✅ Лента №{id}{title} добавлена: {kind}, {route} — {url}"
FEED_ADD_STALE = "Эта кнопка уже не действует. Добавить ленту — /feeds."
FEED_ADD_CHOOSE = "Выберите кнопкой под вопросом выше, или пришлите другую ссылку, или /cancel."


def feed_add_found(
    title: str, entries: int, latest: datetime | None, moved_to: str | None, tz: tzinfo
) -> str:
    """What the check of a link found, and the first question: «Нашёл ленту «Школа №5»:
    12 записей, последняя — пт, 27 ноября. Что в ней?»."""
    found = count(entries, "запись", "записи", "записей")
    if latest is not None:
        found += ", " + FEED_ADD_LATEST.format(date=format_date(latest.astimezone(tz).date()))
    head = (
        FEED_ADD_FOUND.format(title=title, entries=found)
        if title
        else FEED_ADD_FOUND_UNTITLED.format(entries=found)
    )
    lines = [head]
    if moved_to:
        lines.append(FEED_ADD_MOVED.format(url=moved_to))
    lines.append(FEED_ADD_KIND_QUESTION)
    return "\n".join(lines)


def feed_add_route(title: str, kind: FeedKind) -> str:
    head = (
        f"«{title}» · {FEED_KIND_LABELS[kind]}" if title else FEED_KIND_LABELS[kind].capitalize()
    )
    return "\n".join((head, FEED_ADD_ROUTE_QUESTION, FEED_ADD_ROUTE_HINT))


def feed_add_done(feed_id: int, title: str, kind: FeedKind, auto: bool, url: str) -> str:
    """One line of what was stored."""
    return FEED_ADD_DONE.format(
        id=feed_id,
        title=f" «{title}»" if title else "",
        kind=FEED_KIND_LABELS[kind],
        route=FEED_LINE_ROUTE_AUTO if auto else FEED_LINE_ROUTE_QUEUE,
        url=url,
    )


# --- questions to the IMC: /ask, /questions ------------------------------------------------------

ASK_PROMPT = (
    "Напишите вопрос для специалистов ИМЦ одним сообщением — ответ придёт сюда же. "
    "Отменить — /cancel."
)
ASK_NOT_TEXT = "Пришлите вопрос текстом, одним сообщением. Отменить — /cancel."
ASK_TOO_LONG = (
    "Вопрос слишком длинный: {length} знаков, а можно не больше {limit}. Сократите его и "
    "пришлите ещё раз (или /cancel)."
)
ASK_NOT_SUBSCRIBED = "Задавать вопросы ИМЦ могут подписчики «Инфозоны». Подпишитесь: /start."
ASK_TOO_MANY = (
    "У вас уже {count} без ответа — это предел. Специалисты ИМЦ ответят на них, и тогда "
    "можно будет задать новые. Спасибо за терпение!"
)
ASK_SENT = "Спасибо! Вопрос № {id} передан специалистам ИМЦ. Ответ придёт сюда же, в этот чат."
ANSWER_BUTTON = "✍️ Ответить"
ANSWER_PROMPT = "Напишите ответ на вопрос № {id} одним сообщением. Отменить — /cancel."
ANSWER_NOT_TEXT = "Пришлите ответ текстом, одним сообщением. Отменить — /cancel."
ANSWER_TOO_LONG = (
    "Ответ слишком длинный: {length} знаков, а можно не больше {limit}. Сократите его и "
    "пришлите ещё раз."
)
ANSWER_SENT = "Ответ на вопрос № {id} отправлен."
ANSWER_NOT_DELIVERED = (
    "Ответ на вопрос № {id} сохранён, но доставить его не удалось: автор вопроса, видимо, "
    "заблокировал бота."
)
QUESTION_NOT_FOUND = "Такого вопроса нет."
QUESTION_ASKER_GONE = (
    "Вопрос удалён по просьбе автора: он удалил свои данные из бота, ответ доставить некуда."
)
QUESTIONS_NONE = "Вопросов без ответа нет 🙂"


def asker_line(role: Role | None, org_kind: OrgKind | None, org_name: str | None) -> str:
    """«Педагог, школа: ГБОУ СОШ № 123» from the asker's subscriber row."""
    parts = [ROLE_LABELS[role] if role else "роль не указана"]
    kind = ORG_KIND_LABELS[org_kind].lower() if org_kind else "организация не указана"
    parts.append(f"{kind}: {org_name}" if org_name else kind)
    return ", ".join(parts)


class Earlier(NamedTuple):
    """The question a follow-up replies to, and the IMC's answer to it."""

    number: int
    question: str
    answer: str


def question_for_editors(
    number: int,
    role: Role | None,
    org_kind: OrgKind | None,
    org_name: str | None,
    text: str,
    earlier: Earlier | None = None,
) -> Text:
    thread: list[Text | str] = []
    if earlier is not None:
        thread = [
            "",
            Italic(f"В ответ на ответ по вопросу № {earlier.number}."),
            Italic("Вопрос: ", truncate_words(earlier.question, 300)),
            Italic("Ответ ИМЦ: ", truncate_words(earlier.answer, 300)),
        ]
    return as_list(
        Bold(f"❓ Вопрос в ИМЦ № {number}"),
        as_key_value("От", asker_line(role, org_kind, org_name)),
        *thread,
        "",
        text,
    )


def answer_for_asker(question: str, answer: str) -> Text:
    return as_list(
        Bold("Ответ ИМЦ на ваш вопрос:"),
        answer,
        "",
        Italic("Ваш вопрос: ", truncate_words(question, 300)),
        "",
        "Остались вопросы? Ответьте на это сообщение — специалисты увидят всю переписку.",
    )


def already_answered(answered_by: str, at: datetime | None, tz: tzinfo) -> str:
    when = f" {at.astimezone(tz):%d.%m.%Y в %H:%M}" if at else ""
    return f"На этот вопрос уже ответил(а) {answered_by}{when}."


def questions_list(entries: Iterable[tuple[int, str, str]]) -> Text:
    """Open questions for /questions: (number, asker line, text)."""
    rows = list(entries)
    lines: list[Text | str] = [Bold("Вопросы без ответа: ", str(len(rows)))]
    for number, asker, text in rows:
        lines.append(as_line(Bold(f"№ {number}"), f" ({asker}): ", truncate_words(text, 200)))
    return as_list(*lines)


# --- the annual plan uploaded by an editor ------------------------------------------------------


def plan_too_big(size: int, limit: int) -> str:
    """Sizes in bytes."""
    return (
        f"Файл слишком большой ({size // 1024} КБ): план должен быть не больше "
        f"{limit // 1024} КБ. Пришлите его как .docx или .txt без картинок."
    )


PLAN_NO_SCHOOL_YEAR_CLI = (
    "В плане не найден год — ни в заголовке (например, «на 2026-2027 учебный год»), ни в "
    "сроках: допишите его или укажите --school-year 2026/2027 (план на календарный год: "
    "--year 2026)."
)
PLAN_SCHOOL_YEAR_ARGUMENT = "«{value}» — не учебный год; ожидается, например, 2026/2027"
PLAN_YEAR_ARGUMENT = "«{value}» — не год; ожидается, например, 2026"
PLAN_ASK_SCHOOL_YEAR = (
    "В плане «{title}» не указан учебный год. Какой это год? Нажмите кнопку — "
    "план загрузится с ним."
)
PLAN_SCHOOL_YEAR_BUTTON = "{first}/{second}"
PLAN_UNTITLED = "без названия"
PLAN_YEAR_FILE_GONE = (
    "Не нашёл файл плана, к которому относится этот вопрос. Пришлите план ещё раз."
)
PLAN_UPLOAD_DOWNLOAD_FAILED = "Не удалось скачать файл из Telegram. Пришлите его ещё раз."
PLAN_UNRESOLVED_BUTTON = "Показать нераспознанные"
PLAN_UNRESOLVED_NONE = "Нераспознанных строк в плане {year} нет."


def plan_uploaded(title: str, report: str) -> str:
    return f"План загружен: {title}\n\n{report}"


def plan_year_label(school_year: tuple[int, int]) -> str:
    """«на 2021-2022 учебный год»; a calendar-year plan's «на 2024 год»."""
    first, second = school_year
    return f"на {first} год" if first == second else f"на {first}-{second} учебный год"


def plan_unresolved_list(school_year: str, rows: Iterable[tuple[int | str, str, str, str]]) -> str:
    """The rows of the stored plan whose timing was not understood."""
    lines = [f"Нераспознанные строки плана {school_year}:"]
    for number, title, timing, reason in rows:
        why = PLAN_UNRESOLVED_REASONS.get(reason, reason)
        lines.append(f"№ {number} «{title}»: {why} («{timing or '—'}»).")
    lines.append("Они сохранены «без срока». Исправьте сроки в файле и загрузите его снова.")
    return "\n".join(lines)


# --- /edit: correcting a published post ---------------------------------------------------------

EDIT_USAGE = (
    "Пришлите номер публикации цифрами, например 12. Номер есть в отчёте о рассылке поста "
    "(«Исправить пост: /edit …»). Отменить — /cancel."
)
EDIT_ASK_NUMBER = (
    "Какую публикацию исправить? Пришлите её номер — он есть в отчёте о рассылке поста "
    "(«Исправить пост: /edit …»)."
)
EDIT_NUMBER_PLACEHOLDER = "Номер публикации, например 12"
EDIT_NOT_FOUND = "Публикации № {item_id} нет. Проверьте номер в отчёте о рассылке."
EDIT_NOT_FOUND_ANYMORE = "Публикации больше нет — возможно, её удалили."
EDIT_TOO_LONG = (
    "Текст слишком длинный: {length} знаков, а можно не больше {limit}. Сократите и пришлите "
    "ещё раз — публикация пока не изменена."
)
EDIT_SENT_BUTTON = "Изменить и в отправленных сообщениях ({count})"
EDIT_BOT_ONLY_BUTTON = "Только в боте"
EDIT_SAVED_ASK = (
    "Текст публикации № {item_id} «{title}» обновлён в боте. Изменить его и в уже "
    "отправленных сообщениях ({count})? Telegram даёт менять сообщения только 48 часов."
)
EDIT_SAVED_NOTHING_SENT = (
    "Текст публикации № {item_id} «{title}» обновлён. Отправленных сообщений с ней нет — "
    "менять больше нечего."
)
EDIT_SAVED_NOT_EDITABLE = (
    "Текст публикации № {item_id} «{title}» обновлён в боте. В отправленных сообщениях его "
    "изменить нельзя: пост с файлом и длинным текстом — это два сообщения, а подпись к файлу "
    "не длиннее 1024 знаков."
)
# --- delivery retention (services/retention.py) ---
EDIT_SAVED_FOLDED = (
    "Текст публикации № {item_id} «{title}» обновлён в боте. Отправленные сообщения изменить "
    "уже нельзя: рассылка была давно, бот хранит о ней только число доставленных, без "
    "самих сообщений."
)
EDIT_SAVED_STILL_SENDING = (
    "Текст публикации № {item_id} «{title}» обновлён в боте. Её рассылка ещё идёт — после "
    "отчёта о ней пришлите /edit {item_id} ещё раз, чтобы изменить и отправленные сообщения."
)
EDIT_BOT_ONLY_DONE = "Готово: публикация № {item_id} изменена только в боте."
EDIT_SENT_STARTED = "Меняю текст в отправленных сообщениях ({count}); отчёт придёт сюда."
EDIT_ALREADY_STARTED = "Эта правка уже отправлена."


def edit_current(item_id: int, title: str, body: Text | str) -> Text:
    """/edit ID: the post's current text as the editor wrote it, and what to send."""
    return as_list(
        Bold(f"Публикация № {item_id}. Сейчас текст такой:"),
        "",
        as_line(title, "\n", body, end=""),
        "",
        "Пришлите новый текст одним сообщением: первая строка станет заголовком, оформление "
        "(жирный, курсив, ссылки) сохранится. Передумали — /cancel.",
    )


def item_text(item: Item) -> Text | str:
    """The item's body with the editor's formatting."""
    return _body(item)


# --- questions in own words, short answers ------------------------------------------------------

ANSWER_TITLE_LIMIT = 80  # a plan row's title is cut to two or three lines of a phone's screen
ANSWER_AUDIENCE_LIMIT = 60
ANSWER_REMIND = "⏰ Напомнить: {n}"
ANSWER_REMINDED = "✅ Напомню: {n}"
ANSWER_CALENDAR = "📅 В календарь: {n}"
ANSWER_FOLD_BUTTON = "🗓 Весь год: {count} ▸"
ANSWER_BACK = "◂ Назад"
ANSWER_MORE = "Ещё ▸"
ANSWER_YEAR_LONG = "{label} — идут весь год"
ANSWER_OTHERS = "{label} — остальные"
ANSWER_OTHERS_BUTTON = "Остальные: {count} ▸"
ANSWER_NO_TOPIC = "Про {topic} в эти дни ничего нет — вот что есть:"
ANSWER_ONLY_YEAR_LONG = "С точной датой в эти дни ничего нет. Весь год идут:"
REMIND_UNDONE = "Напоминание отменено."
THANKS_REPLY = "Пожалуйста! 🙂 Если что-то понадобится — просто напишите."
BYE_REPLY = "Всего доброго! 👋 Если что-то понадобится — просто напишите."
ACK_REPLY = "👍"
HELLO_REPLY = (
    "Здравствуйте! 👋 Спросите своими словами: «что в марте?», «когда экспертный совет?», "
    "«новые материалы» — или выберите, что открыть:"
)
FALLBACK_REPLY = (
    "Готового ответа на это нет. Можно открыть меню, поискать эти слова в материалах "
    "или отправить сообщение вопросом в ИМЦ — ответ придёт сюда же."
)
OFFER_MENU = "☰ Меню"
OFFER_SEARCH = "🔎 Найти «{words}»"
OFFER_ASK = "✉️ Отправить как вопрос в ИМЦ"
OFFER_EXPIRED = "Сообщение устарело: напишите его ещё раз."
START_HINT = "Чтобы подписаться на «Инфозону», отправьте /start."


def with_start_hint(reply: str) -> str:
    return f"{reply}\n\n{START_HINT}"


def answer_fold_line(n: int, *, others: bool = False) -> str:
    """«🗓 Ещё 7 мероприятий идут весь год — кнопка «Весь год» ниже.»; after what a question
    named: «Ещё 4 мероприятия — кнопка «Остальные» ниже.»"""
    if others:
        more = count(n, "мероприятие", "мероприятия", "мероприятий")
        return f"Ещё {more} — кнопка «Остальные» ниже."
    going = count(n, "мероприятие идёт", "мероприятия идут", "мероприятий идут")
    return f"🗓 Ещё {going} весь год — кнопка «Весь год» ниже."


def _short_entry(number: int, item: Item, tz: tzinfo, *, audience: bool) -> Text:
    """«1. пт, 15 марта, 10:00 — Семинар…» then «Для: … · 📍 place», each cut to fit a phone;
    the audience only when it is not the asker's own."""
    when = _entry_when(item, tz)
    title = truncate_words(_one_line(item.title), ANSWER_TITLE_LIMIT) or DIGEST_UNTITLED
    url = _web_url(item.url)
    shown: Text | str = Bold(TextLink(title, url=url)) if url else Bold(title)
    head = as_line(f"{number}. ", f"{when} — " if when else "", shown, end="")
    details: list[Text | str] = []
    if audience and item.audience_text:
        words = truncate_words(_one_line(item.audience_text), ANSWER_AUDIENCE_LIMIT)
        details.append(f"Для: {words}")
    elif audience and (item.audience_roles or item.audience_orgs):
        # An editor's event says its audience by buttons only: «Для воспитателей детских садов».
        details.append(f"Для {audience_label(item.audience_roles, item.audience_orgs)}")
    if item.responsible_text:
        who = truncate_words(_one_line(item.responsible_text), ANSWER_AUDIENCE_LIMIT)
        details.append(f"Ответственные: {who}")
    if item.place:
        details.append(f"📍 {truncate_words(_one_line(item.place), ANSWER_AUDIENCE_LIMIT)}")
    if registration := _web_url(item.registration_url):
        details.append(TextLink(DIGEST_REGISTRATION, url=registration))
    if not details:
        return head
    return as_list(head, as_line("    ", as_line(*details, sep=" · ", end=""), end=""))


def short_answer(
    label: str,
    entries: Sequence[tuple[int, Item]],
    folded: int,
    tz: tzinfo,
    foreign: frozenset[int] = frozenset(),
    *,
    others: bool = False,
    note: str | None = None,
) -> Text:
    """A screen of a what's-next answer: the heading, its entries, the folded line.

    foreign: ids of entries for someone else, whose audience is shown; others: the folded are
    the rest after what the question named, not the year-long rows; note: a line above."""
    lines: list[Text | str] = [Bold(f"📅 {label}"), ""]
    if note:
        lines.extend([note, ""])
    lines.extend(_short_entry(n, item, tz, audience=item.id in foreign) for n, item in entries)
    if folded:
        lines.extend(["", answer_fold_line(folded, others=others)])
    return as_list(*lines)


# --- alerts to the owners (ADMIN_IDS) and what `python -m bot status` says of the same ---
# The status line names the problem and what to do; an alert is its title and that line.
STATUS_SEND_PAUSED = (
    "⚠ Telegram приостановил рассылку: с {since} просит подождать, до {until} ({duration}); "
    "ждут отправки {pending}. Рассылка продолжится сама; если это повторяется, уменьшите "
    "SEND_RATE."
)
STATUS_STALLED_NEVER_SENT = (
    "⚠ Сообщения ждут отправки уже {minutes} мин, а не ушло ещё ни одного: проверьте журнал бота."
)
STATUS_TOKEN_REJECTED = (
    "⚠ Telegram не принимает токен бота (401 Unauthorized) уже {duration}, с {since}: "
    "проверьте BOT_TOKEN (новый выдаёт @BotFather) и перезапустите бота."
)
STATUS_BACKUP_FAILED = (
    "⚠ Резервная копия базы не сохранилась ({when}): {error}. Проверьте папку {folder}: "
    "есть ли она, место на диске и права на запись."
)
STATUS_DISK_LOW = (
    "⚠ На диске базы осталось {free} МБ (порог ALERT_DISK_FREE_MB = {least} МБ): "
    "освободите место на сервере, иначе бот перестанет сохранять подписки и рассылки."
)
STATUS_DB_LARGE = (
    "⚠ Файл базы вырос до {size} МБ (порог ALERT_DB_SIZE_MB = {most} МБ): проверьте место "
    "на диске сервера."
)
STATUS_DB_UNWRITABLE = (
    "⚠ База не принимает записи ({error}): бот не может сохранять подписки и рассылки. "
    "Проверьте место на диске и права на файл базы."
)
# An alert: «🚨 «Инфозона»: <title>» and the status line; «снова работает» names the same.
ALERT = "🚨 «Инфозона»: {title}\n\n{text}"
ALERT_CLEARED = "✅ «Инфозона»: снова работает — {what}."
ALERT_TITLES = {
    "send_stalled": "рассылка стоит",
    "send_paused": "Telegram приостановил рассылку",
    "feed_failing": "лента сайта не загружается больше суток",
    "backup_failed": "резервная копия не сохранилась",
    "db_nearly_full": "на диске кончается место",
    "db_unwritable": "база не принимает записи",
    "token_rejected": "Telegram не принимает токен бота",
}
ALERT_BACK = {
    "send_stalled": "рассылка идёт",
    "send_paused": "рассылка идёт, Telegram больше не просит ждать",
    "feed_failing": "лента {subject} загружается",
    "backup_failed": "резервная копия сохранилась",
    "db_nearly_full": "места на диске достаточно",
    "db_unwritable": "база принимает записи",
    "token_rejected": "Telegram принимает токен бота",
}

# --- several servers: `python -m bot web`, `worker`, `webhook set|delete|info` ---
WEBHOOK_SECRET_MISSING = (
    "Не задан WEBHOOK_SECRET: без него любой, кто знает адрес, мог бы слать боту поддельные "
    "обновления. Придумайте строку из латинских букв и цифр (например, выполните "
    '`python -c "import secrets; print(secrets.token_urlsafe(32))"`) и добавьте в .env.'
)
WEBHOOK_URL_MISSING = (
    "Не задан WEBHOOK_URL: публичный https-адрес, на который Telegram будет присылать "
    "обновления, например https://bot.example.ru/telegram."
)
WEBHOOK_SET = "Webhook установлен: Telegram присылает обновления на {url}"
WEBHOOK_DELETED = "Webhook удалён: обновления снова можно получать через python -m bot run."
WEBHOOK_INFO_URL = "Адрес: {url}"
WEBHOOK_INFO_NONE = "Адрес: не установлен (бот получает обновления через python -m bot run)"
WEBHOOK_INFO_PENDING = "Ждут доставки: {count}"
WEBHOOK_INFO_ERROR = "Последняя ошибка доставки: {error} ({when})"
WEBHOOK_INFO_NO_ERROR = "Ошибок доставки нет"
WEBHOOK_INFO_UPDATES = "Типы обновлений: {types}"
WEB_SERVING = "Принимаю обновления Telegram на {address}{path}"
