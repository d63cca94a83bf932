"""Editors manage the sites' feeds from the bot: add by sending the link and answering two
questions by buttons (the link fetched once from a loopback site), list, pause, route,
remove; the typed English form still works."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.content.feeds import FeedKind
from bot.storage.db import utcnow
from bot.storage.editors import AuditRepository
from bot.storage.feeds import FeedRepository
from bot.storage.schema import items
from tests.support.harness import EDITOR_ID, RunningBot, onboard

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
RSS = (
    '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
    "<title>Новости школы №5</title><link>/</link>"
    "<item><guid>a</guid><title>Семинар</title><link>/a</link>"
    "<pubDate>Fri, 27 Nov 2026 09:00:00 +0000</pubDate><description>Текст</description></item>"
    "<item><guid>b</guid><title>Совет</title><link>/b</link>"
    "<pubDate>Wed, 25 Nov 2026 09:00:00 +0000</pubDate><description>Текст</description></item>"
    "</channel></rss>"
).encode()
PAGE = b"<!doctype html><html><head><title>School 5</title></head><body>Hi</body></html>"


@dataclass
class Site:
    """A school's web site on loopback: paths answered by handlers, requests counted."""

    routes: dict[str, Handler] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)
    server: TestServer | None = None

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        self.hits.append(request.path)
        handler = self.routes.get(request.path)
        if handler is None:
            raise web.HTTPNotFound()
        return await handler(request)

    def url(self, path: str) -> str:
        assert self.server is not None
        return str(self.server.make_url(path))

    def serve(self, path: str, body: bytes, content_type: str) -> None:
        async def handler(request: web.Request) -> web.StreamResponse:
            return web.Response(body=body, headers={"Content-Type": content_type})

        self.routes[path] = handler

    def redirect(self, path: str, to: str, status: int) -> None:
        async def handler(request: web.Request) -> web.StreamResponse:
            return web.Response(status=status, headers={"Location": to})

        self.routes[path] = handler


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    site = Site()
    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", site.dispatch)
    site.server = TestServer(app, host="127.0.0.1")
    await site.server.start_server()
    try:
        yield site
    finally:
        await site.server.close()


def labels(running_bot: RunningBot, message: dict[str, Any]) -> list[str]:
    return [text for text, _ in running_bot.emu.buttons(message)]


def lines(message: dict[str, Any]) -> int:
    return len(message["text"].splitlines())


