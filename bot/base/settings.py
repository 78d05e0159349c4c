"""Settings: one typed object read from the environment."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from bot.base.crypto import parse_keys

ROOT = Path(__file__).resolve().parents[2]


class SettingsError(ValueError):
    """A setting is missing or malformed; the message is one line naming it."""


def _default_database_url() -> str:
    return f"sqlite+aiosqlite:///{ROOT / 'var' / 'weerbaar.db'}"


_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
    "postgresql+psycopg2": "postgresql+asyncpg",
}


def _database_url(value: str) -> str:
    scheme, sep, rest = value.partition("://")
    if not sep or scheme not in _ASYNC_DRIVERS:
        raise SettingsError(
            "DATABASE_URL: expected sqlite:///PATH or postgresql://USER@HOST/DB, "
            f"got scheme {scheme or '(none)'!r}"
        )
    return f"{_ASYNC_DRIVERS[scheme]}://{rest}"


def _http_url(name: str, value: str) -> str:
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise SettingsError(f"{name}: expected an http(s) URL, got {value!r}")
    return value.rstrip("/")


def _int(name: str, value: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise SettingsError(f"{name}: expected a whole number, got {value!r}") from None
    if not low <= number <= high:
        raise SettingsError(f"{name}: must be between {low} and {high}, got {number}")
    return number


def _token(name: str, value: str, pattern: str, example: str) -> str:
    if not re.fullmatch(pattern, value):
        raise SettingsError(f"{name}: does not look like a valid token (expected {example})")
    return value


def _days(name: str, value: str) -> tuple[int, ...]:
    """Whole days after an event, ascending and separated by commas, such as 1,7."""
    parts = [part.strip() for part in value.split(",")]
    if not all(part.isdigit() for part in parts):
        raise SettingsError(
            f"{name}: expected whole days separated by commas, such as 1,7, got {value!r}"
        )
    days = tuple(int(part) for part in parts)
    if not all(1 <= day <= 365 for day in days) or list(days) != sorted(set(days)):
        raise SettingsError(f"{name}: days must rise and lie between 1 and 365, got {value!r}")
    return days


@dataclass(frozen=True)
class Settings:
    """Everything configurable, read once from the environment."""

    database_url: str = field(default_factory=_default_database_url)
    telegram_bot_token: str | None = None
    telegram_api_base_url: str | None = None
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: str | None = None
    slack_bot_token: str | None = None
    slack_app_token: str | None = None
    slack_signing_secret: str | None = None
    slack_support_channel: str | None = None
    slack_api_base_url: str | None = None
    slack_oncall_group: str | None = None
    reescalate_urgent_minutes: int = 10
    reescalate_normal_minutes: int = 60
    port: int = 8080
    nlu_url: str | None = None
    nlu_token: str | None = None
    support_response_minutes: int = 15
    draft_ttl_hours: int = 24
    checkin_days: tuple[int, ...] = (1, 7)
    reminder_hour: int = 9
    digest_hour: int = 9
    telegram_bot_username: str | None = None
    encryption_keys: tuple[str, ...] = ()
    retention_days: int = 365

    @property
    def local_mode(self) -> bool:
        """No channel token configured: only the local console is available."""
        return not self.telegram_bot_token and not self.slack_bot_token

    @property
    def sync_database_url(self) -> str:
        """The same database for synchronous clients (APScheduler's job store, Alembic CLI)."""
        return self.database_url.replace("+aiosqlite", "").replace("+asyncpg", "+psycopg2")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read and check every setting; raise SettingsError naming the first bad one."""
        env = os.environ if env is None else env

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        values: dict[str, object] = {}
        if url := get("DATABASE_URL"):
            values["database_url"] = _database_url(url)
        if token := get("TELEGRAM_BOT_TOKEN"):
            values["telegram_bot_token"] = _token(
                "TELEGRAM_BOT_TOKEN", token, r"\d+:[A-Za-z0-9_-]{20,}", "123456:ABC-DEF..."
            )
        for name in ("TELEGRAM_API_BASE_URL", "TELEGRAM_WEBHOOK_URL", "SLACK_API_BASE_URL"):
            if value := get(name):
                values[name.lower()] = _http_url(name, value)
        if base := values.get("telegram_api_base_url"):
            # python-telegram-bot's own form ends in /bot; we keep the server root.
            values["telegram_api_base_url"] = str(base).removesuffix("/bot")
        if url := get("NLU_URL"):
            values["nlu_url"] = _http_url("NLU_URL", url)
        if token := get("NLU_TOKEN"):
            values["nlu_token"] = token
        if secret := get("TELEGRAM_WEBHOOK_SECRET"):
            values["telegram_webhook_secret"] = _token(
                "TELEGRAM_WEBHOOK_SECRET",
                secret,
                r"[A-Za-z0-9_-]{1,256}",
                "1-256 of A-Z a-z 0-9 _ -",
            )
        if token := get("SLACK_BOT_TOKEN"):
            values["slack_bot_token"] = _token("SLACK_BOT_TOKEN", token, r"xoxb-[\w-]+", "xoxb-...")
        if token := get("SLACK_APP_TOKEN"):
            values["slack_app_token"] = _token("SLACK_APP_TOKEN", token, r"xapp-[\w-]+", "xapp-...")
        if secret := get("SLACK_SIGNING_SECRET"):
            values["slack_signing_secret"] = secret
        if channel := get("SLACK_SUPPORT_CHANNEL"):
            values["slack_support_channel"] = _token(
                "SLACK_SUPPORT_CHANNEL",
                channel,
                r"[CG][A-Z0-9]{6,}",
                "a channel id such as C0123ABCD",
            )
        if group := get("SLACK_ONCALL_GROUP"):
            values["slack_oncall_group"] = _token(
                "SLACK_ONCALL_GROUP", group, r"S[A-Z0-9]{6,}", "a user group id such as S0123ABCD"
            )
        for name in ("REESCALATE_URGENT_MINUTES", "REESCALATE_NORMAL_MINUTES"):
            if minutes := get(name):
                values[name.lower()] = _int(name, minutes, 1, 24 * 60)
        if port := get("PORT"):
            values["port"] = _int("PORT", port, 1, 65535)
        if minutes := get("SUPPORT_RESPONSE_MINUTES"):
            values["support_response_minutes"] = _int("SUPPORT_RESPONSE_MINUTES", minutes, 1, 1440)
        if hours := get("DRAFT_TTL_HOURS"):
            values["draft_ttl_hours"] = _int("DRAFT_TTL_HOURS", hours, 1, 24 * 30)
        if days := get("CHECKIN_DAYS"):
            values["checkin_days"] = _days("CHECKIN_DAYS", days)
        for name in ("REMINDER_HOUR", "DIGEST_HOUR"):
            if hour := get(name):
                values[name.lower()] = _int(name, hour, 0, 23)
        if username := get("TELEGRAM_BOT_USERNAME"):
            values["telegram_bot_username"] = _token(
                "TELEGRAM_BOT_USERNAME",
                username.removeprefix("@"),
                r"[A-Za-z][A-Za-z0-9_]{4,31}",
                "the bot's username, such as WeerbaarBot",
            )
        if keys := get("WEERBAAR_ENCRYPTION_KEYS"):
            try:
                values["encryption_keys"] = parse_keys(keys)
            except ValueError as error:
                raise SettingsError(f"WEERBAAR_ENCRYPTION_KEYS: {error}") from None
        if days := get("RETENTION_DAYS"):
            values["retention_days"] = _int("RETENTION_DAYS", days, 1, 3650)

        settings = cls(**values)  # type: ignore[arg-type]
        settings._check_combinations()
        return settings

    def secrets(self) -> tuple[str, ...]:
        """Every configured value that must never be written to a log."""
        values = (
            self.telegram_bot_token,
            self.telegram_webhook_secret,
            self.slack_bot_token,
            self.slack_app_token,
            self.slack_signing_secret,
            self.nlu_token,
            urlparse(self.database_url).password,
            *self.encryption_keys,
        )
        return tuple(value for value in values if value)

    def _check_combinations(self) -> None:
        # A setting that only works with another one: without it, it would be ignored silently.
        needs = (
            ("SLACK_SUPPORT_CHANNEL", self.slack_support_channel, "SLACK_BOT_TOKEN"),
            ("SLACK_SIGNING_SECRET", self.slack_signing_secret, "SLACK_BOT_TOKEN"),
            ("SLACK_APP_TOKEN", self.slack_app_token, "SLACK_BOT_TOKEN"),
            ("SLACK_ONCALL_GROUP", self.slack_oncall_group, "SLACK_BOT_TOKEN"),
            ("SLACK_API_BASE_URL", self.slack_api_base_url, "SLACK_BOT_TOKEN"),
            ("TELEGRAM_WEBHOOK_URL", self.telegram_webhook_url, "TELEGRAM_BOT_TOKEN"),
            ("TELEGRAM_API_BASE_URL", self.telegram_api_base_url, "TELEGRAM_BOT_TOKEN"),
            ("TELEGRAM_WEBHOOK_SECRET", self.telegram_webhook_secret, "TELEGRAM_WEBHOOK_URL"),
        )
        present = {
            "SLACK_BOT_TOKEN": self.slack_bot_token,
            "TELEGRAM_BOT_TOKEN": self.telegram_bot_token,
            "TELEGRAM_WEBHOOK_URL": self.telegram_webhook_url,
        }
        for name, value, needed in needs:
            if value and not present[needed]:
                raise SettingsError(f"{name}: only works together with {needed}; set it as well")
        if self.slack_bot_token:
            if not self.slack_support_channel:
                raise SettingsError("SLACK_SUPPORT_CHANNEL: required when SLACK_BOT_TOKEN is set")
            if not self.slack_app_token and not self.slack_signing_secret:
                raise SettingsError(
                    "SLACK_SIGNING_SECRET: required for HTTP mode when SLACK_APP_TOKEN is not set"
                )
        if not self.local_mode and not self.encryption_keys:
            # Real reporters' stories must never sit in the database unencrypted.
            raise SettingsError(
                "WEERBAAR_ENCRYPTION_KEYS: required when a Telegram or Slack token is set "
                "(make a key with `python -m bot keys new`)"
            )
