"""/stats is a picture a phone shows well, under it a summary of at most 15 lines and one
«Подробнее» button per section; one definition of a subscriber in all of it."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from PIL import Image

from bot import texts
from bot.services import charts
from tests.e2e.test_reports_e2e import seed
from tests.support.emulator import PNG_SIGNATURE, png_size
from tests.support.harness import EDITOR_ID, RunningBot, agree, onboard

# Telegram draws a photo across a phone's chat, ~400 points wide: at 800 px and more, text drawn
# at the chart's sizes stays readable there.
PHONE_MIN_WIDTH = 800


def keep(png: bytes, name: str) -> None:
    """STATS_PICTURES=folder keeps the pictures to look at (the file tool shows PNGs)."""
    folder = os.environ.get("STATS_PICTURES")
    if folder:
        Path(folder, name).write_bytes(png)


async def test_stats_is_a_photo_readable_on_a_phone(running_bot: RunningBot) -> None:
    await seed(running_bot)
    editor = running_bot.person(EDITOR_ID, "Редактор")
    [stats] = await editor.say("/stats")

    # Sent as a photo (shown in the chat), not as a file to download.
    assert [c.chat_id for c in running_bot.emu.calls_of("sendPhoto")] == [EDITOR_ID]
    assert not running_bot.emu.calls_of("sendDocument")
    assert "photo" in stats and "document" not in stats
    png = running_bot.emu.file_content(stats)
    keep(png, "stats.png")
    assert png.startswith(PNG_SIGNATURE)
    size = png_size(png)
    assert size is not None
    width, height = size
    assert width >= PHONE_MIN_WIDTH
    assert width <= height <= 1.5 * width  # portrait, not a strip the phone shrinks
    assert (stats["photo"][-1]["width"], stats["photo"][-1]["height"]) == (width, height)
    with Image.open(io.BytesIO(png)) as picture:  # a real image, decodable to its last row
        picture.load()
        assert picture.size == (width, height)
        # Not a blank page: the bars have colour.
        colours = picture.convert("RGB").getcolors(maxcolors=1 << 20)
        assert colours is not None and len(colours) > 8

    caption = stats["caption"]
    assert len(caption.splitlines()) <= 15
    assert len(caption) <= 1024  # Telegram's caption limit
    labels = [text for text, _ in running_bot.emu.buttons(stats)]
    for section in texts.STATS_SECTION_LABELS.values():
        assert section in labels


async def test_one_definition_of_a_subscriber_in_the_summary(running_bot: RunningBot) -> None:
    """A visitor who never finished sign-up is counted apart, nowhere as a subscriber."""
    await onboard(running_bot.person(3001, "Анна"))
    await onboard(running_bot.person(3002, "Борис"), role="Методист")
    # Agreed to the terms and never answered the first question.
    assert "Кто вы?" in (await agree(running_bot.person(3003, "Гость")))["text"]
    editor = running_bot.person(EDITOR_ID, "Редактор")
    [stats] = await editor.say("/stats")
    caption = stats["caption"]
    assert "2 подписчика: активны 2" in caption
    assert "Не завершили регистрацию: 1" in caption
    assert "Новые за 8 недель: 2, на этой неделе: 2" in caption
    _, detail = await editor.tap(stats, "Подписчики", expect="send")
    assert "Всего 2 подписчика" in detail["text"]
    assert "Не завершили регистрацию: 1" in detail["text"]
    assert "Новые за 8 недель: 2" in detail["text"]
    assert "Методист — 1" in detail["text"] and "Педагог — 1" in detail["text"]


async def test_stats_of_an_empty_bot_still_draw(running_bot: RunningBot) -> None:
    editor = running_bot.person(EDITOR_ID, "Редактор")
    [stats] = await editor.say("/stats")
    png = running_bot.emu.file_content(stats)
    keep(png, "stats-empty.png")
    assert png.startswith(PNG_SIGNATURE)
    caption = stats["caption"]
    assert "0 подписчиков" in caption
    assert "Не завершили регистрацию: 0" in caption
    assert "Рассылок ещё не было." in caption
    for label, empty in (
        ("Рассылки", "Рассылок ещё не было."),
        ("Мероприятия", "Ближайших мероприятий с датой нет."),
        ("Отзывы", "Оценок пока нет."),
    ):
        _, detail = await editor.tap(stats, label, expect="send")
        assert empty in detail["text"], label


async def test_every_section_is_short(running_bot: RunningBot) -> None:
    await seed(running_bot)
    editor = running_bot.person(EDITOR_ID, "Редактор")
    [stats] = await editor.say("/stats")
    for label in texts.STATS_SECTION_LABELS.values():
        before = len(running_bot.emu.messages(EDITOR_ID))
        _, detail = await editor.tap(stats, label, expect="send")
        assert len(running_bot.emu.messages(EDITOR_ID)) == before + 1, label  # one message
        assert len(detail["text"].splitlines()) <= 25, label


async def test_a_forged_stats_button_is_refused_to_a_subscriber(running_bot: RunningBot) -> None:
    await seed(running_bot)
    stranger = running_bot.person(2001, "Ирина Петровна")
    [refusal] = await stranger.say("/stats")
    assert "для редакторов" in refusal["text"]
    answer, _ = await stranger.tap_data(refusal, "st1:subscribers", expect="answer")
    assert "для редакторов" in answer.params["text"]
    assert running_bot.emu.messages(2001)[-1]["message_id"] == refusal["message_id"]
    assert not running_bot.emu.calls_of("sendPhoto")


async def test_a_chart_that_fails_leaves_the_figures(
    running_bot: RunningBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(data: object) -> bytes:
        raise RuntimeError("no fonts on this server")

    monkeypatch.setattr(charts, "stats_chart", broken)
    await seed(running_bot)
    editor = running_bot.person(EDITOR_ID, "Редактор")
    [stats] = await editor.say("/stats")
    assert "photo" not in stats
    assert "6 подписчиков" in stats["text"] and "Не завершили регистрацию: 1" in stats["text"]
    _, detail = await editor.tap(stats, "Рассылки", expect="send")
    assert "«Семинар координаторов»" in detail["text"]
    assert not running_bot.emu.calls_of("sendPhoto")
