"""/new talks back (issue #13, point 1): every typed answer gets one line of what the bot
understood with «Изменить», every step has «◂ Назад», the preview corrects any field and comes
back, the audience buttons say what they are, «С дайджестом» is refused when it can't work, and
an audience of nobody is said at once, nothing stored or queued."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bot import texts
from bot.content.models import ItemStatus
from bot.services.timetable import next_weekly_digest
from bot.storage.schema import campaigns, items
from bot.telegram.callbacks import NewConfirm, NewWhen, WhenMode
from tests.support.emulator import BotAPIEmulator
from tests.support.harness import EDITOR_ID, Person, RunningBot, bot_running, subscribe


def labels(message: dict[str, Any]) -> list[str]:
    return [text for text, _ in BotAPIEmulator.buttons(message)]


async def _event_text(editor: Person, title: str = "Семинар координаторов") -> dict[str, Any]:
    """/new → «Мероприятие» → the text: returns the date question."""
    kinds = await editor.say_one("/new")
    assert "◂ Назад" not in labels(kinds)  # the first step: /cancel leaves
    _, ask_text = await editor.tap(kinds, "Мероприятие")
    assert "◂ Назад" in labels(ask_text)
    understood, ask_date = await editor.say(f"{title}\nПриходите все.", replies=2)
    assert understood["text"] == f"Понял: «{title}», текст — 14 знаков"
    assert labels(understood) == ["✏️ Изменить"]
    assert "Когда мероприятие?" in ask_date["text"] and "◂ Назад" in labels(ask_date)
    return ask_date


async def _count(running_bot: RunningBot, table: sa.Table) -> int:
    async with running_bot.engine.connect() as conn:
        counted = await conn.execute(sa.select(sa.func.count()).select_from(table))
        return int(counted.scalar_one())


async def test_each_typed_answer_is_said_back_and_changed_without_redoing_the_rest(
    running_bot: RunningBot,
) -> None:
    editor = running_bot.person(EDITOR_ID, "Редактор")
    await _event_text(editor)
    [no_time] = await editor.say("15.12")
    assert no_time["text"] == "Во сколько? Напишите и время, например: «15.12 10:00»."
    understood, ask_place = await editor.say("15 дек. 2099 в 10", replies=2)
    # The year is said when it is not this one: a mistyped year shows at once.
    assert understood["text"] == "Понял: вт, 15 декабря 2099, 10:00"
    assert labels(ask_place) == ["Пропустить", "◂ Назад"]
    understood_place, ask_link = await editor.say("ИМЦ, ауд. 12", replies=2)
    assert understood_place["text"] == "Понял: место — ИМЦ, ауд. 12"
    assert "Ссылка на регистрацию" in ask_link["text"]

    # «Изменить» under the date, asked from the registration step: the date is asked again
    # with its current value, and then the dialog is back at the registration step.
    _, again = await editor.tap(understood, "Изменить", expect="send")
    assert again["text"].startswith("Изменяю: дату.")
    assert "Сейчас: вт, 15 декабря 2099, 10:00" in again["text"]
    assert labels(again) == ["Оставить как есть", "◂ Назад"]
    changed, back_at_link = await editor.say("16.12.2099 11:30", replies=2)
    assert changed["text"] == "Понял: ср, 16 декабря 2099, 11:30"
    assert "Ссылка на регистрацию" in back_at_link["text"]

    # «◂ Назад» on the registration step: the place question, with the place kept.
    _, place_again = await editor.tap(back_at_link, "Назад")
    assert "Где оно пройдёт?" in place_again["text"]
    assert "Сейчас: ИМЦ, ауд. 12" in place_again["text"]
    _, link_again = await editor.tap(place_again, "Оставить как есть", expect="send")
    assert "Ссылка на регистрацию" in link_again["text"]
    _, audience = await editor.tap(link_again, "Пропустить", expect="send")
    assert "Кому?" in audience["text"]
    _, when = await editor.tap(audience, "Готово")
    assert "Когда опубликовать?" in when["text"]
    _, audience_again = await editor.tap(when, "Назад")
    assert "Кому?" in audience_again["text"]
    _, when = await editor.tap(audience_again, "Готово")
    _, preview = await editor.tap(when, "Черновик", expect="send")
    summary = await editor.emu.next_message(EDITOR_ID)
    assert "ср, 16 декабря, 11:30" in preview["text"] and "ИМЦ, ауд. 12" in preview["text"]
    assert labels(summary) == [
        "Изменить текст", "Изменить дату", "Изменить место", "Изменить ссылку",
        "Изменить кому", "Изменить когда", "✅ Сохранить", "✖️ Отменить",
    ]  # fmt: skip

    # The preview's «Изменить дату»: one question, then the preview again with the new date.
    _, ask = await editor.tap(summary, "Изменить дату", expect="send")
    assert ask["text"].startswith("Изменяю: дату.")
    assert labels(editor.emu.message(EDITOR_ID, summary["message_id"])) == []  # left behind
    understood, preview, summary = await editor.say("17.12.2099 12:00", replies=3)
    assert understood["text"] == "Понял: чт, 17 декабря 2099, 12:00"
    assert "чт, 17 декабря, 12:00" in preview["text"]
    await editor.tap(summary, "Сохранить")
    async with running_bot.engine.connect() as conn:
        row = (
            await conn.execute(sa.select(items.c.starts_at, items.c.place, items.c.status))
        ).one()
    starts = row.starts_at.replace(tzinfo=UTC).astimezone(running_bot.settings.tz)
    assert (starts.day, starts.hour, row.place, row.status) == (
        17, 12, "ИМЦ, ауд. 12", ItemStatus.DRAFT.value,
    )  # fmt: skip

    # The dialog is over: an old «Изменить» changes nothing.
    answer, _ = await editor.tap(understood_place, "Изменить", expect="answer")
    assert "устарела" in answer.params["text"]


async def test_a_date_typed_as_the_place_is_asked_about_not_stored_as_the_place(
    running_bot: RunningBot,
) -> None:
    editor = running_bot.person(EDITOR_ID, "Редактор")
    await _event_text(editor)
    await editor.say("15.12.2099 10:00", replies=2)
    [asked] = await editor.say("16.12.2099 10:00")
    assert asked["text"] == (
        "«16.12.2099 10:00» похоже на дату: ср, 16 декабря 2099, 10:00. Это новая дата "
        "мероприятия (сейчас — вт, 15 декабря 2099, 10:00)?"
    )
    _, understood = await editor.tap(asked, "Да, это новая дата", expect="send")
    assert understood["text"] == "Понял: ср, 16 декабря 2099, 10:00"
    place = await editor.emu.next_message(EDITOR_ID)
    assert "Где оно пройдёт?" in place["text"]
    answer, _ = await editor.tap(asked, "Нет, это место", expect="answer")
    assert "устарела" in answer.params["text"]  # answered already

    # If it really is the place, it is kept as typed.
    [asked] = await editor.say("16.12.2099 10:00")
    _, understood = await editor.tap(asked, "Нет, это место", expect="send")
    assert understood["text"] == "Понял: место — 16.12.2099 10:00"
    link = await editor.emu.next_message(EDITOR_ID)
    assert "Ссылка на регистрацию" in link["text"]


async def test_the_preview_changes_text_audience_and_time_and_comes_back(
    running_bot: RunningBot,
) -> None:
    emu = running_bot.emu
    teacher = running_bot.person(2601, "Учитель")
    await subscribe(teacher, topics_off=(), frequency="Раз в неделю")
    editor = running_bot.person(EDITOR_ID, "Редактор")
    kinds = await editor.say_one("/new")
    await editor.tap(kinds, "Объявление")
    _, audience = await editor.say("Семинар переносится\nНа пятницу.", replies=2)
    assert "Под этот выбор сейчас подходят: 1 подписчик." in audience["text"]
    _, when = await editor.tap(audience, "Готово")
    # An announcement never goes into a digest, so the button isn't there, and a forged
    # press is told why.
    assert labels(when) == ["🚀 Сейчас", "📝 Черновик", "◂ Назад"]
    _, refused = await editor.tap_data(when, NewWhen(mode=WhenMode.DIGEST).pack())
    assert refused["text"].startswith("Объявления не входят в дайджест")
    _, preview = await editor.tap(refused, "Черновик", expect="send")
    summary = await emu.next_message(EDITOR_ID)
    assert labels(summary) == [
        "Изменить текст",
        "Изменить кому",
        "Изменить когда",
        "✅ Сохранить",
        "✖️ Отменить",
    ]

    _, ask = await editor.tap(summary, "Изменить текст", expect="send")
    assert "Сейчас: «Семинар переносится»" in ask["text"]
    understood, preview, summary = await editor.say("Семинар переносится\nНа субботу.", replies=3)
    assert understood["text"].startswith("Понял: «Семинар переносится»")
    assert preview["text"] == "📢 Семинар переносится\n\nНа субботу."

    _, audience = await editor.tap(summary, "Изменить кому", expect="send")
    _, audience = await editor.tap(audience, "Методист")
    assert "подходят: 0 подписчиков" in audience["text"]
    _, audience = await editor.tap(audience, "Педагог")
    assert "подходят: 1 подписчик" in audience["text"]
    _, preview = await editor.tap(audience, "Готово", expect="send")
    summary = await emu.next_message(EDITOR_ID)
    assert "Кому: Педагог, Методист (сейчас 1 подписчик)" in summary["text"]
    assert "Когда: черновик" in summary["text"]

    _, when = await editor.tap(summary, "Изменить когда", expect="send")
    _, preview = await editor.tap(when, "Сейчас", expect="send")
    summary = await emu.next_message(EDITOR_ID)
    assert "Когда: сейчас" in summary["text"]
    emu.mark()
    await editor.tap(summary, "Опубликовать")
    post = await emu.next_message(teacher.id)
    assert post["text"] == "📢 Семинар переносится\n\nНа субботу."


async def test_an_audience_of_nobody_is_said_at_once_and_nothing_is_queued(
    running_bot: RunningBot,
) -> None:
    teacher = running_bot.person(2701, "Учитель")
    await subscribe(teacher, topics_off=(), frequency="Раз в неделю")
    editor = running_bot.person(EDITOR_ID, "Редактор")
    kinds = await editor.say_one("/new")
    await editor.tap(kinds, "Материал")
    _, audience = await editor.say("Памятка\nДля методистов.", replies=2)
    _, audience = await editor.tap(audience, "Методист")
    assert "Под этот выбор сейчас подходят: 0 подписчиков." in audience["text"]
    _, when = await editor.tap(audience, "Готово")
    _, preview = await editor.tap(when, "Сейчас", expect="send")
    summary = await editor.emu.next_message(EDITOR_ID)
    assert "Кому: Методист (сейчас 0 подписчиков)" in summary["text"]
    assert texts.NEW_NOBODY in summary["text"]
    assert "✅ Опубликовать" not in labels(summary)

    # Even a forged «Опубликовать» stores and sends nothing; the draft stays.
    _, told = await editor.tap_data(summary, NewConfirm(publish=True).pack())
    assert told["text"] == texts.NEW_NOBODY_NOW
    assert (await _count(running_bot, items), await _count(running_bot, campaigns)) == (0, 0)
    _, audience = await editor.tap(told, "Изменить кому", expect="send")
    _, audience = await editor.tap(audience, "Всем")
    _, preview = await editor.tap(audience, "Готово", expect="send")
    assert preview["text"] == "📚 Новый материал: Памятка\n\nДля методистов."
    summary = await editor.emu.next_message(EDITOR_ID)
    assert "Кому: всем подписчикам (сейчас 1 подписчик)" in summary["text"]
    await editor.tap(summary, "Опубликовать")
    post = await editor.emu.next_message(teacher.id)
    assert post["text"].startswith("📚")


async def test_with_the_digest_is_refused_for_an_event_before_the_next_digest(
    emu: BotAPIEmulator, tmp_path: Path
) -> None:
    # The weekly digest three days from now, whatever day the suite runs.
    day = datetime.now(UTC) + timedelta(days=3)
    async with bot_running(
        emu, tmp_path, digest_weekly_cron=f"0 9 {day.day} {day.month} *"
    ) as running_bot:
        tz = running_bot.settings.tz
        digest = next_weekly_digest(running_bot.settings, datetime.now(tz))
        assert digest is not None
        editor = running_bot.person(EDITOR_ID, "Редактор")
        await _event_text(editor)
        [understood, ask_place] = await editor.say("через 2 часа", replies=2)
        _, ask_link = await editor.tap(ask_place, "Пропустить", expect="send")
        _, audience = await editor.tap(ask_link, "Пропустить", expect="send")
        _, when = await editor.tap(audience, "Готово")
        assert "🗞 С ближайшим дайджестом" in labels(when)
        _, refused = await editor.tap(when, "С ближайшим дайджестом")
        assert refused["text"].startswith(
            f"Не выйдет с дайджестом: ближайший дайджест — {texts.format_date(digest)}, "
            "а мероприятие раньше"
        )
        assert "🚀 Сейчас" in labels(refused)  # still the same step, nothing lost

        # A later date: the digest will carry it.
        _, ask_date = await editor.tap(understood, "Изменить", expect="send")
        assert ask_date["text"].startswith("Изменяю: дату.")
        later = datetime.now(tz) + timedelta(days=10)
        _, when = await editor.say(f"{later:%d.%m.%Y} 10:00", replies=2)
        assert "Когда опубликовать?" in when["text"]  # back where the editor was
        _, preview = await editor.tap(when, "С ближайшим дайджестом", expect="send")
        assert preview["text"].startswith("📅 Семинар координаторов")
        summary = await emu.next_message(EDITOR_ID)
        assert "Когда: с ближайшим дайджестом" in summary["text"]
