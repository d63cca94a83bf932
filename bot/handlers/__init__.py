"""All routers, in the order they are asked: specific first, the fallback last.

Routers are built afresh for every dispatcher (a router can have only one parent), so tests and
benchmarks can run several bots in one process.
"""

from __future__ import annotations

from aiogram import Router

from bot.handlers import (
    browse,
    digest_actions,
    editors,
    elsewhere,
    fallback,
    menu,
    preferences,
    questions,
    start,
    subscription,
)
from bot.telegram.filters import PrivateChat


def build_router() -> Router:
    root = Router(name="root")
    # The bot serves people in private chats; it stays silent if someone adds it to a group.
    root.message.filter(PrivateChat())

    subscriber_area = Router(name="subscriber")
    # Buttons count only from the presser's own chat; the fallback answers the rest.
    subscriber_area.callback_query.filter(PrivateChat())
    # Browsing comes last here: its free-text questions must not take a typed answer from
    # a dialog (the organisation's name) or a command.
    subscriber_area.include_routers(
        # A digest entry's link is a /start with a payload: asked before /start itself.
        digest_actions.build_router(),
        start.build_router(),
        # The main menu's buttons before any dialog: their words are never a dialog's answer.
        menu.build_router(),
        preferences.build_router(),
        subscription.build_router(),
        questions.build_subscriber_router(),
        browse.build_router(),
    )
    editor_area = editors.build_router()
    editor_area.callback_query.filter(PrivateChat())
    # The gate right after the editors' area refuses their commands and buttons to everyone
    # else (and audits it); the fallback comes last.
    root.include_routers(
        elsewhere.build_group_router(),
        subscriber_area,
        editor_area,
        editors.build_gate(),
        elsewhere.build_media_router(),
        fallback.build_router(),
    )
    return root
