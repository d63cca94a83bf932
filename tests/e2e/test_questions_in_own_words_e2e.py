"""Questions in people's own words and short answers, through the emulator as a teacher, an
educator of a kindergarten (воспитатель ДОО) and a head of school would ask on a phone.

The database holds the district's 2021-2022 plan as imported, plus this school year's events and
plan rows around today, so the bot's real clock finds both.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.__main__ import main
from bot.content.models import Item, ItemKind, ItemStatus, OrgKind, Role, SubscriberStatus
from bot.content.plan import decode_plan, parse_plan
from bot.services.plan_import import import_plan
from bot.storage.items import ItemRepository
from bot.storage.reminders import ReminderRepository
from tests.support import PLAN_2021
from tests.support.emulator import BotAPIEmulator
from tests.support.harness import EDITOR_ID, RunningBot, onboard

PHONE_LINE = 35  # characters on a line of a phone's screen
COMMANDS_ONLY = "команды из меню"  # the old dead end: never said again


def phone_lines(text: str) -> int:
    return sum(max(1, math.ceil(len(line) / PHONE_LINE)) for line in text.split("\n"))


def labels(message: dict[str, Any]) -> list[str]:
    return [label for label, _ in BotAPIEmulator.buttons(message)]


def _next_march(today: date) -> date:
    return date(today.year if today.month < 3 else today.year + 1, 3, 16)


async def seed(running_bot: RunningBot) -> dict[str, Item]:
    tz = running_bot.settings.tz
    items = ItemRepository(running_bot.engine)
    now = datetime.now(tz)
    plan = parse_plan(decode_plan(PLAN_2021.read_bytes()))
    await import_plan(plan, items, tz, now)
    at_ten = now.replace(hour=10, minute=0, second=0, microsecond=0)
    today = at_ten.date()
    march = datetime.combine(_next_march(today), at_ten.timetz())
    school = frozenset({OrgKind.SCHOOL})
    kindergarten = frozenset({OrgKind.KINDERGARTEN})

    def event(
        title: str, when: datetime, roles: set[Role], orgs: frozenset[OrgKind], **kw: Any
    ) -> Item:
        return Item(
            0, ItemKind.EVENT, title, status=ItemStatus.APPROVED, starts_at=when,
            audience_roles=frozenset(roles), audience_orgs=orgs, **kw,
        )  # fmt: skip

    def season(title: str, audience: str, roles: set[Role]) -> Item:
        return Item(
            0, ItemKind.EVENT, title, status=ItemStatus.APPROVED, timing_text="В течение года",
            period_start=today - timedelta(days=90), period_end=today + timedelta(days=200),
            audience_text=audience, audience_roles=frozenset(roles), audience_orgs=school,
        )  # fmt: skip

    made = {
        "council": event("Заседание районного Экспертного совета", at_ten + timedelta(days=9),
                         {Role.HEAD, Role.COORDINATOR}, school, place="ИМЦ, ауд. 12",
                         audience_text="Руководители ОУ, координаторы"),
        "heads": event("Совещание руководителей ОУ", at_ten + timedelta(days=4), {Role.HEAD},
                       school, audience_text="Руководители ОУ"),
        "demoday": event("Демодень районных опорных площадок", at_ten + timedelta(days=12),
                         {Role.HEAD, Role.COORDINATOR}, school),
        "contest": event("Конкурс «Воспитатель года»: муниципальный этап",
                         at_ten + timedelta(days=50), {Role.PRESCHOOL}, kindergarten),
        "webinar": event("Вебинар для воспитателей «Речевое развитие»",
                         at_ten + timedelta(days=6), {Role.PRESCHOOL}, kindergarten),
        "march_seminar": event("Семинар для координаторов «Проектное управление»", march,
                               {Role.COORDINATOR}, school),
        "march_heads": event("Мониторинг результатов площадок", march - timedelta(days=5),
                             {Role.HEAD}, school),
        "imc": season("Ведение документации районного Экспертного совета", "ИМЦ",
                      {Role.METHODIST}),
        "coordination": season("Координация районных опорных площадок",
                               "Руководители ОУ, координаторы", {Role.HEAD, Role.COORDINATOR}),
        "action": season("Общественно-педагогическая акция по распространению опыта",
                         "Педагоги и руководители ОУ", {Role.HEAD, Role.TEACHER}),
    }  # fmt: skip
    for n in range(1, 8):  # a busy month for teachers: more than a screen
        made[f"lesson{n}"] = event(
            f"Открытый урок № {n} по функциональной грамотности",
            at_ten + timedelta(days=3 + n), {Role.TEACHER}, school,
        )  # fmt: skip
    made["material"] = Item(
        0, ItemKind.MATERIAL, "Функциональная грамотность: сборник заданий",
        status=ItemStatus.APPROVED, approved_at=at_ten - timedelta(days=1), body="Задания.",
    )  # fmt: skip
    made["case"] = Item(
        0, ItemKind.CASE, "Проектная неделя в ГБОУ СОШ № 7", organisation="ГБОУ СОШ № 7",
        status=ItemStatus.APPROVED, body="Площадка по теме проектного обучения.",
    )  # fmt: skip
    return {key: await items.add(item) for key, item in made.items()}


async def test_a_head_asks_in_her_own_words_and_the_activity_meant_comes_first(
    running_bot: RunningBot,
) -> None:
    made = await seed(running_bot)
    head = running_bot.person(3101, "Ольга Петровна")
    await onboard(head, role="Руководитель", org="Школа")

    [answer] = await head.say("когда экспертный совет")
    text = answer["text"]
    assert text.startswith("📅 Ближайшие мероприятия: экспертный совет")
    assert text.split("\n")[2].endswith("Заседание районного Экспертного совета")
    assert "Ведение документации" not in text  # «Для: ИМЦ»: the IMC's own work
    assert phone_lines(text) <= 20

    [answer] = await head.say("что по семинарам в марте")
    first = answer["text"].split("\n")[2]
    assert "Семинар для координаторов" in first  # for coordinators, still not hidden from her
    assert "Мониторинг результатов площадок" not in answer["text"]  # not what she asked about
    _, others = await head.tap(answer, "Остальные")
    assert "Мониторинг результатов площадок" in others["text"]  # hers, one tap away
    _, answer = await head.tap(others, "◂ Назад")
    assert "Семинар для координаторов" in answer["text"]

    meeting = made["heads"].starts_at
    assert meeting is not None
    day = meeting.astimezone(running_bot.settings.tz)
    [nothing] = await head.say(f"а что там по олимпиадам {day:%d.%m}")
    assert "\n\nПро конкурсы в эти дни ничего нет — вот что есть:\n\n1." in nothing["text"]
    assert "Совещание руководителей ОУ" in nothing["text"]

    [answer] = await head.say("а что там по демодню")
    assert answer["text"].split("\n")[2].endswith("Демодень районных опорных площадок")

    [past] = await head.say("что было в марте 2022")
    assert past["text"].startswith("📅 Мероприятия в марте 2022")
    assert "«Инфозона»" in past["text"]  # the 2021-2022 plan, not next March
    assert "Ведение документации" not in past["text"]
    assert all(COMMANDS_ONLY not in m["text"] for m in (answer, past))


async def test_a_teacher_gets_a_short_answer_with_pages_folding_and_a_reminder_she_can_undo(
    running_bot: RunningBot,
) -> None:
    made = await seed(running_bot)
    teacher = running_bot.person(3102, "Анна")
    await onboard(teacher, role="Педагог", org="Школа")

    [answer] = await teacher.say("что дальше")
    text = answer["text"]
    entries = [line for line in text.split("\n") if line[:1].isdigit()]
    assert len(entries) == 5
    assert "Ещё 1 мероприятие идёт весь год" in text  # the action, folded into one line
    assert "акция" not in text
    assert phone_lines(text) <= 25
    buttons = labels(answer)
    assert "⏰ Напомнить: 1" in buttons and "📅 В календарь: 1" in buttons
    assert "Ещё ▸" in buttons and "◂ Назад" not in buttons

    _, page2 = await teacher.tap(answer, "Ещё ▸")
    assert page2["text"].startswith("📅 Ближайшие мероприятия (продолжение)")
    assert "6." in page2["text"] and "◂ Назад" in labels(page2)
    _, page1 = await teacher.tap(page2, "◂ Назад")
    assert "1." in page1["text"] and "◂ Назад" not in labels(page1)

    _, year_long = await teacher.tap(page1, "Весь год")
    assert "Общественно-педагогическая акция" in year_long["text"]
    assert not [b for b in labels(year_long) if "В календарь" in b]  # «В течение года»: no
    _, page1 = await teacher.tap(year_long, "◂ Назад")

    toast, page1 = await teacher.tap(page1, "⏰ Напомнить: 1")
    assert "Напомню вечером накануне" in toast.params["text"]
    assert "✅ Напомню: 1" in labels(page1) and "⏰ Напомнить: 1" not in labels(page1)
    reminders = ReminderRepository(running_bot.engine)
    assert await reminders.count_for(made["lesson1"].id) == 1
    toast, page1 = await teacher.tap(page1, "✅ Напомню: 1")
    assert "отменено" in toast.params["text"]
    assert "⏰ Напомнить: 1" in labels(page1)
    assert await reminders.count_for(made["lesson1"].id) == 0
    [contests] = await teacher.say("а что там по конкурсам")
    lines = contests["text"].split("\n")
    assert lines[2].endswith("Конкурс «Воспитатель года»: муниципальный этап")  # named: shown
    assert lines[3] == "    Для воспитателей детских садов"  # and whom it is for, not her
    assert "Открытый урок" not in contests["text"]  # not asked about: behind «Остальные»
    # Asked again, the answer shows what is already set.
    await teacher.tap(page1, "⏰ Напомнить: 2")
    [again] = await teacher.say("Что дальше?")
    assert "✅ Напомню: 2" in labels(again)


async def test_an_educator_is_answered_in_her_own_words_and_never_hits_a_dead_end(
    running_bot: RunningBot,
) -> None:
    await seed(running_bot)
    emu = running_bot.emu
    running_bot.person(EDITOR_ID, "Редактор")
    educator = running_bot.person(3103, "Мария")
    await onboard(educator, role="Воспитатель детского сада", org="Детский сад")
    said: list[dict[str, Any]] = []

    [answer] = await educator.say("что у нас по конкурсам")
    said.append(answer)
    assert answer["text"].split("\n")[2].endswith("Конкурс «Воспитатель года»: муниципальный этап")
    [answer] = await educator.say("когда экспертный совет?")
    said.append(answer)
    assert "Заседание районного Экспертного совета" in answer["text"].split("\n")[2]

    [card] = await educator.say("новые материалы")
    said.append(card)
    assert card["text"].startswith("📚 Материал 1 из 1")
    [card] = await educator.say("опыт площадок")
    said.append(card)
    assert card["text"].startswith("💡 Опыт площадок: 1 из 1")

    for words, start in (("Спасибо!", "Пожалуйста!"), ("до свидания", "Всего доброго!"),
                         ("как дела?", "Здравствуйте!")):  # fmt: skip
        [reply] = await educator.say(words)
        said.append(reply)
        assert reply["text"].startswith(start), words

    [fallback] = await educator.say("у нас в саду проектная неделя, кому рассказать")
    said.append(fallback)
    assert labels(fallback) == [
        "☰ Меню", "🔎 Найти «у нас в саду проектная…»", "✉️ Отправить как вопрос в ИМЦ",
    ]  # fmt: skip
    _, found = await educator.tap(fallback, "Найти", expect="send")
    assert "ничего не нашлось" in found["text"] or "из" in found["text"]
    _, menu = await educator.tap(fallback, "Меню", expect="send")
    assert "/next" in menu["text"]
    assert "📅 Что дальше" in str(emu.reply_keyboard(3103))  # the main menu's big buttons
    _, sent = await educator.tap(fallback, "Отправить как вопрос", expect="send")
    assert "Вопрос № 1 передан специалистам ИМЦ" in sent["text"]
    notice = await emu.next_message(EDITOR_ID)
    assert "у нас в саду проектная неделя, кому рассказать" in notice["text"]
    again, _ = await educator.tap(fallback, "Отправить как вопрос", expect="answer")
    assert "устарело" in again.params["text"]  # sent once, not twice

    [link] = await educator.say("https://sad12.spb.ru/news")
    said.append(link)
    assert "✉️ Отправить как вопрос в ИМЦ" in labels(link)

    [confirm] = await educator.say("отписаться")
    said.append(confirm)
    assert confirm["text"].startswith("Приостановить рассылку?")
    _, done = await educator.tap(confirm, "Да, приостановить")
    assert "приостановлена" in done["text"]
    subscriber = await running_bot.subscribers.get(3103)
    assert subscriber is not None and subscriber.status is SubscriberStatus.PAUSED
    assert all(COMMANDS_ONLY not in m["text"] for m in said)


async def test_not_yet_subscribed_the_same_words_still_get_answers(
    running_bot: RunningBot,
) -> None:
    await seed(running_bot)
    stranger = running_bot.person(3104, "Гость")
    [answer] = await stranger.say("что по семинарам в марте")
    assert "Семинар для координаторов" in answer["text"]
    [stop] = await stranger.say("не присылайте")
    assert "не подписаны" in stop["text"]
    [hello] = await stranger.say("Добрый день!")
    assert hello["text"].startswith("Здравствуйте!") and "/start" in hello["text"]
    [other] = await stranger.say("у нас сломался принтер")
    assert "/start" in other["text"] and "✉️ Отправить как вопрос в ИМЦ" in labels(other)
    [thanks] = await stranger.say("спасибо")
    assert thanks["text"].startswith("Пожалуйста!")


@pytest.fixture
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("BOT_TOKEN", "ADMIN_IDS", "DATABASE_URL", "TELEGRAM_API_BASE", "BACKUP_DIR"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.usefixtures("_isolated")
def test_ask_json_lists_items_in_answer_order_and_how_many_are_shown(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["import-plan", str(PLAN_2021)]) == 0
    capsys.readouterr()
    question = ["ask", "когда экспертный совет", "--today", "2021-11-15", "--role", "teacher"]
    assert main([*question, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["query"]["topics"] == ["expert", "council"]
    titles = [item["title"] for item in data["items"]]
    assert titles[0] == "Заседания районного Экспертного совета"  # named: first, for heads
    assert not any(title.startswith("Ведение документации") for title in titles)  # «ИМЦ»
    assert data["shown"] == len([i for i in data["items"] if i["kind"] == "leading"][:5])
    kinds = [item["kind"] for item in data["items"]]
    assert kinds == sorted(kinds, key=lambda kind: kind != "leading")
    assert main(question) == 0
    out = capsys.readouterr().out
    assert out.startswith("📅 Ближайшие мероприятия: экспертный совет")
    assert "Ещё" in out and "«Остальные»" in out
    assert main(["ask", "спасибо"]) == 1
