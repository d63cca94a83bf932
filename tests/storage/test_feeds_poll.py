"""The feed poller against a local web server on 127.0.0.1 and a real SQLite database."""

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

import bot.services.feeds
from bot.content.feeds import Feed, FeedKind, FeedSettings, parse_feed
from bot.services.feeds import (
    FeedCommandError,
    FeedService,
    feed_added_text,
    feed_removed_text,
    feeds_list_text,
)
from bot.storage.database import Database
from bot.storage.db import create_engine, migrate
from bot.storage.feeds import FeedRepository
from bot.storage.schema import items
from tests.support import FEED_FIXTURES
from tests.support.databases import scratch_url

FIXTURES = FEED_FIXTURES
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CONTACT = "https://imc.example.ru/infozona"
RSS = "application/rss+xml; charset=utf-8"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def rss(*entries: tuple[str, str, str]) -> bytes:
    """An RSS 2.0 document of (guid, title, description) entries."""
    body = "".join(
        f"<item><guid>{guid}</guid><title>{title}</title>"
        f"<link>/news/{guid}</link><description>{text}</description></item>"
        for guid, title, text in entries
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Школа</title><link>/</link>{body}</channel></rss>"
    ).encode()


@dataclass
class Site:
    """The schools' web sites: paths answered by handlers, every request remembered."""

    routes: dict[str, Handler] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    server: TestServer | None = None

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        self.requests.append((request.path, dict(request.headers)))
        handler = self.routes.get(request.path)
        if handler is None:
            raise web.HTTPNotFound()
        return await handler(request)

    def url(self, path: str) -> str:
        assert self.server is not None
        return str(self.server.make_url(path))

    def hits(self, path: str) -> list[dict[str, str]]:
        return [headers for p, headers in self.requests if p == path]

    def feed(
        self,
        path: str,
        body: bytes,
        *,
        content_type: str = RSS,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> None:
        """Serve `body` at `path`, answering 304 to a matching conditional request."""

        async def handler(request: web.Request) -> web.StreamResponse:
            headers = {}
            if etag:
                headers["ETag"] = etag
                if request.headers.get("If-None-Match") == etag:
                    return web.Response(status=304, headers=headers)
            if last_modified:
                headers["Last-Modified"] = last_modified
                if request.headers.get("If-Modified-Since") == last_modified:
                    return web.Response(status=304, headers=headers)
            headers["Content-Type"] = content_type
            return web.Response(body=body, headers=headers)

        self.routes[path] = handler

    def handle(self, path: str, handler: Handler) -> None:
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
        site.release.set()  # let slow handlers finish before the server closes
        await site.server.close()


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Database]:
    engine = create_engine(scratch_url(tmp_path, "feeds"))
    await migrate(engine)
    yield engine
    await engine.dispose()


SETTINGS = FeedSettings(contact_url=CONTACT, timeout_s=5, max_bytes=100_000, concurrency=4)


@pytest.fixture
def service(engine: Database) -> FeedService:
    return FeedService(engine, SETTINGS)


async def stored(engine: Database, feed_id: int | None = None) -> list[Any]:
    query = items.select().order_by(items.c.id)
    if feed_id is not None:
        query = query.where(items.c.feed_id == feed_id)
    async with engine.connect() as conn:
        return list(await conn.execute(query))


async def feed_row(engine: Database, feed_id: int) -> Feed:
    feed = await FeedRepository(engine).get(feed_id)
    assert feed is not None
    return feed


