"""A stand-in Rasa server for tests that run the bot against a remote NLU."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web


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
