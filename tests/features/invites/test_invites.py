"""Verification: the team makes a single-use invite, the office holder redeems it with /start."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.__main__ import main
from bot.app import App
from bot.base.clock import FixedClock
from bot.base.settings import Settings, SettingsError
from bot.features import invites
from bot.store import Invite, Reporter, Store
from tests.plugins.chat import Chat
from tests.plugins.desk import ANNA, EVE, Desk
from tests.plugins.desk import Reporter as DeskReporter

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


async def _reporter(store: Store, user: str) -> Reporter:
    async with store.session() as session:
        return await store.reporter(session, user)


@SQLITE
async def test_an_invite_from_the_command_line_verifies_through_the_deep_link(
    store: Store, chat: Chat, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", store.url)
    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", "@WeerbaarTestBot")

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    args: tuple[str, ...] = (
        "invites",
        "create",
        "--role",
        "Wethouder",
        "--municipality",
        " Den  Haag ",
        "--json",
    )
    code, out, _ = await asyncio.to_thread(run, *args)
    made = json.loads(out)
    assert code == 0 and made["role"] == "wethouder" and made["municipality"] == "Den Haag"
    assert made["link"] == f"https://t.me/WeerbaarTestBot?start={made['code']}"
    assert len(made["code"]) == invites.CODE_LENGTH
    async with store.session() as session:
        (row,) = (await session.execute(select(Invite))).scalars()
        assert row.code_hash == invites.code_hash(made["code"])  # the code itself is not kept

    await chat.send(f"/start {made['code']}")
    assert "Je bent nu geverifieerd als wethouder in Den Haag" in chat.text
    assert "Incident melden" in chat.labels
    anna = await _reporter(store, chat.user)
    assert (anna.verified, anna.role, anna.municipality) == (True, "wethouder", "Den Haag")
    await chat.send("/training")  # the role is known: no question about it
    assert "Wat is je rol?" not in chat.text

    code, out, _ = await asyncio.to_thread(run, "invites", "list", "--json")
    assert [(i["id"], i["status"]) for i in json.loads(out)] == [(made["id"], "gebruikt")]
    assert made["code"] not in out
    code, _, err = await asyncio.to_thread(run, "invites", "revoke", str(made["id"]))
    assert code == 1 and "Geen ongebruikte uitnodiging" in err
    args = ("invites", "create", "--role", "koning", "--municipality", "Zwolle")
    code, _, err = await asyncio.to_thread(run, *args)
    assert code == 1 and err.startswith("Onbekende rol 'koning'.")


@SQLITE
async def test_without_a_bot_username_the_team_gets_the_code_and_the_command(store: Store) -> None:
    made = await invites.create(store, "raadslid", "Zwolle", "Beheerder", hours=48)
    text = invites.announce(made, None)
    assert f"Code: {made.code}" in text and f"/start {made.code}" in text
    assert "eenmalig te gebruiken tot 01-12-2026 15:00" in text


async def test_bad_expired_and_used_codes_are_answered_kindly_and_change_nothing(
    store: Store, make_chat, clock: FixedClock
) -> None:
    made = await invites.create(store, "burgemeester", "Zwolle", "Beheerder", hours=1)
    expired = await invites.create(store, "wethouder", "Ede", "Beheerder", hours=1)
    bert, carla = make_chat("local:bert"), make_chat("local:carla")

    await bert.send("/start ABCD-EFGH-JKLM")
    assert "Deze code ken ik niet" in bert.text and "ook zonder verificatie" in bert.text
    await bert.send("/start ' OR 1=1 --")
    assert "Deze code ken ik niet" in bert.text
    await bert.send(f"/start {made.code.lower()[:4]}-{made.code.lower()[4:]}")  # as typed
    assert "geverifieerd als burgemeester in Zwolle" in bert.text
    await bert.send(f"/start {made.code}")
    assert bert.replies[0].text.startswith("Je bent al geverifieerd als burgemeester in Zwolle")
    await carla.send(f"/start {made.code}")
    assert "al gebruikt" in carla.text
    clock.advance(timedelta(hours=2))
    await carla.send(f"/start {expired.code}")
    assert "niet meer geldig" in carla.text
    fresh = await invites.create(store, "raadslid", "Ede", "Beheerder")
    assert await invites.revoke(store, fresh.id)
    await carla.send(f"/start {fresh.code}")
    assert "niet meer geldig" in carla.text
    reporter = await _reporter(store, "local:carla")
    assert (reporter.verified, reporter.role, reporter.municipality) == (False, None, None)


async def test_guessing_codes_stops_after_five_tries_for_a_day(
    store: Store, make_chat, clock: FixedClock
) -> None:
    made = await invites.create(store, "griffier", "Zwolle", "Beheerder", hours=72)
    guesser = make_chat("local:guesser")
    for _ in range(invites.MAX_FAILURES):
        await guesser.send("/start AAAAAAAAAAAA")
    await guesser.send(f"/start {made.code}")  # even the right one, while locked
    assert "te veel verkeerde codes" in guesser.text
    assert not (await _reporter(store, "local:guesser")).verified
    clock.advance(invites.FAILURE_WINDOW + timedelta(minutes=1))
    await guesser.send(f"/start {made.code}")
    assert "geverifieerd als griffier in Zwolle" in guesser.text


async def test_one_code_redeemed_twice_at_once_verifies_one_reporter(
    store: Store, make_chat
) -> None:
    made = await invites.create(store, "wethouder", "Zwolle", "Beheerder")
    first, second = make_chat("local:een"), make_chat("local:twee")
    await asyncio.gather(first.send(f"/start {made.code}"), second.send(f"/start {made.code}"))
    verified = [(await _reporter(store, u)).verified for u in ("local:een", "local:twee")]
    assert sorted(verified) == [False, True]


async def test_a_redeemed_invite_in_the_middle_of_a_report_resumes_it(
    store: Store, chat: Chat
) -> None:
    made = await invites.create(store, "statenlid", "Noord-Holland", "Beheerder")
    await chat.send("/melden")
    await chat.send(f"/start {made.code}")
    assert "geverifieerd als statenlid" in chat.text
    assert "Vertel in je eigen woorden" in chat.last


@SQLITE
async def test_the_team_makes_invites_in_slack_and_cards_show_who_is_verified(
    desk: Desk, app: App
) -> None:
    await desk.team.command(ANNA, "uitnodiging wethouder 's-Hertogenbosch")
    answer = desk.team.answer
    assert answer["response_type"] == "ephemeral"
    assert answer["text"].startswith("Uitnodiging voor wethouder in 's-Hertogenbosch")
    code = answer["text"].split("Code: ")[1].split()[0]
    async with desk.store.session() as session:
        (row,) = (await session.execute(select(Invite))).scalars()
        assert row.created_by == f"Anna de Vries ({ANNA})"

    for text, expected in [
        ("uitnodiging koning Zwolle", "Onbekende rol 'koning'"),
        ("uitnodiging wethouder", "Gebruik: /weerbaar uitnodiging ROL GEMEENTE"),
        ("uitnodiging raadslid <!channel>", "Geef de naam van de gemeente"),
    ]:
        await desk.team.command(ANNA, text)
        assert desk.team.answer["text"].startswith(expected), desk.team.answer["text"]
    await desk.team.command(EVE, "uitnodiging wethouder Zwolle")
    assert "Alleen leden van het ondersteuningskanaal" in desk.team.answer["text"]

    unverified = DeskReporter(app.dialogue, "telegram:9001")
    verified = DeskReporter(app.dialogue, "telegram:9002")
    await verified.say(f"/start {code}")
    first, second = await unverified.ask_for_support(), await verified.ask_for_support()
    await desk.deliver()
    fields = {
        ref: " ".join(f["text"] for b in card.blocks if b.get("fields") for f in b["fields"])
        for ref, card in zip((first, second), desk.fake.top_level(), strict=True)
    }
    assert "Niet geverifieerd" in fields[first]
    assert "*Melder*\nGeverifieerd" in fields[second] and "'s-Hertogenbosch" in fields[second]


def test_the_bot_username_setting_is_checked() -> None:
    assert Settings.from_env({"TELEGRAM_BOT_USERNAME": "@WeerbaarBot"}).telegram_bot_username == (
        "WeerbaarBot"
    )
    with pytest.raises(SettingsError, match="^TELEGRAM_BOT_USERNAME:"):
        Settings.from_env({"TELEGRAM_BOT_USERNAME": "https://t.me/x"})


def test_codes_are_normalised_and_checked() -> None:
    assert invites.normalise_code(" abcd-efgh jkmn ") == "ABCDEFGHJKMN"
    assert invites.normalise_code("ABCDEFGHJKL0") is None  # 0 is not in the alphabet
    assert invites.normalise_code("A" * 13) is None
    assert invites.check_municipality("Súdwest-Fryslân") == "Súdwest-Fryslân"
    with pytest.raises(invites.InviteError):
        invites.check_hours(0)
