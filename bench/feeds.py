"""Feed polling benchmark: `python -m bench.feeds --feeds 200`.

A local web server serves N school-site feeds (~20 items each, a quarter of them in
windows-1251, like many Russian school sites) with ETags. The real FeedService polls them all
concurrently into a temporary SQLite database, then polls again: every feed should answer 304.
Two floors, measured in the same run: a bare concurrent GET of all feeds through the same
aiohttp client (the network part alone), and fetch + `feedparser.parse` of every feed, off the
loop (asyncio.to_thread, as the bot does) with the bot's concurrency and feedparser options,
no database — what any bot reading these feeds with feedparser would pay. That floor runs once
before and once after the real first pass; `first_pass_ratio` is the first pass over their
mean. Then, single-threaded and on CPU time, the project's `parse_feed` of each document
against `feedparser.parse` alone on the same documents: how much of the parsing is feedparser's
and how much the project's own (decoding, HTML to Telegram text, dedup keys).

The last line is `feeds: feeds=N first_pass_s=… second_pass_s=… not_modified=… items=…
floor_s=… first_pass_ratio=… parse_cpu_s=… feedparser_cpu_s=… parse_ratio=…`.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import feedparser
import sqlalchemy as sa
from aiohttp import web

from bot.content.feeds import FeedKind, FeedSettings, fetch_feed, parse_feed
from bot.services.feeds import FeedService, new_session
from bot.storage.db import create_engine, migrate
from bot.storage.feeds import FeedRepository
from bot.storage.schema import items

PARAGRAPH = (
    "<p>Уважаемые коллеги! <b>{day} марта</b> на базе площадки состоится "
    '<a href="/events/{n}-{i}">семинар</a> для координаторов и педагогов: обсудим '
    "<i>проектное управление инновациями</i>, упаковку методических материалов и участие "
    "в районной педагогической акции по распространению опыта.</p>"
)


def feed_document(n: int, items_per_feed: int) -> bytes:
    entries = []
    for i in range(items_per_feed):
        description = (
            f'<img src="/upload/{n}/{i}.jpg" alt="">'
            + PARAGRAPH.format(day=1 + i % 28, n=n, i=i) * 3
            + "<ul><li>Регистрация обязательна</li><li>Начало в 15:00</li></ul>"
        )
        escaped = description.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        entries.append(
            f"<item><title>Новость {i} площадки № {n}</title>"
            f'<link>/news/{n}/{i}</link><guid isPermaLink="false">site{n}-{i}</guid>'
            f"<pubDate>Mon, 02 Mar 2026 {i % 24:02d}:00:00 +0300</pubDate>"
            f"<description>{escaped}</description></item>"
        )
    cp1251 = n % 4 == 0
    declaration = f'<?xml version="1.0" encoding="{"windows-1251" if cp1251 else "utf-8"}"?>'
    text = (
        f'{declaration}<rss version="2.0"><channel><title>Площадка № {n}</title>'
        f"<link>/</link>{''.join(entries)}</channel></rss>"
    )
    return text.encode("cp1251" if cp1251 else "utf-8")


class Sites:
    def __init__(self, feeds: int, items_per_feed: int) -> None:
        self.documents = {n: feed_document(n, items_per_feed) for n in range(feeds)}
        self.ok = 0
        self.not_modified = 0

    async def handle(self, request: web.Request) -> web.StreamResponse:
        n = int(request.match_info["n"])
        etag = f'"feed-{n}-v1"'
        if request.headers.get("If-None-Match") == etag:
            self.not_modified += 1
            return web.Response(status=304, headers={"ETag": etag})
        self.ok += 1
        return web.Response(
            body=self.documents[n], headers={"ETag": etag, "Content-Type": self.content_type(n)}
        )

    @staticmethod
    def content_type(n: int) -> str:
        return "text/xml" if n % 4 == 0 else "application/rss+xml; charset=utf-8"


async def floor(urls: list[str], settings: FeedSettings) -> float:
    """Bare concurrent GETs of every feed: what the network part alone costs."""
    limit = asyncio.Semaphore(settings.concurrency)
    async with new_session(settings) as session:

        async def get(url: str) -> None:
            async with limit, session.get(url) as response:
                await response.read()

        started = time.perf_counter()
        await asyncio.gather(*(get(url) for url in urls))
        return time.perf_counter() - started


def bare_parse(body: bytes, content_type: str | None) -> object:
    """feedparser alone, with the options the bot's parse_feed gives it (its own sanitising and
    URL resolving off: the bot's rendering does both), on the bytes as served."""
    headers = {"content-type": content_type} if content_type else {}
    return feedparser.parse(
        io.BytesIO(body),
        response_headers=headers,
        sanitize_html=False,
        resolve_relative_uris=False,
    )


async def parse_floor(urls: list[str], settings: FeedSettings) -> float:
    """Fetch + feedparser.parse of every feed, as concurrent as the service and parsed off the
    loop like it, with no database: the floor of the first pass."""
    limit = asyncio.Semaphore(settings.concurrency)
    async with new_session(settings) as session:

        async def one(url: str) -> None:
            async with limit:
                fetched = await fetch_feed(session, url, settings)
                assert fetched.body is not None
                await asyncio.to_thread(bare_parse, fetched.body, fetched.content_type)

        started = time.perf_counter()
        await asyncio.gather(*(one(url) for url in urls))
        return time.perf_counter() - started


