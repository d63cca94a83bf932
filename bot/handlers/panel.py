"""The editors' Пульт (/panel): the editor commands that don't fit the menu, as buttons.

Each button runs its command's own handler, as if the command was typed without arguments;
the router sits inside the editors' area, so a button pressed by anyone else is refused by the
gate. «Редакторы» is for owners, as /editors is.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot import texts
from bot.config import Settings
from bot.handlers import edit_post, feeds_desk, new_post, questions, queue, reports, team
from bot.services.container import Services
from bot.telegram import callbacks as cb
from bot.telegram import keyboards as kb

Run = Callable[[Message, CommandObject, Bot, FSMContext, Settings, Services], Awaitable[None]]

RUNS: dict[cb.PanelCommand, Run] = {
    cb.PanelCommand.NEW: lambda m, c, b, st, se, sv: new_post.new_command(m, st),
    cb.PanelCommand.QUEUE: lambda m, c, b, st, se, sv: queue.queue_command(m, sv, se),
    cb.PanelCommand.EDIT: lambda m, c, b, st, se, sv: edit_post.edit_command(m, c, st, sv),
    cb.PanelCommand.QUESTIONS: lambda m, c, b, st, se, sv: questions.questions_command(m, sv),
    cb.PanelCommand.STATS: lambda m, c, b, st, se, sv: reports.stats_command(m, se, sv),
    cb.PanelCommand.EXPORT: lambda m, c, b, st, se, sv: reports.export_command(m, c, b, se, sv),
    cb.PanelCommand.FEEDS: lambda m, c, b, st, se, sv: feeds_desk.feeds_command(
        m, c, b, st, se, sv
    ),
    cb.PanelCommand.EDITORS: lambda m, c, b, st, se, sv: team.editors_command(m, c, st, se, sv),
}


async def panel_command(message: Message, settings: Settings) -> None:
    owner = message.from_user is not None and settings.is_admin(message.from_user.id)
    await message.answer(texts.PANEL_TITLE, reply_markup=kb.panel(owner))


async def panel_pressed(
    callback: CallbackQuery,
    callback_data: cb.PanelOpen,
    bot: Bot,
    state: FSMContext,
    settings: Settings,
    services: Services,
) -> None:
    message = callback.message
    if not isinstance(message, Message):  # too old for Telegram to show
        await callback.answer(texts.STALE_BUTTON, show_alert=True)
        return
    command = callback_data.command
    if command is cb.PanelCommand.EDITORS and not settings.is_admin(callback.from_user.id):
        await callback.answer(texts.PANEL_OWNERS_ONLY, show_alert=True)
        return
    await callback.answer()
    typed = CommandObject(prefix="/", command=command.value)
    await RUNS[command](message, typed, bot, state, settings, services)


def build_router() -> Router:
    router = Router(name="panel")
    router.message.register(panel_command, Command("panel"))
    router.callback_query.register(panel_pressed, cb.PanelOpen.filter())
    return router
