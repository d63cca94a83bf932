"""The editors' area. One router admits owners and editors only, for messages and buttons
alike; a gate after it refuses everyone else politely and writes the refusal to the audit log."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message, TelegramObject

from bot import texts
from bot.config import Settings
from bot.handlers import (
    edit_post,
    feeds_desk,
    new_post,
    panel,
    plan_upload,
    questions,
    queue,
    reports,
    team,
)
from bot.services.container import Services
from bot.telegram.filters import EditorButton, IsEditor

log = logging.getLogger(__name__)


def editor_command_names() -> tuple[str, ...]:
    subscriber = {c.command for c in texts.SUBSCRIBER_COMMANDS}
    return tuple(c.command for c in texts.EDITOR_COMMANDS if c.command not in subscriber)


def describe(event: TelegramObject) -> tuple[str, str]:
    """(action, details) for the audit log: the command or the button's prefix, and the rest."""
    if isinstance(event, CallbackQuery):
        data = event.data or ""
        return data.split(":", 1)[0] or "button", data
    if isinstance(event, Message):
        text = event.text or event.caption or ""
        if text.startswith("/"):
            return text.split()[0].split("@")[0], text
        kind = "document" if event.document else "message"
        return kind, text
    return type(event).__name__, ""


class AuditEditorActions(BaseMiddleware):
    """Inner middleware of the editors' area: every action that reached a handler is logged."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        result = await handler(event, data)
        user = data.get("event_from_user")
        services: Services = data["services"]
        if user is not None:
            action, details = describe(event)
            await services.audit.record(user.id, action, allowed=True, details=details)
        return result


def build_router() -> Router:
    router = Router(name="editors")
    router.message.filter(IsEditor())
    router.callback_query.filter(IsEditor())
    audit = AuditEditorActions()
    router.message.middleware(audit)
    router.callback_query.middleware(audit)
    router.include_routers(
        team.build_router(),
        new_post.build_router(),
        queue.build_router(),
        reports.build_router(),
        feeds_desk.build_router(),
        plan_upload.build_router(),
        questions.build_editor_router(),
        edit_post.build_router(),
        panel.build_router(),
    )
    return router


async def refuse_command(message: Message, services: Services) -> None:
    user_id = message.from_user.id if message.from_user else 0
    action, details = describe(message)
    log.warning("editor command refused: user=%s action=%s", user_id, action)
    await services.audit.record(user_id, action, allowed=False, details=details)
    await message.answer(texts.EDITORS_ONLY)


async def refuse_button(
    callback: CallbackQuery,
    services: Services,
    settings: Settings,
) -> None:
    if await IsEditor()(callback, settings, services):
        # An editor's own button that no longer parses or fits (an old card): not a refusal.
        await callback.answer(texts.STALE_BUTTON, show_alert=True)
        return
    action, details = describe(callback)
    log.warning("editor button refused: user=%s action=%s", callback.from_user.id, action)
    await services.audit.record(callback.from_user.id, action, allowed=False, details=details)
    await callback.answer(texts.EDITORS_ONLY, show_alert=True)


def build_gate() -> Router:
    router = Router(name="editor-gate")
    router.message.register(refuse_command, Command(*editor_command_names()))
    router.callback_query.register(refuse_button, EditorButton())
    return router
