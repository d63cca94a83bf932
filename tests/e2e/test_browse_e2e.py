"""A head asks «что дальше?», sets a reminder, adds an event to the calendar; a teacher browses."""

from __future__ import annotations

from datetime import datetime, timedelta

from icalendar import Calendar

from bot.content.models import Item, ItemKind, ItemStatus, OrgKind, Role
from bot.storage.feedback import FeedbackRepository
from bot.storage.items import ItemRepository
from bot.storage.reminders import ReminderRepository
from tests.support.harness import Person, RunningBot, agree


async def subscribe(person: Person, role: str, org: str) -> None:
    question = await agree(person)
    _, step = await person.tap(question, role)
    _, step = await person.tap(step, org)
    _, step = await person.tap(step, "Пропустить")
    _, step = await person.tap(step, "Готово")
    await person.tap(step, "Раз в неделю")


async def seed(running_bot: RunningBot) -> dict[str, Item]:
    items = ItemRepository(running_bot.engine)
    tz = running_bot.settings.tz
    soon = datetime.now(tz).replace(hour=10, minute=0, second=0, microsecond=0)
    today = soon.date()
    return {
        "council": await items.add(
            Item(0, ItemKind.EVENT, "Заседание Экспертного совета", status=ItemStatus.APPROVED,
                 starts_at=soon + timedelta(days=5), place="ИМЦ, ауд. 12",
                 audience_text="Руководители ОУ", audience_roles=frozenset({Role.HEAD}))
        ),
        "kindergartens": await items.add(
            Item(0, ItemKind.EVENT, "Семинар для воспитателей", status=ItemStatus.APPROVED,
                 starts_at=soon + timedelta(days=6),
                 audience_orgs=frozenset({OrgKind.KINDERGARTEN}))
        ),
        "season": await items.add(
            Item(0, ItemKind.EVENT, "Координация районных опорных площадок",
                 status=ItemStatus.APPROVED, timing_text="В течение года",
                 period_start=today - timedelta(days=60), period_end=today + timedelta(days=200))
        ),
        "material": await items.add(
            Item(0, ItemKind.MATERIAL, "Инновационные практики: сборник",
                 status=ItemStatus.APPROVED, approved_at=soon - timedelta(days=1),
                 body="Опыт школ района.")
        ),
    }  # fmt: skip


async def test_a_head_asks_whats_next_sets_a_reminder_and_gets_an_ics(
    running_bot: RunningBot,
) -> None:
    made = await seed(running_bot)
    head = running_bot.person(901, "Директор")
    await subscribe(head, "Руководитель", "Школа")

    [answer] = await head.say("/next")
    text = answer["text"]
    assert text.startswith("📅 Ближайшие мероприятия")
    assert "Заседание Экспертного совета" in text and "ИМЦ, ауд. 12" in text
    assert "Семинар для воспитателей" not in text  # for kindergartens; the head is at a school
    assert "Координация районных опорных площадок" not in text  # all year: folded
    assert "Ещё 1 мероприятие идёт весь год" in text
    _, year_long = await head.tap(answer, "Весь год")
    assert "Координация районных опорных площадок" in year_long["text"]
    _, answer = await head.tap(year_long, "Назад")
    assert "Заседание Экспертного совета" in answer["text"]

    answer_toast, _ = await head.tap(answer, "Напомнить: 1", expect="answer")
    assert "Напомню вечером накануне" in answer_toast.params["text"]
    again, _ = await head.tap(answer, "Напомнить: 1", expect="answer")
    assert "Уже напомню" in again.params["text"]
    reminders = ReminderRepository(running_bot.engine)
    assert await reminders.count_for(made["council"].id) == 1

    running_bot.emu.mark()
    callback = running_bot.emu.press(
        901, answer, running_bot.emu.button_data(answer, "В календарь: 1")
    )
    await running_bot.emu.answer_to(callback)
    document = await running_bot.emu.next_message(901)
    assert document["document"]["file_name"] == f"infozona-event-{made['council'].id}.ics"
    calendar = Calendar.from_ical(running_bot.emu.file_content(document["document"]))
    (event,) = calendar.walk("VEVENT")
    assert str(event["SUMMARY"]) == "Заседание Экспертного совета"
    assert str(event["LOCATION"]) == "ИМЦ, ауд. 12"


async def test_questions_in_words_and_a_named_audience(running_bot: RunningBot) -> None:
    await seed(running_bot)
    head = running_bot.person(902, "Директор")
    await subscribe(head, "Руководитель", "Школа")
    [answer] = await head.say("а что для детских садов?")
    assert "для" in answer["text"].split("\n")[0]
    assert "Семинар для воспитателей" in answer["text"]
    [answer] = await head.say("Подскажите, что на этой неделе?")
    assert answer["text"].startswith("📅 Мероприятия на этой неделе")
    [thanks] = await head.say("спасибо")
    assert thanks["text"].startswith("Пожалуйста!")


async def test_materials_card_with_feedback_and_search(running_bot: RunningBot) -> None:
    made = await seed(running_bot)
    teacher = running_bot.person(903, "Учитель")
    await subscribe(teacher, "Педагог", "Школа")
    [card] = await teacher.say("/materials")
    assert card["text"].startswith("📚 Материал 1 из 1")
    assert "Инновационные практики: сборник" in card["text"]
    thanks, _ = await teacher.tap(card, "Полезно", expect="answer")
    assert "Спасибо" in thanks.params["text"]
    assert await FeedbackRepository(running_bot.engine).counts(made["material"].id) == (1, 0)

    [topic] = await teacher.say("/materials инновационные практики")
    assert topic["text"].startswith("📚 Материалы «инновационные практики»: 1 из 1")
    [found] = await teacher.say("/search инновационный")
    assert "«инновационный»: 1 из 1" in found["text"]
    [none] = await teacher.say("/search вебинар")
    assert "ничего не нашлось" in none["text"]
    [prompt] = await teacher.say("/search")  # bare: the words are asked for, no usage line
    assert prompt["text"].startswith("🔎 Что найти?")
    [empty] = await teacher.say("/cases")
    assert "Опыта площадок пока нет" in empty["text"]
    await ItemRepository(running_bot.engine).add(
        Item(0, ItemKind.CASE, "Проектная неделя", organisation="ГБОУ СОШ № 7",
             body="Площадка по теме проектного обучения.", status=ItemStatus.APPROVED)
    )  # fmt: skip
    [case] = await teacher.say("/cases проектное обучение")
    assert case["text"].startswith("💡 Опыт площадок «проектное обучение»: 1 из 1")
    assert "ГБОУ СОШ № 7" in case["text"]
    [none] = await teacher.say("/cases робототехника")
    assert "не нашлось" in none["text"]


async def test_forged_browse_buttons_change_nothing(running_bot: RunningBot) -> None:
    await seed(running_bot)
    teacher = running_bot.person(904, "Учитель")
    await subscribe(teacher, "Педагог", "Школа")
    [answer] = await teacher.say("/next")
    for data in ("m1:999999", "i1:999999", "v1:999999:1", "q1:x:y:0:0:1", "b1:nowhere:0"):
        reply, _ = await teacher.tap_data(answer, data, expect="answer")
        assert reply.params.get("text"), data
