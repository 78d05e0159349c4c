"""Remote mode: the same interface against a fake Rasa server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from nlu import NLUUnavailable
from nlu.parsing import RasaNLU
from nlu.service import load_nlu


class FakeRasa(BaseHTTPRequestHandler):
    """Answers POST /model/parse like `rasa run --enable-api`, including its slash quirk."""

    received: list[str]
    status: int

    def do_POST(self) -> None:  # noqa: N802 (http.server naming)
        length = int(self.headers["Content-Length"])
        text = json.loads(self.rfile.read(length))["text"]
        self.server.received.append((self.path, text))  # type: ignore[attr-defined]
        if self.path != "/model/parse":
            self.send_error(404)
            return
        status = self.server.status  # type: ignore[attr-defined]
        if status != 200:
            self.send_error(status)
            return
        if text.startswith("/"):
            intent, confidence, entities = text[1:], 1.0, []
        elif "twitter" in text:
            start = text.index("twitter")
            entities = [{"entity": "platform", "value": "x", "start": start, "end": start + 7}]
            intent, confidence = "report_incident", 0.85
        else:
            intent, confidence, entities = "greet", 0.2, []
        body = json.dumps(
            {
                "text": text,
                "intent": {"name": intent, "confidence": confidence},
                "intent_ranking": [{"name": intent, "confidence": confidence}],
                "entities": entities,
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        """Keep test output clean."""


@pytest.fixture
def rasa_server() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeRasa)
    server.received = []  # type: ignore[attr-defined]
    server.status = 200  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def url(server: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


async def test_remote_parse_uses_the_same_interface(rasa_server):
    nlu = await load_nlu(remote_url=url(rasa_server) + "/")
    assert isinstance(nlu, RasaNLU)
    try:
        parse = await nlu.parse("ik word op twitter bedreigd")
        low = await nlu.parse("hmm")
    finally:
        await nlu.aclose()
    assert (parse.intent, parse.fallback, parse.entity("platform")) == (
        "report_incident",
        False,
        "x",
    )
    assert parse.entities[0].text == "twitter"
    assert (low.intent, low.fallback) == ("greet", True)
    assert rasa_server.received[-1] == ("/model/parse", "hmm")


async def test_remote_server_never_sees_a_command_slash(rasa_server):
    nlu = await load_nlu(remote_url=url(rasa_server))
    try:
        parse = await nlu.parse("/start")
    finally:
        await nlu.aclose()
    assert parse.intent != "start"
    assert ("/model/parse", "start") in rasa_server.received
    assert all(not text.startswith("/") for _, text in rasa_server.received)


async def test_remote_safety_net_works_without_the_server(rasa_server):
    nlu = await load_nlu(remote_url=url(rasa_server))
    rasa_server.status = 500
    try:
        parse = await nlu.parse("ik ben in gevaar")
        with pytest.raises(NLUUnavailable):
            await nlu.parse("hoe doe ik aangifte")
    finally:
        await nlu.aclose()
    assert (parse.intent, parse.source) == ("emergency", "safety_net")


async def test_a_failing_server_stops_start_up_with_a_clear_line(rasa_server):
    rasa_server.status = 500
    with pytest.raises(NLUUnavailable, match="Rasa-server .* geeft geen bruikbaar antwoord"):
        await load_nlu(remote_url=url(rasa_server))


async def test_an_unreachable_server_stops_start_up(rasa_server):
    address = url(rasa_server)
    rasa_server.shutdown()
    rasa_server.server_close()
    with pytest.raises(NLUUnavailable, match="ConnectError"):
        await load_nlu(remote_url=address)