async def test_new_entries_queue_up_and_an_unchanged_feed_costs_one_304(
    site: Site, service: FeedService, engine: Database
) -> None:
    site.feed("/rss", (FIXTURES / "rss20.xml").read_bytes(), etag='"v1"')
    feed = await service.add_feed(site.url("/rss"), "news")
    first = await service.poll_due_feeds(T0)
    assert (first.fetched, first.new_items, first.failed) == (1, 3, 0)
    rows = await stored(engine, feed.id)
    assert [r.title for r in rows] == [
        "Семинар для координаторов «Проектное управление»",
        "Открытый урок в 3 «А»",
        "Методический совет",
    ]
    assert {(r.kind, r.status) for r in rows} == {("material", "pending")}
    seminar = rows[0]
    assert seminar.guid == "school5-news-101"
    assert seminar.url == site.url("/news/seminar-koordinatorov")  # against the fetched URL
    assert seminar.image_url == site.url("/upload/seminar.jpg")
    assert json.loads(seminar.body_entities)[0] == {"type": "bold", "offset": 0, "length": 8}
    assert seminar.approved_at is None
    request = site.hits("/rss")[0]
    assert request["User-Agent"] == f"Infozona-bot/0.1 (+{CONTACT})"
    assert "If-None-Match" not in request
    after = await feed_row(engine, feed.id)
    assert after.etag == '"v1"' and after.title == "Новости школы № 5"
    assert after.last_fetch_at == T0 and after.next_fetch_at is None

    second = await service.poll_due_feeds(T0 + timedelta(minutes=30))
    assert (second.not_modified, second.fetched, second.new_items) == (1, 0, 0)
    assert site.hits("/rss")[1]["If-None-Match"] == '"v1"'
    assert len(await stored(engine)) == 3
    assert (await feed_row(engine, feed.id)).last_fetch_at == T0 + timedelta(minutes=30)


async def test_last_modified_is_sent_back_as_if_modified_since(
    site: Site, service: FeedService
) -> None:
    stamp = "Mon, 02 Mar 2026 06:00:00 GMT"
    site.feed("/rss", rss(("a", "Семинар", "Текст")), last_modified=stamp)
    await service.add_feed(site.url("/rss"), FeedKind.MATERIAL)
    assert (await service.poll_due_feeds(T0)).new_items == 1
    report = await service.poll_due_feeds(T0 + timedelta(minutes=30))
    assert report.not_modified == 1
    assert site.hits("/rss")[1]["If-Modified-Since"] == stamp


async def test_auto_approved_feed_sends_new_entries_to_the_digest_but_not_its_back_catalogue(
    site: Site, service: FeedService, engine: Database
) -> None:
    site.feed("/rss", rss(("a", "Старая запись", "…"), ("b", "Ещё старая", "…")))
    feed = await service.add_feed(site.url("/rss"), "case", auto_approve=True)
    await service.poll_due_feeds(T0)
    assert {(r.kind, r.status) for r in await stored(engine)} == {("case", "pending")}
    site.feed("/rss", rss(("c", "Новый кейс", "…"), ("a", "Старая запись", "…")))
    later = T0 + timedelta(hours=1)
    assert (await service.poll_due_feeds(later)).new_items == 1
    new = (await stored(engine, feed.id))[-1]
    assert (new.title, new.status) == ("Новый кейс", "approved")
    assert new.approved_at.replace(tzinfo=UTC) == later


