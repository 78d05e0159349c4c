"""Fixtures for the trust tests: encryption keys, and the dialogue and support-desk fixtures."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from aiohttp import web
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from bot import crypto
from tests.dialogue.conftest import chat, knowledge, make_chat  # noqa: F401
from tests.slack.conftest import app, desk, fake, reporter, scheduler, settings  # noqa: F401

# Fixtures such as the store are shared by every example on purpose: each example is a new
# reporter, and what one example leaves behind is exactly what the next must survive.
hypothesis_settings.register_profile(
    "trust",
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

KEY_A = crypto.new_key()
KEY_B = crypto.new_key()


@pytest.fixture
def keys() -> Iterator[tuple[str, ...]]:
    """Encryption on with one key for the length of a test."""
    previous = crypto.use((KEY_A,))
    yield (KEY_A,)
    crypto.restore(previous)


@pytest.fixture(autouse=True)
def no_keys_left_behind() -> Iterator[None]:
    """Every test starts and ends with the keyring it found (none, in this suite)."""
    before = crypto.active()
    yield
    crypto.restore(before)


class StandInRasa:
    """A stand-in Rasa server: unsure about everything, so answers reach the running flow.

    A text in `choking` gets an answer the bot cannot read (a confidence that is no number).
    """

    def __init__(self) -> None:
        self.choking: set[str] = set()
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        server = web.Application()
        server.router.add_post("/model/parse", self._parse)
        self._runner = web.AppRunner(server)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _parse(self, request: web.Request) -> web.Response:
        text = (await request.json())["text"]
        confidence = "onleesbaar" if text in self.choking else 0.2
        intent = {"name": "out_of_scope", "confidence": confidence}
        return web.json_response(
            {"text": text, "intent": intent, "intent_ranking": [intent], "entities": []}
        )


@pytest.fixture
async def rasa_server() -> AsyncIterator[StandInRasa]:
    server = StandInRasa()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def rasa(rasa_server: StandInRasa) -> str:
    """The stand-in Rasa server's address."""
    return rasa_server.url
