"""Settings, read once at start-up from the environment and `.env`."""

from __future__ import annotations

import re
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url

from bot.content.feeds import FeedSettings

TOKEN_PATTERN = re.compile(r"^\d{5,}:[A-Za-z0-9_-]{30,}$")
WEBHOOK_SECRET_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
    )

    bot_token: SecretStr | None = None
    admin_ids: Annotated[tuple[int, ...], NoDecode] = ()
    database_url: str = "sqlite:///data/infozona.db"
    timezone: str = "Europe/Moscow"
    telegram_api_base: str | None = None
    # The Infozona channel (its numeric ID, -100…): every published post goes there too.
    channel_id: int | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    polling_timeout: int = Field(default=30, ge=1, le=50)
    # Delivery: Telegram allows about 30 messages a second to different chats (more with paid
    # broadcasts) and one a second to the same chat.
    send_rate: float = Field(default=25, gt=0, le=1000)
    send_max_attempts: int = Field(default=5, ge=1, le=20)
    # "HH:MM-HH:MM" in TIMEZONE: nothing but urgent posts is sent then. Empty: no quiet hours.
    quiet_hours: str = "21:00-08:00"
    # The timetable, as crontab lines (minute hour day month weekday) in TIMEZONE.
    digest_weekly_cron: str = "0 9 * * mon"
    digest_daily_cron: str = "30 8 * * mon-fri"
    reminders_cron: str = "0 18 * * *"
    backup_cron: str = "30 3 * * *"
    backup_keep: int = Field(default=7, ge=1, le=365)
    backup_dir: str = "data/backups"
    # The key of the «forgotten» list's hashes (created on first use). Kept outside the
    # database and its backups; empty: `forget.key` beside the SQLite file (or in data/).
    forget_key_file: str = ""
    # How long the server keeps the bot's log (journald, see the README): /privacy says so.
    log_keep_days: int = Field(default=30, ge=1, le=3650)
    # Feeds of the sites: polled every FEED_POLL_MINUTES; the rest bounds one fetch.
    feed_poll_minutes: int = Field(default=30, ge=5, le=24 * 60)
    feed_contact_url: str = "https://imc.example.ru/infozona"
    feed_timeout: float = Field(default=20, gt=0, le=300)
    feed_max_bytes: int = Field(default=5 * 1024 * 1024, ge=64 * 1024)
    feed_max_redirects: int = Field(default=5, ge=0, le=20)
    feed_concurrency: int = Field(default=20, ge=1, le=200)
    feed_summary_length: int = Field(default=800, ge=100, le=3500)
    feed_backoff_minutes: int = Field(default=30, ge=1, le=24 * 60)
    feed_max_new_per_poll: int = Field(default=50, ge=1, le=10_000)
    operator_name: str = "Информационно-методический центр района"
    privacy_contact: str | None = None
    # --- alerts to the owners (ADMIN_IDS), services/alerts.py ---
    # The database's disk is «nearly full» below this much free space (MB), or when the SQLite
    # file (with its write-ahead log) grows above ALERT_DB_SIZE_MB (0: no size limit).
    alert_disk_free_mb: float = Field(default=500, ge=0)
    alert_db_size_mb: float = Field(default=0, ge=0)

    # --- delivery retention, services/retention.py ---
    # Deliveries of campaigns finished more than this many days ago are folded into the
    # campaigns' counts and deleted, every night at DELIVERY_RETENTION_CRON (0: keep them all).
    delivery_retention_days: int = Field(default=90, ge=0, le=36500)
    delivery_retention_cron: str = "15 4 * * *"

    # --- deployment: a second copy of every backup ---
    # A folder on another disk (a mounted one): each backup is copied there too, and the last
    # BACKUP_KEEP days are kept there as well. Empty: the backups stay in BACKUP_DIR only.
    backup_copy_dir: str = ""

    # --- several servers: webhook workers (`python -m bot web`), bot/telegram/webhook.py ---
    # The public https address Telegram posts updates to (`python -m bot webhook set`); its
    # path is the one the web workers serve (/webhook when empty).
    webhook_url: str = ""
    # Telegram sends it in X-Telegram-Bot-Api-Secret-Token; a request without it gets 401.
    # Required by `web` and `webhook set`: 1–256 characters A-Z, a-z, 0-9, _ and -.
    webhook_secret: SecretStr | None = None
    web_host: str = "127.0.0.1"
    web_port: int = Field(default=8080, ge=0, le=65535)  # 0: any free port
    # redis://host:6379/0: the web workers take each chat's updates one at a time across
    # processes (aiogram's Redis event isolation). Empty: within one process only.
    redis_url: str = ""

    def webhook_path(self) -> str:
        path = urlsplit(self.webhook_url).path if self.webhook_url else ""
        return path or "/webhook"

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str) -> str:
        value = value.strip()
        if value and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("ожидается адрес вида https://bot.example.ru/telegram")
        return value

    @field_validator("webhook_secret", mode="before")
    @classmethod
    def _webhook_secret(cls, value: object) -> object:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if not isinstance(value, str) or not WEBHOOK_SECRET_PATTERN.match(value.strip()):
            raise ValueError("ожидается от 1 до 256 символов: латинские буквы, цифры, _ и -")
        return value.strip()

    def backup_copy_path(self) -> Path | None:
        return Path(self.backup_copy_dir.strip()) if self.backup_copy_dir.strip() else None

    @field_validator("bot_token", mode="before")
    @classmethod
    def _token(cls, value: object) -> object:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if not isinstance(value, str) or not TOKEN_PATTERN.match(value.strip()):
            raise ValueError("ожидается токен вида 123456789:AA…, как его выдаёт @BotFather")
        return value.strip()

    @field_validator("log_level", mode="before")
    @classmethod
    def _log_level(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _admin_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p for p in re.split(r"[\s,;]+", value) if p]
            try:
                return tuple(int(p) for p in parts)
            except ValueError:
                raise ValueError(
                    "ожидаются числовые Telegram ID через запятую, например 12345,67890"
                ) from None
        if isinstance(value, int):
            return (value,)
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("неизвестный часовой пояс, ожидается вида Europe/Moscow") from None
        return value

    @field_validator("telegram_api_base")
    @classmethod
    def _api_base(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("ожидается адрес вида http://127.0.0.1:8081")
        return value

    @field_validator("privacy_contact", "channel_id", mode="before")
    @classmethod
    def _optional_text(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if "://" not in value:
            raise ValueError("ожидается адрес вида sqlite:///data/infozona.db")
        return value

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_hours(cls, value: str) -> str:
        value = value.strip()
        if value and parse_quiet_hours(value) is None:
            raise ValueError("ожидается интервал вида 21:00-08:00 или пустое значение")
        return value

    @field_validator(
        "digest_weekly_cron",
        "digest_daily_cron",
        "reminders_cron",
        "backup_cron",
        "delivery_retention_cron",
    )
    @classmethod
    def _cron(cls, value: str) -> str:
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(value.strip())
        except ValueError:
            raise ValueError(
                "ожидается строка crontab из пяти полей: минута час день месяц день_недели, "
                "например «0 9 * * mon»"
            ) from None
        return value.strip()

    def forget_key_path(self) -> Path:
        if self.forget_key_file.strip():
            return Path(self.forget_key_file.strip())
        url = make_url(self.database_url)
        if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
            return Path(url.database).parent / "forget.key"
        return Path("data") / "forget.key"

    def feed_settings(self) -> FeedSettings:
        return FeedSettings(
            contact_url=self.feed_contact_url,
            timeout_s=self.feed_timeout,
            max_bytes=self.feed_max_bytes,
            max_redirects=self.feed_max_redirects,
            concurrency=self.feed_concurrency,
            summary_length=self.feed_summary_length,
            backoff_base=timedelta(minutes=self.feed_backoff_minutes),
            max_new_per_poll=self.feed_max_new_per_poll,
        )

    @property
    def quiet_window(self) -> tuple[time, time] | None:
        return parse_quiet_hours(self.quiet_hours) if self.quiet_hours else None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_admin(self, user_id: int) -> bool:
        return user_id in self.admin_ids


def parse_quiet_hours(text: str) -> tuple[time, time] | None:
    """«21:00-08:00» → (21:00, 08:00); None if malformed. The window may cross midnight."""
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*[-–—]\s*(\d{1,2}):(\d{2})\s*", text)
    if not match:
        return None
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59 or (h1, m1) == (h2, m2):
        return None
    return time(h1, m1), time(h2, m2)


class SettingsError(Exception):
    """A setting has a bad value; the message names the variable, in Russian."""


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]).upper() if error["loc"] else "?"
        raise SettingsError(f"Ошибка в настройке {name}: {_explain(error)}") from None


def _explain(error: Any) -> str:
    """pydantic's complaint, in Russian for the people who deploy the bot."""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    if kind == "literal_error":
        return f"допустимые значения: {ctx.get('expected', '')}".replace(" or ", ", ")
    if kind in {"int_parsing", "int_type", "int_from_float"}:
        return "ожидается целое число"
    if kind in {"greater_than_equal", "less_than_equal", "greater_than", "less_than"}:
        bounds = {"greater_than_equal": "не меньше", "less_than_equal": "не больше",
                  "greater_than": "больше", "less_than": "меньше"}  # fmt: skip
        limit = next(iter(ctx.values()), "")
        return f"число должно быть {bounds[kind]} {limit}"
    if kind in {"bool_parsing", "bool_type"}:
        return "ожидается true или false"
    return f"недопустимое значение ({error['msg']})"
