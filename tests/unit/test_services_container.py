"""Handlers and jobs get one typed Services object; the dispatcher carries nothing else of ours."""

from pathlib import Path

from bot.app import build_dispatcher
from bot.config import load_settings
from bot.services.container import Services
from bot.storage.db import create_engine
from tests.support.databases import scratch_url


async def test_dispatcher_data_is_the_services_and_the_settings(tmp_path: Path) -> None:
    settings = load_settings(
        bot_token="123456:" + "A" * 35,
        database_url=scratch_url(tmp_path, "c"),
        _env_file=None,
    )
    engine = create_engine(settings.database_url)
    try:
        dp = build_dispatcher(settings, engine, with_timetable=False)
        # poll_heartbeat is aiogram's session middleware, read by run_polling; alerts is the
        # owners' alert checker the heartbeat job runs (services/alerts.py); background is the
        # sender and the timetable the process runs (none in a web worker).
        assert set(dp.workflow_data) == {
            "settings", "services", "poll_heartbeat", "alerts", "background"
        }  # fmt: skip
        services = dp["services"]
        assert isinstance(services, Services)
    finally:
        await engine.dispose()
