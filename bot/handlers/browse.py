"""What's next (/next, /events and questions in words), materials, cases and search."""

from __future__ import annotations

from contextlib import suppress
from datetime import date, datetime, timedelta

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import BaseFilter, Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.methods import SendMessage
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message

from bot import texts
from bot.config import Settings
from bot.content.calendar import can_export, event_ics, ics_filename
from bot.content.formatting import Text
from bot.content.intents import Intent, Reading, read_text
from bot.content.models import Item, ItemKind, OrgKind, Role
from bot.content.topics import topics_label, topics_mask, topics_unmask
from bot.content.whatsnext import (
    FIRST_SCREEN,
    LABEL_EVENTS,
    LABEL_FOR,
    LABEL_UPCOMING,
    NextQuery,
    audience_label,
    default_query,
    describe_window,
    exportable,
)
from bot.handlers.common import offered_words, show
from bot.services.browsing import (
    Remind,
    find_answer,
    forget_reminder,
    remind_me,
    reminded,
)
from bot.services.container import Services
from bot.telegram import callbacks as cb
from bot.telegram import keyboards as kb
from bot.telegram.callbacks import Shelf
from bot.telegram.fsm import WordPrompt
from bot.telegram.render import as_kwargs

EVENTS_DAYS = 90
REMIND_ANSWERS = {
    Remind.ADDED: texts.REMIND_DONE,
    Remind.ALREADY: texts.REMIND_ALREADY,
    Remind.NO_DATE: texts.REMIND_NO_DATE,
    Remind.PAST: texts.REMIND_PAST,
    Remind.TOO_LATE: texts.REMIND_TOO_LATE,
}
SHELF_KINDS = {Shelf.MATERIALS: ItemKind.MATERIAL, Shelf.CASES: ItemKind.CASE}
FOUND_KINDS = {Shelf.MATERIALS_FOUND: ItemKind.MATERIAL, Shelf.CASES_FOUND: ItemKind.CASE}
VOTED_KINDS = frozenset({ItemKind.MATERIAL, ItemKind.CASE})
BROWSE_INTENTS = frozenset({Intent.NEXT, Intent.MATERIALS, Intent.CASES})


class OwnWords(BaseFilter):
    """Free text that asks what's coming («что в марте?», «когда экспертный совет»), or for
    materials or the sites' experience; hands the reading on. Anything else goes on to the
    fallback."""

    async def __call__(
        self, message: Message, settings: Settings, raw_state: str | None = None
    ) -> bool | dict[str, Reading]:
        # Inside a dialog (an editor writing a post, say) text belongs to the dialog.
        if raw_state is not None or not message.text or message.text.startswith("/"):
            return False
        reading = read_text(message.text, datetime.now(settings.tz).date())
        return {"reading": reading} if reading.intent in BROWSE_INTENTS else False


# --- what's next ---------------------------------------------------------------------------------


def _page_data(query: NextQuery, year_long: bool, page: int) -> cb.AnswerPage:
    return cb.AnswerPage(
        start=query.start.toordinal(),
        end=query.end.toordinal(),
        roles=cb.mask(query.roles, Role),
        orgs=cb.mask(query.org_kinds, OrgKind),
        topics=topics_mask(query.topics),
        year_long=year_long,
        page=page,
    )


