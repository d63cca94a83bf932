"""Commands for IMC editors. The router admits editors only, for messages and buttons alike."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message

from bot import texts
from bot.filters import IsEditor
from bot.storage.subscribers import SubscriberRepository


async def stats_command(message: Message, subscribers: SubscriberRepository) -> None:
    content = texts.subscriber_stats(
        await subscribers.count_by("status"),
        await subscribers.count_by("role"),
        await subscribers.count_by("org_kind"),
    )
    await message.answer(**content.as_kwargs())


def build_router() -> Router:
    router = Router(name="editors")
    router.message.filter(IsEditor())
    router.callback_query.filter(IsEditor())
    router.message.register(stats_command, Command("stats"))
    return router
