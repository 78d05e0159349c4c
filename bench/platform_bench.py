"""The bot as a process: its RSS, start to first answer, and turns with the NLU over HTTP.

- `chat`: `python -m bot chat --json` from start to its first answer (a message that needs the
  classifier), the second classified answer, and the RSS of the bot process (the NLU service
  it started is measured on its own).
- `service`: the NLU service's own start-up to ready and its RSS.
- `turns`: per-turn time through the dialogue core with the NLU over HTTP (and, where Rasa
  can be imported in this process, in-process in the same run).
- `servers`: `rasa run --enable-api` against `python -m nlu serve` (how the server was chosen).

Targets: bot process RSS <= 200 MB, start to first answer <= 5 s.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
FIRST = '{"text": "Ik wil een incident melden"}\n'
SECOND = '{"text": "Hoe doe ik aangifte bij de politie?"}\n'


def rss_mb(pid: int) -> float:
    """Resident set size of process `pid` in MB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def _children_of(pid: int) -> set[int]:
    """Child processes (none where this bot has no NLU service manager)."""
    if importlib.util.find_spec("nlu.service") is None:
        return set()
    from nlu.service import children

    return children(pid)


def _answer(stdout: IO[str]) -> dict[str, Any]:
    """Read JSON lines until one for the user arrives."""
    while True:
        line = stdout.readline()
        if not line:
            raise RuntimeError("bot chat ended without an answer")
        data = json.loads(line)
        if data.get("to") == "user":
            return data


def chat(**nlu_env: str) -> dict[str, object]:
    """Start `bot chat --json`, time its first and second classified answer, read its RSS."""
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{Path(folder) / 'chat.db'}", **nlu_env}
        for name in ("TELEGRAM_BOT_TOKEN", "SLACK_BOT_TOKEN"):
            env.pop(name, None)
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "chat", "--json"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=ROOT,
            env=env,
            text=True,
        )
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(FIRST)
        process.stdin.flush()
        _answer(process.stdout)
        first_s = time.perf_counter() - started
        process.stdin.write(SECOND)
        process.stdin.flush()
        started = time.perf_counter()
        _answer(process.stdout)
        second_ms = (time.perf_counter() - started) * 1000
        bot_rss = rss_mb(process.pid)
        service_rss = sum(rss_mb(child) for child in _children_of(process.pid))
        process.stdin.close()
        process.wait(timeout=60)
    return {
        "start_to_first_answer_s": round(first_s, 2),
        "second_classified_answer_ms": round(second_ms, 1),
        "bot_rss_mb": bot_rss,
        "nlu_service_rss_mb": round(service_rss, 1),
    }


def service() -> dict[str, object] | None:
    """The NLU service's own start-up and RSS, and `bot chat` against it when it already runs
    (the bot's own start-up). None where this bot has no service manager."""
    if importlib.util.find_spec("nlu.service") is None:
        return None
    from nlu.service import start_service

    loop = asyncio.new_event_loop()
    started = time.perf_counter()
    running = loop.run_until_complete(start_service())
    try:
        return {
            "start_to_ready_s": round(time.perf_counter() - started, 2),
            "rss_mb": rss_mb(running.pid),
            "bot_chat_with_nlu_url": chat(NLU_URL=running.url, NLU_TOKEN=running.token),
        }
    finally:
        loop.run_until_complete(running.stop())
        loop.close()


def turns() -> dict[str, object]:
    """Per-turn p50/p95 through the core: NLU over HTTP, and in-process where possible."""
    from bench.dialogue_bench import measure_turns

    found: dict[str, object] = {}
    if importlib.util.find_spec("rasa") is not None:
        from nlu.service import load_nlu

        found["in_process"] = asyncio.run(measure_turns(load_nlu))
    if importlib.util.find_spec("nlu.service") is not None:
        from nlu.service import embedded_nlu

        found["http"] = asyncio.run(measure_turns(embedded_nlu))
    return found


SERVER_PARSES = 300


def _server(command: list[str], port: int, token: str) -> dict[str, object]:
    """Start one NLU server, time start to `GET /` ready and its first parse, then p50/p95."""
    import statistics

    import httpx

    env = {**os.environ, "NLU_TOKEN": token}
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            while True:
                try:
                    if client.get("/").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if process.poll() is not None or time.perf_counter() - started > 300:
                    raise RuntimeError(f"{command[:4]} did not start")
                time.sleep(0.05)
            ready_s = time.perf_counter() - started
            texts = [
                "Ik wil een incident melden",
                "Hoe doe ik aangifte bij de politie?",
                "iemand heeft mijn adres online gezet",
                "dank je wel",
            ]
            times: list[float] = []
            for index in range(SERVER_PARSES + 1):
                begun = time.perf_counter()
                response = client.post(
                    "/model/parse", params={"token": token}, json={"text": texts[index % 4]}
                )
                response.raise_for_status()
                times.append((time.perf_counter() - begun) * 1000)
            first, rest = times[0], sorted(times[1:])
            return {
                "start_to_ready_s": round(ready_s, 2),
                "first_parse_ms": round(first, 1),
                "parse_p50_ms": round(statistics.median(rest), 2),
                "parse_p95_ms": round(rest[int(0.95 * len(rest))], 2),
                "rss_mb": rss_mb(process.pid),
            }
    finally:
        process.terminate()
        process.wait(timeout=60)


def servers() -> dict[str, object]:
    """`rasa run --enable-api` against `python -m nlu serve`, same model, same machine."""
    from nlu.training import model_file, nlu_python

    python = str(nlu_python())
    token = "bench-token"
    rasa = str(Path(python).parent / "rasa")
    return {
        "rasa_run": _server(
            [
                rasa,
                "run",
                "--enable-api",
                "--auth-token",
                token,
                "-m",
                str(model_file()),
                "--port",
                "5931",
                "-i",
                "127.0.0.1",
            ],
            5931,
            token,
        ),
        "nlu_serve": _server([python, "-m", "nlu", "serve", "--port", "5932"], 5932, token),
    }


def run() -> dict[str, object]:
    bot = chat()
    return {
        "chat": bot,
        "service": service(),
        "turns": turns(),
        "servers": servers(),
        "targets": {
            "bot_rss_le_200_mb": float(str(bot["bot_rss_mb"])) <= 200,
            "first_answer_le_5_s": float(str(bot["start_to_first_answer_s"])) <= 5,
        },
    }
