"""Thread relay: the team's replies reach the reporter; the reporter's words reach the thread."""

from __future__ import annotations

from bot.base.messages import Incoming
from bot.features.support import escalation
from tests.plugins.desk import ANNA, BERT, CHANNEL, Desk, Reporter, load_case, outbox


async def _card(desk: Desk, reporter: Reporter) -> tuple[str, str]:
    ref = await reporter.ask_for_support()
    await desk.deliver()
    (card,) = desk.fake.top_level()
    return ref, card.ts


async def test_relay_both_ways_until_the_reporter_stops(desk: Desk, reporter: Reporter) -> None:
    ref, ts = await _card(desk, reporter)

    assert (
        await desk.team.reply(
            ANNA, ts, "Hoi, ik ben Anna. Ben je nu veilig? Zie <https://example.org/x|dit>"
        )
        == 200
    )
    case = await load_case(desk.store, ref)
    assert case.status == "in_contact" and case.owner == f"Anna de Vries ({ANNA})"
    assert [e.kind for e in case.events][-2:] == ["contact_started", "relayed_to_reporter"]
    started, relayed = (await outbox(desk.store, "user"))[-2:]
    assert started["text"].startswith(
        "Het Ondersteuningsteam Weerbaar Bestuur is nu met je in gesprek"
    )
    assert started["buttons"] == [{"label": "Contact beëindigen", "payload": "contact:end"}]
    assert relayed == {
        "user": "telegram:1001",
        "case": ref,
        "text": "Ondersteuningsteam Weerbaar Bestuur (Anna): Hoi, ik ben Anna. Ben je nu veilig? "
        "Zie dit (https://example.org/x)",
    }
    assert await desk.scheduler.run_time(escalation.job_id(ref)) is None

    answer = await reporter.say("Ja, ik ben thuis. <!channel> Kunnen jullie mij bellen?")
    assert answer == "Doorgestuurd naar het Ondersteuningsteam. Je krijgt hier antwoord."
    assert [b.label for r in reporter.replies for b in r.buttons] == ["Contact beëindigen"]
    await desk.deliver()
    thread = desk.fake.thread(ts)
    assert (
        thread[-1].text == "*Melder:* Ja, ik ben thuis. &lt;!channel&gt; Kunnen jullie mij bellen?"
    )
    assert (await load_case(desk.store, ref)).events[-1].kind == "relayed_to_team"
    card = desk.fake.message(ts)
    assert "In gesprek met de melder" in str(card.blocks)
    assert "Contact beëindigen" in card.buttons()

    danger = await reporter.say("Help, hij staat nu weer voor mijn deur te schreeuwen")
    assert danger.startswith("Ben je nu in gevaar? Bel direct 112.")
    assert danger.endswith("Doorgestuurd naar het Ondersteuningsteam. Je krijgt hier antwoord.")
    await desk.deliver()
    assert desk.fake.thread(ts)[-1].text.startswith(":rotating_light: *Mogelijk acuut gevaar.*")

    ended = await reporter.say("/stop")
    assert ended.startswith("Het gesprek met het Ondersteuningsteam is beëindigd.")
    case = await load_case(desk.store, ref)
    assert case.status == "acknowledged" and (case.events[-1].kind, case.events[-1].actor) == (
        "contact_ended",
        "melder",
    )
    await desk.deliver()
    assert desk.fake.thread(ts)[-1].text == "De melder heeft het gesprek beëindigd."
    posts = len(desk.fake.thread(ts))
    normal = await reporter.say("Wat moet ik doen bij doxing?")
    assert "Doorgestuurd" not in normal
    await desk.deliver()
    assert len(desk.fake.thread(ts)) == posts


async def test_the_end_button_and_a_reporter_without_contact(
    desk: Desk, reporter: Reporter
) -> None:
    ref, ts = await _card(desk, reporter)
    await desk.team.click(BERT, "chat", ref)
    case = await load_case(desk.store, ref)
    assert case.status == "in_contact" and case.events[-1].kind == "contact_started"
    await desk.deliver()
    assert desk.fake.thread(ts)[-1].text == "Bert Jansen is een gesprek met de melder begonnen."

    await reporter.say("Fijn dat jullie er zijn")
    assert await reporter.press("Contact beëindigen") == (
        f"Het gesprek met het Ondersteuningsteam is beëindigd. Je melding {ref} blijft open; "
        "het team kan je hier nog een bericht sturen."
    )
    again = await reporter.dialogue.handle(Incoming(user=reporter.user, button="contact:end"))
    assert [r.text for r in again] == ["Er loopt nu geen gesprek met het Ondersteuningsteam."]
    await desk.deliver()
    assert desk.fake.thread(ts)[-1].text == "De melder heeft het gesprek beëindigd."
    assert "Chat starten" in desk.fake.message(ts).buttons()


