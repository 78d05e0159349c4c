"""The JSON chat exactly as the contract says, run as a real process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.channels.local import BadInput, read_line
from nlu.service import NLUService, children

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def session_nlu(nlu_service: NLUService, monkeypatch: pytest.MonkeyPatch) -> None:
    """The chats use the session's NLU service (NLU_URL) instead of starting one each."""
    monkeypatch.setenv("NLU_URL", nlu_service.url)
    monkeypatch.setenv("NLU_TOKEN", nlu_service.token)


@pytest.mark.slow
def test_without_nlu_url_the_chat_starts_its_own_service_and_takes_it_along_on_sigterm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NLU_URL")
    monkeypatch.delenv("NLU_TOKEN")
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'chat.db'}"}
    with subprocess.Popen(
        [sys.executable, "-m", "bot", "chat", "--json"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
        env=env,
    ) as process:
        assert process.stdin is not None and process.stdout is not None
        try:
            process.stdin.write(b'{"text": "Hoe doe ik aangifte bij de politie?"}\n')
            process.stdin.flush()
            answer = json.loads(process.stdout.readline())
            assert "aangifte" in answer["text"].lower()
            (service,) = children(process.pid)
            assert b"nlu" in Path(f"/proc/{service}/cmdline").read_bytes()
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
        finally:
            process.kill()
    deadline = time.monotonic() + 30
    while (
        Path(f"/proc/{service}").exists()
        and b"nlu" in Path(f"/proc/{service}/cmdline").read_bytes()
    ):
        assert time.monotonic() < deadline, "the NLU service outlived the chat"
        time.sleep(0.1)


def _chat(tmp_path: Path, stdin: bytes, *args: str) -> list[dict]:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'chat.db'}"}
    for name in ("TELEGRAM_BOT_TOKEN", "SLACK_BOT_TOKEN"):
        env.pop(name, None)
    done = subprocess.run(
        [sys.executable, "-m", "bot", "chat", "--json", *args],
        input=stdin,
        capture_output=True,
        cwd=ROOT,
        env=env,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    assert b"Traceback" not in done.stderr
    return [json.loads(line) for line in done.stdout.decode().splitlines() if line.strip()]


@pytest.mark.slow
def test_json_chat_contract_bad_input_and_a_second_process(tmp_path: Path) -> None:
    lines = [
        b"hallo",
        b'{"text": "Ik wil een incident melden"}',
        b"{not json",
        b'{"text": "x", "colour": "red"}',
        b"x" * 100_000,
        b"\xff\xfe\x00binary",
        b'{"button": "nooit aangeboden"}',
        b'{"text": "Er is iets naars gebeurd met een inwoner na de vergadering", "user": "anna"}',
    ]
    out = _chat(tmp_path, b"\n".join(lines) + b"\n", "--user", "anna")
    user_lines = [o for o in out if o.get("to") == "user"]
    errors = [o["error"] for o in out if "error" in o]
    assert len(errors) == 4
    assert any("geen geldige JSON" in e for e in errors)
    assert any("Onbekende sleutel" in e for e in errors)
    assert any("te lang" in e for e in errors)
    assert any("UTF-8" in e for e in errors)
    assert all(set(o) == {"to", "user", "text", "buttons"} for o in user_lines)
    assert all(o["user"] == "anna" for o in user_lines)
    assert "Incident melden" in [b["label"] for b in user_lines[0]["buttons"]]
    assert any("verlopen" in o["text"] for o in user_lines)
    assert "Is er nog iets dat je wilt vertellen?" in user_lines[-1]["text"]

    # A second process with the same user and database continues the conversation.
    script = b'{"button": "Nee, dat was het"}\n{"button": "Fysiek geweld"}\n'
    out = _chat(tmp_path, script, "--user", "anna")
    assert "Wanneer gebeurde het?" in out[-1]["text"]


@pytest.mark.slow
def test_support_lines_appear_in_local_mode(tmp_path: Path) -> None:
    script = "\n".join(
        [
            '{"text": "/hulp"}',
            '{"button": "Nee"}',
            '{"button": "Chatten via deze chat"}',
            '{"button": "Overslaan"}',
        ]
    )
    out = _chat(tmp_path, script.encode() + b"\n")
    support = [o for o in out if o.get("to") == "support"]
    assert len(support) == 1
    assert support[0]["case"].startswith("WB-2026-")
    assert set(support[0]) == {"to", "case", "text"}


@pytest.mark.slow
def test_while_waiting_every_message_is_a_support_line_also_after_a_restart(
    tmp_path: Path,
) -> None:
    script = "\n".join(
        [
            '{"text": "Er staat een man voor de deur met een mes"}',
            '{"button": "Ondersteuningsteam waarschuwen"}',
            '{"text": "ik zit boven in de badkamer"}',
            '{"text": "hoe lang duurt het nog?"}',
        ]
    )
    out = _chat(tmp_path, script.encode() + b"\n")
    support = [o for o in out if o.get("to") == "support"]
    ref = support[0]["case"]
    assert [o["text"] for o in support] == [
        f"Hulpvraag {ref}. Urgent. Melder wil chatten via de bot.\n"
        "De melder schreef: Er staat een man voor de deur met een mes",
        "ik zit boven in de badkamer",
        "hoe lang duurt het nog?",
    ]
    assert all(set(o) == {"to", "case", "text"} and o["case"] == ref for o in support)
    user_lines = [o["text"] for o in out if o.get("to") == "user"]
    assert user_lines[-2] == "Doorgestuurd naar het Ondersteuningsteam. Je krijgt hier antwoord."
    assert "is nog niet opgepakt" in user_lines[-1]

    # A new process (a restart) still knows the case waits: the message goes to the team.
    out = _chat(tmp_path, b'{"text": "ik ben nog steeds boven, hij is weg denk ik"}\n')
    assert {
        "to": "support",
        "case": ref,
        "text": "ik ben nog steeds boven, hij is weg denk ik",
    } in out
    ack = subprocess.run(
        [sys.executable, "-m", "bot", "cases", "ack", ref],
        capture_output=True,
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'chat.db'}"},
        timeout=180,
    )
    assert ack.returncode == 0, ack.stderr.decode(errors="replace")[-2000:]
    out = _chat(tmp_path, b'{"text": "is er al iemand?"}\n')
    assert {"to": "support", "case": ref, "text": "is er al iemand?"} in out
    assert any("heeft je hulpvraag" in o.get("text", "") for o in out if o.get("to") == "user")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"text": "a"', "geen geldige JSON"),
        (b'{"text": 5}', "tekst"),
        (b'{"text": "a", "button": "b"}', "precies een"),
        (b'{"user": ""}', "precies"),
    ],
)
def test_bad_lines_are_refused_in_dutch(raw: bytes, message: str) -> None:
    with pytest.raises(BadInput) as refused:
        read_line(raw, "local:x")
    assert message.split()[0] in str(refused.value).replace("é", "e")


