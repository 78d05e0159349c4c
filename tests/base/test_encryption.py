"""Encryption at rest: stories, places, phone numbers, notes, files and drafts are sealed."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
from sqlalchemy import select, text

from bot.__main__ import main
from bot.app import FEATURES
from bot.base import crypto
from bot.base.messages import Attachment, Incoming
from bot.base.settings import ROOT, Settings, SettingsError
from bot.core.dialogue import Dialogue
from bot.store import Evidence, Store
from knowledge import Knowledge
from tests.fakes.keyword_nlu import KeywordNLU
from tests.plugins.keys import KEY_A, KEY_B
from tests.trust.reporters import Persona, complete

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
FILE = Attachment(
    "document", b"%PDF-1.4 zorgbestandinhoud " * 20, "application/pdf", "zorgnaam.pdf"
)
NOTE = "Screenshot van zorgnotitie"
PHONE_DIGITS = "0687654321"


async def _scenario(store: Store, knowledge: Knowledge) -> Persona:
    """A report with a file and a note, a support request with a phone number, a draft."""
    dialogue = Dialogue(store, KeywordNLU(), Settings(), knowledge, features=FEATURES)
    persona = Persona(11, wants_support=True)
    await complete(dialogue, persona, files=(FILE,), note=NOTE)
    user = f"local:{persona.name}"
    for message in (
        Incoming(user, "/hulp"),
        Incoming(user, button="nee"),
        Incoming(user, button="bellen"),
        Incoming(user, button="ja"),
        Incoming(user, PHONE_DIGITS),
        Incoming(user, button="skip"),
        Incoming(user, "/melden"),
        Incoming(user, "Een onaf verhaal over zorgkladversie"),
    ):
        await dialogue.handle(message)
    return persona


def _secrets(persona: Persona) -> list[bytes]:
    words = [*persona.secrets, "zorgbestandinhoud", "zorgnaam", "zorgnotitie", "zorgkladversie"]
    return [w.encode() for w in words] + [PHONE_DIGITS[2:].encode()]


def _database_bytes(url: str) -> bytes:
    path = Path(url.split(":///", 1)[1])
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


@SQLITE
async def test_nothing_typed_or_sent_is_readable_in_the_database_file(
    store: Store, knowledge: Knowledge, keys: tuple[str, ...]
) -> None:
    persona = await _scenario(store, knowledge)
    async with store.session() as session:
        (case, support) = sorted(await store.cases(session), key=lambda c: c.ref)
        assert (case.story, case.location) == (persona.story, persona.place)
        assert support.phone == "+31687654321"
        (evidence,) = (await session.execute(select(Evidence))).scalars()
        assert (evidence.content, evidence.filename) == (FILE.data, FILE.filename)
        raw = (await session.execute(text("SELECT story, location FROM cases"))).all()
        assert all(value.startswith(crypto.SEALED) for row in raw for value in row if value)
    await store.close()
    content = await asyncio.to_thread(_database_bytes, store.url)
    assert b"WB-2026-0001" in content  # the file was read: references are not secret
    for secret in _secrets(persona):
        assert secret not in content, secret


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_postgresql_holds_only_sealed_text(
    store: Store, knowledge: Knowledge, keys: tuple[str, ...]
) -> None:
    persona = await _scenario(store, knowledge)
    async with store.session() as session:
        rows = await session.execute(
            text(
                "SELECT concat_ws('|', c.story, c.location, c.phone, e.detail::text) FROM cases c "
                "JOIN case_events e ON e.case_id = c.id UNION ALL "
                "SELECT concat_ws('|', filename, encode(content, 'escape')) FROM evidence "
                "UNION ALL SELECT state::text FROM conversations "
                "UNION ALL SELECT payload::text FROM outbox"
            )
        )
        dump = "\n".join(value or "" for (value,) in rows).encode()
    for secret in _secrets(persona):
        assert secret not in dump, secret
    assert dump.count(crypto.SEALED.encode()) >= 5  # text and files
    assert dump.count(crypto.SEALED_FIELD.encode()) >= 5  # drafts, timeline details, messages


async def test_without_keys_text_is_stored_plainly_and_markers_are_kept_apart(
    store: Store,
) -> None:
    tricky = crypto.SEALED + "not really sealed"
    async with store.turn("local:plain") as turn:
        case = await store.create_case(
            turn.session, turn.reporter, kind="incident", story=tricky, location=crypto.RAW + "x"
        )
        turn.session.add(
            Evidence(
                reporter_id=turn.reporter.id,
                case_id=case.id,
                kind="document",
                size=7,
                sha256="0" * 64,
                content=crypto.SEALED.encode(),
                received_at=store.clock.now(),
            )
        )
    async with store.session() as session:
        (raw,) = (await session.execute(text("SELECT story FROM cases"))).one()
        assert raw == crypto.RAW + tricky
        loaded = await store.case_by_ref(session, case.ref)
        assert loaded is not None
        assert (loaded.story, loaded.location) == (tricky, crypto.RAW + "x")
        assert loaded.evidence[0].content == crypto.SEALED.encode()


@SQLITE
async def test_keys_rotate_and_a_missing_key_stops_the_start(
    store: Store,
    knowledge: Knowledge,
    rasa: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with store.turn("local:legacy") as turn:  # written before encryption was turned on
        await store.create_case(turn.session, turn.reporter, kind="incident", story="oud verhaal")
    crypto.use((KEY_A,))
    persona = await _scenario(store, knowledge)

    monkeypatch.setenv("DATABASE_URL", store.url)

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    monkeypatch.setenv(crypto.ENV, f"{KEY_B},{KEY_A}")
    code, out, _ = await asyncio.to_thread(run, "keys", "rotate")
    assert code == 0 and "cases.story: " in out and "evidence.content: 1" in out
    crypto.use((KEY_B,))  # the old key is gone
    async with store.session() as session:
        cases = sorted(await store.cases(session), key=lambda c: c.ref)
        assert [c.story for c in cases][:2] == ["oud verhaal", persona.story]
        raw = await session.execute(text("SELECT story FROM cases WHERE story IS NOT NULL"))
        assert all(value.startswith(crypto.SEALED) for (value,) in raw)

    crypto.use((KEY_A,))
    with pytest.raises(crypto.KeyMissing):
        async with store.session() as session:
            await store.cases(session)
    monkeypatch.setenv(crypto.ENV, KEY_A)
    code, _, err = await asyncio.to_thread(run, "keys", "check")
    assert code == 2 and err.startswith("WEERBAAR_ENCRYPTION_KEYS: none of the configured keys")

    env = {**os.environ, "DATABASE_URL": store.url, "NLU_URL": rasa, crypto.ENV: KEY_A}
    chat = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "chat", "--json", cwd=ROOT, env=env,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out_bytes, err_bytes = await chat.communicate()
    assert chat.returncode == 2 and out_bytes == b""
    assert err_bytes.decode().strip().splitlines()[-1] == (
        "Cannot start: WEERBAAR_ENCRYPTION_KEYS: none of the configured keys opens the stored data"
    )


def test_keys_are_checked_and_required_with_a_channel_token(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["keys", "new"]) == 0
    key = capsys.readouterr().out.strip()
    assert crypto.parse_keys(f" {key} , {KEY_A} ") == (key, KEY_A)
    with pytest.raises(SettingsError) as bad:
        Settings.from_env({crypto.ENV: f"{KEY_A},not-a-key"})
    assert str(bad.value).startswith("WEERBAAR_ENCRYPTION_KEYS: key 2 is not a Fernet key")
    token = {"TELEGRAM_BOT_TOKEN": "123456:" + "A" * 30}
    with pytest.raises(SettingsError) as missing:
        Settings.from_env(token)
    assert str(missing.value).startswith("WEERBAAR_ENCRYPTION_KEYS: required when")
    assert Settings.from_env({**token, crypto.ENV: KEY_A}).encryption_keys == (KEY_A,)
    assert Settings.from_env({"RETENTION_DAYS": "30"}).retention_days == 30
    with pytest.raises(SettingsError, match="^RETENTION_DAYS:"):
        Settings.from_env({"RETENTION_DAYS": "0"})


@SQLITE
async def test_local_mode_warns_once_that_nothing_is_encrypted(store: Store, rasa: str) -> None:
    env = {**os.environ, "DATABASE_URL": store.url, "NLU_URL": rasa}
    env.pop(crypto.ENV, None)
    chat = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "chat", "--json", cwd=ROOT, env=env,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await chat.communicate()
    warnings = [line for line in err.decode().splitlines() if "WARNING weerbaar.crypto" in line]
    assert chat.returncode == 0 and len(warnings) == 1
    assert "stored unencrypted" in warnings[0]


def test_a_sealed_value_opens_only_with_one_of_its_keys() -> None:
    crypto.use((KEY_A,))
    sealed_text, sealed_json = crypto.seal_text("geheim"), crypto.seal_json({"a": 1})
    assert crypto.open_text(sealed_text) == "geheim" and crypto.open_json(sealed_json) == {"a": 1}
    crypto.use((KEY_B, KEY_A))
    assert crypto.open_text(crypto.reseal(sealed_text)) == "geheim"
    for keys in ((KEY_B,), ()):
        crypto.use(keys)
        with pytest.raises(crypto.KeyMissing):
            crypto.open_text(sealed_text)
        with pytest.raises(crypto.KeyMissing):
            crypto.open_json(sealed_json)
