"""/export by buttons: what (subscribers, or who pressed «Напомнить» on an event picked by
its button), then Excel (.xlsx, a real table read back here with openpyxl) or CSV; both agree
with /stats on who is a subscriber and who never finished sign-up."""

from __future__ import annotations

import io
import re
from typing import Any

from openpyxl import load_workbook

from bot import texts
from tests.e2e.test_reports_e2e import PEOPLE, VISITOR, read_csv, seed
from tests.support.harness import EDITOR_ID, Person, RunningBot


def read_xlsx(data: bytes) -> Any:
    assert data.startswith(b"PK"), "an .xlsx is a zip"
    return load_workbook(io.BytesIO(data)).active


def figures(caption: str) -> tuple[int, int]:
    """(subscribers, never finished sign-up) as /stats says them."""
    subscribers = re.search(r"(\d+) подписчик", caption)
    unfinished = re.search(r"Не завершили регистрацию: (\d+)", caption)
    assert subscribers and unfinished, caption
    return int(subscribers.group(1)), int(unfinished.group(1))


async def file_by_buttons(editor: Person, what: str, fmt: str) -> dict[str, Any]:
    [menu] = await editor.say("/export")
    assert menu["text"] == texts.EXPORT_CHOOSE
    _, formats = await editor.tap(menu, what)
    _, document = await editor.tap(formats, fmt, expect="send")
    return document


async def test_subscribers_as_xlsx_a_real_table(running_bot: RunningBot) -> None:
    await seed(running_bot)
    editor = running_bot.person(EDITOR_ID, "Редактор")
    [menu] = await editor.say("/export")
    labels = [text for text, _ in running_bot.emu.buttons(menu)]
    assert labels == [texts.EXPORT_WHAT_LABELS["subscribers"], texts.EXPORT_WHAT_LABELS["rsvp"]]
    _, formats = await editor.tap(menu, "Подписчики")
    assert formats["message_id"] == menu["message_id"]  # the same message, one step on
    assert "Подписчики: 6 человек; не завершили регистрацию: 1" in formats["text"]
    answer, document = await editor.tap(formats, "Excel", expect="send")
    assert answer.params.get("text") == texts.EXPORT_PREPARING
    name = document["document"]["file_name"]
    assert name.startswith("infozona-subscribers-") and name.endswith(".xlsx")
    assert "6 человек; не завершили регистрацию: 1" in document["caption"]

    sheet = read_xlsx(running_bot.emu.file_content(document))
    assert sheet.title == "Подписчики"
    header = [cell.value for cell in sheet[1]]
    assert header == list(texts.SUBSCRIBERS_CSV_HEADER)
    assert all(cell.font.b for cell in sheet[1])
    assert sheet.freeze_panes == "A2"  # the header stays on screen while scrolling
    assert sheet.auto_filter.ref.startswith("A1:K")
    for letter, width in zip("ABCDEFGHIJK", texts.SUBSCRIBERS_XLSX_WIDTHS, strict=True):
        assert sheet.column_dimensions[letter].width == width
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2)]
    assert len(rows) == len(PEOPLE) + 1
    by_id = {row[0]: row for row in rows}
    assert set(by_id) == {p[0] for p in PEOPLE} | {VISITOR[0]}  # chat ids as numbers
    assert by_id[2001][1:9] == [
        "Ирина Петровна", "irina", "Руководитель", "Школа", "Школа №5",
        "Методические материалы, Мероприятия", "Раз в неделю", "рассылка включена",
    ]  # fmt: skip
    assert by_id[2005][8] == "бот заблокирован"
    # A name that looks like a formula is text in the cell, never a formula.
    assert by_id[2003][1] == '=HYPERLINK("x")'
    assert sheet.cell(row=[r[0] for r in rows].index(2003) + 2, column=2).data_type == "s"
    # «Подписался» is a date Excel sorts by, shown as 01.12.2026 10:00.
    assert by_id[2001][10] is not None and hasattr(by_id[2001][10], "year")
    # The one who never finished sign-up: last, said so, with no topics or digest.
    assert rows[-1][0] == VISITOR[0]
    assert rows[-1][6:9] == [None, None, texts.UNFINISHED_LABEL]


async def test_csv_and_xlsx_agree_with_stats(running_bot: RunningBot) -> None:
    await seed(running_bot)
    editor = running_bot.person(EDITOR_ID, "Редактор")
    [stats] = await editor.say("/stats")
    subscribers, unfinished = figures(stats["caption"])
    assert (subscribers, unfinished) == (6, 1)

    xlsx = await file_by_buttons(editor, "Подписчики", "Excel")
    sheet = read_xlsx(running_bot.emu.file_content(xlsx))
    statuses = [row[8].value for row in sheet.iter_rows(min_row=2)]
    csv_file = await file_by_buttons(editor, "Подписчики", "CSV")
    assert csv_file["document"]["file_name"].endswith(".csv")
    csv_statuses = [row[8] for row in read_csv(running_bot.emu.file_content(csv_file))[1:]]
    for found in (statuses, csv_statuses):
        assert found.count(texts.UNFINISHED_LABEL) == unfinished
        assert len(found) - found.count(texts.UNFINISHED_LABEL) == subscribers
    for document in (xlsx, csv_file):
        assert (
            f"{subscribers} человек; не завершили регистрацию: {unfinished}"
            in (document["caption"])
        )


