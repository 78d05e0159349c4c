"""The support desk against a fake Slack: real slack-bolt and slack-sdk, real HTTP, signed requests."""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp import web
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import select

from bot.app import FEATURES, App
from bot.base.clock import FixedClock
from bot.base.messages import Incoming, Reply
from bot.base.settings import Settings
from bot.channels.slack import SlackDesk
from bot.core.dialogue import Dialogue
from bot.jobs.scheduler import Scheduler
from bot.store import Case, OutboxMessage, Store
from knowledge import Knowledge
from tests.fakes.keyword_nlu import KeywordNLU
from tests.fakes.slack_api import BOT_TOKEN, CHANNEL, SIGNING_SECRET, FakeSlack

ANNA = "U0ANNA0001"  # support team member
BERT = "U0BERT0001"  # support team member
EVE = "U0EVE00001"  # in the workspace, not in the support channel
USERS = {
    ANNA: {
        "id": ANNA,
        "name": "anna",
        "real_name": "Anna de Vries",
        "profile": {"real_name": "Anna de Vries", "first_name": "Anna"},
    },
    BERT: {
        "id": BERT,
        "name": "bert",
        "real_name": "Bert Jansen",
        "profile": {"real_name": "Bert Jansen", "first_name": "Bert"},
    },
    EVE: {"id": EVE, "name": "eve", "real_name": "Eve Smit", "profile": {"real_name": "Eve Smit"}},
}
ONCALL = "S0ONCALL01"
REF = re.compile(r"WB-\d{4}-\d{4}")


@pytest.fixture
async def fake(clock: FixedClock) -> AsyncIterator[FakeSlack]:
    slack = FakeSlack(
        members=(ANNA, BERT, "U0BOTUSER"), users=USERS, now=lambda: clock.now().timestamp()
    )
    await slack.start()
    yield slack
    await slack.stop()


@pytest.fixture
def settings(database_url: str, fake: FakeSlack) -> Settings:
    return Settings(
        database_url=database_url,
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_support_channel=CHANNEL,
        slack_api_base_url=fake.url,
        slack_oncall_group=ONCALL,
    )


@pytest.fixture
def app(store: Store, settings: Settings, knowledge: Knowledge, clock: FixedClock) -> App:
    nlu = KeywordNLU()
    return App(
        settings,
        store,
        nlu,
        knowledge,
        Dialogue(store, nlu, settings, knowledge, clock, features=FEATURES),
    )


@pytest.fixture
async def scheduler(store: Store, settings: Settings) -> AsyncIterator[Scheduler]:
    """Runs due jobs only when a test calls run_due(), on the injected clock."""
    scheduler = Scheduler(store, settings, FEATURES.jobs, autorun=False)
    await scheduler.start()
    yield scheduler
    await scheduler.stop()


class Team:
    """The support team's side: signed requests to the desk's /slack/events over real HTTP."""

    def __init__(self, desk: SlackDesk, url: str, fake: FakeSlack, http: aiohttp.ClientSession):
        self.desk = desk
        self.url = url
        self.fake = fake
        self.http = http
        self.status = 0
        self.body = ""

    async def post(
        self,
        body: str,
        content_type: str = "application/x-www-form-urlencoded",
        *,
        secret: str = SIGNING_SECRET,
        timestamp: int | None = None,
    ) -> int:
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": SignatureVerifier(secret).generate_signature(
                timestamp=stamp, body=body
            )
            or "",
        }
        async with self.http.post(self.url, data=body.encode(), headers=headers) as response:
            self.status, self.body = response.status, await response.text()
        await self.desk.settled()
        return self.status

    @property
    def answer(self) -> dict[str, Any]:
        return json.loads(self.body)

    async def click(self, user: str, action: str, ref: str, **signing: Any) -> int:
        payload = {
            "type": "block_actions",
            "user": {"id": user, "username": USERS[user]["name"], "team_id": "T0TEAM001"},
            "api_app_id": "A0WEERBAAR",
            "team": {"id": "T0TEAM001", "domain": "weerbaar"},
            "trigger_id": f"trigger-{action}",
            "response_url": self.fake.response_url(action),
            "channel": {"id": CHANNEL, "name": "ondersteuning"},
            "container": {"type": "message", "channel_id": CHANNEL, "message_ts": "1.000001"},
            "actions": [
                {
                    "type": "button",
                    "action_id": action,
                    "block_id": "case_actions",
                    "value": ref,
                    "action_ts": "1764424800.000001",
                }
            ],
        }
        return await self.post(urlencode({"payload": json.dumps(payload)}), **signing)

    async def submit_close(self, user: str, ref: str, reason: str) -> int:
        payload = {
            "type": "view_submission",
            "user": {"id": user, "username": USERS[user]["name"], "team_id": "T0TEAM001"},
            "api_app_id": "A0WEERBAAR",
            "team": {"id": "T0TEAM001", "domain": "weerbaar"},
            "trigger_id": "trigger-submit",
            "view": {
                "id": "V00000001",
                "type": "modal",
                "callback_id": "close_case",
                "private_metadata": ref,
                "state": {
                    "values": {"reason": {"reason": {"type": "plain_text_input", "value": reason}}}
                },
            },
        }
        return await self.post(urlencode({"payload": json.dumps(payload)}))

    async def command(self, user: str, text: str) -> int:
        form = {
            "command": "/weerbaar",
            "text": text,
            "user_id": user,
            "user_name": USERS[user]["name"],
            "channel_id": CHANNEL,
            "team_id": "T0TEAM001",
            "api_app_id": "A0WEERBAAR",
            "trigger_id": "trigger-command",
            "response_url": self.fake.response_url("command"),
        }
        return await self.post(urlencode(form))

    def event(self, event: dict[str, Any]) -> str:
        return json.dumps(
            {
                "type": "event_callback",
                "team_id": "T0TEAM001",
                "api_app_id": "A0WEERBAAR",
                "event_id": f"Ev{time.perf_counter_ns()}",
                "event_time": int(time.time()),
                "event": event,
            }
        )

    async def reply(self, user: str, thread_ts: str, text: str, **extra: Any) -> int:
        """A message in a thread of the support channel."""
        message = {
            "type": "message",
            "channel": CHANNEL,
            "user": user,
            "text": text,
            "ts": f"{time.time():.6f}",
            "thread_ts": thread_ts,
            **extra,
        }
        return await self.post(self.event(message), "application/json")


