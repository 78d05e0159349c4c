"""`python -m bot run` as a child process of a test, with its log in a file."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp

from bot.base.settings import ROOT


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Worker:
    """One `python -m bot run` process."""

    def __init__(self, name: str, env: dict[str, str], logs: Path) -> None:
        self.port = _free_port()
        self.env = {**env, "PORT": str(self.port)}
        self.log = logs / f"{name}.log"
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        with self.log.open("wb") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", cwd=ROOT, env=self.env, stderr=log
            )

    async def health(self, http: aiohttp.ClientSession) -> dict[str, Any] | None:
        try:
            async with http.get(f"http://127.0.0.1:{self.port}/healthz") as reply:
                return dict(await reply.json()) if reply.status == 200 else None
        except aiohttp.ClientError:
            return None

    async def wait_until(self, http: aiohttp.ClientSession, scheduler: str, timeout: float) -> None:
        """Wait until /healthz answers with this scheduler role."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (health := await self.health(http)) is None or health["scheduler"] != scheduler:
            assert self.process is not None and self.process.returncode is None, self.log_text()
            assert loop.time() < deadline, (health, self.log_text()[-2000:])
            await asyncio.sleep(0.1)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            await self.process.wait()


def telegram_env(database_url: str, rasa: str, telegram_api: str, **more: str) -> dict[str, str]:
    """The environment of a worker on this database, Rasa stand-in and (fake) Bot API."""
    from tests.fakes.telegram_api import TOKEN
    from tests.plugins.keys import KEY_A

    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TELEGRAM_"))},
        "DATABASE_URL": database_url,
        "NLU_URL": rasa,
        "WEERBAAR_ENCRYPTION_KEYS": KEY_A,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": telegram_api,
        "PYTHONUNBUFFERED": "1",
    }
    return env | more


def run_bot(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m bot ARGS` in its own process, to its end."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
