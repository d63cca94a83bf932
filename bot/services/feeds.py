"""The feed service: polling the sites' feeds into the editors' queue, and the operator's
commands (`python -m bot feeds add|list|remove|check`) with their Russian output.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from bot.content.feeds import (
    URL_MAX,
    Feed,
    FeedError,
    FeedErrorKind,
    FeedKind,
    FeedSettings,
    FetchResult,
    ParsedFeed,
    fetch_feed,
    parse_feed,
)
from bot.storage.database import Database
from bot.storage.db import utcnow
from bot.storage.feeds import FeedRepository
from bot.texts import (
    CHECK_FAILED,
    CHECK_NO_SOURCE,
    CHECK_UNREADABLE,
    FEED_ADD_FAILED,
    FEED_ADD_NOT_A_FEED,
    FEED_ADD_NOT_A_FEED_OTHER,
    FEED_ADD_NOT_A_FEED_PAGE,
    FEED_ADDED,
    FEED_BAD_KIND,
    FEED_BAD_URL,
    FEED_ERRORS,
    FEED_EXISTS,
    FEED_FIRST_POLL,
    FEED_INTERNAL_ERROR,
    FEED_KIND_LABELS,
    FEED_LINE,
    FEED_LINE_CHECKED,
    FEED_LINE_DISABLED,
    FEED_LINE_ERRORS,
    FEED_LINE_NEVER,
    FEED_LINE_RETRY,
    FEED_LINE_ROUTE_AUTO,
    FEED_LINE_ROUTE_QUEUE,
    FEED_NOT_FOUND,
    FEED_REMOVED,
    FEED_ROUTE_AUTO,
    FEED_ROUTE_QUEUE,
    FEEDS_EMPTY,
    FEEDS_TITLE,
)

log = logging.getLogger(__name__)


class FeedCommandError(Exception):
    """An operator's feed command can't be done; str() is the Russian explanation."""


@dataclass(frozen=True, slots=True)
class FeedProbe:
    """What one fetch of an editor's link found (see FeedService.probe)."""

    url: str  # the address to store
    moved: bool  # the site said the feed lives at `url` now, for good
    title: str
    entries: int
    latest: datetime | None  # the newest entry's date, if the entries have dates


@dataclass(slots=True)
class PollReport:
    due: int = 0
    fetched: int = 0  # answered 200 with a feed
    not_modified: int = 0  # answered 304
    failed: int = 0
    new_items: int = 0
    updated_items: int = 0
    deferred_items: int = 0  # new entries over the per-poll cap, left for the next polls
    moved: int = 0  # feeds that answered through a permanent redirect: their URL follows
    errors: dict[int, str] = field(default_factory=dict)  # feed id → the error recorded

    def __str__(self) -> str:
        return (
            f"feeds={self.due} fetched={self.fetched} not_modified={self.not_modified} "
            f"failed={self.failed} new={self.new_items} updated={self.updated_items}"
            + (f" deferred={self.deferred_items}" if self.deferred_items else "")
            + (f" moved={self.moved}" if self.moved else "")
        )


def error_text(error: FeedError, settings: FeedSettings) -> str:
    """A fetch or parse failure as the editors read it on the feed."""
    return FEED_ERRORS[error.kind].format(
        detail=error.detail,
        timeout=settings.timeout_s,
        megabytes=round(settings.max_bytes / 1024 / 1024, 1),
        redirects=settings.max_redirects,
    )


def feed_url(text: str) -> str:
    """An operator's URL, checked: http(s), with a host, fits the column."""
    url = text.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in {"http", "https"} or not parts.netloc:
        raise FeedCommandError(FEED_BAD_URL.format(url=url))
    if len(url) > URL_MAX:
        raise FeedCommandError(FEED_BAD_URL.format(url=url[:100] + "…"))
    return url


def feed_kind(value: FeedKind | str) -> FeedKind:
    if isinstance(value, FeedKind):
        return value
    code = value.strip().lower()
    if code not in FeedKind._value2member_map_:
        raise FeedCommandError(FEED_BAD_KIND.format(kind=value))
    return FeedKind(code)