async def test_oversize_responses_are_refused_and_the_poller_goes_on(
    site: Site, service: FeedService, engine: Database
) -> None:
    async def endless(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": RSS})
        await response.prepare(request)  # chunked: no Content-Length to check up front
        try:
            await response.write(b"<rss><channel>")
            for _ in range(100):
                await response.write(b"<!-- " + b"x" * 65_536 + b" -->")
        except ConnectionError:
            pass  # the poller hung up at its limit, as it should
        return response

    site.handle("/endless", endless)
    site.feed("/big", b"<rss>" + b" " * 200_000 + b"</rss>")  # declared Content-Length
    site.feed("/ok", rss(("a", "Семинар", "Текст")))
    endless_feed = await service.add_feed(site.url("/endless"), "news")
    big_feed = await service.add_feed(site.url("/big"), "news")
    ok_feed = await service.add_feed(site.url("/ok"), "news")
    report = await service.poll_due_feeds(T0)
    assert (report.failed, report.fetched, report.new_items) == (2, 1, 1)
    for failed in (endless_feed, big_feed):
        row = await feed_row(engine, failed.id)
        assert row.last_error == "лента больше 0.1 МБ, не загружена"
        assert row.error_count == 1 and row.next_fetch_at == T0 + timedelta(minutes=30)
    assert (await feed_row(engine, ok_feed.id)).error_count == 0


async def test_a_slow_site_times_out_and_is_recorded(site: Site, engine: Database) -> None:
    async def slow(request: web.Request) -> web.StreamResponse:
        await site.release.wait()  # answers only when the test is over
        return web.Response(body=rss(("a", "Поздно", "…")))

    site.handle("/slow", slow)
    site.feed("/ok", rss(("a", "Семинар", "Текст")))
    # Long enough for the quick site to answer on a loaded machine; the slow one never does.
    service = FeedService(engine, FeedSettings(timeout_s=1.5))
    slow_feed = await service.add_feed(site.url("/slow"), "news")
    await service.add_feed(site.url("/ok"), "news")
    report = await service.poll_due_feeds(T0)
    assert (report.failed, report.fetched) == (1, 1)
    assert report.errors == {slow_feed.id: "сайт не ответил за 1.5 с"}
    assert (await feed_row(engine, slow_feed.id)).last_error == "сайт не ответил за 1.5 с"


async def test_redirects_are_followed_within_the_limit(
    site: Site, service: FeedService, engine: Database
) -> None:
    async def moved(request: web.Request) -> web.StreamResponse:
        raise web.HTTPMovedPermanently(location="/new/rss")

    async def loop(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(location="/loop")

    site.handle("/old/rss", moved)
    site.handle("/loop", loop)
    site.feed(
        "/new/rss",
        (FIXTURES / "cp1251_undeclared.xml").read_bytes(),
        content_type="text/html",  # a site serving windows-1251 as HTML, no charset given
    )
    moved_feed = await service.add_feed(site.url("/old/rss"), "news")
    loop_feed = await service.add_feed(site.url("/loop"), "news")
    report = await service.poll_due_feeds(T0)
    assert (report.fetched, report.failed) == (1, 1)
    (row,) = await stored(engine, moved_feed.id)
    assert row.title == "Заседание экспертного совета"
    assert (await feed_row(engine, loop_feed.id)).last_error == (
        "слишком много перенаправлений (больше 5)"
    )
    assert len(site.hits("/loop")) == 6  # the first request and five redirects, no more
    # The site said the feed moved for good: it is asked at its new address from now on.
    assert (await feed_row(engine, moved_feed.id)).url == site.url("/new/rss")
    assert (await feed_row(engine, loop_feed.id)).url == site.url("/loop")
    assert report.moved == 1 and "moved=1" in str(report)


async def test_only_a_permanent_redirect_moves_the_stored_address(
    site: Site, service: FeedService, engine: Database
) -> None:
    def redirect(status: int, to: str) -> Handler:
        async def handler(request: web.Request) -> web.StreamResponse:
            return web.Response(status=status, headers={"Location": to})

        return handler

    site.feed("/final", rss(("a", "Семинар", "Текст")), etag='"v1"')
    site.handle("/temporary", redirect(302, "/final"))
    site.handle("/permanent-then-temporary", redirect(301, "/middle"))
    site.handle("/middle", redirect(307, "/final"))
    site.handle("/to-nowhere", redirect(308, "/gone"))
    temporary = await service.add_feed(site.url("/temporary"), "news")
    chained = await service.add_feed(site.url("/permanent-then-temporary"), "news")
    broken = await service.add_feed(site.url("/to-nowhere"), "news")
    report = await service.poll_due_feeds(T0)
    assert (report.fetched, report.failed, report.moved) == (2, 1, 1)
    assert (await feed_row(engine, temporary.id)).url == site.url("/temporary")
    # Followed as far as the redirects said «for good», not past the temporary one.
    assert (await feed_row(engine, chained.id)).url == site.url("/middle")
    # A feed that moved to an error page keeps its address (and the error).
    assert (await feed_row(engine, broken.id)).url == site.url("/to-nowhere")
    # A 301 answered with 304 at the new address moves it too.
    site.handle("/old", redirect(301, "/final"))
    moved = await service.add_feed(site.url("/old"), "news")
    await service.poll_due_feeds(T0)
    assert (await feed_row(engine, moved.id)).url == site.url("/final")
    # Onto an address another feed already has: kept as it is, nothing lost.
    site.handle("/dup", redirect(301, "/middle"))
    dup = await service.add_feed(site.url("/dup"), "news")
    report = await service.poll_due_feeds(T0)
    assert (await feed_row(engine, dup.id)).url == site.url("/dup")
    assert (report.moved, report.failed) == (0, 0)  # the broken feed rests after its error


async def test_entries_seen_before_never_come_back_and_edits_update_only_the_queue(
    site: Site, service: FeedService, engine: Database
) -> None:
    site.feed("/rss", rss(("a", "Семинар", "Первый текст"), ("b", "Совет", "Повестка")))
    feed = await service.add_feed(site.url("/rss"), "material")
    await service.poll_due_feeds(T0)
    first = {r.guid: r for r in await stored(engine)}
    async with engine.begin() as conn:  # an editor approves "b"
        await conn.execute(items.update().where(items.c.guid == "b").values(status="approved"))
    site.feed(
        "/rss",
        rss(
            ("a", "Семинар (перенесён)", "Новый <b>текст</b>"),
            ("b", "Совет", "Повестка изменена"),
            ("a", "Семинар (дубль)", "Дубль в той же ленте"),
        ),
    )
    report = await service.poll_due_feeds(T0 + timedelta(minutes=30))
    assert (report.new_items, report.updated_items) == (0, 1)
    rows = {r.guid: r for r in await stored(engine, feed.id)}
    assert len(rows) == 2
    assert rows["a"].id == first["a"].id
    assert (rows["a"].title, rows["a"].body) == ("Семинар (перенесён)", "Новый текст")
    assert rows["a"].status == "pending"
    assert rows["b"].body == "Повестка" and rows["b"].status == "approved"  # decided: kept
    third = await service.poll_due_feeds(T0 + timedelta(hours=1))
    assert (third.new_items, third.updated_items) == (0, 0)


async def test_errors_back_off_doubling_to_a_day_and_a_success_resets(
    site: Site, service: FeedService, engine: Database
) -> None:
    healthy = False

    async def flaky(request: web.Request) -> web.StreamResponse:
        if healthy:
            return web.Response(body=rss(("a", "Семинар", "Текст")), content_type="text/xml")
        raise web.HTTPInternalServerError()

    site.handle("/rss", flaky)
    feed = await service.add_feed(site.url("/rss"), "news")
    now = T0
    delays = []
    for _ in range(8):
        report = await service.poll_due_feeds(now)
        assert report.failed == 1
        row = await feed_row(engine, feed.id)
        assert row.last_error == "сайт ответил кодом HTTP 500"
        assert row.next_fetch_at is not None
        delays.append(row.next_fetch_at - now)
        # Before its rest is over the feed isn't fetched at all.
        resting = await service.poll_due_feeds(row.next_fetch_at - timedelta(seconds=1))
        assert resting.due == 0
        now = row.next_fetch_at
    hours = [d / timedelta(hours=1) for d in delays]
    assert hours == [0.5, 1, 2, 4, 8, 16, 24, 24]
    assert (await feed_row(engine, feed.id)).error_count == 8
    assert len(site.hits("/rss")) == 8
    healthy = True
    assert (await service.poll_due_feeds(now)).new_items == 1
    row = await feed_row(engine, feed.id)
    assert (row.error_count, row.last_error, row.next_fetch_at) == (0, None, None)


async def test_a_surprise_in_one_feed_is_recorded_and_the_others_go_on(
    site: Site, service: FeedService, engine: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_parse = parse_feed  # the function bot.services.feeds calls

    def parse(data: bytes, **kwargs: Any) -> Any:
        if b"boom" in data:
            raise RuntimeError("boom")
        return real_parse(data, **kwargs)

    monkeypatch.setattr(bot.services.feeds, "parse_feed", parse)
    site.feed("/boom", rss(("a", "boom", "…")))
    site.feed("/page", (FIXTURES / "not_a_feed.html").read_bytes(), content_type="text/html")
    site.feed("/ok", rss(("a", "Семинар", "Текст")))
    boom = await service.add_feed(site.url("/boom"), "news")
    page = await service.add_feed(site.url("/page"), "news")
    await service.add_feed(site.url("/ok"), "news")
    report = await service.poll_due_feeds(T0)
    assert (report.failed, report.fetched) == (2, 1)
    assert report.errors[boom.id] == "внутренняя ошибка бота при обработке ленты (RuntimeError)"
    assert report.errors[page.id] == "по адресу не RSS- и не Atom-лента"


async def test_check_shows_what_would_be_ingested_and_stores_nothing(
    site: Site, service: FeedService, engine: Database
) -> None:
    site.feed("/atom", (FIXTURES / "atom.xml").read_bytes(), content_type="application/atom+xml")
    from_url = await service.check_feed(site.url("/atom"))
    assert from_url[0] == {
        "title": "Игровые технологии в ДОО",
        "link": "https://ds12.example.ru/blog/posts/igrovye-tehnologii",
        "published": "2026-03-04T08:00:00+00:00",
        "summary": "Делимся опытом игровых технологий — см. описание.",
        "image": "https://ds12.example.ru/blog/img/igra.png",
        "guid": "tag:ds12.example.ru,2026:post-7",
    }
    from_file = await service.check_feed(str(FIXTURES / "rss20.xml"))
    # A local file has no URL: relative links resolve against the feed's own link.
    assert from_file[0]["link"] == "https://school5.example.ru/news/seminar-koordinatorov"
    assert json.loads(json.dumps(from_file, ensure_ascii=False)) == from_file
    assert await stored(engine) == [] and await service.list_feeds() == []
    with pytest.raises(FeedCommandError, match="не RSS"):
        await service.check_feed(str(FIXTURES / "not_a_feed.html"))
    with pytest.raises(FeedCommandError, match="HTTP 404"):
        await service.check_feed(site.url("/missing"))
    with pytest.raises(FeedCommandError, match="Нет такого файла"):
        await service.check_feed("no/such/file.xml")


async def test_operator_commands_add_list_remove(
    site: Site, service: FeedService, engine: Database
) -> None:
    feed = await service.add_feed(" https://school5.example.ru/rss ", "NEWS", auto_approve=True)
    assert feed.url == "https://school5.example.ru/rss"
    assert feed.kind is FeedKind.NEWS and feed.auto_approve
    assert feed_added_text(feed).startswith(
        f"Лента №{feed.id} добавлена: https://school5.example.ru/rss\nТип: новости."
    )
    with pytest.raises(FeedCommandError, match=f"уже добавлена \\(№{feed.id}\\)"):
        await service.add_feed("https://school5.example.ru/rss", "news")
    with pytest.raises(FeedCommandError, match="http:// или https://"):
        await service.add_feed("ftp://school5.example.ru/rss", "news")
    with pytest.raises(FeedCommandError, match="Неизвестный тип ленты «event»"):
        await service.add_feed("https://school6.example.ru/rss", "event")

    site.handle("/broken", lambda request: _status(503))
    broken = await service.add_feed(site.url("/broken"), "case")
    await service.poll_due_feeds(T0)
    listing = feeds_list_text(await service.list_feeds(), UTC)
    assert listing.splitlines()[:2] == [
        "Ленты (2):",
        f"№{feed.id} · новости · сразу в дайджест",
    ]
    assert f"№{broken.id} · опыт площадок · через очередь" in listing
    assert (
        "проверена 02.03.2026 09:00 · ошибок подряд: 1 — сайт ответил кодом HTTP 503 · "
        "следующая попытка 02.03.2026 09:30"
    ) in listing

    removed = await service.remove_feed(feed.id)
    assert feed_removed_text(removed).startswith(f"Лента №{feed.id} удалена")
    with pytest.raises(FeedCommandError, match=f"Ленты №{feed.id} нет"):
        await service.remove_feed(feed.id)
    assert [f.id for f in await service.list_feeds()] == [broken.id]
    await service.remove_feed(broken.id)
    assert feeds_list_text([], UTC).startswith("Лент пока нет")


async def test_removing_a_feed_keeps_its_items(
    site: Site, service: FeedService, engine: Database
) -> None:
    site.feed("/rss", rss(("a", "Семинар", "Текст")))
    feed = await service.add_feed(site.url("/rss"), "news")
    await service.poll_due_feeds(T0)
    await service.remove_feed(feed.id)
    (row,) = await stored(engine)
    assert row.title == "Семинар" and row.feed_id is None


async def _status(code: int) -> web.StreamResponse:
    return web.Response(status=code)


def test_poll_report_reads_as_one_log_line() -> None:
    report = bot.services.feeds.PollReport(due=3, fetched=1, not_modified=1, failed=1, new_items=4)
    assert str(report) == "feeds=3 fetched=1 not_modified=1 failed=1 new=4 updated=0"


async def test_disabled_feeds_are_not_polled(
    site: Site, service: FeedService, engine: Database
) -> None:
    site.feed("/rss", rss(("a", "Семинар", "Текст")))
    feed = await service.add_feed(site.url("/rss"), "news")
    assert await FeedRepository(engine).set_enabled(feed.id, False)
    assert (await service.poll_due_feeds(T0)).due == 0
    assert site.requests == []


def dated_rss(count: int, newest: datetime) -> bytes:
    """An RSS archive of `count` entries an hour apart, newest first, as sites list them."""
    body = "".join(
        f"<item><guid>n{i}</guid><title>Новость {i}</title><link>/news/{i}</link>"
        f"<pubDate>{format_datetime(newest - timedelta(hours=i), usegmt=True)}</pubDate>"
        "<description>Текст.</description></item>"
        for i in range(count)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Школа</title><link>/</link>{body}</channel></rss>"
    ).encode()


async def test_a_huge_feed_fills_the_queue_a_few_dozen_newest_at_a_time(
    site: Site, engine: Database
) -> None:
    service = FeedService(engine, replace(SETTINGS, max_new_per_poll=50))
    archive = dated_rss(120, newest=T0 - timedelta(hours=1))
    site.feed("/rss", archive, etag='"v1"')
    feed = await service.add_feed(site.url("/rss"), "news", auto_approve=True)

    first = await service.poll_due_feeds(T0)
    assert (first.new_items, first.deferred_items) == (50, 70)
    assert "deferred=70" in str(first)
    rows = await stored(engine, feed.id)
    # This week's news first: the fifty newest, all for the editors (the site's back catalogue).
    assert {r.guid for r in rows} == {f"n{i}" for i in range(50)}
    assert {r.status for r in rows} == {"pending"}
    # No validator kept yet: a 304 next time would hide the seventy still to come.
    assert (await feed_row(engine, feed.id)).etag is None

    # Next polls: the rest, older, still back catalogue though the feed is auto-approved; and
    # an entry the site publishes meanwhile is news, approved for the digest.
    stamp = format_datetime(T0 + timedelta(minutes=10), usegmt=True)
    fresh = f"<item><guid>today</guid><title>Сегодня</title><pubDate>{stamp}</pubDate></item>"
    site.feed("/rss", archive.replace(b"<item>", fresh.encode() + b"<item>", 1), etag='"v2"')
    second = await service.poll_due_feeds(T0 + timedelta(minutes=30))
    assert (second.new_items, second.deferred_items) == (50, 21)
    assert "If-None-Match" not in site.hits("/rss")[1]
    third = await service.poll_due_feeds(T0 + timedelta(minutes=60))
    assert (third.new_items, third.deferred_items) == (21, 0)
    rows = await stored(engine, feed.id)
    assert len(rows) == 121 and len({r.guid for r in rows}) == 121
    assert {r.guid for r in rows if r.status == "approved"} == {"today"}
    assert (await feed_row(engine, feed.id)).etag == '"v2"'
    fourth = await service.poll_due_feeds(T0 + timedelta(minutes=90))
    assert (fourth.not_modified, fourth.new_items) == (1, 0)
