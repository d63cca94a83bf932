"""Delivery retention through the running bot: after an old post's deliveries are folded,
/stats shows the same «доставлено N из M», and /edit says its sent messages can no longer
be changed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from bot import texts
from bot.services.publishing import post_keys
from bot.services.status import status_report
from bot.services.timetable import Timetable
from bot.storage.schema import campaigns, deliveries
from tests.e2e.test_edit_post_e2e import TEACHERS, _new_text, _published
from tests.support.harness import EDITOR_ID, RunningBot


async def test_stats_after_retention_shows_the_same_figures(running_bot: RunningBot) -> None:
    item = await _published(running_bot)
    editor = running_bot.person(EDITOR_ID, "Редактор")
    delivered = f"доставлено {len(TEACHERS)} из {len(TEACHERS)}"
    in_section = f"✓ {len(TEACHERS)} · ⛔ 0 · ⚠ 0 · ⏳ 0 из {len(TEACHERS)}"

    engine = running_bot.engine
    long_ago = datetime.now(UTC) - timedelta(days=100)
    async with engine.begin() as conn:  # the post went out 100 days ago
        await conn.execute(
            campaigns.update()
            .where(campaigns.c.key.in_(post_keys(item.id)))
            .values(created_at=long_ago, started_at=long_ago, finished_at=long_ago)
        )
    [stats] = await editor.say("/stats")
    assert delivered in stats["caption"]
    _, before = await editor.tap(stats, texts.STATS_SECTION_LABELS["campaigns"], expect="send")
    assert in_section in before["text"]

    # The nightly job, once per night's slot; status tells the operator what it did.
    job = Timetable(running_bot.settings, running_bot.services, poll_feeds=False)
    tonight = datetime.now(running_bot.settings.tz)
    assert (await job.retention(tonight)).endswith(f"rows={len(TEACHERS)}")
    assert (await job.retention(tonight)).endswith("already taken")
    report = await status_report(running_bot.settings, engine, tonight)
    assert f"свёрнуто {len(TEACHERS)} доставки" in "\n".join(report.lines)
    retention = report.facts["retention"]
    assert isinstance(retention, dict)
    assert (retention["days"], retention["rows"]) == (90, len(TEACHERS))
    assert retention["last_run_at"] is not None
    async with engine.connect() as conn:
        left = (await conn.execute(sa.select(sa.func.count()).select_from(deliveries))).scalar()
    assert left == 0
    [stats_after] = await editor.say("/stats")
    assert stats_after["caption"] == stats["caption"]
    _, after = await editor.tap(
        stats_after, texts.STATS_SECTION_LABELS["campaigns"], expect="send"
    )
    assert after["text"] == before["text"]
    assert delivered in stats_after["caption"]

    # The post's messages can't be changed any more: the editor is told so, in Russian.
    question = await _new_text(editor, item)
    assert "изменить уже нельзя" in question["text"]
    assert "обновлён в боте" in question["text"]
    assert not running_bot.emu.buttons(question)