class FeedService:
    """Polls feeds and runs the operator's feed commands.

    `session` lets tests and a long-running bot share one aiohttp session; without it each
    poll or check opens its own and closes it afterwards.
    """

    def __init__(
        self,
        engine: Database,
        settings: FeedSettings,
        *,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self._feeds = FeedRepository(engine)
        self._settings = settings
        self._session = session

    async def _parse(self, fetched: FetchResult) -> ParsedFeed:
        """A fetched feed parsed off the event loop (a big feed takes feedparser a while)."""
        return await asyncio.to_thread(
            parse_feed,
            fetched.body,
            url=fetched.url,
            content_type=fetched.content_type,
            summary_length=self._settings.summary_length,
        )

    # --- polling ---------------------------------------------------------------------------

    async def poll_due_feeds(self, now: datetime | None = None) -> PollReport:
        """Fetch every due feed, concurrently within the limit; a broken feed is recorded on
        the feed and skipped, never raised. Called by the timetable every 30 minutes.
        """
        now = now or utcnow()
        due = await self._feeds.due(now)
        report = PollReport(due=len(due))
        if not due:
            return report
        limit = asyncio.Semaphore(self._settings.concurrency)
        # One write at a time: SQLite has a single writer, and concurrent write transactions
        # would queue on its busy timeout in sleeps. Each write is short; PostgreSQL loses
        # nothing that matters here.
        writing = asyncio.Lock()

        async def one(feed: Feed, session: aiohttp.ClientSession) -> None:
            async with limit:
                await self._poll_one(feed, session, now, report, writing)

        async with self._session_for_poll() as session, asyncio.TaskGroup() as group:
            for feed in due:
                group.create_task(one(feed, session))
        log.info("feeds polled: %s", report)
        return report

    async def _poll_one(
        self,
        feed: Feed,
        session: aiohttp.ClientSession,
        now: datetime,
        report: PollReport,
        writing: asyncio.Lock,
    ) -> None:
        try:
            fetched = await fetch_feed(
                session,
                feed.url,
                self._settings,
                etag=feed.etag,
                last_modified=feed.last_modified,
            )
            if fetched.not_modified:
                async with writing:
                    await self._follow(feed, fetched, report)
                    await self._feeds.record_not_modified(
                        feed.id, now=now, etag=fetched.etag, last_modified=fetched.last_modified
                    )
                report.not_modified += 1
                return
            parsed = await self._parse(fetched)
            if parsed.malformed:
                log.info("feed %s is malformed, kept what parsed: %s", feed.id, parsed.malformed)
            async with writing:
                await self._follow(feed, fetched, report)
                result = await self._feeds.record_fetch(
                    feed,
                    parsed.entries,
                    now=now,
                    etag=fetched.etag,
                    last_modified=fetched.last_modified,
                    title=parsed.title,
                    max_new=self._settings.max_new_per_poll,
                )
        except FeedError as exc:
            async with writing:
                await self._failed(feed, error_text(exc, self._settings), now, report)
            log.warning("feed %s (%s) failed: %s", feed.id, feed.url, exc)
        except Exception as exc:  # one feed's surprise must not stop the others
            log.exception("feed %s (%s) failed unexpectedly", feed.id, feed.url)
            detail = type(exc).__name__
            async with writing:
                await self._failed(feed, FEED_INTERNAL_ERROR.format(detail=detail), now, report)
        else:
            report.fetched += 1
            report.new_items += result.new
            report.updated_items += result.updated
            report.deferred_items += result.deferred

    async def _follow(self, feed: Feed, fetched: FetchResult, report: PollReport) -> None:
        """A feed that answered through a permanent redirect is asked at its new address
        from now on (only once it has answered there as a feed: a site that moves its feed
        to an error page keeps the old address)."""
        moved_to = fetched.permanent_url
        if not moved_to or moved_to == feed.url or len(moved_to) > URL_MAX:
            return
        if await self._feeds.set_url(feed.id, moved_to):
            report.moved += 1
            log.info("feed %s moved for good: %s -> %s", feed.id, feed.url, moved_to)
        else:
            log.warning(
                "feed %s moved to %s, which another feed already has; kept %s",
                feed.id,
                moved_to,
                feed.url,
            )

    async def _failed(self, feed: Feed, error: str, now: datetime, report: PollReport) -> None:
        report.failed += 1
        report.errors[feed.id] = error
        await self._feeds.record_error(
            feed.id,
            error,
            now=now,
            base=self._settings.backoff_base,
            cap=self._settings.backoff_max,
        )

    def _session_for_poll(self) -> _Session:
        return _Session(self._session, self._settings)

    # --- operator's commands ---------------------------------------------------------------

    async def add_feed(
        self, url: str, kind: FeedKind | str, *, auto_approve: bool = False, title: str = ""
    ) -> Feed:
        clean = feed_url(url)
        feed = await self._feeds.add(
            clean, feed_kind(kind), auto_approve=auto_approve, title=title
        )
        if feed is None:
            existing = await self._feeds.by_url(clean)
            raise FeedCommandError(
                FEED_EXISTS.format(url=clean, id=existing.id if existing else "?")
            )
        return feed

    async def probe(self, url: str) -> FeedProbe:
        """Fetch a link an editor sent, once, and say what feed is there; nothing is stored.

        The address to store is where a permanent redirect led (a temporary one keeps the
        link as sent). FeedCommandError, in Russian, if the link is not an http(s) address,
        is a feed already added, can't be fetched, or is no RSS or Atom feed.
        """
        clean = feed_url(url)
        await self._refuse_existing(clean)
        try:
            async with self._session_for_poll() as session:
                fetched = await fetch_feed(session, clean, self._settings)
        except FeedError as exc:
            raise FeedCommandError(
                FEED_ADD_FAILED.format(error=error_text(exc, self._settings))
            ) from None
        try:
            parsed = await self._parse(fetched)
        except FeedError:
            page = "html" in (fetched.content_type or "").lower() or (
                b"<html" in fetched.body[:4096].lower()
            )
            what = FEED_ADD_NOT_A_FEED_PAGE if page else FEED_ADD_NOT_A_FEED_OTHER
            raise FeedCommandError(FEED_ADD_NOT_A_FEED.format(what=what)) from None
        stored = fetched.permanent_url or clean
        if len(stored) > URL_MAX:
            stored = clean
        if stored != clean:
            await self._refuse_existing(stored)
        dates = [entry.published for entry in parsed.entries if entry.published is not None]
        return FeedProbe(
            url=stored,
            moved=stored != clean,
            title=parsed.title,
            entries=len(parsed.entries),
            latest=max(dates) if dates else None,
        )

    async def _refuse_existing(self, url: str) -> None:
        existing = await self._feeds.by_url(url)
        if existing is not None:
            raise FeedCommandError(FEED_EXISTS.format(url=url, id=existing.id))

    async def list_feeds(self) -> list[Feed]:
        return await self._feeds.all()

    async def remove_feed(self, feed_id: int) -> Feed:
        feed = await self._feeds.remove(feed_id)
        if feed is None:
            raise FeedCommandError(FEED_NOT_FOUND.format(id=feed_id))
        return feed

    async def get_feed(self, feed_id: int) -> Feed:
        feed = await self._feeds.get(feed_id)
        if feed is None:
            raise FeedCommandError(FEED_NOT_FOUND.format(id=feed_id))
        return feed

    async def set_enabled(self, feed_id: int, enabled: bool) -> Feed:
        """Pause (no polling) or resume a feed; the feed as it is now."""
        if not await self._feeds.set_enabled(feed_id, enabled):
            raise FeedCommandError(FEED_NOT_FOUND.format(id=feed_id))
        return await self.get_feed(feed_id)

    async def set_auto_approve(self, feed_id: int, auto_approve: bool) -> Feed:
        """New items straight to the digest, or to the editors' queue first."""
        if not await self._feeds.set_auto_approve(feed_id, auto_approve):
            raise FeedCommandError(FEED_NOT_FOUND.format(id=feed_id))
        return await self.get_feed(feed_id)

    async def waiting_counts(self) -> dict[int, int]:
        """Feed id → its items waiting in the editors' queue."""
        return await self._feeds.waiting_counts()

    async def check_feed(self, url_or_path: str) -> list[dict[str, Any]]:
        """What would be ingested from a URL or a local file; nothing is stored."""
        parsed = await self.preview(url_or_path)
        return [entry.preview() for entry in parsed.entries]

    async def preview(self, url_or_path: str) -> ParsedFeed:
        path = Path(url_or_path)
        try:
            data = await asyncio.to_thread(_read_capped, path, self._settings.max_bytes)
            if data is not None:
                return await asyncio.to_thread(
                    parse_feed, data, summary_length=self._settings.summary_length
                )
            url = feed_url(url_or_path)
        except FeedCommandError:
            raise FeedCommandError(CHECK_NO_SOURCE.format(source=url_or_path)) from None
        except OSError as exc:
            raise FeedCommandError(CHECK_UNREADABLE.format(path=path, error=exc)) from None
        except FeedError as exc:
            raise FeedCommandError(
                CHECK_FAILED.format(error=error_text(exc, self._settings))
            ) from None
        try:
            async with self._session_for_poll() as session:
                fetched = await fetch_feed(session, url, self._settings)
            return await self._parse(fetched)
        except FeedError as exc:
            raise FeedCommandError(
                CHECK_FAILED.format(error=error_text(exc, self._settings))
            ) from None


def _read_capped(path: Path, limit: int) -> bytes | None:
    """The file's bytes, None if there is no such file."""
    if not path.is_file():
        return None
    with path.open("rb") as file:
        data = file.read(limit + 1)
    if len(data) > limit:
        raise FeedError(FeedErrorKind.TOO_LARGE)
    return data


class _Session:
    """The shared session if there is one, else a fresh one closed on exit."""

    def __init__(self, shared: aiohttp.ClientSession | None, settings: FeedSettings) -> None:
        self._shared = shared
        self._settings = settings
        self._own: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> aiohttp.ClientSession:
        if self._shared is not None:
            return self._shared
        self._own = new_session(self._settings)
        return self._own

    async def __aexit__(self, *exc_info: object) -> None:
        if self._own is not None:
            await self._own.close()


def new_session(settings: FeedSettings) -> aiohttp.ClientSession:
    """An HTTP session for feeds: the bot's User-Agent, connections bounded by concurrency."""
    return aiohttp.ClientSession(
        headers={"User-Agent": settings.user_agent},
        connector=aiohttp.TCPConnector(limit=settings.concurrency),
        timeout=aiohttp.ClientTimeout(total=settings.timeout_s),
    )


# --- printable output ----------------------------------------------------------------------------


def _when(moment: datetime, tz: tzinfo) -> str:
    return moment.astimezone(tz).strftime("%d.%m.%Y %H:%M")


def feed_added_text(feed: Feed) -> str:
    route = FEED_ROUTE_AUTO if feed.auto_approve else FEED_ROUTE_QUEUE
    return "\n".join(
        (
            FEED_ADDED.format(
                id=feed.id, url=feed.url, kind=FEED_KIND_LABELS[feed.kind], route=route
            ),
            FEED_FIRST_POLL,
        )
    )


def feed_removed_text(feed: Feed) -> str:
    return FEED_REMOVED.format(id=feed.id, url=feed.url)


def feeds_list_text(feeds: Iterable[Feed], tz: tzinfo) -> str:
    feeds = list(feeds)
    if not feeds:
        return FEEDS_EMPTY
    lines = [FEEDS_TITLE.format(count=len(feeds))]
    for feed in feeds:
        route = FEED_LINE_ROUTE_AUTO if feed.auto_approve else FEED_LINE_ROUTE_QUEUE
        disabled = "" if feed.enabled else FEED_LINE_DISABLED
        lines.append(
            FEED_LINE.format(
                id=feed.id, kind=FEED_KIND_LABELS[feed.kind], route=route, disabled=disabled
            )
        )
        lines.append(f"   {feed.url}" + (f" — «{feed.title}»" if feed.title else ""))
        state: list[str] = []
        if feed.last_fetch_at is None:
            state.append(FEED_LINE_NEVER)
        else:
            state.append(FEED_LINE_CHECKED.format(when=_when(feed.last_fetch_at, tz)))
        if feed.error_count:
            state.append(FEED_LINE_ERRORS.format(count=feed.error_count, error=feed.last_error))
            if feed.next_fetch_at is not None:
                state.append(FEED_LINE_RETRY.format(when=_when(feed.next_fetch_at, tz)))
        lines.append("   " + " · ".join(state))
    return "\n".join(lines)
