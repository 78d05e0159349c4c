"""Fixtures for the trust tests: encryption keys, and the dialogue and support-desk fixtures."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from aiohttp import web
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from bot import crypto
from tests.dialogue.conftest import chat, knowledge, make_chat, nlu_model  # noqa: F401
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


@pytest.fixture
async def rasa() -> AsyncIterator[str]:
    """A stand-in Rasa server: unsure about everything, so answers reach the running flow."""

    async def parse(request: web.Request) -> web.Response:
        text = (await request.json())["text"]
        intent = {"name": "out_of_scope", "confidence": 0.2}
        return web.json_response(
            {"text": text, "intent": intent, "intent_ranking": [intent], "entities": []}
        )

    server = web.Application()
    server.router.add_post("/model/parse", parse)
    runner = web.AppRunner(server)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()
