"""An editor sends the annual plan as a file (.docx or .txt): it is read, stored as activities
and reported on; re-sending the same plan changes nothing."""

from __future__ import annotations

import io
import logging
from datetime import datetime

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot import texts
from bot.config import Settings
from bot.content.plan import PlanFormatError, PlanProblem
from bot.handlers.common import drop_keyboard
from bot.services.container import Services
from bot.services.plan_import import stored_unresolved
from bot.services.plan_upload import (
    PLAN_FILE_MAX,
    PlanTooBigError,
    check_plan_size,
    import_plan_file,
    likely_school_years,
)
from bot.telegram import callbacks as cb
from bot.telegram import keyboards as kb

log = logging.getLogger(__name__)

MESSAGE_MAX = 4000
# The dialog data key of a plan waiting for its school year (a Telegram file id).
PLAN_FILE_KEY = "plan_file"


async def _download(bot: Bot, file_id: str) -> bytes | None:
    buffer = io.BytesIO()
    try:
        await bot.download(file_id, destination=buffer)
    except TelegramAPIError as exc:
        log.warning("plan download failed: %s", type(exc).__name__)
        return None
    return buffer.getvalue()


async def plan_document(
    message: Message, bot: Bot, settings: Settings, services: Services, state: FSMContext
) -> None:
    document = message.document
    assert document is not None
    await _import(message, bot, settings, services, state, document.file_id, document.file_size)


async def school_year_picked(
    callback: CallbackQuery,
    callback_data: cb.PlanSchoolYear,
    bot: Bot,
    settings: Settings,
    services: Services,
    state: FSMContext,
) -> None:
    """The editor named the school year of a plan whose title has none: import it with it."""
    file_id = (await state.get_data()).get(PLAN_FILE_KEY)
    await callback.answer()
    if not isinstance(callback.message, Message):
        return
    if not isinstance(file_id, str):
        await callback.message.answer(texts.PLAN_YEAR_FILE_GONE)
        return
    await drop_keyboard(bot, callback.message.chat.id, callback.message.message_id)
    year = (callback_data.first_year, callback_data.first_year + 1)
    await _import(callback.message, bot, settings, services, state, file_id, None, year)


async def _import(
    message: Message,
    bot: Bot,
    settings: Settings,
    services: Services,
    state: FSMContext,
    file_id: str,
    size: int | None,
    school_year: tuple[int, int] | None = None,
) -> None:
    now = datetime.now(settings.tz)
    try:
        check_plan_size(size or 0)  # file_size is optional: the bytes are checked again
        data = await _download(bot, file_id)
        if data is None:
            await message.answer(texts.PLAN_UPLOAD_DOWNLOAD_FAILED)
            return
        plan, report = await import_plan_file(
            data, services.items, settings.tz, now, school_year=school_year
        )
    except PlanTooBigError as exc:
        await message.answer(texts.plan_too_big(exc.size, PLAN_FILE_MAX))
        return
    except PlanFormatError as exc:
        log.info("plan upload refused: %s", exc.problem.value)
        if exc.problem is PlanProblem.NO_SCHOOL_YEAR and school_year is None:
            # Kept for the answer: the file is downloaded again once the year is known.
            await state.update_data({PLAN_FILE_KEY: file_id})
            await message.answer(
                texts.PLAN_ASK_SCHOOL_YEAR.format(title=exc.title or texts.PLAN_UNTITLED),
                reply_markup=kb.plan_school_years(likely_school_years(now.date())),
            )
            return
        await message.answer(texts.PLAN_PROBLEMS.get(exc.problem.value, str(exc)))
        return
    if school_year is not None:
        await state.update_data({PLAN_FILE_KEY: None})
    log.info(
        "plan uploaded: new=%s updated=%s unchanged=%s unresolved=%s",
        report.new, report.updated, report.unchanged, len(report.unresolved),
    )  # fmt: skip
    rows = [(u.shown_number, u.title, u.timing, u.reason.value) for u in report.unresolved]
    summary = texts.plan_report(report.new, report.updated, report.unchanged, rows)
    if len(summary) > MESSAGE_MAX - 300:
        # A long list of unresolved rows goes behind the button, in parts.
        summary = summary.split("\n", 1)[0]
    await message.answer(
        texts.plan_uploaded(plan.title, summary),
        reply_markup=kb.plan_unresolved(plan.school_year) if rows else None,
    )


async def show_unresolved(
    callback: CallbackQuery, callback_data: cb.PlanUnresolved, services: Services
) -> None:
    first = callback_data.first_year
    year = (first, first) if callback_data.calendar else (first, first + 1)
    label = texts.plan_year_label(year)
    rows = await stored_unresolved(services.items, year)
    await callback.answer()
    if callback.message is None:
        return
    if not rows:
        text = texts.PLAN_UNRESOLVED_NONE.format(year=label)
        await callback.bot.send_message(callback.message.chat.id, text)  # type: ignore[union-attr]
        return
    listing = texts.plan_unresolved_list(
        label, [(u.shown_number, u.title, u.timing, u.reason.value) for u in rows]
    )
    for part in _parts(listing):
        await callback.bot.send_message(callback.message.chat.id, part)  # type: ignore[union-attr]


def _parts(text: str) -> list[str]:
    """Split at line breaks into messages that fit Telegram's limit."""
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        line = line[:MESSAGE_MAX]
        if current and len(current) + 1 + len(line) > MESSAGE_MAX:
            parts.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        parts.append(current)
    return parts


def build_router() -> Router:
    router = Router(name="plan-upload")
    # Only with no dialog open: a file sent inside a dialog (an attachment to a post) is the
    # dialog's.
    router.message.register(plan_document, F.document, StateFilter(None))
    router.callback_query.register(show_unresolved, cb.PlanUnresolved.filter())
    router.callback_query.register(school_year_picked, cb.PlanSchoolYear.filter())
    return router
