"""The short what's-next answer on a phone: its text and buttons, without Telegram."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from aiogram.filters.callback_data import CallbackData

from bot import texts
from bot.content.models import Item, ItemKind
from bot.telegram import callbacks as cb
from bot.telegram import keyboards as kb

MSK = ZoneInfo("Europe/Moscow")
PAGE = cb.AnswerPage(
    start=739_000, end=739_030, roles=1, orgs=0, topics=3, year_long=False, page=1
)


def _labels(markup: object) -> list[list[str]]:
    assert markup is not None
    return [[button.text for button in row] for row in markup.inline_keyboard]  # type: ignore[attr-defined]


def test_buttons_remind_or_show_the_reminder_fold_and_turn_pages() -> None:
    markup = kb.answer_keyboard(
        [(1, 10, True, False, True), (2, 11, True, True, True), (3, 12, False, False, False)],
        fold=(7, PAGE), back=PAGE, more=PAGE,
    )  # fmt: skip
    assert _labels(markup) == [
        ["⏰ Напомнить: 1", "📅 В календарь: 1"],
        ["✅ Напомню: 2", "📅 В календарь: 2"],
        ["🗓 Весь год: 7 ▸"],
        ["◂ Назад", "Ещё ▸"],
    ]
    assert kb.answer_keyboard([(1, 10, False, False, False)]) is None


def test_a_page_button_fits_telegram_with_every_topic_and_audience() -> None:
    widest = cb.AnswerPage(
        start=date.max.toordinal(), end=date.max.toordinal(), roles=63, orgs=15,
        topics=(1 << 25) - 1, year_long=True, page=999,
    )  # fmt: skip
    assert len(widest.pack().encode()) <= 64


def test_a_reminder_turns_into_done_and_back_keeping_its_number() -> None:
    markup = kb.answer_keyboard([(1, 10, True, False, True), (4, 11, True, False, False)])
    done = kb.mark_reminder(markup, 11, reminded=True)
    assert _labels(done) == [["⏰ Напомнить: 1", "📅 В календарь: 1"], ["✅ Напомню: 4"]]
    undone = kb.mark_reminder(done, 11, reminded=False)
    assert _labels(undone) == _labels(markup)
    assert kb.mark_reminder(markup, 99, reminded=True) is None


def test_the_fallback_offers_three_taps_and_cuts_long_words() -> None:
    offers = kb.fallback_offers("у нас в саду проектная неделя, кому рассказать")
    assert _labels(offers) == [
        ["☰ Меню"], ["🔎 Найти «у нас в саду проектная…»"], ["✉️ Отправить как вопрос в ИМЦ"],
    ]  # fmt: skip
    assert _labels(kb.fallback_offers(None)) == [["☰ Меню"], ["✉️ Отправить как вопрос в ИМЦ"]]


def test_a_screen_cuts_long_titles_shows_a_foreign_audience_and_the_fold() -> None:
    long_title = "Информационно-методические совещания и семинары для координаторов " * 3
    row = Item(
        1, ItemKind.EVENT, long_title, timing_text="Сентябрь 2021, март, июнь 2022",
        audience_text="Координаторы инновационной деятельности ОУ района",
    )  # fmt: skip
    event = Item(
        2, ItemKind.EVENT, "Совещание руководителей ОУ", audience_text="Руководители ОУ",
        starts_at=datetime(2021, 11, 24, 10, 0, tzinfo=MSK), place="ИМЦ, ауд. 12",
    )  # fmt: skip
    text = texts.short_answer(
        "Мероприятия в марте", [(1, row), (2, event)], 7, MSK, frozenset({1})
    )
    lines = text.render()[0].split("\n")
    assert lines[0] == "📅 Мероприятия в марте"
    assert lines[2].endswith("…") and len(lines[2]) < 130
    assert lines[3] == "    Для: Координаторы инновационной деятельности ОУ района"
    assert lines[4] == "2. ср, 24 ноября, 10:00 — Совещание руководителей ОУ"
    assert lines[5] == "    📍 ИМЦ, ауд. 12"  # her own audience is not repeated
    assert lines[-1] == "🗓 Ещё 7 мероприятий идут весь год — кнопка «Весь год» ниже."
    assert (
        texts.answer_fold_line(1) == "🗓 Ещё 1 мероприятие идёт весь год — кнопка «Весь год» ниже."
    )


def test_every_button_prefix_is_its_own() -> None:
    prefixes = [
        klass.__prefix__
        for klass in vars(cb).values()
        if isinstance(klass, type)
        and issubclass(klass, CallbackData)
        and klass is not CallbackData
    ]
    assert len(prefixes) == len(set(prefixes))
