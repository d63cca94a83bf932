"""The webhook settings: the path the web workers serve, a secret Telegram accepts."""

from __future__ import annotations

import pytest

from bot.config import SettingsError, load_settings


def test_the_path_comes_from_the_webhook_url() -> None:
    assert load_settings(_env_file=None).webhook_path() == "/webhook"
    settings = load_settings(webhook_url="https://bot.example.ru/telegram", _env_file=None)
    assert settings.webhook_path() == "/telegram"
    assert load_settings(webhook_url="https://bot.example.ru", _env_file=None).webhook_path() == (
        "/webhook"
    )


def test_a_secret_telegram_would_refuse_is_refused_in_russian() -> None:
    assert load_settings(webhook_secret="  ", _env_file=None).webhook_secret is None
    ok = load_settings(webhook_secret="abc_DEF-123", _env_file=None).webhook_secret
    assert ok is not None and ok.get_secret_value() == "abc_DEF-123"
    for bad in ("с пробелом и кириллицей", "a" * 257, "semi;colon"):
        with pytest.raises(SettingsError, match="WEBHOOK_SECRET: ожидается от 1 до 256"):
            load_settings(webhook_secret=bad, _env_file=None)
    with pytest.raises(SettingsError, match="WEBHOOK_URL"):
        load_settings(webhook_url="bot.example.ru/telegram", _env_file=None)