async def test_who_pressed_remind_by_buttons(running_bot: RunningBot) -> None:
    made = await seed(running_bot)
    council, lonely = made["council"], made["lonely"]
    editor = running_bot.person(EDITOR_ID, "Редактор")
    [menu] = await editor.say("/export")
    _, events = await editor.tap(menu, "Записи на мероприятие")
    assert events["text"] == texts.EXPORT_PICK_EVENT
    labels = [text for text, _ in running_bot.emu.buttons(events)]
    tz = running_bot.settings.tz
    starts = council.starts_at.astimezone(tz)
    assert labels[:2] == [
        f"{starts:%d.%m} · Заседание Экспертного совета (2)",
        f"{lonely.starts_at.astimezone(tz):%d.%m} · Семинар для воспитателей (0)",
    ]
    assert labels[-1] == texts.EXPORT_BACK
    _, formats = await editor.tap(events, "Заседание Экспертного совета")
    assert "«Заседание Экспертного совета»" in formats["text"]
    assert "нажали «Напомнить» — 2 человека" in formats["text"]
    _, document = await editor.tap(formats, "Excel", expect="send")
    assert (
        document["document"]["file_name"] == f"infozona-rsvp-{council.id}-{starts:%Y-%m-%d}.xlsx"
    )
    sheet = read_xlsx(running_bot.emu.file_content(document))
    assert sheet.freeze_panes == "A3"  # the event's line and the header stay on screen
    assert [c.value for c in sheet[1]][:2] == ["Мероприятие", "Заседание Экспертного совета"]
    assert [c.value for c in sheet[2]] == list(texts.RSVP_CSV_HEADER)
    rows = [[c.value for c in row][:3] for row in sheet.iter_rows(min_row=3)]
    assert rows == [
        [2001, "Ирина Петровна", "Школа №5"],
        [2002, "Ольга", "Детский сад «Ромашка»"],
    ]
    # «◂ Назад» steps back: to the events, then to the menu.
    _, events_again = await editor.tap(formats, texts.EXPORT_BACK)
    assert events_again["text"] == texts.EXPORT_PICK_EVENT
    _, menu_again = await editor.tap(events_again, texts.EXPORT_BACK)
    assert menu_again["text"] == texts.EXPORT_CHOOSE


async def test_no_events_to_pick_says_so(running_bot: RunningBot) -> None:
    editor = running_bot.person(EDITOR_ID, "Редактор")
    [menu] = await editor.say("/export")
    _, events = await editor.tap(menu, "Записи на мероприятие")
    assert events["text"] == texts.EXPORT_NO_EVENTS
    assert [text for text, _ in running_bot.emu.buttons(events)] == [texts.EXPORT_BACK]


async def test_the_panel_and_the_stats_picture_open_the_export_buttons(
    running_bot: RunningBot,
) -> None:
    await seed(running_bot)
    editor = running_bot.person(EDITOR_ID, "Редактор")
    [panel] = await editor.say("/panel")
    _, menu = await editor.tap(panel, "Выгрузка", expect="send")
    assert menu["text"] == texts.EXPORT_CHOOSE
    assert "/export subscribers" not in menu["text"]
    [stats] = await editor.say("/stats")
    _, menu = await editor.tap(stats, texts.STATS_EXPORT_BUTTON, expect="send")
    assert menu["text"] == texts.EXPORT_CHOOSE
    assert "photo" in running_bot.emu.message(EDITOR_ID, stats["message_id"])  # untouched


async def test_forged_export_buttons_change_nothing(running_bot: RunningBot) -> None:
    made = await seed(running_bot)
    editor = running_bot.person(EDITOR_ID, "Редактор")
    [menu] = await editor.say("/export")
    # An event that doesn't exist, and a material that isn't an event: an alert, no file.
    for forged in ("ex1:rsvp:99999", f"ex1:rsvp:{made['material'].id}", "ex2:rsvp:99999:xlsx"):
        answer, shown = await editor.tap_data(menu, forged, expect="answer")
        assert "нет" in answer.params["text"] and answer.params.get("show_alert"), forged
        assert shown["text"] == texts.EXPORT_CHOOSE
    answer, _ = await editor.tap_data(menu, "ex2:subscribers:0:pdf", expect="answer")
    assert answer.params["text"] == texts.STALE_BUTTON
    assert not running_bot.emu.calls_of("sendDocument")

    stranger = running_bot.person(2001, "Ирина Петровна")
    [refusal] = await stranger.say("/export")
    assert "для редакторов" in refusal["text"]
    for forged in ("ex1:subscribers:0", "ex2:subscribers:0:xlsx", "ex2:rsvp:1:csv"):
        answer, _ = await stranger.tap_data(refusal, forged, expect="answer")
        assert "для редакторов" in answer.params["text"], forged
    assert not running_bot.emu.calls_of("sendDocument")


async def test_typed_exports_still_work_in_either_format(running_bot: RunningBot) -> None:
    made = await seed(running_bot)
    editor = running_bot.person(EDITOR_ID, "Редактор")
    [xlsx] = await editor.say("/export subscribers xlsx")
    assert xlsx["document"]["file_name"].endswith(".xlsx")
    assert read_xlsx(running_bot.emu.file_content(xlsx)).max_row == len(PEOPLE) + 2
    [rsvp] = await editor.say(f"/export rsvp {made['council'].id} xlsx")
    assert rsvp["document"]["file_name"].endswith(".xlsx")
    [csv_file] = await editor.say(f"/export rsvp №{made['council'].id}")
    assert csv_file["document"]["file_name"].endswith(".csv")
    [usage] = await editor.say("/export subscribers pdf")
    assert usage["text"] == texts.EXPORT_USAGE