def phone_lines(message: dict[str, Any], width: int = 40) -> int:
    """Lines on a phone's screen, a long line wrapping."""
    return sum(max(1, -(-len(line) // width)) for line in message["text"].splitlines())


async def test_an_editor_adds_a_feed_by_sending_its_link_and_two_taps(
    running_bot: RunningBot, site: Site
) -> None:
    site.serve("/rss", RSS, "application/rss+xml; charset=utf-8")
    editor = running_bot.person(EDITOR_ID, "Редактор")
    feeds = FeedRepository(running_bot.engine)
    [empty] = await editor.say("/feeds")
    assert "Лент пока нет. Пришлите ссылку на ленту сайта" in empty["text"]
    assert labels(running_bot, empty) == ["➕ Добавить ленту"]

    [found] = await editor.say(site.url("/rss"))
    assert site.hits == ["/rss"]  # fetched once
    assert found["text"].splitlines() == [
        "Нашёл ленту «Новости школы №5»: 2 записи, последняя — пт, 27 ноября.",
        "Что в ней?",
    ]
    assert labels(running_bot, found) == ["📚 Материалы", "💡 Опыт площадок", "📰 Новости"]
    assert await feeds.all() == []  # nothing stored before the answers

    _, route = await editor.tap(found, "Материалы")
    assert route["text"].splitlines()[:2] == [
        "«Новости школы №5» · материалы",
        "Новые записи — через очередь или сразу в дайджест?",
    ]
    assert labels(running_bot, route) == ["📥 Через очередь", "⚡ Сразу в дайджест"]
    assert await feeds.all() == []

    _, done = await editor.tap(route, "Через очередь")
    [feed] = await feeds.all()
    assert done["text"] == (
        f"✅ Лента №{feed.id} «Новости школы №5» добавлена: материалы, через очередь — "
        f"{site.url('/rss')}"
    )
    assert (feed.url, feed.kind, feed.auto_approve, feed.title, feed.enabled) == (
        site.url("/rss"), FeedKind.MATERIAL, False, "Новости школы №5", True,
    )  # fmt: skip
    assert "⏸ Приостановить" in labels(running_bot, done)

    # The dialog is over: the old buttons change nothing, a second press adds no second feed.
    answer, _ = await editor.tap(route, "Сразу в дайджест", expect="answer")
    assert "уже не действует" in answer.params["text"] and answer.params["show_alert"]
    answer, _ = await editor.tap(found, "Новости", expect="answer")
    assert "уже не действует" in answer.params["text"]
    assert await feeds.all() == [feed]
    # And the same link again is refused at once, without a second feed.
    await editor.say("/feeds")
    [exists] = await editor.say(site.url("/rss"))
    assert f"уже добавлена (№{feed.id})" in exists["text"]
    assert await feeds.all() == [feed]
    assert site.hits == ["/rss"]


async def test_add_by_the_button_a_page_is_no_feed_and_a_301_stores_the_new_address(
    running_bot: RunningBot, site: Site
) -> None:
    site.serve("/", PAGE, "text/html; charset=utf-8")
    site.serve("/new/feed", RSS, "application/rss+xml")
    site.redirect("/rss", "/new/feed", 301)
    editor = running_bot.person(EDITOR_ID, "Редактор")
    feeds = FeedRepository(running_bot.engine)
    desk = await editor.say_one("/feeds")
    _, prompt = await editor.tap(desk, "Добавить ленту", expect="send")
    assert "Пришлите ссылку на ленту сайта (RSS или Atom)" in prompt["text"]
    markup = running_bot.emu.calls_of("sendMessage", EDITOR_ID)[-1].params["reply_markup"]
    assert markup["force_reply"] is True and markup["input_field_placeholder"]

    [not_link] = await editor.say("лента школы пять")
    assert "Это не похоже на ссылку" in not_link["text"]
    [page] = await editor.say(site.url("/"))
    assert page["text"].startswith("По этой ссылке не лента, а обычная веб-страница.")
    assert "Ничего не сохранено" in page["text"]
    [missing] = await editor.say(site.url("/nothing"))
    assert "сайт ответил кодом HTTP 404" in missing["text"]
    assert await feeds.all() == []

    [found] = await editor.say(site.url("/rss"))
    assert (
        f"лента переехала насовсем, — сохраню новый адрес: {site.url('/new/feed')}"
        in found["text"]
    )
    _, route = await editor.tap(found, "Опыт площадок")
    _, done = await editor.tap(route, "Сразу в дайджест")
    [feed] = await feeds.all()
    assert (feed.url, feed.kind, feed.auto_approve) == (
        site.url("/new/feed"), FeedKind.CASE, True
    )  # fmt: skip
    assert done["text"].endswith(f"опыт площадок, сразу в дайджест — {site.url('/new/feed')}")
    assert lines(done) == 1


async def test_a_temporary_redirect_keeps_the_link_as_sent(
    running_bot: RunningBot, site: Site
) -> None:
    site.serve("/today/rss", RSS, "application/rss+xml")
    site.redirect("/rss", "/today/rss", 302)
    editor = running_bot.person(EDITOR_ID, "Редактор")
    await editor.say("/feeds")
    [found] = await editor.say(site.url("/rss"))
    assert "переехала" not in found["text"]
    _, route = await editor.tap(found, "Новости")
    await editor.tap(route, "Через очередь")
    [feed] = await FeedRepository(running_bot.engine).all()
    assert (feed.url, feed.kind) == (site.url("/rss"), FeedKind.NEWS)


async def test_stale_forged_and_foreign_add_buttons_change_nothing(
    running_bot: RunningBot, site: Site
) -> None:
    site.serve("/one", RSS, "application/rss+xml")
    site.serve("/two", RSS, "application/rss+xml")
    editor = running_bot.person(EDITOR_ID, "Редактор")
    feeds = FeedRepository(running_bot.engine)
    await editor.say("/feeds")
    [first] = await editor.say(site.url("/one"))
    _, first_route = await editor.tap(first, "Материалы")
    # Another link sent meanwhile starts over: the first question's buttons are out of date.
    [second] = await editor.say(site.url("/two"))
    answer, _ = await editor.tap(first_route, "Через очередь", expect="answer")
    assert "уже не действует" in answer.params["text"]
    data = running_bot.emu.button_data(second, "Новости")
    token = data.split(":")[1]
    answer, _ = await editor.tap_data(second, f"fa1:{int(token) + 1}:news", expect="answer")
    assert "уже не действует" in answer.params["text"]
    # The route question's button pressed while the kind is asked: out of turn.
    answer, _ = await editor.tap_data(second, f"fr1:{token}:1", expect="answer")
    assert "уже не действует" in answer.params["text"]
    stranger = running_bot.person(2102, "Гость")
    await onboard(stranger)
    message = running_bot.emu.last_message(2102)
    answer, _ = await stranger.tap_data(message, f"fa1:{token}:news", expect="answer")
    assert "для редакторов" in answer.params["text"]
    answer, _ = await stranger.tap_data(message, "fd1:add:0", expect="answer")
    assert "для редакторов" in answer.params["text"]
    assert await feeds.all() == []
    # While the kind is asked, words are no answer: the question stays.
    [choose] = await editor.say("это новости")
    assert "Выберите кнопкой" in choose["text"]
    _, route = await editor.tap(second, "Новости")
    await editor.tap(route, "Через очередь")
    [feed] = await feeds.all()
    assert feed.url == site.url("/two") and feed.kind is FeedKind.NEWS


async def test_words_after_the_desk_are_words_and_a_link_without_it_is_no_feed(
    running_bot: RunningBot, site: Site
) -> None:
    site.serve("/rss", RSS, "application/rss+xml")
    editor = running_bot.person(EDITOR_ID, "Редактор")
    [not_yet] = await editor.say(site.url("/rss"))
    assert "ленту" not in not_yet["text"].lower() and site.hits == []
    await editor.say("/feeds")
    [thanks] = await editor.say("спасибо")
    assert "ленту" not in thanks["text"].lower() and "ссылк" not in thanks["text"]
    [found] = await editor.say(site.url("/rss"))  # the desk was shown: a link is a feed
    assert found["text"].startswith("Нашёл ленту")
    # /feeds again while the kind is asked: the half-added feed starts over.
    await editor.say("/feeds")
    answer, _ = await editor.tap(found, "Материалы", expect="answer")
    assert "уже не действует" in answer.params["text"]
    [thanks] = await editor.say("спасибо")
    assert "Выберите кнопкой" not in thanks["text"]
    assert await FeedRepository(running_bot.engine).all() == []


async def test_the_desk_fits_a_phone(running_bot: RunningBot) -> None:
    feeds = FeedRepository(running_bot.engine)
    for n, title in enumerate(
        ("Муниципальное бюджетное общеобразовательное учреждение «Школа № 5»", "", "Сад 12")
    ):
        await feeds.add(f"https://site{n}.example/rss", FeedKind.MATERIAL, title=title)
    editor = running_bot.person(EDITOR_ID, "Редактор")
    [desk] = await editor.say("/feeds")
    # A title, two lines and a gap a feed, the hint: a phone's screen at ~40 characters a line.
    assert phone_lines(desk) <= 16
    buttons = labels(running_bot, desk)
    assert buttons[-1] == "➕ Добавить ленту" and len(buttons) == 4
    assert all(len(label) <= 32 for label in buttons)
    assert buttons[0].endswith("…") and buttons[1] == "№2 site1.example"
    _, card = await editor.tap(desk, "№3 Сад 12")
    assert card["text"].splitlines()[1] == "https://site2.example/rss — «Сад 12»"
    assert phone_lines(card) <= 4
    rows = running_bot.emu.last_message(EDITOR_ID)["reply_markup"]["inline_keyboard"]
    assert max(len(row) for row in rows) <= 2


async def queue_items(running_bot: RunningBot, feed_id: int, count: int) -> None:
    now = utcnow()
    async with running_bot.engine.begin() as conn:
        for n in range(count):
            await conn.execute(
                items.insert().values(
                    kind="material", title=f"Запись {n}", feed_id=feed_id, guid=f"g{n}",
                    status="pending", created_at=now, updated_at=now,
                )
            )  # fmt: skip


async def test_editor_adds_lists_pauses_routes_and_removes_a_feed(
    running_bot: RunningBot,
) -> None:
    editor = running_bot.person(EDITOR_ID, "Редактор")
    feeds = FeedRepository(running_bot.engine)
    [empty] = await editor.say("/feeds")
    assert "Лент пока нет" in empty["text"]

    [added] = await editor.say("/feeds add https://school5.example/rss material")
    assert "Лента №" in added["text"] and "ждать проверки в очереди" in added["text"]
    [school] = await feeds.all()
    assert not school.auto_approve and school.enabled
    [auto] = await editor.say("/feeds add https://kg.example/feed case auto")
    assert "сразу попадут в ближайший дайджест" in auto["text"]
    [bad_url] = await editor.say("/feeds add ftp://school5.example/rss material")
    assert "должен начинаться с http" in bad_url["text"]
    [bad_kind] = await editor.say("/feeds add https://x.example/rss video")
    assert "Неизвестный тип ленты «video»" in bad_kind["text"]
    [again] = await editor.say("/feeds add https://school5.example/rss news")
    assert "уже добавлена" in again["text"]
    assert len(await feeds.all()) == 2

    await queue_items(running_bot, school.id, 2)
    [desk] = await editor.say("/feeds")
    assert "Ленты сайтов (2)" in desk["text"]
    assert "school5.example" in desk["text"] and "в очереди: 2" in desk["text"]
    assert "ещё не проверялась" in desk["text"]

    _, card = await editor.tap(desk, f"№{school.id} school5.example")
    assert f"№{school.id} · материалы · через очередь" in card["text"]
    answer, card = await editor.tap(card, "Приостановить")
    assert "приостановлена" in answer.params["text"]
    assert "⏸ приостановлена" in card["text"]
    assert not (await feeds.get(school.id)).enabled  # type: ignore[union-attr]
    _, card = await editor.tap(card, "Возобновить")
    assert (await feeds.get(school.id)).enabled  # type: ignore[union-attr]

    _, card = await editor.tap(card, "Сразу в дайджест")
    assert "сразу в дайджест" in card["text"]
    assert (await feeds.get(school.id)).auto_approve  # type: ignore[union-attr]
    _, card = await editor.tap(card, "Через очередь")
    assert not (await feeds.get(school.id)).auto_approve  # type: ignore[union-attr]

    _, confirm = await editor.tap(card, "Удалить")
    assert "Удалить ленту №" in confirm["text"]
    _, card = await editor.tap(confirm, "Нет, оставить")
    assert await feeds.get(school.id) is not None
    _, confirm = await editor.tap(card, "Удалить")
    _, done = await editor.tap(confirm, "Да, удалить")
    assert "удалена" in done["text"]
    assert await feeds.get(school.id) is None
    _, desk = await editor.tap(done, "К списку лент")
    assert "Ленты сайтов (1)" in desk["text"]

    # The old card's buttons now name a feed that is gone.
    answer, _ = await editor.tap_data(confirm, f"fd1:pause:{school.id}", expect="answer")
    assert "нет" in answer.params["text"]
    [missing] = await editor.say("/feeds remove 999")
    assert "Ленты №999 нет" in missing["text"]


async def test_a_forged_feeds_button_and_command_are_refused_and_audited(
    running_bot: RunningBot,
) -> None:
    feeds = FeedRepository(running_bot.engine)
    feed = await feeds.add("https://school5.example/rss", FeedKind.MATERIAL)
    assert feed is not None
    stranger = running_bot.person(2101, "Гость")
    await onboard(stranger)
    message = running_bot.emu.last_message(2101)
    answer, _ = await stranger.tap_data(message, f"fd1:pause:{feed.id}", expect="answer")
    assert "для редакторов" in answer.params["text"]
    answer, _ = await stranger.tap_data(message, f"fd1:rmy:{feed.id}", expect="answer")
    assert "для редакторов" in answer.params["text"]
    [refusal] = await stranger.say("/feeds remove 1")
    assert "для редакторов" in refusal["text"]
    assert await feeds.get(feed.id) == feed
    log = await AuditRepository(running_bot.engine).recent()
    assert [(e.actor_id, e.action, e.allowed) for e in reversed(log)] == [
        (2101, "fd1", False),
        (2101, "fd1", False),
        (2101, "/feeds", False),
    ]