async def _answer(
    query: NextQuery,
    page: int,
    chat_id: int,
    *,
    services: Services,
    settings: Settings,
    year_long: bool = False,
) -> tuple[Text | str, InlineKeyboardMarkup | None]:
    tz = settings.tz
    subscriber = await services.subscribers.get(chat_id)
    role = subscriber.role if subscriber else None
    org = subscriber.org_kind if subscriber else None
    answer = await find_answer(services.items, query, role, org, tz)
    year_long = year_long and bool(answer.folded)
    entries = answer.folded if year_long else answer.main
    if not entries:
        return texts.NEXT_EMPTY, None
    first = len(answer.leading) + 1 if year_long else 1  # numbers run on across the answer
    size = FIRST_SCREEN
    page = max(0, min(page, (len(entries) - 1) // size))
    shown = list(enumerate(entries, first))[page * size : (page + 1) * size]
    label, note = query.label, None
    if query.topics and not answer.topical:
        # Nothing about what was named: say so, and answer for the days asked about.
        named = topics_label(query.topics)
        label, note = label.removesuffix(f": {named}"), texts.ANSWER_NO_TOPIC.format(topic=named)
    if year_long:
        others = texts.ANSWER_OTHERS if answer.topical else texts.ANSWER_YEAR_LONG
        label = others.format(label=label)
    elif not answer.leading and note is None:
        # Nothing with a date of its own: the rows running all year, said to be so.
        note = texts.ANSWER_ONLY_YEAR_LONG
    if page > 0:
        label = texts.PAGE_LABEL.format(label=label)
    folded = len(answer.folded) if not year_long and page == 0 else 0
    content = texts.short_answer(
        label, shown, folded, tz, answer.foreign,
        others=answer.topical, note=note if page == 0 and not year_long else None,
    )  # fmt: skip
    now = datetime.now(tz)
    set_ = await reminded(services.reminders, chat_id, [item for _, item in shown])
    actions = [
        (
            n, item.id, item.starts_at is not None and item.starts_at > now, item.id in set_,
            exportable(item),
        )
        for n, item in shown
    ]  # fmt: skip
    back = None
    if page > 0:
        back = _page_data(query, year_long, page - 1)
    elif year_long:
        back = _page_data(query, False, 0)
    more = _page_data(query, year_long, page + 1) if (page + 1) * size < len(entries) else None
    fold = (folded, _page_data(query, True, 0)) if folded else None
    return content, kb.answer_keyboard(
        actions, fold=fold, back=back, more=more, others=answer.topical
    )


async def _reply(
    message: Message,
    query: NextQuery,
    *,
    services: Services,
    settings: Settings,
) -> SendMessage:
    content, markup = await _answer(
        query, 0, message.chat.id, services=services, settings=settings
    )
    return _card_message(message, content, markup)


async def next_command(
    message: Message,
    services: Services,
    settings: Settings,
) -> SendMessage:
    query = default_query(datetime.now(settings.tz).date())
    return await _reply(message, query, services=services, settings=settings)


async def events_command(
    message: Message,
    services: Services,
    settings: Settings,
) -> SendMessage:
    today = datetime.now(settings.tz).date()
    query = NextQuery(
        today, today + timedelta(days=EVENTS_DAYS - 1), frozenset(), frozenset(), False,
        texts.EVENTS_LABEL,
    )  # fmt: skip
    return await _reply(message, query, services=services, settings=settings)


async def own_words(
    message: Message,
    reading: Reading,
    services: Services,
    settings: Settings,
    state: FSMContext,
) -> SendMessage:
    if reading.intent is Intent.MATERIALS:
        return await _open_shelf(
            message, reading.words, services, settings, state,
            latest=Shelf.MATERIALS, found=Shelf.MATERIALS_FOUND,
        )  # fmt: skip
    if reading.intent is Intent.CASES:
        return await _open_shelf(
            message, reading.words, services, settings, state,
            latest=Shelf.CASES, found=Shelf.CASES_FOUND,
        )  # fmt: skip
    assert reading.query is not None
    return await _reply(message, reading.query, services=services, settings=settings)


def _query_of(
    start: date,
    end: date,
    roles: frozenset[Role],
    orgs: frozenset[OrgKind],
    topics: tuple[int, ...],
    today: date,
) -> NextQuery:
    """The query a page button carries, with a label like the first screen's."""
    label = describe_window(start, end, today) or texts.LABEL_WINDOW.format(
        span=texts.format_range(start, end)
    )
    if roles or orgs:
        if label == LABEL_UPCOMING:
            label = LABEL_EVENTS  # «Мероприятия для координаторов», as the first screen said
        label += " " + LABEL_FOR.format(audience=audience_label(roles, orgs))
    if topics:
        label += f": {topics_label(topics)}"
    return NextQuery(start, end, roles, orgs, bool(roles or orgs), label, topics)


async def _turn_page(
    callback: CallbackQuery,
    data: cb.AnswerPage | cb.NextPage,
    topics: tuple[int, ...],
    *,
    services: Services,
    settings: Settings,
    year_long: bool = False,
) -> None:
    """Another page of an answer, the query rebuilt from the button's window and audience."""
    await callback.answer()
    query = _query_of(
        date.fromordinal(data.start), date.fromordinal(data.end),
        cb.unmask(data.roles, Role), cb.unmask(data.orgs, OrgKind),
        topics, datetime.now(settings.tz).date(),
    )  # fmt: skip
    content, markup = await _answer(
        query, data.page, callback.from_user.id,
        services=services, settings=settings, year_long=year_long,
    )  # fmt: skip
    await show(callback, content, markup)


async def answer_page(
    callback: CallbackQuery,
    callback_data: cb.AnswerPage,
    services: Services,
    settings: Settings,
) -> None:
    await _turn_page(
        callback, callback_data, topics_unmask(callback_data.topics),
        services=services, settings=settings, year_long=callback_data.year_long,
    )  # fmt: skip


async def next_page(
    callback: CallbackQuery,
    callback_data: cb.NextPage,
    services: Services,
    settings: Settings,
) -> None:
    """«Ещё ▸» under answers sent before topics and folding: the same pages, without topics."""
    await _turn_page(callback, callback_data, (), services=services, settings=settings)


async def said_search(
    callback: CallbackQuery,
    services: Services,
    settings: Settings,
    state: FSMContext,
) -> None:
    """«🔎 Найти «…»» under the fallback: the words the person wrote, as /search would."""
    offered = await offered_words(callback, state)
    if offered is None:
        return
    message, said = offered
    words = " ".join(said.split())[:100]
    await state.update_data(search=words)
    await _card_message(message, *await _card(Shelf.SEARCH, 0, words, services, settings))


# --- remind me, add to calendar -----------------------------------------------------------------


async def _event(callback: CallbackQuery, services: Services, item_id: int) -> Item | None:
    item = await services.items.get(item_id)
    if item is None or item.kind is not ItemKind.EVENT:
        await callback.answer(texts.ITEM_GONE, show_alert=True)
        return None
    return item


async def remind(
    callback: CallbackQuery,
    callback_data: cb.Remind,
    services: Services,
    settings: Settings,
) -> None:
    item = await _event(callback, services, callback_data.item_id)
    if item is None:
        return
    now = datetime.now(settings.tz)
    done = await remind_me(services.reminders, item, callback.from_user.id, settings, now)
    if done not in (Remind.ADDED, Remind.ALREADY):
        await callback.answer(REMIND_ANSWERS[done], show_alert=True)
        return
    day = texts.reminder_day(item, settings.tz, now.date())
    await callback.answer(REMIND_ANSWERS[done].format(day=day))
    await _mark(callback, item.id, reminded=True)


async def unremind(
    callback: CallbackQuery,
    callback_data: cb.Unremind,
    services: Services,
) -> None:
    """«✅ Напомню» pressed again: no reminder, and the button says «Напомнить» again."""
    item = await _event(callback, services, callback_data.item_id)
    if item is None:
        return
    await forget_reminder(services.reminders, item.id, callback.from_user.id)
    await callback.answer(texts.REMIND_UNDONE)
    await _mark(callback, item.id, reminded=False)


async def _mark(callback: CallbackQuery, item_id: int, *, reminded: bool) -> None:
    message = callback.message
    if not isinstance(message, Message):
        return
    markup = kb.mark_reminder(message.reply_markup, item_id, reminded=reminded)
    if markup is not None:
        with suppress(TelegramBadRequest):  # pressed twice: the keyboard is already this one
            await message.edit_reply_markup(reply_markup=markup)


async def to_calendar(
    callback: CallbackQuery,
    callback_data: cb.Calendar,
    bot: Bot,
    services: Services,
    settings: Settings,
) -> None:
    item = await _event(callback, services, callback_data.item_id)
    if item is None:
        return
    if not can_export(item) or not exportable(item):
        await callback.answer(texts.ICS_NO_DATE, show_alert=True)
        return
    await callback.answer()
    data = event_ics(item, settings.tz, now=datetime.now(settings.tz))
    await bot.send_document(
        callback.from_user.id,
        BufferedInputFile(data, filename=ics_filename(item)),
        caption=texts.ICS_CAPTION,
    )


# --- materials, cases, search: one card at a time ------------------------------------------------


async def _card(
    shelf: Shelf, index: int, search: str | None, services: Services, settings: Settings
) -> tuple[Text | str, InlineKeyboardMarkup | None]:
    if shelf is Shelf.SEARCH:
        found, total = await services.items.search(search or "", limit=1, offset=index)
    elif shelf in FOUND_KINDS:
        found, total = await services.items.search(
            search or "", limit=1, offset=index, kind=FOUND_KINDS[shelf]
        )
    else:
        found, total = await services.items.latest(SHELF_KINDS[shelf], limit=1, offset=index)
    if not found:
        if shelf is Shelf.SEARCH:
            return texts.SEARCH_EMPTY.format(query=search), None
        if shelf is Shelf.CASES_FOUND:
            return texts.CASES_NOT_FOUND.format(query=search), None
        if shelf is Shelf.MATERIALS_FOUND:
            return texts.MATERIALS_NOT_FOUND.format(query=search), None
        return (texts.MATERIALS_EMPTY if shelf is Shelf.MATERIALS else texts.CASES_EMPTY), None
    item = found[0]
    heading = texts.CARD_HEADINGS[shelf.value].format(index=index + 1, total=total, query=search)
    markup = kb.card(shelf, index, total, item.id, votes=item.kind in VOTED_KINDS)
    return texts.card(heading, item, settings.tz), markup


def _card_message(
    message: Message, content: Text | str, markup: InlineKeyboardMarkup | None
) -> SendMessage:
    """The reply, for the handler to return: in webhook mode it goes in the answer to Telegram
    (bot/telegram/webhook.py), so a worker killed before answering has sent nothing."""
    body = content if isinstance(content, Text) else Text(content)
    return message.answer(**as_kwargs(body), reply_markup=markup)


async def _shelf(
    message: Message,
    command: CommandObject,
    services: Services,
    settings: Settings,
    state: FSMContext,
    *,
    latest: Shelf,
    found: Shelf,
) -> SendMessage:
    return await _open_shelf(
        message, command.args or "", services, settings, state, latest=latest, found=found
    )


async def _open_shelf(
    message: Message,
    words: str,
    services: Services,
    settings: Settings,
    state: FSMContext,
    *,
    latest: Shelf,
    found: Shelf,
) -> SendMessage:
    words = " ".join(words.split())[:100]
    if not words:
        return _card_message(message, *await _card(latest, 0, None, services, settings))
    await state.update_data(search=words)
    return _card_message(message, *await _card(found, 0, words, services, settings))


async def materials_command(
    message: Message,
    command: CommandObject,
    services: Services,
    settings: Settings,
    state: FSMContext,
) -> SendMessage:
    """/materials: the latest first; /materials WORDS: those on a topic."""
    return await _shelf(
        message, command, services, settings, state,
        latest=Shelf.MATERIALS, found=Shelf.MATERIALS_FOUND,
    )  # fmt: skip


async def cases_command(
    message: Message,
    command: CommandObject,
    services: Services,
    settings: Settings,
    state: FSMContext,
) -> SendMessage:
    """/cases: the latest first; /cases WORDS: those of a site or on a theme."""
    return await _shelf(
        message,
        command,
        services,
        settings,
        state,
        latest=Shelf.CASES,
        found=Shelf.CASES_FOUND,
    )


async def search_command(
    message: Message,
    command: CommandObject,
    services: Services,
    settings: Settings,
    state: FSMContext,
) -> SendMessage:
    text = " ".join((command.args or "").split())[:100]
    if not text:
        # A tap on /search in the menu sends it bare: the words are asked for, the phone's
        # keyboard opens on a reply to the question (menu.search_words takes it).
        await state.set_state(WordPrompt.search)
        return message.answer(
            texts.SEARCH_PROMPT, reply_markup=kb.word_prompt(texts.SEARCH_PLACEHOLDER)
        )
    # The words stay with the chat, so «Ещё ▸» under the results can page through them.
    await state.update_data(search=text)
    return _card_message(message, *await _card(Shelf.SEARCH, 0, text, services, settings))


async def turn_card(
    callback: CallbackQuery,
    callback_data: cb.Card,
    services: Services,
    settings: Settings,
    state: FSMContext,
) -> None:
    search = None
    if callback_data.shelf in (Shelf.SEARCH, *FOUND_KINDS):
        search = (await state.get_data()).get("search")
        if not search:
            await callback.answer(texts.SEARCH_EXPIRED, show_alert=True)
            return
    content, markup = await _card(
        callback_data.shelf, max(0, callback_data.index), search, services, settings
    )
    await callback.answer()
    await show(callback, content, markup)


async def vote(
    callback: CallbackQuery,
    callback_data: cb.Vote,
    services: Services,
) -> None:
    item = await services.items.get(callback_data.item_id)
    if item is None or item.kind not in VOTED_KINDS:
        await callback.answer(texts.ITEM_GONE, show_alert=True)
        return
    await services.feedback.record(item.id, callback.from_user.id, callback_data.useful)
    await callback.answer(texts.VOTE_THANKS)


def build_router() -> Router:
    router = Router(name="browse")
    router.message.register(next_command, Command("next"))
    router.message.register(events_command, Command("events"))
    router.message.register(materials_command, Command("materials"))
    router.message.register(cases_command, Command("cases"))
    router.message.register(search_command, Command("search"))
    router.message.register(own_words, F.text, OwnWords())
    router.callback_query.register(answer_page, cb.AnswerPage.filter())
    router.callback_query.register(next_page, cb.NextPage.filter())
    router.callback_query.register(remind, cb.Remind.filter())
    router.callback_query.register(unremind, cb.Unremind.filter())
    router.callback_query.register(said_search, cb.Fallback.filter(F.offer == cb.Offer.SEARCH))
    router.callback_query.register(to_calendar, cb.Calendar.filter())
    router.callback_query.register(turn_card, cb.Card.filter())
    router.callback_query.register(vote, cb.Vote.filter())
    return router
