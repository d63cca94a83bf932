"""Editors manage the sites' feeds from the bot: add, list, pause, route, remove."""

from __future__ import annotations

from bot.content.feeds import FeedKind
from bot.storage.db import utcnow
from bot.storage.editors import AuditRepository
from bot.storage.feeds import FeedRepository
from bot.storage.schema import items
from tests.support.harness import EDITOR_ID, RunningBot, onboard


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
    assert "Лент пока нет" in empty["text"] and "/feeds add" in empty["text"]

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
    assert "https://school5.example/rss" in desk["text"] and "в очереди: 2" in desk["text"]
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