async def test_the_team_ends_the_contact(desk: Desk, reporter: Reporter) -> None:
    ref, ts = await _card(desk, reporter)
    await desk.team.reply(ANNA, ts, "Ik bel je zo.")
    await desk.team.click(ANNA, "end_chat", ref)
    case = await load_case(desk.store, ref)
    assert case.status == "acknowledged"
    assert (case.events[-1].kind, case.events[-1].actor) == (
        "contact_ended",
        f"Anna de Vries ({ANNA})",
    )
    assert (await outbox(desk.store, "user"))[-1]["text"].startswith(
        "Het Ondersteuningsteam heeft het gesprek beëindigd."
    )
    assert "Doorgestuurd" not in await reporter.say("Oké, dank je")


async def test_closing_ends_the_contact(desk: Desk, reporter: Reporter) -> None:
    ref, ts = await _card(desk, reporter)
    await desk.team.reply(ANNA, ts, "Ik ben er.")
    await desk.team.submit_close(ANNA, ref, "Afgehandeld in gesprek")
    assert (await load_case(desk.store, ref)).status == "closed"
    assert "Doorgestuurd" not in await reporter.say("Nog een vraag")

    users = await outbox(desk.store, "user")
    await desk.team.reply(ANNA, ts, "Nog één ding")
    assert await outbox(desk.store, "user") == users  # not relayed
    (note,) = desk.fake.ephemerals
    assert note["user"] == ANNA and note["thread_ts"] == ts
    assert note["text"] == "Deze melding is afgesloten. Je bericht is niet naar de melder gestuurd."


async def test_only_the_teams_own_thread_replies_are_relayed(
    desk: Desk, reporter: Reporter
) -> None:
    ref, ts = await _card(desk, reporter)
    users = await outbox(desk.store, "user")
    await desk.team.reply(ANNA, ts, "van een bot", bot_id="B0OTHERBOT")
    await desk.team.reply(ANNA, ts, "bewerkt", subtype="message_changed")
    await desk.team.reply(ANNA, "1764424000.000001", "een andere thread")
    top_level = desk.team.event(
        {
            "type": "message",
            "channel": CHANNEL,
            "user": ANNA,
            "text": "in het kanaal",
            "ts": "1764424999.000001",
        }
    )
    await desk.team.post(top_level, "application/json")
    other_channel = desk.team.event(
        {
            "type": "message",
            "channel": "C0ELSEWHERE",
            "user": ANNA,
            "text": "elders",
            "ts": "1764424999.000002",
            "thread_ts": ts,
        }
    )
    await desk.team.post(other_channel, "application/json")
    assert await outbox(desk.store, "user") == users
    assert (await load_case(desk.store, ref)).status == "open"


async def test_an_outsiders_thread_reply_is_ignored_and_changes_nothing(
    desk: Desk, reporter: Reporter
) -> None:
    ref, ts = await _card(desk, reporter)
    users = await outbox(desk.store, "user")
    before = await load_case(desk.store, ref)
    outsider = "U0OUTSIDE1"

    assert await desk.team.reply(outsider, ts, "Ik neem dit wel over.") == 200
    assert await desk.team.reply(outsider, ts, "Met bestand", subtype="file_share") == 200

    case = await load_case(desk.store, ref)
    assert (case.status, case.owner) == ("open", None)
    assert [e.kind for e in case.events] == [e.kind for e in before.events]
    assert await outbox(desk.store, "user") == users  # nothing reached the reporter
    assert await desk.scheduler.run_time(escalation.job_id(ref)) is not None  # still watched
    assert desk.fake.thread(ts) == []
    # Slack refuses a private note to someone outside the channel: nobody else sees one.
    assert desk.fake.ephemerals == []

    # The same reply from a member of the channel does act on the case.
    assert await desk.team.reply(ANNA, ts, "Ik pak het op.") == 200
    assert (await load_case(desk.store, ref)).status == "in_contact"
