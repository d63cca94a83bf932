"""An editor sends the annual plan as a .txt or .docx file; the bot stores it and reports."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from typing import Any

from docx import Document

from bot.content.plan import PlanParse, decode_plan, parse_plan
from bot.content.plan_docx import UNZIPPED_MAX, parse_plan_file
from bot.storage.items import ItemRepository
from tests.support import PLAN_2021
from tests.support.harness import EDITOR_ID, RunningBot, onboard
from tests.support.plan_fixtures import plan_fixture
from tests.support.word import word_numbered_plan

PLAN = PLAN_2021
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def plan_as_docx(plan: PlanParse) -> bytes:
    """The plan as Word keeps it: a title paragraph, then one table with a header row, merged
    section rows and a row of five cells per item."""
    document = Document()
    document.add_paragraph(plan.title)
    table = document.add_table(rows=0, cols=5)
    headings = ["№ п/п", "Наименование мероприятия", "Сроки проведения", "Целевая аудитория",
                "Ожидаемый результат"]  # fmt: skip
    for cell, heading in zip(table.add_row().cells, headings, strict=True):
        cell.text = heading
    section = None
    for item in plan.items:
        if item.section_number != section:
            section = item.section_number
            row = table.add_row().cells
            row[0].merge(row[4]).text = f"{item.section_number}. {item.section_title}."
        values = [str(item.number), item.title, item.timing, item.audience, item.result]
        for cell, value in zip(table.add_row().cells, values, strict=True):
            cell.text = value
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


async def send_file(
    running_bot: RunningBot, user_id: int, content: bytes, name: str, mime: str = "text/plain"
) -> dict[str, Any]:
    emu = running_bot.emu
    emu.mark()
    emu.send_message(user_id, "", document=emu.upload(content, name, mime))
    return await emu.next_message(user_id)


def test_a_docx_table_reads_the_same_as_the_text_export() -> None:
    plan = parse_plan(decode_plan(PLAN.read_bytes()))
    from_docx = parse_plan_file(plan_as_docx(plan))
    assert len(from_docx.items) == 13
    assert from_docx.items == plan.items
    assert from_docx.unresolved == ()


async def test_editor_uploads_the_plan_as_txt_and_docx(running_bot: RunningBot) -> None:
    running_bot.person(EDITOR_ID, "Владелец")
    items = ItemRepository(running_bot.engine)
    text = PLAN.read_bytes()

    report = await send_file(running_bot, EDITOR_ID, text, "plan.txt")
    assert "на 2021-2022 учебный год" in report["text"]
    assert "Новых: 13, обновлено: 0, без изменений: 0, не распознано: 0" in report["text"]
    assert not running_bot.emu.buttons(report)
    infozona = await items.by_source_key("plan:2021-2022:2")
    assert infozona is not None and "«Инфозона»" in infozona.title

    docx = plan_as_docx(parse_plan(decode_plan(text)))
    report = await send_file(running_bot, EDITOR_ID, docx, "План 2021-2022.docx", DOCX_MIME)
    assert "Новых: 0, обновлено: 0, без изменений: 13, не распознано: 0" in report["text"]
    report = await send_file(running_bot, EDITOR_ID, text.decode().encode("cp1251"), "plan.txt")
    assert "без изменений: 13" in report["text"]


async def test_unresolved_rows_are_listed_behind_a_button(running_bot: RunningBot) -> None:
    owner = running_bot.person(EDITOR_ID, "Владелец")
    edited = decode_plan(PLAN.read_bytes()).replace("Два раза в год", "Когда соберёмся", 1)
    report = await send_file(running_bot, EDITOR_ID, edited.encode("utf-16"), "plan.txt")
    assert "Новых: 13" in report["text"] and "не распознано: 1" in report["text"]
    _, listing = await owner.tap(report, "Показать нераспознанные", expect="send")
    assert "Нераспознанные строки плана на 2021-2022 учебный год" in listing["text"]
    assert "№ 3 «Заседания районного Экспертного совета Когда соберёмся»" in listing["text"]
    assert "не удалось найти столбец сроков" in listing["text"]


async def test_broken_files_are_explained_and_store_nothing(running_bot: RunningBot) -> None:
    running_bot.person(EDITOR_ID, "Владелец")
    items = ItemRepository(running_bot.engine)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("notes.txt", "не документ Word")
    bomb = io.BytesIO()  # 30 KB that unzip to 30 MB
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("word/document.xml", b"\0" * (UNZIPPED_MAX + 1))
    cases = [
        (archive.getvalue(), "plan.docx", "Не удалось прочитать файл как документ Word"),
        (bomb.getvalue(), "plan.docx", "Не удалось прочитать файл как документ Word"),
        (b"PK\x03\x04broken", "plan.docx", "Не удалось прочитать файл как документ Word"),
        (b"%PDF-1.7\n...", "plan.pdf", "Это PDF"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512), "plan.doc", "старого формата (.doc)"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, "plan.docx", "похоже на картинку"),
        (bytes(range(256)) * 64, "plan.txt", "похоже на картинку, архив или программу"),
        ("Просто заметки без таблицы".encode(), "notes.txt", "ни одного"),
        ("План на 2026-2027 учебный год\nничего".encode(), "plan.txt", "ни одного"),
    ]
    for content, name, expected in cases:
        answer = await send_file(running_bot, EDITOR_ID, content, name)
        assert expected in answer["text"], name
    too_big = await send_file(running_bot, EDITOR_ID, b" " * (2 * 1024 * 1024 + 1), "big.txt")
    assert "слишком большой" in too_big["text"]
    assert await items.by_source_key("plan:2021-2022:1") is None
    assert await items.by_source_key("plan:2026-2027:1") is None


async def test_a_document_from_a_non_editor_is_not_a_plan(running_bot: RunningBot) -> None:
    teacher = running_bot.person(1501, "Анна")
    await onboard(teacher)
    answer = await send_file(running_bot, 1501, PLAN.read_bytes(), "plan.txt")
    assert "Такое сообщение бот прочитать не может" in answer["text"]
    assert await ItemRepository(running_bot.engine).by_source_key("plan:2021-2022:1") is None


async def test_a_plan_without_a_school_year_asks_which_one_with_buttons(
    running_bot: RunningBot,
) -> None:
    """A methodological association's Word plan with no year in its title or its rows."""
    owner = running_bot.person(EDITOR_ID, "Владелец")
    items = ItemRepository(running_bot.engine)
    title = "План работы школьного методического объединения учителей начальных классов"
    question = await send_file(
        running_bot, EDITOR_ID, plan_fixture("no-year").docx(), "план ШМО.docx", DOCX_MIME
    )
    assert "не указан учебный год" in question["text"]
    assert f"«{title}»" in question["text"]
    labels = [
        button["text"] for row in question["reply_markup"]["inline_keyboard"] for button in row
    ]
    today = datetime.now(running_bot.settings.tz).date()
    first = today.year if today.month >= 8 else today.year - 1
    assert labels == [f"{first}/{first + 1}", f"{first + 1}/{first + 2}"]
    assert await items.by_source_key(f"plan:{first}-{first + 1}:1") is None

    _, report = await owner.tap(question, f"{first + 1}/{first + 2}", expect="send")
    assert "Новых: 10" in report["text"]
    council = await items.by_source_key(f"plan:{first + 1}-{first + 2}:1")
    assert council is not None and council.responsible_text == "Руководитель ШМО"
    # The August council opens the school year: it is the first year's August.
    assert council.period_start == date(first + 1, 8, 1)
    assert not running_bot.emu.buttons(running_bot.emu.message(EDITOR_ID, question["message_id"]))

    # The same button again: the file was imported and forgotten, nothing is imported twice.
    await owner.tap_data(
        question, running_bot.emu.button_data(question, f"{first}/{first + 1}"), expect="answer"
    )
    gone = await running_bot.emu.next_message(EDITOR_ID)
    assert "Пришлите план ещё раз" in gone["text"]
    assert await items.by_source_key(f"plan:{first}-{first + 1}:1") is None


