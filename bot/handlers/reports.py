"""/stats and /export: the editors' figures and CSV exports (bot/services/reports.py)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, Message, MessageEntity

from bot import texts
from bot.config import Settings
from bot.content.ids import is_number, parse_id
from bot.services import reports
from bot.services.container import Services

log = logging.getLogger(__name__)


async def stats_command(message: Message, settings: Settings, services: Services) -> None:
    parts = await reports.stats(
        services.reports, services.subscribers, settings.tz, datetime.now(UTC)
    )
    for part in parts:
        await message.answer(
            text=part.text,
            entities=[MessageEntity.model_validate(e) for e in part.entities] or None,
        )


async def _send(message: Message, bot: Bot, export: reports.Export) -> None:
    await bot.send_document(
        message.chat.id,
        BufferedInputFile(export.data, filename=export.filename),
        caption=export.caption,
    )


async def export_subscribers(
    message: Message, bot: Bot, settings: Settings, services: Services
) -> None:
    export = await reports.subscribers_csv(services.reports, settings.tz, datetime.now(UTC))
    user_id = message.from_user.id if message.from_user else 0
    log.info("export: user=%s what=subscribers rows=%s", user_id, export.rows)
    await _send(message, bot, export)


async def export_rsvp(
    message: Message, bot: Bot, settings: Settings, services: Services, arg: str
) -> None:
    if not is_number(arg):
        await message.answer(texts.EXPORT_BAD_EVENT_ID)
        return
    item_id = parse_id(arg)
    export = (
        await reports.rsvp_csv(services.reports, item_id, settings.tz)
        if item_id is not None
        else None
    )
    if export is None:
        await message.answer(texts.EXPORT_NO_EVENT.format(id=arg[:20]))
        return
    user_id = message.from_user.id if message.from_user else 0
    log.info("export: user=%s what=rsvp event=%s rows=%s", user_id, item_id, export.rows)
    await _send(message, bot, export)


async def export_command(
    message: Message,
    command: CommandObject,
    bot: Bot,
    settings: Settings,
    services: Services,
) -> None:
    words = (command.args or "").split()
    what = words[0].lower() if words else ""
    if what in ("subscribers", "подписчики") and len(words) == 1:
        await export_subscribers(message, bot, settings, services)
    elif what in ("rsvp", "напомнить") and len(words) == 2:
        await export_rsvp(message, bot, settings, services, words[1].lstrip("№"))
    elif what in ("rsvp", "напомнить"):
        await message.answer(texts.EXPORT_BAD_EVENT_ID)
    else:
        await message.answer(texts.EXPORT_USAGE)


def build_router() -> Router:
    router = Router(name="reports")
    router.message.register(stats_command, Command("stats"))
    router.message.register(export_command, Command("export"))
    return router
