"""The buttons on a card: only the support team may use them, and every use is on the timeline."""

from __future__ import annotations

import json
import time

from bot.features.support import escalation
from tests.fakes.slack_api import SIGNING_SECRET
from tests.plugins.desk import ANNA, BERT, EVE, Desk, Reporter, load_case, outbox


async def _card(desk: Desk, reporter: Reporter) -> tuple[str, str]:
    ref = await reporter.ask_for_support()
    await desk.deliver()
    (card,) = desk.fake.top_level()
    return ref, card.ts


async def test_member_acknowledges_and_the_reporter_hears_who(
    desk: Desk, reporter: Reporter
) -> None:
    ref, ts = await _card(desk, reporter)
    assert await desk.scheduler.run_time(escalation.job_id(ref)) is not None

    assert await desk.team.click(ANNA, "ack", ref) == 200
    case = await load_case(desk.store, ref)
    assert case.status == "acknowledged"
    assert case.owner == f"Anna de Vries ({ANNA})"
    event = case.events[-1]
    assert (event.kind, event.actor) == ("acknowledged", f"Anna de Vries ({ANNA})")
    assert event.at == desk.store.clock.now()
    told = (await outbox(desk.store, "user"))[-1]
    assert told["user"] == "telegram:1001" and told["case"] == ref
    assert "opgepakt door Anna van het Ondersteuningsteam Weerbaar Bestuur" in told["text"]
    assert "Anna stuurt je hier zo een bericht." in told["text"]
    assert await desk.scheduler.run_time(escalation.job_id(ref)) is None  # no more announcements

    await desk.deliver()
    card = desk.fake.message(ts)
    assert card.updates == 1 and desk.fake.calls["chat.postMessage"] == 1
    fields = " ".join(f["text"] for b in card.blocks if b.get("fields") for f in b["fields"])
    assert "Opgepakt" in fields and f"<@{ANNA}>" in fields
    assert "Oppakken" not in card.buttons()


async def test_a_second_press_by_the_same_member_changes_nothing(
    desk: Desk, reporter: Reporter
) -> None:
    ref, _ = await _card(desk, reporter)
    await desk.team.click(ANNA, "ack", ref)
    before = await outbox(desk.store, "user")
    await desk.team.click(ANNA, "ack", ref)
    assert await outbox(desk.store, "user") == before
    await desk.team.click(BERT, "ack", ref)  # taking it over is an action of its own
    case = await load_case(desk.store, ref)
    assert case.owner == f"Bert Jansen ({BERT})"
    assert [e.kind for e in case.events].count("acknowledged") == 2


async def test_someone_outside_the_channel_is_refused(desk: Desk, reporter: Reporter) -> None:
    ref, ts = await _card(desk, reporter)
    users_before = await outbox(desk.store, "user")
    for action in ("ack", "close", "dossier", "chat"):
        assert await desk.team.click(EVE, action, ref) == 200
    refusals = [r for r in desk.fake.responses if r["response_type"] == "ephemeral"]
    assert len(refusals) == 4
    assert all(
        r["text"] == "Alleen leden van het ondersteuningskanaal kunnen dit doen." for r in refusals
    )
    assert all(r["replace_original"] is False for r in refusals)
    assert await desk.team.command(EVE, "open") == 200
    assert desk.team.answer == {
        "response_type": "ephemeral",
        "text": "Alleen leden van het ondersteuningskanaal kunnen dit doen.",
    }
    assert await desk.team.submit_close(EVE, ref, "niet mijn zaak") == 200
    assert desk.team.answer["response_action"] == "errors"

    case = await load_case(desk.store, ref)
    assert case.status == "open" and case.owner is None
    assert [e.kind for e in case.events] == ["created", "escalated", "card_posted"]
    assert await outbox(desk.store, "user") == users_before
    assert desk.fake.views == [] and desk.fake.message(ts).updates == 0
    assert desk.fake.calls["conversations.members"] == 1  # cached


async def test_forged_or_stale_requests_are_rejected(desk: Desk, reporter: Reporter) -> None:
    ref, ts = await _card(desk, reporter)
    calls = sum(desk.fake.calls.values())
    assert await desk.team.click(ANNA, "ack", ref, secret="not-the-secret") == 401
    stale = int(time.time()) - 10 * 60
    assert await desk.team.click(ANNA, "ack", ref, timestamp=stale) == 401
    body = desk.team.event(
        {
            "type": "message",
            "channel": "C0SUPPORT1",
            "user": ANNA,
            "text": "hoi",
            "ts": "2.0",
            "thread_ts": ts,
        }
    )
    assert await desk.team.post(body, "application/json", secret=SIGNING_SECRET[::-1]) == 401

    case = await load_case(desk.store, ref)
    assert case.status == "open" and case.owner is None
    assert [e.kind for e in case.events] == ["created", "escalated", "card_posted"]
    assert sum(desk.fake.calls.values()) == calls
    assert (await desk.deliver()) == 0