async def test_an_editor_sends_a_word_numbered_table_and_it_imports(
    running_bot: RunningBot,
) -> None:
    """The editor's own Word plan: numbers by Word's automatic numbering (not in the text), a
    merged section row, one timing cell over two rows."""
    running_bot.person(EDITOR_ID, "Владелец")
    items = ItemRepository(running_bot.engine)
    report = await send_file(running_bot, EDITOR_ID, word_numbered_plan(), "План.docx", DOCX_MIME)
    assert "на 2024-2025 учебный год" in report["text"]
    assert "Новых: 4, обновлено: 0, без изменений: 0, не распознано: 0" in report["text"]
    contest = await items.by_source_key("plan:2024-2025:2")
    assert contest is not None and contest.title == "Конкурс «Учитель года»"
    assert (contest.period_start, contest.period_end) == (date(2025, 1, 1), date(2025, 2, 28))
    meeting = await items.by_source_key("plan:2024-2025:3")
    assert meeting is not None and meeting.timing_text == "Январь-февраль 2025"


async def test_a_calendar_year_plan_lists_its_unresolved_rows_for_its_year(
    running_bot: RunningBot,
) -> None:
    """An education department's plan «на 2024 год», copied out of Word with tabs."""
    owner = running_bot.person(EDITOR_ID, "Владелец")
    items = ItemRepository(running_bot.engine)
    text = plan_fixture("calendar-year").text.decode("utf-8")
    edited = text.replace("по отдельному графику", "когда соберёмся")
    report = await send_file(running_bot, EDITOR_ID, edited.encode("cp1251"), "план.txt")
    assert "на 2024 год" in report["text"] and "не распознано: 1" in report["text"]
    contest = await items.by_source_key("plan:2024-2024:4")
    assert contest is not None and contest.title.startswith("Муниципальный конкурс")
    assert contest.place == "МКУ «ИМЦ»"
    assert (contest.period_start, contest.period_end) == (date(2024, 1, 1), date(2024, 3, 31))
    _, listing = await owner.tap(report, "Показать нераспознанные", expect="send")
    assert "Нераспознанные строки плана на 2024 год" in listing["text"]
    assert "«Плановые проверки образовательных организаций»: срок не распознан" in listing["text"]
