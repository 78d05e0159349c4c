"""Re-escalation on an injected clock: once per interval until someone picks the case up."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.app import FEATURES
from bot.base.clock import FixedClock
from bot.base.settings import Settings
from bot.features.support import escalation
from bot.jobs.scheduler import Scheduler, list_jobs
from bot.store import Store
from tests.plugins.desk import ANNA, ONCALL, Desk, Reporter, load_case


def _announcements(desk: Desk, ts: str) -> list[str]:
    return [m.text for m in desk.fake.thread(ts) if m.reply_broadcast]


async def test_urgent_escalation_is_announced_each_ten_minutes_until_picked_up(
    desk: Desk, reporter: Reporter, clock: FixedClock
) -> None:
    ref = await reporter.raise_alarm()
    await desk.deliver()
    (card,) = desk.fake.top_level()
    assert "Urgent" in str(card.blocks)
    assert await desk.scheduler.run_time(escalation.job_id(ref)) == clock.now() + timedelta(
        minutes=10
    )

    clock.advance(timedelta(minutes=9, seconds=59))
    assert await desk.scheduler.run_due() == 0
    clock.advance(timedelta(seconds=1))
    assert await desk.scheduler.run_due() == 1
    assert await desk.scheduler.run_due() == 0  # exactly once per interval
    await desk.deliver()
    (first,) = _announcements(desk, card.ts)
    assert first.startswith(
        f"<!subteam^{ONCALL}> Nog niet opgepakt: *:rotating_light: Hulpvraag {ref}* (urgent)"
    )
    assert "10 minuten geleden" in first

    clock.advance(timedelta(minutes=25))  # a late scheduler still announces once, not twice
    assert await desk.scheduler.run_due() == 1
    assert await desk.scheduler.run_due() == 0
    await desk.deliver()
    assert len(_announcements(desk, card.ts)) == 2
    case = await load_case(desk.store, ref)
    assert [e.detail for e in case.events if e.kind == "reescalated"] == [
        {"count": 1},
        {"count": 2},
    ]

    await desk.team.click(ANNA, "ack", ref)
    assert await desk.scheduler.run_time(escalation.job_id(ref)) is None
    clock.advance(timedelta(hours=3))
    assert await desk.scheduler.run_due() == 0
    await desk.deliver()
    assert len(_announcements(desk, card.ts)) == 2


async def test_normal_escalation_waits_an_hour_and_stops_on_a_thread_reply(
    desk: Desk, reporter: Reporter, clock: FixedClock
) -> None:
    await reporter.ask_for_support()
    await desk.deliver()
    (card,) = desk.fake.top_level()
    clock.advance(timedelta(minutes=59))
    assert await desk.scheduler.run_due() == 0
    clock.advance(timedelta(minutes=1))
    assert await desk.scheduler.run_due() == 1
    await desk.deliver()
    assert len(_announcements(desk, card.ts)) == 1
    await desk.team.reply(ANNA, card.ts, "Ik kijk ernaar.")
    clock.advance(timedelta(hours=2))
    assert await desk.scheduler.run_due() == 0
    await desk.deliver()
    assert len(_announcements(desk, card.ts)) == 1


async def test_an_announcement_due_after_the_pick_up_is_not_posted(
    desk: Desk, reporter: Reporter, clock: FixedClock
) -> None:
    ref = await reporter.raise_alarm()
    await desk.deliver()
    clock.advance(timedelta(minutes=10))
    assert await desk.scheduler.run_due() == 1  # queued while Slack was slow, say
    await desk.team.click(ANNA, "ack", ref)
    await desk.deliver()
    (card,) = desk.fake.top_level()
    assert _announcements(desk, card.ts) == []


async def test_an_acknowledgement_outside_slack_also_stops_it(
    desk: Desk, reporter: Reporter, clock: FixedClock
) -> None:
    from bot.features.support import cases

    ref = await reporter.ask_for_support()
    await desk.deliver()
    await cases.acknowledge(desk.store, ref, "Lokale medewerker")
    clock.advance(timedelta(hours=1))
    assert await desk.scheduler.run_due() == 1  # the job runs, sees the case is taken, stops
    assert await desk.scheduler.run_time(escalation.job_id(ref)) is None
    assert "reescalated" not in [e.kind for e in (await load_case(desk.store, ref)).events]


async def test_jobs_list_shows_ids_times_and_references_only(
    desk: Desk, reporter: Reporter, settings: Settings, clock: FixedClock
) -> None:
    ref = await reporter.raise_alarm()
    await desk.deliver()
    jobs = await list_jobs(settings)
    assert jobs == [
        {
            "id": f"reescalate:{ref}",
            "kind": "reescalate",
            "case": ref,
            "run_at": (clock.now() + timedelta(minutes=10)).isoformat(),
        }
    ]


async def test_one_scheduler_holds_the_lock_and_another_takes_over(
    store: Store, settings: Settings
) -> None:
    first = Scheduler(store, settings, FEATURES.jobs, autorun=False, watch_seconds=3600)
    second = Scheduler(store, settings, FEATURES.jobs, autorun=False, watch_seconds=3600)
    await first.start()
    await second.start()
    try:
        assert first.holds_lock and not second.holds_lock
        assert await second.run_due() == 0
        await first.stop()
        assert await second._take_over()
        assert second.holds_lock
    finally:
        await first.stop()
        await second.stop()


async def test_a_job_survives_a_restart(
    store: Store, settings: Settings, clock: FixedClock
) -> None:
    before = Scheduler(store, settings, FEATURES.jobs, autorun=False)
    await before.start()
    await before.schedule(
        "reescalate:WB-2026-0042", escalation.REESCALATE, clock.now(), ["WB-2026-0042"]
    )
    await before.stop()
    after = Scheduler(store, settings, FEATURES.jobs, autorun=False)
    await after.start()
    try:
        assert await after.run_time("reescalate:WB-2026-0042") == clock.now()
        assert await after.run_due() == 1  # the case does not exist: the job ends quietly
        assert await list_jobs(settings) == []
    finally:
        await after.stop()


async def test_the_live_scheduler_runs_a_due_job_by_the_wall_clock(
    database_url: str, settings: Settings
) -> None:
    from bot.store import open_store

    store = await open_store(database_url)  # the system clock
    live = Scheduler(store, settings, FEATURES.jobs, watch_seconds=3600)
    await live.start()
    try:
        async with store.turn("telegram:5005") as turn:
            case = await store.create_case(
                turn.session, turn.reporter, kind="support", urgency="urgent"
            )
        run_at = store.clock.now()
        await live.schedule(escalation.job_id(case.ref), escalation.REESCALATE, run_at, [case.ref])
        for _ in range(200):  # APScheduler runs it on its own timer
            events = [e.kind for e in (await load_case(store, case.ref)).events]
            next_run = await live.run_time(escalation.job_id(case.ref))
            # The job plans its next run after it committed the event, from a thread.
            if "reescalated" in events and next_run is not None and next_run != run_at:
                break
            await asyncio.sleep(0.02)
        assert events == ["created", "reescalated"]
        assert next_run is not None and next_run > store.clock.now() + timedelta(minutes=9)
    finally:
        await live.stop()
        await store.close()


async def test_a_lost_job_is_planned_again(
    desk: Desk, reporter: Reporter, clock: FixedClock
) -> None:
    ref = await reporter.raise_alarm()
    await desk.deliver()
    await desk.scheduler.cancel(escalation.job_id(ref))  # as after a crash between two steps
    assert await escalation.rewatch(desk.scheduler) == 1
    assert await escalation.rewatch(desk.scheduler) == 0
    assert await desk.scheduler.run_time(escalation.job_id(ref)) == clock.now() + timedelta(
        minutes=10
    )
