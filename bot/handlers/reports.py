"""/stats and /export: the editors' figures as a picture with a short summary, and exports as
.xlsx or CSV picked by buttons (bot/services/reports.py)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from aiogram import Bot, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
)

from bot import texts
from bot.config import Settings
from bot.content.ids import is_number, parse_id
from bot.content.models import MessagePart
from bot.services import reports
from bot.services.container import Services
from bot.telegram import callbacks as cb
from bot.telegram import keyboards as kb

log = logging.getLogger(__name__)

FORMATS = {"xlsx": reports.ExportFormat.XLSX, "excel": reports.ExportFormat.XLSX}


def _entities(part: MessagePart) -> list[MessageEntity] | None:
    return [MessageEntity.model_validate(e) for e in part.entities] or None


# --- /stats ------------------------------------------------------------------------------------


async def stats_command(message: Message, settings: Settings, services: Services) -> None:
    """One photo: the chart, the summary as its caption, «Подробнее» buttons under it."""
    stats = await reports.gather(services.reports, settings.tz, datetime.now(UTC))
    summary = reports.summary(stats, settings.tz)
    try:
        png = await reports.chart(stats, settings.tz)
    except Exception:  # the figures still count without their picture
        log.exception("stats: the chart failed; the summary goes out without it")
        await message.answer(
            summary.text, entities=_entities(summary), reply_markup=kb.stats_more()
        )
        return
    await message.answer_photo(
        BufferedInputFile(png, filename=f"infozona-stats-{stats.today:%Y-%m-%d}.png"),
        caption=summary.text,
        caption_entities=_entities(summary),
        reply_markup=kb.stats_more(),
    )


async def stats_more_pressed(
    callback: CallbackQuery, callback_data: cb.StatsMore, settings: Settings, services: Services
) -> None:
    message = callback.message
    if not isinstance(message, Message):  # too old for Telegram to show
        await callback.answer(texts.STALE_BUTTON, show_alert=True)
        return
    await callback.answer()
    stats = await reports.gather(services.reports, settings.tz, datetime.now(UTC))
    section = reports.Section(callback_data.section.value)
    for part in reports.detail(stats, section, settings.tz):
        await message.answer(text=part.text, entities=_entities(part))


# --- /export -----------------------------------------------------------------------------------


async def _send(chat_id: int, bot: Bot, export: reports.Export) -> None:
    await bot.send_document(
        chat_id,
        BufferedInputFile(export.data, filename=export.filename),
        caption=export.caption,
    )


async def export_subscribers(
    message: Message,
    bot: Bot,
    settings: Settings,
    services: Services,
    fmt: reports.ExportFormat = reports.ExportFormat.CSV,
    user_id: int | None = None,
) -> None:
    export = await reports.subscribers_file(services.reports, settings.tz, datetime.now(UTC), fmt)
    if user_id is None:
        user_id = message.from_user.id if message.from_user else 0
    log.info(
        "export: user=%s what=subscribers format=%s rows=%s unfinished=%s",
        user_id, fmt.value, export.rows, export.unfinished,
    )  # fmt: skip
    await _send(message.chat.id, bot, export)


async def export_rsvp(
    message: Message,
    bot: Bot,
    settings: Settings,
    services: Services,
    arg: str,
    fmt: reports.ExportFormat = reports.ExportFormat.CSV,
) -> None:
    if not is_number(arg):
        await message.answer(texts.EXPORT_BAD_EVENT_ID)
        return
    item_id = parse_id(arg)
    export = (
        await reports.rsvp_file(services.reports, item_id, settings.tz, fmt)
        if item_id is not None
        else None
    )
    if export is None:
        await message.answer(texts.EXPORT_NO_EVENT.format(id=arg[:20]))
        return
    user_id = message.from_user.id if message.from_user else 0
    log.info(
        "export: user=%s what=rsvp event=%s format=%s rows=%s",
        user_id, item_id, fmt.value, export.rows,
    )  # fmt: skip
    await _send(message.chat.id, bot, export)


async def export_command(
    message: Message,
    command: CommandObject,
    bot: Bot,
    settings: Settings,
    services: Services,
) -> None:
    """Bare: the export buttons. Typed forms still work: `/export subscribers [xlsx]`,
    `/export rsvp № [xlsx]` (CSV unless «xlsx» is said)."""
    words = (command.args or "").split()
    if not words:
        await message.answer(texts.EXPORT_CHOOSE, reply_markup=kb.export_menu())
        return
    what = words[0].lower()
    fmt = reports.ExportFormat.CSV
    if len(words) > 1 and words[-1].lower() in (*FORMATS, "csv"):
        fmt = FORMATS.get(words.pop().lower(), reports.ExportFormat.CSV)
    if what in ("subscribers", "подписчики") and len(words) == 1:
        await export_subscribers(message, bot, settings, services, fmt)
    elif what in ("rsvp", "напомнить") and len(words) == 2:
        await export_rsvp(message, bot, settings, services, words[1].lstrip("№"), fmt)
    elif what in ("rsvp", "напомнить"):
        await message.answer(texts.EXPORT_BAD_EVENT_ID)
    else:
        await message.answer(texts.EXPORT_USAGE)


async def _show(message: Message, text: str, markup: InlineKeyboardMarkup) -> None:
    """Replace the export step on screen; under the /stats picture (a photo's caption can't
    become this text), a new message instead."""
    if message.photo:
        await message.answer(text, reply_markup=markup)
        return
    try:
        await message.edit_text(text, reply_markup=markup)
    except TelegramBadRequest as exc:  # the same step pressed twice: it is on screen already
        if "message is not modified" not in exc.message:
            raise


async def export_pick(
    callback: CallbackQuery, callback_data: cb.ExportPick, settings: Settings, services: Services
) -> None:
    message = callback.message
    if not isinstance(message, Message):
        await callback.answer(texts.STALE_BUTTON, show_alert=True)
        return
    what = callback_data.what
    if what is cb.ExportWhat.MENU:
        await callback.answer()
        await _show(message, texts.EXPORT_CHOOSE, kb.export_menu())
    elif what is cb.ExportWhat.SUBSCRIBERS:
        await callback.answer()
        totals = await reports.subscriber_totals(services.reports)
        text = texts.EXPORT_FORMAT_SUBSCRIBERS.format(
            count=texts.count(totals.total, "человек", "человека", "человек"),
            unfinished=texts.unfinished_signups(totals.unfinished),
        )
        await _show(message, text, kb.export_formats(cb.ExportWhat.SUBSCRIBERS))
    elif callback_data.event == 0:
        await callback.answer()
        events = await reports.export_events(services.reports, datetime.now(UTC))
        if not events:
            await _show(message, texts.EXPORT_NO_EVENTS, kb.export_events([]))
            return
        labels = [(e.item_id, reports.event_button_label(e, settings.tz)) for e in events]
        await _show(message, texts.EXPORT_PICK_EVENT, kb.export_events(labels))
    else:
        event = await reports.event_export(services.reports, callback_data.event, settings.tz)
        if event is None:  # removed since, or a forged number: nothing changes
            await callback.answer(
                texts.EXPORT_NO_EVENT.format(id=callback_data.event), show_alert=True
            )
            return
        await callback.answer()
        text = texts.EXPORT_FORMAT_EVENT.format(
            title=event.title[:200],
            when=event.when,
            count=texts.count(event.presses, "человек", "человека", "человек"),
        )
        await _show(message, text, kb.export_formats(cb.ExportWhat.RSVP, event.item_id))


async def export_file(
    callback: CallbackQuery,
    callback_data: cb.ExportFile,
    bot: Bot,
    settings: Settings,
    services: Services,
) -> None:
    message = callback.message
    if not isinstance(message, Message) or callback_data.what is cb.ExportWhat.MENU:
        await callback.answer(texts.STALE_BUTTON, show_alert=True)
        return
    fmt = reports.ExportFormat(callback_data.fmt.value)
    user_id = callback.from_user.id
    if callback_data.what is cb.ExportWhat.SUBSCRIBERS:
        await callback.answer(texts.EXPORT_PREPARING)
        await export_subscribers(message, bot, settings, services, fmt, user_id=user_id)
        return
    export = await reports.rsvp_file(services.reports, callback_data.event, settings.tz, fmt)
    if export is None:
        await callback.answer(
            texts.EXPORT_NO_EVENT.format(id=callback_data.event), show_alert=True
        )
        return
    await callback.answer(texts.EXPORT_PREPARING)
    log.info(
        "export: user=%s what=rsvp event=%s format=%s rows=%s",
        user_id, callback_data.event, fmt.value, export.rows,
    )  # fmt: skip
    await _send(message.chat.id, bot, export)


def build_router() -> Router:
    router = Router(name="reports")
    router.message.register(stats_command, Command("stats"))
    router.message.register(export_command, Command("export"))
    router.callback_query.register(stats_more_pressed, cb.StatsMore.filter())
    router.callback_query.register(export_pick, cb.ExportPick.filter())
    router.callback_query.register(export_file, cb.ExportFile.filter())
    return router
