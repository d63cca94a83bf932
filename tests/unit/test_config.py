import pytest

from bot.config import SettingsError, load_settings

TOKEN = "123456789:AAEhBOweik6ad9r_QXMENQjcrGbqCr4K-ac"


def settings(**env: object):  # type: ignore[no-untyped-def]
    return load_settings(_env_file=None, **env)


def test_defaults_need_nothing_but_sqlite(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BOT_TOKEN", "ADMIN_IDS", "DATABASE_URL", "TIMEZONE", "TELEGRAM_API_BASE"):
        monkeypatch.delenv(name, raising=False)
    loaded = settings()
    assert loaded.bot_token is None
    assert loaded.database_url == "sqlite:///data/infozona.db"
    assert loaded.timezone == "Europe/Moscow"
    assert loaded.admin_ids == ()


def test_values_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    monkeypatch.setenv("ADMIN_IDS", "111, 222;333")
    monkeypatch.setenv("TELEGRAM_API_BASE", "http://127.0.0.1:8081/")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    loaded = settings()
    assert loaded.bot_token is not None
    assert loaded.bot_token.get_secret_value() == TOKEN
    assert TOKEN not in repr(loaded)
    assert loaded.admin_ids == (111, 222, 333)
    assert loaded.is_admin(222)
    assert loaded.telegram_api_base == "http://127.0.0.1:8081"
    assert loaded.log_level == "DEBUG"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("ADMIN_IDS", "12,abc", "Ошибка в настройке ADMIN_IDS: ожидаются числовые Telegram ID"),
        ("BOT_TOKEN", "not-a-token", "Ошибка в настройке BOT_TOKEN: ожидается токен"),
        ("TIMEZONE", "Moscow", "Ошибка в настройке TIMEZONE: неизвестный часовой пояс"),
        ("LOG_LEVEL", "LOUD", "Ошибка в настройке LOG_LEVEL: допустимые значения"),
        ("POLLING_TIMEOUT", "soon", "Ошибка в настройке POLLING_TIMEOUT: ожидается целое число"),
        ("TELEGRAM_API_BASE", "localhost:8081", "Ошибка в настройке TELEGRAM_API_BASE"),
        ("DATABASE_URL", "infozona.db", "Ошибка в настройке DATABASE_URL"),
    ],
)
def test_a_bad_value_names_its_variable_in_one_russian_line(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as error:
        settings()
    message = str(error.value)
    assert message.startswith(expected)
    assert "\n" not in message
