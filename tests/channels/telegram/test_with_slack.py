"""Telegram and the Slack support desk together: the reporter's request reaches the team and back."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

import aiohttp
from aiohttp import web

from bot.app import FEATURES, App
from bot.base.clock import FixedClock
from bot.channels.slack import SlackDesk
from bot.channels.telegram import TelegramChannel
from bot.channels.telegram.outbound import DISCREET_NOTICE
from bot.jobs.scheduler import Scheduler
from bot.store import Store
from tests.fakes.slack_api import BOT_TOKEN, CHANNEL, SIGNING_SECRET, FakeSlack
from tests.fakes.telegram_api import FakeTelegram
from tests.plugins.desk import ANNA, USERS, Team
from tests.plugins.telegram import Person


@dataclass
class Together:
    person: Person
    desk: SlackDesk
    slack: FakeSlack
    team: Team


@asynccontextmanager
async def together(
    make_app: Callable[..., App], fake: FakeTelegram, store: Store, clock: FixedClock
) -> AsyncIterator[Together]:
    """Telegram and the Slack desk on one web server, as `python -m bot run` has them."""
    slack = FakeSlack(members=(ANNA, "U0BOTUSER"), users=USERS, now=lambda: clock.now().timestamp())
    await slack.start()
    app = make_app(
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_support_channel=CHANNEL,
        slack_api_base_url=slack.url,
    )
    shared = web.Application()
    scheduler = Scheduler(store, app.settings, FEATURES.jobs, autorun=False)
    await scheduler.start()
    desk = SlackDesk(app, shared, scheduler=scheduler, poll_seconds=None)
    telegram = TelegramChannel(app, shared, poll_timeout=1, retry_interval=0.02)
    runner = web.AppRunner(shared, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    await desk.start()
    await telegram.start()
    try:
        async with aiohttp.ClientSession() as http:
            team = Team(desk, f"http://127.0.0.1:{port}/slack/events", slack, http)
            yield Together(Person(fake, telegram), desk, slack, team)
    finally:
        await telegram.stop()
        await desk.stop()
        await runner.cleanup()
        await scheduler.stop()
        await slack.stop()


async def test_support_request_reaches_slack_and_the_teams_answer_comes_back_discreetly(
    make_app: Callable[..., App], fake: FakeTelegram, store: Store, clock: FixedClock
) -> None:
    async with together(make_app, fake, store, clock) as both:
        person, desk, slack, team = both.person, both.desk, both.slack, both.team
        await person.say("/hulp")
        await person.press("Nee")
        await person.press("Chatten via deze chat")
        await person.say("Ik word online bedreigd en wil met iemand praten.")
        assert "WB-2026-0001" in person.text
        assert "gewaarschuwd" not in person.text  # not before the card is in Slack

        count = len(fake.sent(person.chat_id))
        assert await desk.deliver() == 1
        (card,) = slack.top_level()
        assert "WB-2026-0001" in card.text
        alerted = (await fake.wait_sent(person.chat_id, count + 1))[count]
        assert alerted.text.startswith(
            "Ik heb het Ondersteuningsteam Weerbaar Bestuur gewaarschuwd"
        )

        # Counted before the click: the notice may arrive before the click's answer does.
        count = len(fake.sent(person.chat_id))
        assert await team.click(ANNA, "ack", "WB-2026-0001") == 200
        told = (await fake.wait_sent(person.chat_id, count + 1))[count]
        assert told.text.startswith(DISCREET_NOTICE)
        assert "opgepakt door Anna" in told.hidden()[0]

        count = len(fake.sent(person.chat_id))
        assert await team.reply(ANNA, card.ts, "Hoi, ik ben Anna. Ben je nu veilig?") == 200
        relayed = (await fake.wait_sent(person.chat_id, count + 2))[count:]
        hidden = [part for message in relayed for part in message.hidden()]
        assert any("Ben je nu veilig?" in part for part in hidden)
        assert all(
            "Ben je nu veilig?" not in m.text.replace(h, "") for m in relayed for h in m.hidden()
        )


async def test_while_the_alert_waits_every_message_reaches_the_thread_and_danger_makes_it_urgent(
    make_app: Callable[..., App], fake: FakeTelegram, store: Store, clock: FixedClock
) -> None:
    async with together(make_app, fake, store, clock) as both:
        person, desk, slack = both.person, both.desk, both.slack
        await person.say("/hulp")
        await person.press("Nee")
        await person.press("Chatten via deze chat")
        await person.say("Ik word al weken bedreigd door een inwoner")
        assert "WB-2026-0001" in person.text
        await desk.deliver()
        (card,) = slack.top_level()
        summary = next(b for b in card.blocks if b.get("block_id") == "case_summary")
        assert "al weken bedreigd door een inwoner" in summary["text"]["text"]

        for words in (
            "De kinderen zijn bij de buren",
            "Mijn telefoon is bijna leeg",
            "Wat moet ik doen?",
        ):
            await person.say(words)
            assert (
                person.last == "Doorgestuurd naar het Ondersteuningsteam. Je krijgt hier antwoord."
            )
        photo = bytes(range(256)) * 16
        await person.photo(photo)
        assert hashlib.sha256(photo).hexdigest()[:12] in person.last
        clock.advance(timedelta(minutes=4))
        await person.say("hoe lang duurt het nog?")
        assert "nog niet opgepakt. Je wacht nu 4 minuten." in person.text

        await person.say("Hij staat nu voor mijn deur met een mes")
        assert person.replies[0].text.startswith("Ben je nu in gevaar? Bel direct 112.")

        await desk.deliver()
        thread = [m.text for m in slack.thread(card.ts)]
        assert thread[:3] == [
            "*Melder:* De kinderen zijn bij de buren",
            "*Melder:* Mijn telefoon is bijna leeg",
            "*Melder:* Wat moet ik doen?",
        ]
        assert thread[3].startswith("De melder stuurde een foto")
        assert thread[4] == "*Melder:* hoe lang duurt het nog?"
        assert thread[5].startswith(":rotating_light: *Mogelijk acuut gevaar.*")
        assert len(thread) == 6
        urgent = slack.message(card.ts)
        assert urgent.text.startswith("Hulpvraag WB-2026-0001 (urgent)")
        async with store.session() as session:
            case = await store.case_by_ref(session, "WB-2026-0001")
            assert case is not None
            assert [e.kind for e in case.events].count("relayed_to_team") == 6
            assert case.urgency == "urgent" and case.owner is None
