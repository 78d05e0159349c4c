"""Telegram and the Slack support desk together: the reporter's request reaches the team and back."""

from __future__ import annotations

from collections.abc import Callable

import aiohttp
from aiohttp import web

from bot.app import App
from bot.channels.slack import SlackDesk
from bot.channels.telegram import TelegramChannel
from bot.channels.telegram.outbound import DISCREET_NOTICE
from bot.clock import FixedClock
from bot.scheduler import Scheduler
from bot.store import Store
from tests.fakes.slack_api import BOT_TOKEN, CHANNEL, SIGNING_SECRET, FakeSlack
from tests.fakes.telegram_api import FakeTelegram
from tests.slack.conftest import ANNA, USERS, Team
from tests.telegram.conftest import Person


async def test_support_request_reaches_slack_and_the_teams_answer_comes_back_discreetly(
    make_app: Callable[..., App], fake: FakeTelegram, store: Store, clock: FixedClock
) -> None:
    slack = FakeSlack(members=(ANNA, "U0BOTUSER"), users=USERS, now=lambda: clock.now().timestamp())
    await slack.start()
    app = make_app(
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_support_channel=CHANNEL,
        slack_api_base_url=slack.url,
    )
    shared = web.Application()  # one web server for both, as `python -m bot run` has it
    scheduler = Scheduler(store, app.settings, autorun=False)
    await scheduler.start()
    desk = SlackDesk(app, shared, scheduler=scheduler, http_timeout=0.5, poll_seconds=None)
    telegram = TelegramChannel(app, shared, poll_timeout=1, retry_interval=0.02)
    runner = web.AppRunner(shared, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    await desk.start()
    await telegram.start()
    try:
        person = Person(fake, telegram)
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

        async with aiohttp.ClientSession() as http:
            team = Team(desk, f"http://127.0.0.1:{port}/slack/events", slack, http)
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
                "Ben je nu veilig?" not in m.text.replace(h, "")
                for m in relayed
                for h in m.hidden()
            )
    finally:
        await telegram.stop()
        await desk.stop()
        await runner.cleanup()
        await scheduler.stop()
        await slack.stop()
