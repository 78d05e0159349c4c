"""Settings from the environment, start-up errors, and the cases command line."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.base.crypto import new_key
from bot.base.settings import Settings, SettingsError
from tests.trust.processes import run_bot

KEY = new_key()

ROOT = Path(__file__).resolve().parent.parent


def test_no_environment_means_local_mode_with_sqlite() -> None:
    settings = Settings.from_env({})
    assert settings.local_mode
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    assert settings.database_url.endswith("var/weerbaar.db")


def test_database_urls_get_async_drivers_and_a_sync_twin_for_the_scheduler() -> None:
    settings = Settings.from_env({"DATABASE_URL": "postgresql://u:p@db:5432/weerbaar"})
    assert settings.database_url == "postgresql+asyncpg://u:p@db:5432/weerbaar"
    assert settings.sync_database_url == "postgresql+psycopg2://u:p@db:5432/weerbaar"


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"DATABASE_URL": "mysql://x/y"}, "DATABASE_URL"),
        ({"PORT": "eighty"}, "PORT"),
        ({"PORT": "70000"}, "PORT"),
        ({"TELEGRAM_BOT_TOKEN": "not-a-token"}, "TELEGRAM_BOT_TOKEN"),
        ({"TELEGRAM_API_BASE_URL": "ftp://x"}, "TELEGRAM_API_BASE_URL"),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}, "SLACK_SUPPORT_CHANNEL"),
        ({"SLACK_BOT_TOKEN": "xoxp-1"}, "SLACK_BOT_TOKEN"),
        (
            {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SUPPORT_CHANNEL": "C0123ABCD"},
            "SLACK_SIGNING_SECRET",
        ),
        ({"TELEGRAM_WEBHOOK_URL": "https://bot.example.org/tg"}, "TELEGRAM_WEBHOOK_URL"),
        ({"SUPPORT_RESPONSE_MINUTES": "0"}, "SUPPORT_RESPONSE_MINUTES"),
    ],
)
def test_a_bad_setting_is_one_line_naming_it(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError) as bad:
        Settings.from_env(env)
    message = str(bad.value)
    assert message.startswith(f"{named}:")
    assert "\n" not in message


SLACK = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SUPPORT_CHANNEL": "C0123ABCD"}


@pytest.mark.parametrize(
    ("env", "named", "needed"),
    [
        ({"SLACK_SUPPORT_CHANNEL": "C0123ABCD"}, "SLACK_SUPPORT_CHANNEL", "SLACK_BOT_TOKEN"),
        ({"SLACK_SIGNING_SECRET": "s3cr3t"}, "SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN"),
        ({"SLACK_APP_TOKEN": "xapp-1"}, "SLACK_APP_TOKEN", "SLACK_BOT_TOKEN"),
        ({"SLACK_ONCALL_GROUP": "S0123ABCD"}, "SLACK_ONCALL_GROUP", "SLACK_BOT_TOKEN"),
        ({"SLACK_API_BASE_URL": "http://127.0.0.1:9/api"}, "SLACK_API_BASE_URL", "SLACK_BOT_TOKEN"),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SUPPORT_CHANNEL", "SLACK_BOT_TOKEN"),
        (SLACK, "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"),
        (
            {"TELEGRAM_WEBHOOK_URL": "https://bot.example.org/tg"},
            "TELEGRAM_WEBHOOK_URL",
            "TELEGRAM_BOT_TOKEN",
        ),
        (
            {"TELEGRAM_API_BASE_URL": "http://127.0.0.1:9"},
            "TELEGRAM_API_BASE_URL",
            "TELEGRAM_BOT_TOKEN",
        ),
        (
            {"TELEGRAM_BOT_TOKEN": "123456:" + "a" * 30, "TELEGRAM_WEBHOOK_SECRET": "geheim"},
            "TELEGRAM_WEBHOOK_SECRET",
            "TELEGRAM_WEBHOOK_URL",
        ),
    ],
)
def test_half_a_configuration_is_refused_in_one_line_naming_both(
    env: dict[str, str], named: str, needed: str
) -> None:
    with pytest.raises(SettingsError) as bad:
        Settings.from_env({"WEERBAAR_ENCRYPTION_KEYS": KEY, **env})
    message = str(bad.value)
    assert message.startswith(f"{named}:") and needed in message
    assert "\n" not in message


def test_whole_configurations_are_accepted() -> None:
    telegram = {
        "TELEGRAM_BOT_TOKEN": "123456:" + "a" * 30,
        "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9",
        "TELEGRAM_WEBHOOK_URL": "https://bot.example.org/tg",
        "TELEGRAM_WEBHOOK_SECRET": "geheim",
    }
    slack = {**SLACK, "SLACK_APP_TOKEN": "xapp-1", "SLACK_ONCALL_GROUP": "S0123ABCD"}
    for env in (telegram, slack, {**SLACK, "SLACK_SIGNING_SECRET": "s"}, {**telegram, **slack}):
        assert not Settings.from_env({"WEERBAAR_ENCRYPTION_KEYS": KEY, **env}).local_mode


def test_half_a_configuration_stops_start_up_with_one_line() -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TELEGRAM_"))},
        "SLACK_SUPPORT_CHANNEL": "C0123ABCD",
    }
    done = run_bot(env, "run")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "Configuration error: SLACK_SUPPORT_CHANNEL: only works together with SLACK_BOT_TOKEN; "
        "set it as well"
    ]


def test_bad_setting_stops_the_command_with_one_line() -> None:
    env = {**os.environ, "PORT": "eighty"}
    done = run_bot(env, "cases", "list", "--json")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "Configuration error: PORT: expected a whole number, got 'eighty'"
    ]


async def test_cases_commands_over_the_real_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.store import open_store

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    store = await open_store(Settings.from_env().database_url)
    async with store.turn("local:anna") as turn:
        await store.create_case(
            turn.session,
            turn.reporter,
            kind="incident",
            incident_type="bedreiging",
            story="verhaal",
        )
    await store.close()

    def run(*args: str) -> tuple[int, str]:
        # The command line runs its own event loop: call it from a worker thread.
        code = main(list(args))
        return code, capsys.readouterr().out

    import asyncio

    code, out = await asyncio.to_thread(run, "cases", "list", "--json")
    rows = json.loads(out)
    assert code == 0 and len(rows) == 1 and rows[0]["ref"].endswith("-0001")
    assert "story" not in rows[0]
    code, out = await asyncio.to_thread(run, "cases", "show", rows[0]["ref"], "--json")
    shown = json.loads(out)
    assert shown["incident_type"] == "bedreiging"
    assert [e["kind"] for e in shown["timeline"]] == ["created"]
    code, out = await asyncio.to_thread(run, "cases", "ack", rows[0]["ref"])
    assert code == 0 and out.strip().endswith("acknowledged")
    code, out = await asyncio.to_thread(run, "cases", "close", rows[0]["ref"], "--reason", "klaar")
    assert out.strip().endswith("closed")
    code, out = await asyncio.to_thread(run, "cases", "show", "WB-1999-9999", "--json")
    assert code == 1
