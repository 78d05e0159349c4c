"""`python -m nlu serve`: the trained model behind Rasa's `POST /model/parse`, and nothing else.

Runs in the Rasa environment (.venv-nlu). Same request, response and `?token=` check as
`rasa run --enable-api --auth-token T`, without Rasa's web stack: it starts sooner and holds
less memory (measured in the README). `GET /` answers when the model is loaded and warm.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from nlu.parsing import _load_agent

log = logging.getLogger("weerbaar.nlu.server")
MAX_BODY = 64 * 1024
# Parsed once before the server says it is ready: the first real message is then as fast as
# the rest (TensorFlow builds its graph functions on the first calls).
WARM_UP = ("hallo", "Ik wil een incident melden", "Hoe doe ik aangifte bij de politie?")


class Model:
    """A loaded Rasa agent; parse_message runs on its own loop, one message at a time."""

    def __init__(self, path: Path) -> None:
        self.agent, self.loop = _load_agent(path)
        self.lock = threading.Lock()

    def parse(self, text: str) -> dict[str, Any]:
        with self.lock:
            result: dict[str, Any] = self.loop.run_until_complete(self.agent.parse_message(text))
        return result


def _plain(value: Any) -> Any:
    """numpy numbers in Rasa's answer as plain JSON numbers."""
    return value.item() if hasattr(value, "item") else str(value)


def handler(model: Model, token: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def _send(self, status: HTTPStatus, body: dict[str, Any]) -> None:
            data = json.dumps(body, ensure_ascii=False, default=_plain).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _failure(self, status: HTTPStatus, reason: str) -> None:
            self._send(
                status,
                {"status": "failure", "reason": reason, "message": status.phrase, "code": status},
            )

        def do_GET(self) -> None:
            if urlsplit(self.path).path != "/":
                self._failure(HTTPStatus.NOT_FOUND, "NotFound")
                return
            self._send(HTTPStatus.OK, {"status": "ok"})

        def do_POST(self) -> None:
            url = urlsplit(self.path)
            if url.path != "/model/parse":
                self._failure(HTTPStatus.NOT_FOUND, "NotFound")
                return
            given = (parse_qs(url.query).get("token") or [""])[0]
            if not hmac.compare_digest(given.encode(), token.encode()):
                self._failure(HTTPStatus.UNAUTHORIZED, "NotAuthenticated")
                return
            try:
                length = int(self.headers.get("Content-Length") or 0)
                if not 0 < length <= MAX_BODY:
                    raise ValueError("body size")
                text = json.loads(self.rfile.read(length))["text"]
                if not isinstance(text, str):
                    raise ValueError("text")
            except (ValueError, KeyError, TypeError):
                self._failure(HTTPStatus.BAD_REQUEST, "BadRequest")
                return
            self._send(HTTPStatus.OK, model.parse(text))

        def log_message(self, format: str, *args: Any) -> None:
            """No access log: requests carry what people wrote."""

    return Handler


def _exit_with_stdin(server: ThreadingHTTPServer) -> None:
    """Stop when the parent process closes our stdin (or dies): no orphaned service."""
    sys.stdin.buffer.read()
    server.shutdown()


def serve(model_path: Path, host: str, port: int, token: str, *, with_stdin: bool) -> None:
    """Load and warm the model, listen, print one JSON line with the port, serve until stopped."""
    model = Model(model_path)
    for text in WARM_UP:
        model.parse(text)
    server = ThreadingHTTPServer((host, port), handler(model, token))
    server.daemon_threads = True
    if with_stdin:
        threading.Thread(target=_exit_with_stdin, args=(server,), daemon=True).start()
    print(json.dumps({"ready": True, "port": server.server_address[1]}), flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        asyncio.set_event_loop(None)
