"""The Bot API client under python-telegram-bot: how its failures reach the channel."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from telegram import Bot, InputFile
from telegram.error import NetworkError, TimedOut

from bot.channels.telegram.http import AiohttpRequest
from tests.fakes.telegram_api import TOKEN, FakeTelegram


@pytest.fixture
async def slow_server() -> AsyncIterator[str]:
    """A server on 127.0.0.1 that takes a call and never answers it in time."""

    async def stall(_request: web.Request) -> web.Response:
        await asyncio.sleep(10)
        return web.json_response({"ok": True, "result": True})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", stall)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_an_answer_that_does_not_come_in_time_is_a_timeout(slow_server: str) -> None:
    bot = Bot(TOKEN, base_url=f"{slow_server}/bot", request=AiohttpRequest(read_timeout=0.2))
    with pytest.raises(TimedOut):
        await bot.initialize()  # getMe: the server takes it and does not answer
    await bot.shutdown()


async def test_a_server_that_is_not_there_is_a_network_error() -> None:
    bot = Bot(TOKEN, base_url=f"http://127.0.0.1:{_free_port()}/bot", request=AiohttpRequest())
    with pytest.raises(NetworkError) as raised:
        await bot.initialize()  # getMe
    assert not isinstance(raised.value, TimedOut)
    await bot.shutdown()


async def test_a_call_before_initialize_or_after_shutdown_is_refused() -> None:
    request = AiohttpRequest()
    with pytest.raises(RuntimeError):
        await request.do_request("http://127.0.0.1:9/bot/getMe", "POST")
    await request.initialize()
    await request.shutdown()
    with pytest.raises(RuntimeError):
        await request.do_request("http://127.0.0.1:9/bot/getMe", "POST")


async def test_parameters_and_files_arrive_as_the_bot_api_reads_them() -> None:
    fake = FakeTelegram()
    await fake.start()
    try:
        async with Bot(TOKEN, base_url=f"{fake.base_url}/bot", request=AiohttpRequest()) as bot:
            text = "Ben je nu in gevaar? Bel dan direct 112. & = ? é"
            sent = await bot.send_message(5, text)
            content = bytes(range(256)) * 4096  # 1 MiB, every byte value
            document = await bot.send_document(
                5, InputFile(content, filename="bewijs.zip"), caption="Bewijspakket"
            )
    finally:
        await fake.close()
    assert sent.text == text and fake.texts(5)[0] == text
    assert document.document is not None and document.document.file_size == len(content)
    assert fake.sent(5)[1].document == ("bewijs.zip", content)
    assert fake.sent(5)[1].text == "Bewijspakket"
