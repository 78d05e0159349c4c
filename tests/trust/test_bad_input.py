"""Bad input never crashes the bot, never shows a traceback, never leaves a broken conversation."""

from __future__ import annotations

import itertools
import json
import logging
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import given, settings
from sqlalchemy import select

from bot.app import FEATURES, App
from bot.base.messages import Attachment, Incoming, Reply
from bot.base.settings import Settings
from bot.channels.local import BadInput, read_line
from bot.core.dialogue import Dialogue
from bot.store import Case, Conversation, Evidence, Store
from flows.engine import DialogueState
from nlu import NLUUnavailable
from tests.fakes.keyword_nlu import KeywordNLU
from tests.plugins.desk import Desk
from tests.plugins.desk import Reporter as DeskReporter
from tests.trust import strategies

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

_users = itertools.count(1)


def check_replies(dialogue: Dialogue, replies: list[Reply]) -> None:
    """Every answer is a kind, readable reply: no traceback, no 'something went wrong'."""
    assert replies and all(isinstance(r, Reply) and r.text.strip() for r in replies)
    for reply in replies:
        assert "Traceback" not in reply.text and 'File "' not in reply.text
        assert reply.text != dialogue.text("error"), "a turn failed inside the core"


async def still_works(dialogue: Dialogue, store: Store, user: str) -> None:
    """The stored conversation loads, and a new report can start right away."""
    async with store.session() as session:
        reporter = await store.reporter(session, user)
        conversation = await session.get(Conversation, reporter.id)
        if conversation is not None:
            dialogue.engine.active(DialogueState.from_json(conversation.state))
    replies = await dialogue.handle(Incoming(user, text="/melden"))
    check_replies(dialogue, replies)
    assert "Vertel in je eigen woorden" in replies[-1].text


def no_errors_logged(caplog: pytest.LogCaptureFixture, prefix: str = "") -> None:
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR and r.name.startswith(prefix)]
    assert not errors, [f"{r.name}: {r.getMessage()}" for r in errors]


@pytest.mark.postgres  # stricter than SQLite: it refuses text SQLite would store (NUL)
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@settings(settings.get_profile("trust"))
@given(conversation=strategies.conversations)
async def test_the_dialogue_core_survives_anything_a_reporter_sends(
    make_chat: Any, store: Store, caplog: pytest.LogCaptureFixture, conversation: list[Any]
) -> None:
    dialogue = make_chat().dialogue
    user = f"local:fuzz{next(_users)}"
    offered: list[str] = []
    with caplog.at_level(logging.INFO):
        for message in conversation:
            replies = await dialogue.handle(strategies.incoming(user, message, offered))
            check_replies(dialogue, replies)
            offered += [b.payload for r in replies for b in r.buttons]
        await still_works(dialogue, store, user)
    no_errors_logged(caplog)
    caplog.clear()


@settings(settings.get_profile("trust"))
@given(raw=strategies.chat_lines)
def test_a_json_chat_line_is_a_message_or_a_dutch_refusal(raw: bytes) -> None:
    try:
        message = read_line(raw, "local:x")
    except BadInput as refused:
        assert str(refused).strip() and "Traceback" not in str(refused)
        return
    assert message.user.startswith("local:") and 0 < len(message.user) <= 70
    assert isinstance(message.text, str) and "\x00" not in message.text
    assert message.button is None or isinstance(message.button, str)


async def _statuses(store: Store) -> dict[str, tuple[str, str | None]]:
    async with store.session() as session:
        cases = (await session.execute(select(Case))).scalars()
        return {c.ref: (c.status, c.owner) for c in cases}


@pytest.fixture
async def cases_on_cards(desk: Desk, app: App) -> list[str]:
    """Two escalations with their cards in the support channel."""
    refs = [
        await DeskReporter(app.dialogue, "telegram:8101").ask_for_support(),
        await DeskReporter(app.dialogue, "telegram:8102").raise_alarm(),
    ]
    await desk.deliver()
    return refs


@pytest.fixture
def slack_failures(monkeypatch: pytest.MonkeyPatch) -> list[BaseException]:
    """Every error the desk's listeners report (to its error handler), as exceptions."""
    from bot.channels.slack import listeners

    failures: list[BaseException] = []
    original = listeners.safe_trace

    def keep(error: BaseException) -> str:
        failures.append(error)
        return original(error)

    monkeypatch.setattr(listeners, "safe_trace", keep)
    return failures