def cpu_of(work: Callable[[], object], repeat: int) -> float:
    """CPU seconds of `work`, the best of `repeat` runs."""
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        work()
        best = min(best, time.process_time() - started)
    return best


def parsing_alone(sites: Sites, settings: FeedSettings, repeat: int) -> tuple[float, float]:
    """CPU seconds to parse every served document once: the project's parse_feed, and
    feedparser.parse alone (single-threaded, no I/O)."""
    documents = [
        (f"http://127.0.0.1/feed/{n}.xml", body, sites.content_type(n))
        for n, body in sites.documents.items()
    ]

    def ours() -> None:
        for url, body, content_type in documents:
            parse_feed(
                body, url=url, content_type=content_type, summary_length=settings.summary_length
            )

    def theirs() -> None:
        for _, body, content_type in documents:
            bare_parse(body, content_type)

    return cpu_of(ours, repeat), cpu_of(theirs, repeat)


async def run(feeds: int, items_per_feed: int, concurrency: int, repeat: int) -> None:
    sites = Sites(feeds, items_per_feed)
    app = web.Application()
    app.router.add_get("/feed/{n}.xml", sites.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    urls = [f"http://127.0.0.1:{port}/feed/{n}.xml" for n in range(feeds)]
    settings = FeedSettings(concurrency=concurrency)
    try:
        with tempfile.TemporaryDirectory() as directory:
            engine = create_engine(f"sqlite+aiosqlite:///{directory}/bench.db")
            try:
                await migrate(engine)
                repository = FeedRepository(engine)
                for url in urls:
                    await repository.add(url, FeedKind.NEWS)
                service = FeedService(engine, settings)
                bare = await floor(urls, settings)
                floors = [await parse_floor(urls, settings)]
                now = datetime.now(UTC)
                started = time.perf_counter()
                first = await service.poll_due_feeds(now)
                first_s = time.perf_counter() - started
                floors.append(await parse_floor(urls, settings))
                started = time.perf_counter()
                second = await service.poll_due_feeds(now + timedelta(minutes=30))
                second_s = time.perf_counter() - started
                async with engine.connect() as conn:
                    stored = (
                        await conn.execute(sa.select(sa.func.count()).select_from(items))
                    ).scalar_one()
            finally:
                await engine.dispose()
    finally:
        await runner.cleanup()
    ours_cpu, feedparser_cpu = parsing_alone(sites, settings, repeat)
    floor_s = statistics.fmean(floors)
    ratio = first_s / floor_s
    own = ours_cpu - feedparser_cpu
    size = sum(len(d) for d in sites.documents.values())
    print(f"served: {feeds} feeds × {items_per_feed} items, {size / 1e6:.1f} MB in all")
    print(f"floor (bare GET of all feeds): {bare:.3f} s")
    print(
        f"floor (fetch + feedparser.parse off the loop, no database): {floor_s:.3f} s "
        f"(before the first pass {floors[0]:.3f} s, after {floors[1]:.3f} s)"
    )
    print(f"first pass:  {first}  {first_s:.3f} s ({ratio:.2f}× that floor)")
    print(f"second pass: {second}  {second_s:.3f} s")
    print(
        f"parsing alone, CPU, all {feeds} documents once (best of {repeat}): the project's "
        f"parse_feed {ours_cpu:.3f} s = feedparser.parse {feedparser_cpu:.3f} s "
        f"({feedparser_cpu / ours_cpu:.0%}) + the project's own decoding, HTML rendering and "
        f"keys {own:.3f} s ({own / ours_cpu:.0%}); {ours_cpu / feedparser_cpu:.2f}× feedparser"
    )
    rest = first_s - ours_cpu
    print(
        f"of the first pass's {first_s:.3f} s: feedparser ~{feedparser_cpu:.3f} s, the "
        f"project's parsing ~{own:.3f} s, the rest (fetch, database, threads) ~{rest:.3f} s; "
        f"the floor's fetch + feedparser is {floor_s:.3f} s"
    )
    print(
        f"feeds: feeds={feeds} first_pass_s={first_s:.3f} second_pass_s={second_s:.3f} "
        f"not_modified={second.not_modified} items={stored} floor_s={floor_s:.3f} "
        f"first_pass_ratio={ratio:.2f} parse_cpu_s={ours_cpu:.3f} "
        f"feedparser_cpu_s={feedparser_cpu:.3f} parse_ratio={ours_cpu / feedparser_cpu:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--items", type=int, default=20, help="items per feed")
    parser.add_argument("--concurrency", type=int, default=FeedSettings().concurrency)
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of the parsing-alone measure (best counts)"
    )
    args = parser.parse_args()
    asyncio.run(run(args.feeds, args.items, args.concurrency, args.repeat))


if __name__ == "__main__":
    main()