async def test_close_asks_a_reason_and_tells_the_reporter(desk: Desk, reporter: Reporter) -> None:
    ref, ts = await _card(desk, reporter)
    await desk.team.click(ANNA, "close", ref)
    (form,) = desk.fake.views
    assert form["callback_id"] == "close_case" and form["private_metadata"] == ref

    assert await desk.team.submit_close(ANNA, ref, " x ") == 200
    assert desk.team.answer["response_action"] == "errors"
    assert (await load_case(desk.store, ref)).status == "open"

    assert await desk.team.submit_close(ANNA, ref, "Gebeld, doorverwezen naar de politie") == 200
    case = await load_case(desk.store, ref)
    assert case.status == "closed" and case.closed_reason == "Gebeld, doorverwezen naar de politie"
    event = case.events[-1]
    assert (event.kind, event.actor, event.detail) == (
        "closed",
        f"Anna de Vries ({ANNA})",
        {"reason": "Gebeld, doorverwezen naar de politie"},
    )
    told = (await outbox(desk.store, "user"))[-1]
    assert told["text"].startswith(f"Je melding {ref} is afgesloten.")
    assert await desk.scheduler.run_time(escalation.job_id(ref)) is None

    await desk.deliver()
    card = desk.fake.message(ts)
    assert card.buttons() == ["Dossier"]
    assert "Gebeld, doorverwezen naar de politie" in str(card.blocks)

    await desk.team.click(ANNA, "close", ref)
    assert desk.fake.responses[-1]["text"] == "Deze melding is al afgesloten."


async def test_dossier_shows_everything_and_records_the_look(
    desk: Desk, reporter: Reporter
) -> None:
    ref, _ = await _card(desk, reporter)
    await desk.team.click(BERT, "dossier", ref)
    (view,) = desk.fake.views
    text = "\n".join(b["text"]["text"] for b in view["blocks"] if b["type"] == "section")
    assert view["title"]["text"] == f"Dossier {ref}"
    for expected in (
        "*Status:* Open",
        "*Contact:* Wil chatten via de bot",
        "*Verhaal*",
        "online bedreigd",
        "*Bewijs*",
        "Geen bewijs ontvangen.",
        "*Tijdlijn*",
        "Aangemaakt",
        "Kaart geplaatst",
        f"Dossier bekeken – Bert Jansen ({BERT})",
    ):
        assert expected in text, expected
    case = await load_case(desk.store, ref)
    # The look, then the PDF put in the card's thread (see test_dossier.py).
    assert [(e.kind, e.actor) for e in case.events[-2:]] == [
        ("dossier_viewed", f"Bert Jansen ({BERT})"),
        ("dossier_made", f"Bert Jansen ({BERT})"),
    ]


async def test_a_forged_reference_changes_nothing(desk: Desk, reporter: Reporter) -> None:
    ref, _ = await _card(desk, reporter)
    await desk.team.click(ANNA, "ack", "WB-2026-9999")
    await desk.team.click(ANNA, "dossier", "'; DROP TABLE cases; --")
    assert [r["text"] for r in desk.fake.responses] == ["Deze melding bestaat niet."] * 2
    assert (await load_case(desk.store, ref)).status == "open"


async def test_slack_can_verify_the_request_url(desk: Desk) -> None:
    body = json.dumps({"token": "unused", "challenge": "c4ll3ng3", "type": "url_verification"})
    assert await desk.team.post(body, "application/json") == 200
    assert desk.team.answer == {"challenge": "c4ll3ng3"}
    assert await desk.team.post(body, "application/json", secret="forged") == 401


async def test_when_slack_cannot_tell_membership_nobody_may_act(
    desk: Desk, reporter: Reporter
) -> None:
    ref, _ = await _card(desk, reporter)
    desk.fake.fail_next(1, method="conversations.members")
    await desk.team.click(ANNA, "ack", ref)
    assert desk.fake.responses[-1]["text"].startswith("Ik kon niet nagaan of je in het")
    assert (await load_case(desk.store, ref)).status == "open"
    await desk.team.click(ANNA, "ack", ref)  # Slack answers again: the member may act
    assert (await load_case(desk.store, ref)).status == "acknowledged"
