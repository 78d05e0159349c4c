"""The reporter waiting for the team: every word reaches the card's thread, the card says what is going on."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from bot.base.clock import FixedClock
from bot.base.messages import Attachment, Incoming
from bot.store import Case
from tests.plugins.desk import ANNA, Desk, Reporter, hangs, load_case, outbox

RECEIPT = "Doorgestuurd naar het Ondersteuningsteam. Je krijgt hier antwoord."
PHOTO = b"\xff\xd8" + bytes(range(256)) * 8


def _fields(blocks: list[dict[str, Any]]) -> str:
    return " ".join(f["text"] for b in blocks if b.get("fields") for f in b["fields"])


def _summary(blocks: list[dict[str, Any]]) -> str:
    return str(next(b for b in blocks if b.get("block_id") == "case_summary")["text"]["text"])


def _relayed(case: Case) -> list[dict[str, Any]]:
    return [dict(e.detail) for e in case.events if e.kind == "relayed_to_team"]


async def _card(desk: Desk, ref: str) -> str:
    await desk.deliver()
    case = await load_case(desk.store, ref)
    assert case.slack_ts is not None
    return case.slack_ts


async def test_after_an_alert_every_message_and_a_photo_reach_the_thread_before_any_reply(
    desk: Desk, reporter: Reporter, clock: FixedClock
) -> None:
    ref = await reporter.raise_alarm()
    ts = await _card(desk, ref)
    card = desk.fake.message(ts)
    assert "Er staat iemand met een mes voor mijn deur" in _summary(card.blocks)
    assert "Urgent" in _fields(card.blocks)

    for words in ("ik zit boven in de badkamer", "de deur beneden is op slot", "ik hoor niks meer"):
        assert await reporter.say(words) == RECEIPT
        assert [b.label for r in reporter.replies for b in r.buttons] == ["Contact beëindigen"]
    replies = await reporter.dialogue.handle(
        Incoming(reporter.user, attachments=(Attachment("photo", PHOTO, "image/jpeg"),))
    )
    digest = hashlib.sha256(PHOTO).hexdigest()
    assert [r.text for r in replies] == [
        f"Doorgestuurd naar het Ondersteuningsteam: foto (controlecode {digest[:12]}). "
        "Je krijgt hier antwoord."
    ]

    await desk.deliver()
    assert [m.text for m in desk.fake.thread(ts)] == [
        "*Melder:* ik zit boven in de badkamer",
        "*Melder:* de deur beneden is op slot",
        "*Melder:* ik hoor niks meer",
        f"De melder stuurde een foto (2 kB, controlecode {digest[:12]}). "
        "Het bestand staat in het dossier.",
    ]
    case = await load_case(desk.store, ref)
    assert case.owner is None and case.status == "open"  # nobody has answered yet
    assert _relayed(case) == [
        {"text": "ik zit boven in de badkamer"},
        {"text": "de deur beneden is op slot"},
        {"text": "ik hoor niks meer"},
        {"file": "photo", "sha256": digest},
    ]
    ((kind, sha),) = [(e.kind, e.sha256) for e in case.evidence]
    assert (kind, sha) == ("photo", digest)


async def test_before_the_card_is_in_slack_the_status_says_the_request_is_on_its_way(
    desk: Desk, reporter: Reporter
) -> None:
    ref = await reporter.ask_for_support()
    status = await reporter.say("hoe lang duurt het nog?")
    assert status.startswith(f"Je hulpvraag {ref} is onderweg naar het Ondersteuningsteam")
    assert "opgepakt" not in status and "gewaarschuwd" not in status
    await _card(desk, ref)
    assert "staat bij het Ondersteuningsteam" in await reporter.say("hoe lang duurt het nog?")


async def test_a_status_question_gets_the_real_status(
    desk: Desk, reporter: Reporter, clock: FixedClock
) -> None:
    ref = await reporter.ask_for_support()
    ts = await _card(desk, ref)
    clock.advance(timedelta(minutes=7))
    status = await reporter.say("hoe lang duurt het nog?")
    assert status.startswith(f"Je hulpvraag {ref} staat bij het Ondersteuningsteam")
    assert "nog niet opgepakt. Je wacht nu 7 minuten." in status
    assert "binnen 15 minuten contact met je op, hier in deze chat." in status

    clock.advance(timedelta(minutes=10))
    late = await reporter.say("is er al iemand?")
    assert "Je wacht nu 17 minuten." in late
    assert "langer dan de 15 minuten die we beloofden" in late

    await desk.team.click(ANNA, "ack", ref)
    clock.advance(timedelta(minutes=1))
    taken = await reporter.say("Wanneer belt er iemand?")
    assert taken.startswith(f"Anna van het Ondersteuningsteam heeft je hulpvraag {ref} opgepakt.")
    assert "Je wacht nu 18 minuten. Anna stuurt je hier zo een bericht." in taken

    await desk.deliver()
    assert [m.text for m in desk.fake.thread(ts)] == [
        "*Melder:* hoe lang duurt het nog?",
        "*Melder:* is er al iemand?",
        "*Melder:* Wanneer belt er iemand?",
    ]


async def test_danger_while_waiting_gets_112_first_and_makes_the_case_urgent(
    desk: Desk, reporter: Reporter
) -> None:
    ref = await reporter.ask_for_support()
    ts = await _card(desk, ref)
    assert "Normaal" in _fields(desk.fake.message(ts).blocks)

    answer = await reporter.say("Hij staat nu voor mijn deur met een mes")
    assert answer.startswith("Ben je nu in gevaar? Bel direct 112.")
    assert answer.endswith(RECEIPT)
    case = await load_case(desk.store, ref)
    assert case.urgency == "urgent" and "urgency_raised" in [e.kind for e in case.events]

    await desk.deliver()
    (danger,) = desk.fake.thread(ts)
    assert danger.text.startswith(":rotating_light: *Mogelijk acuut gevaar.*")
    assert danger.text.endswith("*Melder:* Hij staat nu voor mijn deur met een mes")
    card = desk.fake.message(ts)
    assert card.text.startswith(f"Hulpvraag {ref} (urgent)")
    assert "Urgent" in _fields(card.blocks)


async def test_commands_work_while_waiting_and_hulp_does_not_raise_a_second_case(
    desk: Desk, reporter: Reporter
) -> None:
    ref = await reporter.ask_for_support()
    await _card(desk, ref)
    again = await reporter.say("/hulp")
    assert again.startswith("Je hulpvraag loopt al")
    assert ref in again
    await reporter.say("/start")
    assert "Incident melden" in [b.label for r in reporter.replies for b in r.buttons]
    assert "Je meldingen" in await reporter.say("/mijnmeldingen")
    async with desk.store.session() as session:
        assert len(await desk.store.cases(session)) == 1


async def test_help_in_the_middle_of_a_report_escalates_the_draft_then_the_report_is_linked(
    desk: Desk, reporter: Reporter
) -> None:
    await reporter.say("/melden")
    await reporter.say("Gisteravond is bij mijn huis een ruit ingegooid met een steen.")
    assert "Is er nog iets dat je wilt vertellen?" in reporter.text

    assert "Ben je nu in direct gevaar?" in await reporter.say("kan iemand me bellen?")
    await reporter.press("Nee")
    await reporter.press("Bel me")
    await reporter.press("Ja")
    escalated = await reporter.say("06 12345678")
    assert "onderweg naar het Ondersteuningsteam Weerbaar Bestuur" in escalated
    assert "Wat je al over het incident vertelde, heeft het team ook gekregen." in escalated
    assert escalated.endswith("Is er nog iets dat je wilt vertellen?")
    async with desk.store.session() as session:
        (support,) = list(await desk.store.cases(session))
    ref = support.ref
    ((escalation, *_),) = [await outbox(desk.store, "support")]
    assert "Melding in wording: Vernieling of brandstichting" in escalation["text"]
    assert "ruit ingegooid met een steen" in escalation["text"]

    ts = await _card(desk, ref)
    card = desk.fake.message(ts)
    fields = _fields(card.blocks)
    assert "Vernieling of brandstichting" in fields and "Wil gebeld worden" in fields
    assert support.occurred_text and support.occurred_text.endswith("'s avonds")
    assert support.occurred_text in fields and support.occurred_text in escalation["text"]
    assert "ruit ingegooid met een steen" in _summary(card.blocks)

    # A photo while the report asks for more of the story: not evidence of that step, so it goes
    # to the team.
    photo = await reporter.dialogue.handle(
        Incoming(reporter.user, attachments=(Attachment("photo", PHOTO, "image/jpeg"),))
    )
    assert photo[0].text.startswith("Doorgestuurd naar het Ondersteuningsteam: foto")
    assert photo[-1].text.startswith("Is er nog iets dat je wilt vertellen?")
    await reporter.press("Nee, dat was het")  # place and target were in the story
    await reporter.press("Geen bewijs / klaar")
    await reporter.press("Ga ik doen")
    await reporter.press("Ja")
    await reporter.press("Nee")
    done = await reporter.press("Klopt, versturen")
    assert (
        f"Ik heb je melding ook doorgegeven aan het team dat je hulpvraag {ref} behandelt." in done
    )
    async with desk.store.session() as session:
        report, waiting = list(await desk.store.cases(session))
    assert (waiting.ref, report.kind, report.linked_case_id) == (ref, "incident", waiting.id)
    assert report.slack_ts is None  # no second card: the team has it in the first one's thread
    await desk.deliver()
    sent_photo, note = desk.fake.thread(ts)
    assert sent_photo.text.startswith("De melder stuurde een foto")
    assert note.text.startswith(f"De melder heeft melding {report.ref} afgerond: Vernieling")
    assert len(desk.fake.top_level()) == 1


@hangs
async def test_twenty_messages_during_a_minute_of_slack_outage_arrive_in_order_once(
    desk: Desk, reporter: Reporter, clock: FixedClock
) -> None:
    ref = await reporter.raise_alarm()
    ts = await _card(desk, ref)
    # Slack fails for about a minute: five failures, backing off 2 + 4 + 8 + 16 + 32 s; the
    # first one reached Slack without an answer, so a blind retry would post it twice.
    desk.fake.hang_next(1, processed=True)
    desk.fake.fail_next(4, status=503)
    sent = 0
    started = clock.now()
    while clock.now() - started < timedelta(minutes=1):
        for _ in range(4):
            if sent < 20:
                sent += 1
                assert await reporter.say(f"bericht {sent}") == RECEIPT
        await desk.deliver()
        clock.advance(timedelta(seconds=8))
    while sent < 20:
        sent += 1
        await reporter.say(f"bericht {sent}")
    for _ in range(10):
        await desk.deliver()
        clock.advance(timedelta(seconds=40))
    assert [m.text for m in desk.fake.thread(ts)] == [
        f"*Melder:* bericht {n}" for n in range(1, 21)
    ]
    case = await load_case(desk.store, ref)
    assert [d["text"] for d in _relayed(case)] == [f"bericht {n}" for n in range(1, 21)]
    async with desk.store.session() as session:
        assert await desk.store.due_outbox(session, "support") == []
