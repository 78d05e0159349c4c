"""Check-ins for the reporter on an injected clock: when they come, what they say, the answers."""

from __future__ import annotations

from datetime import timedelta

from bot.base.clock import FixedClock
from bot.base.settings import Settings
from bot.features import aftercare
from bot.jobs.scheduler import list_jobs
from tests.features.aftercare.helpers import STORY, checkins_sent, press, report
from tests.plugins.desk import ONCALL, Desk, Reporter, load_case, outbox


async def _planned(desk: Desk, reporter: Reporter, **answers: str) -> str:
    ref = await report(reporter, **answers)
    await aftercare.keep_planned(desk.scheduler)
    return ref


def _kinds(case) -> list[str]:
    return [e.kind for e in case.events]


async def _to_team_about(desk: Desk, ref: str) -> list[str]:
    """Kinds of what was written for the support team about this one case (not the digest)."""
    return [p["kind"] for p in await outbox(desk.store, "support") if p.get("case") == ref]


async def _card(desk: Desk, ref: str):
    case = await load_case(desk.store, ref)
    return desk.fake.message(case.slack_ts)


async def test_check_ins_come_on_day_one_and_day_seven(
    desk: Desk, reporter: Reporter, clock: FixedClock
) -> None:
    start = clock.now()
    ref = await _planned(desk, reporter)
    scheduler = desk.scheduler
    assert await scheduler.run_time(aftercare.checkin_job(ref, 1)) == start + timedelta(days=1)
    assert await scheduler.run_time(aftercare.checkin_job(ref, 2)) == start + timedelta(days=7)

    clock.advance(timedelta(days=1) - timedelta(seconds=1))
    await scheduler.run_due()
    assert await checkins_sent(desk.store, ref) == []
    clock.advance(timedelta(seconds=1))
    await scheduler.run_due()
    (first,) = await checkins_sent(desk.store, ref)
    assert first == {
        "user": reporter.user,
        "case": ref,
        "text": "Hoe gaat het nu met je?",
        "buttons": [
            {"label": "Het gaat goed", "payload": f"checkin:{ref}:goed"},
            {"label": "Het gaat niet zo goed", "payload": f"checkin:{ref}:niet_goed"},
            {"label": "Ik wil contact", "payload": f"checkin:{ref}:contact"},
        ],
    }
    for detail in ("inwoner", "vergadering", "Zwolle", "Bedreiging", "bedreiging", STORY):
        assert detail not in str(first)  # discreet: nothing about what happened

    reply = await press(reporter, f"checkin:{ref}:goed")
    assert reply.startswith("Fijn om te horen.")
    case = await load_case(desk.store, ref)
    assert case.events[-1].kind == "checkin_answered"
    assert case.events[-1].detail == {"number": 1, "answer": "goed"}
    assert case.events[-1].actor == "melder"
    assert await scheduler.run_time(aftercare.checkin_job(ref, 1)) is None  # no repeat needed
    assert await _to_team_about(desk, ref) == []  # a good answer does not bother the team

    clock.set(start + timedelta(days=7))
    await scheduler.run_due()
    assert len(await checkins_sent(desk.store, ref)) == 2
    assert [
        e.detail["number"]
        for e in (await load_case(desk.store, ref)).events
        if e.kind == "checkin_sent"
    ] == [1, 2]


async def test_no_check_ins_when_the_reporter_said_no(
    desk: Desk, reporter: Reporter, clock: FixedClock, settings: Settings
) -> None:
    ref = await _planned(desk, reporter, checkins="Nee")
    case = await load_case(desk.store, ref)
    assert case.wants_checkins is False
    assert [job["id"] for job in await list_jobs(settings)] == ["digest"]
    for _ in range(10):
        clock.advance(timedelta(days=1))
        await desk.scheduler.run_due()
    assert await checkins_sent(desk.store, ref) == []
    assert "checkin_sent" not in _kinds(await load_case(desk.store, ref))