@SQLITE
@settings(settings.get_profile("trust"))
@given(request=strategies.slack_requests)
async def test_the_support_desk_survives_forged_and_malformed_slack_requests(
    desk: Desk,
    cases_on_cards: list[str],
    caplog: pytest.LogCaptureFixture,
    slack_failures: list[BaseException],
    request: Any,
) -> None:
    caplog.clear()
    slack_failures.clear()
    before = await _statuses(desk.store)
    posts = desk.fake.calls["chat.postMessage"]
    with caplog.at_level(logging.INFO):
        async with desk.team.http.post(
            desk.team.url, data=request.body.encode(), headers=request.headers()
        ) as response:
            status = response.status
        await desk.desk.settled()
    failures = slack_failures + [
        r.exc_info[1] for r in caplog.records if r.name == "aiohttp.server" and r.exc_info
    ]
    assert all(strategies.only_bolt(f) for f in failures if f is not None)
    assert status < 500 or failures
    if request.signing != "good":
        assert status in (400, 401) or failures
    if request.signing != "good" or request.user != strategies.MEMBER:
        assert await _statuses(desk.store) == before  # only the team may change a case
        assert desk.fake.calls["chat.postMessage"] == posts


@SQLITE
async def test_a_body_slack_bolt_cannot_read_is_refused_without_a_500(desk: Desk) -> None:
    body = "payload=" + json.dumps({"type": "block_actions", "user": True})
    async with desk.team.http.post(
        desk.team.url, data=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    ) as response:
        assert response.status in (400, 401)


SIGNED_BUT_MALFORMED = (
    ("application/json", {"type": "event_callback", "event": None}),
    ("form", {"type": "block_actions", "user": {"id": strategies.MEMBER}, "actions": []}),
    ("form", {"type": "block_actions", "user": {"id": strategies.MEMBER}, "actions": {"0": 1}}),
    ("form", {"type": "view_submission", "view": {"callback_id": "close_case"}}),
    ("form", {"type": "view_submission", "view": None}),
)


@SQLITE
@pytest.mark.parametrize(("kind", "payload"), SIGNED_BUT_MALFORMED)
async def test_a_signed_body_of_the_wrong_shape_is_refused_without_a_500(
    desk: Desk, kind: str, payload: dict[str, Any]
) -> None:
    if kind == "form":
        body = urlencode({"payload": json.dumps(payload)})
        request = strategies.SlackRequest(body, "application/x-www-form-urlencoded", "good", None)
    else:
        request = strategies.SlackRequest(json.dumps(payload), kind, "good", None)
    async with desk.team.http.post(
        desk.team.url, data=request.body.encode(), headers=request.headers()
    ) as response:
        assert response.status == 400


@SQLITE
async def test_after_the_storm_the_desk_still_works(
    desk: Desk, cases_on_cards: list[str], app: App
) -> None:
    """Garbage first, then an ordinary press: it is handled as always."""
    for body in ("", "payload=%7B", '{"type": "event_callback"}', "x" * 10_000):
        async with desk.team.http.post(desk.team.url, data=body.encode()) as response:
            assert response.status in (400, 401)
    await desk.team.click(strategies.MEMBER, "ack", cases_on_cards[0])
    statuses = await _statuses(desk.store)
    assert statuses[cases_on_cards[0]][0] == "acknowledged"


async def test_nul_characters_are_dropped_on_sqlite_and_postgresql(
    store: Store, knowledge: Any
) -> None:
    dialogue = Dialogue(store, KeywordNLU(), Settings(), knowledge, features=FEATURES)
    user = "local:nul"
    for message in (
        Incoming(user, "/melden"),
        Incoming(user, "Er\x00 is iets gebeurd na de vergadering"),
        Incoming(user, button="skip"),
        Incoming(user, button="bedreiging\x00"),
        Incoming(user, "gister\x00avond"),
        Incoming(user, "In de raadszaal\x00"),
        Incoming(user, button="ikzelf"),
        Incoming(
            user, attachments=(Attachment("photo", b"\x00\x00", "image/\x00png", "a\x00.png"),)
        ),
    ):
        check_replies(dialogue, await dialogue.handle(message))
    async with store.session() as session:
        (evidence,) = (await session.execute(select(Evidence))).scalars()
        assert (evidence.filename, evidence.mime, evidence.content) == (
            "a.png",
            "image/png",
            b"\x00\x00",
        )


async def test_an_nlu_outage_gets_the_menu_with_a_note_not_a_crash(
    store: Store, knowledge: Any
) -> None:
    class Unavailable:
        async def parse(self, text: str) -> Any:
            raise NLUUnavailable("de NLU-server antwoordt niet")

    dialogue = Dialogue(store, Unavailable(), Settings(), knowledge, features=FEATURES)  # type: ignore[arg-type]
    replies = await dialogue.handle(Incoming("local:nlu", "hallo"))
    assert [r.text for r in replies] == [dialogue.text("nlu_unavailable")]
    assert "Incident melden" in [b.label for b in replies[0].buttons]
    danger = await dialogue.handle(
        Incoming("local:nlu", "Er staat een man met een mes voor mijn deur")
    )
    assert "112" in danger[0].text.splitlines()[0]
    help_replies = await dialogue.handle(Incoming("local:nlu", "/help"))  # commands need no NLU
    check_replies(dialogue, help_replies)