def test_plain_text_and_user_override() -> None:
    assert read_line(b"hallo", "local:x").text == "hallo"
    assert read_line(b'{"text": "hoi", "user": "bert"}', "local:x").user == "local:bert"


# Ongoing danger in everyday words, some that the safety net catches and some only the
# dialogue's 112 line does (the classifier hears a report or a question).
DANGER_NOW = [
    "er klimmen mensen over het hek",
    "ze slaan op dit moment mijn auto kapot",
    "hij dreigde me met zijn mes",
    "ik durf niet open te doen, hij blijft aanbellen",
    "help!!!",
]


@pytest.mark.slow
def test_ongoing_danger_gets_112_in_the_first_reply_line_fresh_and_mid_report(tmp_path: Path):
    lines = [json.dumps({"text": "/melden", "user": "control"})]
    for n, text in enumerate(DANGER_NOW):
        lines.append(json.dumps({"text": text, "user": f"fresh-{n}"}))
        lines.append(json.dumps({"text": "/melden", "user": f"mid-{n}"}))
        lines.append(json.dumps({"text": text, "user": f"mid-{n}"}))
    lines.append(json.dumps({"text": "vorige week kreeg ik een dreigbrief thuis", "user": "calm"}))
    out = [o for o in _chat(tmp_path, "\n".join(lines).encode() + b"\n") if o.get("to") == "user"]
    by_user: dict[str, list[str]] = {}
    for o in out:
        by_user.setdefault(o["user"], []).append(o["text"])
    started = len(by_user["control"])  # replies to /melden before the message itself
    for n, text in enumerate(DANGER_NOW):
        assert "112" in by_user[f"fresh-{n}"][0].splitlines()[0], text
        assert "112" not in by_user[f"mid-{n}"][0].splitlines()[0]
        assert "112" in by_user[f"mid-{n}"][started].splitlines()[0], text
    assert "112" not in by_user["calm"][0].splitlines()[0]