async def test_family_is_asked_after_too(desk: Desk, reporter: Reporter, clock: FixedClock) -> None:
    ref = await _planned(desk, reporter, targeted="Mijn gezin")
    clock.advance(timedelta(days=1))
    await desk.scheduler.run_due()
    (question,) = await checkins_sent(desk.store, ref)
    assert question["text"] == "Hoe gaat het nu met je, en met je gezin?"


async def test_an_unanswered_check_in_is_asked_once_more_and_no_more(
    desk: Desk, reporter: Reporter, clock: FixedClock
) -> None:
    start = clock.now()
    ref = await _planned(desk, reporter)
    for day in range(1, 7):
        clock.set(start + timedelta(days=day))
        await desk.scheduler.run_due()
    sent = [e.detail for e in (await load_case(desk.store, ref)).events if e.kind == "checkin_sent"]
    assert sent == [{"number": 1, "time": 1}, {"number": 1, "time": 2}]  # day 1, and day 3
    clock.set(start + timedelta(days=7))
    await desk.scheduler.run_due()
    assert len(await checkins_sent(desk.store, ref)) == 3

    # The answer belongs to the latest question, even pressed on an older message.
    assert (await press(reporter, f"checkin:{ref}:goed")).startswith("Fijn om te horen.")
    answered = (await load_case(desk.store, ref)).events[-1]
    assert answered.detail == {"number": 2, "answer": "goed"}
    assert (await press(reporter, f"checkin:{ref}:goed")).startswith("Je antwoord heb ik al")
    for _ in range(10):
        clock.advance(timedelta(days=1))
        await desk.scheduler.run_due()
    assert len(await checkins_sent(desk.store, ref)) == 3


async def test_a_check_in_at_night_waits_for_the_morning(
    desk: Desk, reporter: Reporter, clock: FixedClock
) -> None:
    clock.advance(timedelta(hours=7, minutes=30))  # Sunday 22:30 in Amsterdam
    ref = await _planned(desk, reporter)
    run_at = await desk.scheduler.run_time(aftercare.checkin_job(ref, 1))
    assert run_at is not None and run_at.isoformat() == "2026-12-01T08:00:00+00:00"  # Tue 09:00


async def test_i_want_contact_reaches_the_team_in_slack(
    desk: Desk, reporter: Reporter, clock: FixedClock
) -> None:
    ref = await _planned(desk, reporter)  # no support asked for: no card yet
    assert await desk.deliver() == 0
    clock.advance(timedelta(days=1))
    await desk.scheduler.run_due()

    reply = await press(reporter, f"checkin:{ref}:contact")
    assert reply.startswith("Ik heb het Ondersteuningsteam Weerbaar Bestuur gevraagd contact")
    assert "112" in reply
    await desk.deliver()
    card = await _card(desk, ref)
    assert card.thread_ts is None and "Oppakken" in card.buttons()
    (note,) = desk.fake.thread(card.ts)
    assert note.reply_broadcast
    assert note.text == (
        f"<!subteam^{ONCALL}> Nazorg {ref}: de melder wil contact "
        "(antwoord op de vraag hoe het gaat)."
    )
    case = await load_case(desk.store, ref)
    assert case.wants_support is True
    assert _kinds(case)[-4:] == ["checkin_sent", "checkin_answered", "escalated", "card_posted"]
    answered = case.events[-3]
    assert answered.detail == {"number": 1, "answer": "contact"}

    # An unanswered card is announced again, as every escalation is.
    clock.advance(timedelta(hours=1))
    await desk.scheduler.run_due()
    await desk.deliver()
    assert any("Nog niet opgepakt" in m.text for m in desk.fake.thread(card.ts))

    await desk.team.click("U0ANNA0001", "dossier", ref)
    timeline = str(desk.fake.views[-1]["blocks"])
    assert "Antwoord op de nazorgvraag – melder (wil contact)" in timeline


