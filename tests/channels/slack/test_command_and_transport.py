"""/weerbaar, the delivery loop, and Socket Mode."""

from __future__ import annotations

import json

from aiohttp import web

from bot.app import App
from bot.base.settings import Settings
from bot.channels.slack import SlackDesk
from bot.jobs.scheduler import Scheduler
from tests.fakes.slack_api import APP_TOKEN, FakeSlack
from tests.plugins.desk import ANNA, Desk, Reporter, load_case


async def test_weerbaar_open_zaak_and_help(desk: Desk, reporter: Reporter, app: App) -> None:
    assert await desk.team.command(ANNA, "open") == 200
    assert desk.team.answer["text"] == "Er zijn geen open meldingen."

    first = await reporter.ask_for_support()
    second = await Reporter(app.dialogue, "telegram:2002").raise_alarm()
    third = await Reporter(app.dialogue, "telegram:3003").raise_alarm()
    await desk.deliver()
    await desk.team.submit_close(ANNA, third, "Dubbele melding")

    await desk.team.command(ANNA, "open")
    answer = desk.team.answer
    assert answer["response_type"] == "ephemeral"
    listing = answer["blocks"][0]["text"]["text"]
    assert listing.startswith("*Open meldingen (2)*")
    assert first in listing and second in listing and third not in listing
    assert "Urgent" in listing and "Normaal" in listing

    await desk.team.command(ANNA, f"zaak {second.lower()}")
    blocks = desk.team.answer["blocks"]
    assert blocks[0]["text"]["text"].endswith(f"Hulpvraag {second}")
    assert [e["action_id"] for e in blocks[3]["elements"]] == ["ack", "chat", "close", "dossier"]

    await desk.team.command(ANNA, "zaak WB-2026-9999")
    assert desk.team.answer["text"] == "Geen melding met nummer WB-2026-9999."
    await desk.team.command(ANNA, "help")
    assert "`/weerbaar open`" in desk.team.answer["text"]
    await desk.team.command(ANNA, "verwijder alles")
    assert desk.team.answer["text"].startswith("Dat ken ik niet.")
    assert (await load_case(desk.store, first)).status == "open"


async def test_the_delivery_loop_posts_the_card_as_soon_as_the_request_is_saved(
    app: App, fake: FakeSlack, scheduler: Scheduler, reporter: Reporter
) -> None:
    desk = SlackDesk(app, web.Application(), scheduler=scheduler, poll_seconds=60)
    await desk.start()
    try:
        await reporter.ask_for_support()
        # The round that runs on commit, not the minute-long poll, delivers it.
        await fake.cards_posted(1, timeout=5)
        assert len(fake.top_level()) == 1
    finally:
        await desk.stop()


async def test_socket_mode_takes_a_button_press(
    app: App, fake: FakeSlack, scheduler: Scheduler, reporter: Reporter, settings: Settings
) -> None:
    from dataclasses import replace

    socket_app = replace(app, settings=replace(settings, slack_app_token=APP_TOKEN))
    desk = SlackDesk(socket_app, scheduler=scheduler, poll_seconds=None, ping_interval=1)
    await desk.start()
    try:
        await fake.connected()
        ref = await reporter.ask_for_support()
        await desk.deliver()
        payload = {
            "type": "block_actions",
            "user": {"id": ANNA, "username": "anna", "team_id": "T0TEAM001"},
            "api_app_id": "A0WEERBAAR",
            "team": {"id": "T0TEAM001"},
            "trigger_id": "trigger-socket",
            "response_url": fake.response_url("socket"),
            "channel": {"id": "C0SUPPORT1"},
            "actions": [
                {
                    "type": "button",
                    "action_id": "ack",
                    "block_id": "case_actions",
                    "value": ref,
                    "action_ts": "1.0",
                }
            ],
        }
        ack = await fake.push("interactive", payload)
        await desk.settled()
        assert set(ack) >= {"envelope_id"}
        assert fake.calls["apps.connections.open"] == 1
        case = await load_case(app.store, ref)
        assert case.status == "acknowledged" and case.owner == f"Anna de Vries ({ANNA})"
        assert json.dumps(ack)  # the acknowledgement is plain JSON
    finally:
        await desk.stop()


def test_the_manifest_asks_for_what_the_desk_uses() -> None:
    import yaml

    from bot.base.settings import ROOT

    manifest = yaml.safe_load((ROOT / "slack" / "manifest.yml").read_text(encoding="utf-8"))
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {
        "chat:write",
        "users:read",
        "channels:read",
        "groups:read",
        "commands",
        "channels:history",
        "groups:history",
        "im:write",
        "files:write",
    } <= scopes
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == ["/weerbaar"]
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == {
        "message.channels",
        "message.groups",
        "app_home_opened",
    }
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["settings"]["socket_mode_enabled"] is True