@dataclass
class Desk:
    desk: SlackDesk
    team: Team
    fake: FakeSlack
    store: Store
    scheduler: Scheduler

    async def deliver(self) -> int:
        return await self.desk.deliver()


@pytest.fixture
def slack_timeout() -> float:
    """How long the desk waits for Slack's Web API: long enough that a busy machine never turns
    a slow answer into a timeout. A test whose fake Slack hangs on purpose is marked ``@hangs``."""
    return 10.0


hangs = pytest.mark.parametrize("slack_timeout", [0.5], ids=["short-timeout"])


@pytest.fixture
async def desk(
    app: App, fake: FakeSlack, scheduler: Scheduler, store: Store, slack_timeout: float
) -> AsyncIterator[Desk]:
    """An HTTP-mode desk on 127.0.0.1 whose outbox rounds the test runs itself."""
    web_app = web.Application()
    slack_desk = SlackDesk(
        app, web_app, scheduler=scheduler, http_timeout=slack_timeout, poll_seconds=None
    )
    runner = web.AppRunner(web_app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    await slack_desk.start()
    async with aiohttp.ClientSession() as http:
        team = Team(slack_desk, f"http://127.0.0.1:{port}/slack/events", fake, http)
        yield Desk(slack_desk, team, fake, store, scheduler)
    await slack_desk.stop()
    await runner.cleanup()


class Reporter:
    """A reporter talking to the real dialogue core."""

    def __init__(self, dialogue: Dialogue, user: str = "telegram:1001") -> None:
        self.dialogue = dialogue
        self.user = user
        self.replies: list[Reply] = []

    async def say(self, text: str) -> str:
        self.replies = await self.dialogue.handle(Incoming(user=self.user, text=text))
        return self.text

    async def press(self, label: str) -> str:
        offered = [b for r in self.replies for b in r.buttons]
        button = next((b for b in offered if label in (b.label, b.payload)), None)
        assert button is not None, f"no button {label!r} in {[b.label for b in offered]}"
        self.replies = await self.dialogue.handle(Incoming(user=self.user, button=button.payload))
        return self.text

    @property
    def text(self) -> str:
        return "\n".join(r.text for r in self.replies)

    async def ask_for_support(self) -> str:
        """/hulp, not in danger, chat, a short need: returns the case reference."""
        await self.say("/hulp")
        await self.say("nee")
        await self.press("chatten")
        text = await self.say("Ik word online bedreigd en wil met iemand praten.")
        found = REF.search(text)
        assert found, text
        return found.group(0)

    async def raise_alarm(self) -> str:
        """Danger now, then 'alert the team': an urgent case."""
        text = await self.say("Er staat iemand met een mes voor mijn deur")
        assert text.splitlines()[0].startswith("Ben je nu in gevaar? Bel direct 112."), text
        text = await self.press("alert_team")
        found = REF.search(text)
        assert found, text
        return found.group(0)


@pytest.fixture
def reporter(app: App) -> Reporter:
    return Reporter(app.dialogue)


async def load_case(store: Store, ref: str) -> Case:
    async with store.session() as session:
        case = await store.case_by_ref(session, ref)
        assert case is not None
        return case


async def outbox(store: Store, destination: str) -> list[dict[str, Any]]:
    """Every payload written for a destination, oldest first."""
    async with store.session() as session:
        rows = await session.execute(
            select(OutboxMessage)
            .where(OutboxMessage.destination == destination)
            .order_by(OutboxMessage.id)
        )
        return [dict(m.payload) for m in rows.scalars()]
