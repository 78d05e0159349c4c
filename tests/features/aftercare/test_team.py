"""The support team's side: daily reminders with snooze and close, the digest, closing a case."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bot.base.clock import FixedClock
from bot.base.settings import Settings
from bot.features import aftercare
from bot.features.support import cases
from bot.jobs.scheduler import list_jobs
from tests.features.aftercare.helpers import checkins_sent, report
from tests.plugins.desk import ANNA, BERT, CHANNEL, Desk, Reporter, load_case, outbox

# The clock starts on Sunday 29 November 2026 at 15:00 in Amsterdam (UTC+1).
MONDAY_9 = datetime(2026, 11, 30, 8, 0, tzinfo=timezone.utc)


def _reminders(desk: Desk, ts: str) -> list:
    return [m for m in desk.fake.thread(ts) if m.text.startswith(f"<@{ANNA}> Herinnering")]


async def _owned_card(desk: Desk, reporter: Reporter) -> tuple[str, str]:
    ref = await reporter.ask_for_support()
    await desk.deliver()
    (card,) = desk.fake.top_level()
    await desk.team.click(ANNA, "ack", ref)
    await desk.deliver()
    return ref, card.ts


async def test_the_owner_is_reminded_each_working_day_and_can_snooze(
    desk: Desk, reporter: Reporter, clock: FixedClock
) -> None:
    ref, ts = await _owned_card(desk, reporter)
    job = aftercare.reminder_job(ref)
    assert await desk.scheduler.run_time(job) == MONDAY_9  # not on Sunday

    clock.set(MONDAY_9)
    await desk.scheduler.run_due()
    await desk.deliver()
    (first,) = _reminders(desk, ts)
    assert ref in first.text and "nog niet afgesloten" in first.text
    assert first.buttons() == ["1 uur", "Morgen", "Volgende week", "Afsluiten"]
    assert await desk.scheduler.run_time(job) == MONDAY_9 + timedelta(days=1)

    await desk.team.click(ANNA, "snooze_hour", ref)
    assert desk.fake.responses[-1]["text"] == (
        "Je krijgt deze herinnering weer op 30-11-2026 10:00."
    )
    assert desk.fake.responses[-1]["response_type"] == "ephemeral"
    assert await desk.scheduler.run_time(job) == MONDAY_9 + timedelta(hours=1)
    event = (await load_case(desk.store, ref)).events[-1]
    assert (event.kind, event.actor) == ("reminder_snoozed", f"Anna de Vries ({ANNA})")

    clock.advance(timedelta(minutes=59))
    assert await desk.scheduler.run_due() == 0
    clock.advance(timedelta(minutes=1))
    await desk.scheduler.run_due()
    await desk.deliver()
    assert len(_reminders(desk, ts)) == 2
    assert await desk.scheduler.run_time(job) == MONDAY_9 + timedelta(days=1)

    await desk.team.click(ANNA, "snooze_week", ref)  # to Monday 7 December
    assert await desk.scheduler.run_time(job) == MONDAY_9 + timedelta(days=7)
    for _ in range(6 * 24):
        clock.advance(timedelta(hours=1))
        await desk.scheduler.run_due()
    await desk.deliver()
    assert len(_reminders(desk, ts)) == 2

    await desk.team.click(BERT, "snooze_tomorrow", ref)  # any team member may put it off
    assert await desk.scheduler.run_time(job) == MONDAY_9 + timedelta(days=7)  # Sunday: Monday


async def test_the_reminders_close_button_closes_the_case_and_its_jobs(
    desk: Desk, reporter: Reporter, clock: FixedClock, settings: Settings
) -> None:
    ref, ts = await _owned_card(desk, reporter)
    clock.set(MONDAY_9)
    await desk.scheduler.run_due()
    await desk.deliver()
    await desk.team.click(ANNA, "close", ref)
    assert desk.fake.views[-1]["callback_id"] == "close_case"
    await desk.team.submit_close(ANNA, ref, "Gesproken, loopt via de werkgever")
    assert (await load_case(desk.store, ref)).status == "closed"
    assert await desk.scheduler.run_time(aftercare.reminder_job(ref)) is None

    for _ in range(10):
        clock.advance(timedelta(days=1))
        await desk.scheduler.run_due()
    await desk.deliver()
    assert len(_reminders(desk, ts)) == 1
    await desk.team.click(ANNA, "snooze_hour", ref)
    assert desk.fake.responses[-1]["text"].startswith("Deze melding is afgesloten")


async def test_closing_a_case_cancels_all_its_jobs(
    desk: Desk, reporter: Reporter, clock: FixedClock, settings: Settings
) -> None:
    ref = await report(reporter, support="Ja")
    await desk.deliver()
    await desk.team.click(ANNA, "ack", ref)
    other = await report(reporter)
    await aftercare.keep_planned(desk.scheduler)
    ids = {job["id"] for job in await list_jobs(settings)}
    assert {
        f"checkin:{ref}:1",
        f"checkin:{ref}:2",
        f"reminder:{ref}",
        f"checkin:{other}:1",
    } <= ids

    await cases.close(desk.store, ref, "Lokale medewerker", "afgehandeld")  # no Slack, no scheduler
    left = {job["id"] for job in await list_jobs(settings)}
    assert not [job for job in left if ref in job]
    assert f"checkin:{other}:1" in left and "digest" in left

    for _ in range(10):
        clock.advance(timedelta(days=1))
        await desk.scheduler.run_due()
    assert await checkins_sent(desk.store, ref) == []
    assert len(await checkins_sent(desk.store, other)) >= 2


async def test_the_digest_lists_exactly_the_unowned_open_cases(
    desk: Desk, reporter: Reporter, clock: FixedClock
) -> None:
    # Four reporters: one reporter's second request for help would join the first one.
    others = [Reporter(reporter.dialogue, f"telegram:200{n}") for n in range(3)]
    waiting = await reporter.ask_for_support()
    owned = await others[0].ask_for_support()
    closed = await others[1].ask_for_support()
    quiet = await report(others[2])  # no contact asked for: open, and nobody owns it
    await desk.deliver()
    await desk.team.click(ANNA, "ack", owned)
    await cases.close(desk.store, closed, "Lokale medewerker", "dubbel")
    await aftercare.keep_planned(desk.scheduler)
    assert await desk.scheduler.run_time(aftercare.DIGEST_JOB) == MONDAY_9

    clock.set(MONDAY_9)
    await desk.scheduler.run_due()
    await desk.deliver()
    (digest,) = [m for m in desk.fake.top_level() if m.text.startswith("Nog niet opgepakt")]
    listed = [
        b["block_id"].removeprefix("digest_") for b in digest.blocks if b["type"] == "section"
    ]
    assert listed == [waiting, quiet]
    assert digest.channel == CHANNEL
    assert "geen contact gevraagd" in str(digest.blocks[-1])
    assert [b["accessory"]["action_id"] for b in digest.blocks if b["type"] == "section"] == [
        "ack",
        "ack",
    ]
    assert await desk.scheduler.run_time(aftercare.DIGEST_JOB) == MONDAY_9 + timedelta(days=1)

    await desk.team.click(BERT, "ack", waiting)  # straight from the digest
    await desk.team.click(BERT, "ack", quiet)
    clock.advance(timedelta(days=1))
    await desk.scheduler.run_due()
    await desk.deliver()
    digests = [m for m in desk.fake.top_level() if m.text.startswith("Nog niet opgepakt")]
    assert len(digests) == 1  # nothing unowned: no digest at all
    assert [p for p in await outbox(desk.store, "support") if p["kind"] == "digest"][-1][
        "cases"
    ] == [waiting, quiet]
