"""Feed polling benchmark: `python -m bench.feeds --feeds 200`.

A local web server serves N school-site feeds (~20 items each, a quarter of them in
windows-1251, like many Russian school sites) with ETags. The real FeedService polls them all
concurrently into a temporary SQLite database, then polls again: every feed should answer 304.
The floor is a bare concurrent GET of all feeds through the same aiohttp client, with no
parsing and no database, measured in the same run.

The last line is `feeds: feeds=N first_pass_s=… second_pass_s=… not_modified=… items=…`.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from aiohttp import web

from bot.content.feeds import FeedKind, FeedSettings
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
        content_type = "text/xml" if n % 4 == 0 else "application/rss+xml; charset=utf-8"
        return web.Response(
            body=self.documents[n], headers={"ETag": etag, "Content-Type": content_type}
        )


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


async def run(feeds: int, items_per_feed: int, concurrency: int) -> None:
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
                now = datetime.now(UTC)
                started = time.perf_counter()
                first = await service.poll_due_feeds(now)
                first_s = time.perf_counter() - started
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
    size = sum(len(d) for d in sites.documents.values())
    print(f"served: {feeds} feeds × {items_per_feed} items, {size / 1e6:.1f} MB in all")
    print(f"floor (bare GET of all feeds): {bare:.3f} s")
    print(f"first pass:  {first}  {first_s:.3f} s ({first_s / max(bare, 1e-9):.1f}× floor)")
    print(f"second pass: {second}  {second_s:.3f} s")
    print(
        f"feeds: feeds={feeds} first_pass_s={first_s:.3f} second_pass_s={second_s:.3f} "
        f"not_modified={second.not_modified} items={stored}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--items", type=int, default=20, help="items per feed")
    parser.add_argument("--concurrency", type=int, default=FeedSettings().concurrency)
    args = parser.parse_args()
    asyncio.run(run(args.feeds, args.items, args.concurrency))


if __name__ == "__main__":
    main()