async def test_not_so_good_goes_to_the_owner_in_the_cards_thread(
    desk: Desk, reporter: Reporter, clock: FixedClock
) -> None:
    ref = await _planned(desk, reporter, support="Ja")
    await desk.deliver()
    card = await _card(desk, ref)
    await desk.team.click("U0ANNA0001", "ack", ref)
    await desk.deliver()
    clock.advance(timedelta(days=1))
    await desk.scheduler.run_due()
    reply = await press(reporter, f"checkin:{ref}:niet_goed")
    assert reply.startswith("Dank je dat je het laat weten.")
    await desk.deliver()
    assert (await _card(desk, ref)).ts == card.ts  # the card it already had
    assert _kinds(await load_case(desk.store, ref)).count("escalated") == 1
    notes = [m.text for m in desk.fake.thread(card.ts) if "Nazorg" in m.text]
    assert notes == [
        f"<@U0ANNA0001> Nazorg {ref}: de melder antwoordt op de vraag hoe het gaat: "
        "het gaat niet zo goed."
    ]


async def test_only_the_reporters_own_pending_check_in_can_be_answered(
    desk: Desk, reporter: Reporter, clock: FixedClock, app
) -> None:
    ref = await _planned(desk, reporter)
    expired = "Deze knop is verlopen."
    assert (await press(reporter, f"checkin:{ref}:contact")).startswith(expired)  # none sent yet
    clock.advance(timedelta(days=1))
    await desk.scheduler.run_due()

    other = Reporter(app.dialogue, user="telegram:2002")
    assert (await press(other, f"checkin:{ref}:contact")).startswith(expired)
    for forged in (f"checkin:{ref}:blij", "checkin:WB-2026-9999:contact", f"checkin:{ref}"):
        assert (await press(reporter, forged)).startswith(expired)
    case = await load_case(desk.store, ref)
    assert "checkin_answered" not in _kinds(case)
    assert await _to_team_about(desk, ref) == []

    from bot.features.support import cases

    await cases.close(desk.store, ref, "Lokale medewerker", "afgehandeld")
    reply = await press(reporter, f"checkin:{ref}:contact")
    assert reply.startswith("Deze vraag hoort bij een melding die is afgesloten.")
    assert [b.payload for r in reporter.replies for b in r.buttons] == ["intent:request_support"]


async def test_an_answer_mid_report_keeps_the_report_going(
    desk: Desk, reporter: Reporter, clock: FixedClock
) -> None:
    ref = await _planned(desk, reporter)
    clock.advance(timedelta(days=1))
    await desk.scheduler.run_due()
    await reporter.say("/melden")
    assert "Vertel in je eigen woorden" in reporter.text
    reply = await press(reporter, f"checkin:{ref}:goed")
    assert reply.startswith("Fijn om te horen.")
    assert reply.endswith(
        "Vertel in je eigen woorden wat er is gebeurd. Neem de tijd; een paar zinnen is genoeg, "
        "in één bericht of in een paar."
    )


async def test_no_check_in_after_the_reporter_deleted_their_data(
    desk: Desk, reporter: Reporter, clock: FixedClock
) -> None:
    ref = await _planned(desk, reporter)
    async with desk.store.session() as session:
        case = await desk.store.case_by_ref(session, ref)
        assert case is not None
        case.deleted_at = clock.now()
    gone = "WB-2026-0042"  # a job whose case is no longer there ends quietly
    await desk.scheduler.schedule(
        aftercare.checkin_job(gone, 1), aftercare.CHECK_IN, clock.now(), [gone, "1"]
    )
    for _ in range(10):
        clock.advance(timedelta(days=1))
        await desk.scheduler.run_due()
    assert await checkins_sent(desk.store, ref) == []
    assert "checkin_sent" not in _kinds(await load_case(desk.store, ref))
