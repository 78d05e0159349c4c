"""python-telegram-bot's requests over aiohttp instead of httpx.

Every reply, callback answer and keyboard edit is one Bot API call, so the HTTP client's cost is
paid several times per turn. Measured on the Telegram bench, httpx with httpcore, h11 and anyio
took about 30 % of the event loop's busy time; aiohttp (already the bot's web server, with its C
HTTP parser) does the same calls for a fraction of that. PTB's `BaseRequest` is the documented
place to plug in another client: PTB still builds the parameters and reads the answers.
"""

from __future__ import annotations

import asyncio
import io
from typing import TYPE_CHECKING, Any

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

if TYPE_CHECKING:
    from telegram._utils.types import ODVInput


def _given(value: ODVInput[float], default: float | None) -> float | None:
    """The timeout a call asked for, or this client's own when it asked for none."""
    return default if value is BaseRequest.DEFAULT_NONE else value  # type: ignore[return-value]


class AiohttpRequest(BaseRequest):
    """Bot API requests through one aiohttp session with a pool of keep-alive connections.

    Timeouts as PTB has them: connect (a new connection), read (waiting for the answer; PTB
    adds the long poll's time for getUpdates), write and pool (waiting for a free connection).
    aiohttp has no write timeout of its own: the whole call is bounded by their sum.
    """

    def __init__(
        self,
        *,
        connections: int = 256,
        connect_timeout: float | None = 10.0,
        read_timeout: float | None = 20.0,
        write_timeout: float | None = 20.0,
        pool_timeout: float | None = 10.0,
    ) -> None:
        self._connections = connections
        self._connect = connect_timeout
        self._read = read_timeout
        self._write = write_timeout
        self._pool = pool_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._connections, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(
                connector=connector, headers={"User-Agent": self.USER_AGENT}
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        connect = _given(connect_timeout, self._connect)
        read = _given(read_timeout, self._read)
        write = _given(write_timeout, self._write)
        pool = _given(pool_timeout, self._pool)
        parts = (connect, read, write, pool)
        timeout = aiohttp.ClientTimeout(
            total=None if None in parts else sum(p for p in parts if p is not None),
            connect=None if pool is None or connect is None else pool + connect,
            sock_connect=connect,
            sock_read=read,
        )
        body: Any = None
        if request_data is not None:
            files = request_data.multipart_data
            if files:
                form = aiohttp.FormData(quote_fields=False)
                for name, value in request_data.json_parameters.items():
                    form.add_field(name, value)
                for name, (filename, content, mime) in files.items():
                    # aiohttp streams a file object in chunks; raw bytes it would write at once.
                    stream = io.BytesIO(content) if isinstance(content, bytes) else content
                    form.add_field(name, stream, filename=filename, content_type=mime)
                body = form
            else:
                body = request_data.json_parameters  # sent form-encoded, as PTB's own client does
        try:
            async with self._session.request(method, url, data=body, timeout=timeout) as reply:
                return reply.status, await reply.read()
        except aiohttp.ConnectionTimeoutError as error:
            raise TimedOut(
                "No connection to the Bot API in time; the request was not sent"
            ) from error
        except (TimeoutError, asyncio.TimeoutError) as error:
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{type(error).__name__}: {error}") from error
