"""Jobs that survive restarts and downtime, the jobs list, and the settings that steer them."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone

import pytest

from bot.__main__ import main
from bot.app import FEATURES, App
from bot.base.clock import FixedClock
from bot.base.settings import Settings, SettingsError
from bot.features import aftercare
from bot.jobs.scheduler import Scheduler
from bot.store import Store, open_store
from bot.store.models import Checkin
from tests.features.aftercare.helpers import STORY, checkins_sent, report
from tests.plugins.desk import Reporter, load_case


async def _planned_with(store: Store, settings: Settings, reporter: Reporter) -> str:
    """Report, plan the check-ins with one scheduler, and stop it (the process goes down)."""
    ref = await report(reporter)
    before = Scheduler(store, settings, FEATURES.jobs, autorun=False)
    await before.start()
    try:
        assert await aftercare.keep_planned(before) == 3  # two check-ins and the digest
    finally:
        await before.stop()
    return ref


async def test_a_restart_between_planning_and_firing_still_asks_once(
    app: App, store: Store, settings: Settings, reporter: Reporter, clock: FixedClock
) -> None:
    ref = await _planned_with(store, settings, reporter)
    after = Scheduler(store, settings, FEATURES.jobs, autorun=False)
    await after.start()
    try:
        assert await aftercare.keep_planned(after) == 0  # nothing planned twice
        clock.advance(timedelta(days=1))
        await after.run_due()
        await after.run_due()
        assert len(await checkins_sent(store, ref)) == 1
    finally:
        await after.stop()


async def test_downtime_over_two_due_times_asks_once(
    app: App, store: Store, settings: Settings, reporter: Reporter, clock: FixedClock
) -> None:
    ref = await _planned_with(store, settings, reporter)
    clock.advance(timedelta(days=8))  # down from Sunday to a week later Monday
    after = Scheduler(store, settings, FEATURES.jobs, autorun=False)
    await after.start()
    try:
        await after.run_due()
        await after.run_due()
        (question,) = await checkins_sent(store, ref)
        case = await load_case(store, ref)
        kinds = [(e.kind, e.detail.get("number")) for e in case.events if "checkin" in e.kind]
        assert kinds == [("checkin_skipped", 1), ("checkin_sent", 2)]
        repeat = await after.run_time(aftercare.checkin_job(ref, 2))
        assert repeat is not None and repeat >= clock.now() + timedelta(days=2)
        assert await after.run_time(aftercare.checkin_job(ref, 1)) is None
    finally:
        await after.stop()


async def test_the_live_scheduler_coalesces_late_check_ins_too(
    database_url: str, settings: Settings
) -> None:
    store = await open_store(database_url)  # the system clock: APScheduler runs the jobs itself
    now = store.clock.now()
    async with store.turn("telegram:7007") as turn:
        case = await store.create_case(
            turn.session, turn.reporter, kind="incident", wants_checkins=True
        )
        for number, late in ((1, timedelta(days=7)), (2, timedelta(days=1))):
            turn.session.add(
                Checkin(case_id=case.id, number=number, due_at=now - late, planned=True)
            )
    down = Scheduler(
        store, settings, FEATURES.jobs, autorun=False
    )  # planned, then the process went down
    await down.start()
    for number, late in ((1, timedelta(days=7)), (2, timedelta(days=1))):
        job = aftercare.checkin_job(case.ref, number)
        await down.schedule(job, aftercare.CHECK_IN, now - late, [case.ref, str(number)])
    await down.stop()

    live = Scheduler(store, settings, FEATURES.jobs, watch_seconds=3600)
    await live.start()  # both jobs are overdue: APScheduler starts them in one go
    try:
        repeat = aftercare.checkin_job(case.ref, 2)
        for _ in range(200):
            planned = await live.run_time(repeat)
            kinds = [e.kind for e in (await load_case(store, case.ref)).events]
            if "checkin_skipped" in kinds and planned is not None and planned > now:
                break  # both jobs are done: the second one planned its repeat
            await asyncio.sleep(0.02)
        kinds = [e.kind for e in (await load_case(store, case.ref)).events]
        assert len(await checkins_sent(store, case.ref)) == 1
        assert kinds.count("checkin_sent") == 1 and kinds.count("checkin_skipped") == 1
    finally:
        await live.stop()
        await store.close()


async def test_jobs_list_shows_ids_times_and_references_only(
    app: App,
    store: Store,
    settings: Settings,
    reporter: Reporter,
    clock: FixedClock,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ref = await _planned_with(store, settings, reporter)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)

    def run() -> tuple[int, str]:
        # The command line runs its own event loop: call it from a worker thread.
        code = main(["jobs", "list", "--json"])
        return code, capsys.readouterr().out

    code, out = await asyncio.to_thread(run)
    assert code == 0
    jobs = json.loads(out)
    start = clock.now()
    assert [(j["id"], j["run_at"]) for j in jobs] == [
        ("digest", "2026-11-30T08:00:00+00:00"),
        (f"checkin:{ref}:1", (start + timedelta(days=1)).isoformat()),
        (f"checkin:{ref}:2", (start + timedelta(days=7)).isoformat()),
    ]
    assert all(set(j) == {"id", "kind", "case", "run_at"} for j in jobs)
    assert [j["kind"] for j in jobs] == ["digest", "checkin", "checkin"]
    for personal in (STORY, "Zwolle", reporter.user, "1001"):
        assert personal not in out


def test_check_in_days_and_hours_come_from_the_environment() -> None:
    default = Settings.from_env({})
    assert (default.checkin_days, default.reminder_hour, default.digest_hour) == ((1, 7), 9, 9)
    custom = Settings.from_env(
        {"CHECKIN_DAYS": "2, 5,14", "REMINDER_HOUR": "8", "DIGEST_HOUR": "0"}
    )
    assert (custom.checkin_days, custom.reminder_hour, custom.digest_hour) == ((2, 5, 14), 8, 0)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"CHECKIN_DAYS": "1,een week"}, "CHECKIN_DAYS"),
        ({"CHECKIN_DAYS": "7,1"}, "CHECKIN_DAYS"),
        ({"CHECKIN_DAYS": "0,7"}, "CHECKIN_DAYS"),
        ({"CHECKIN_DAYS": "1,1"}, "CHECKIN_DAYS"),
        ({"REMINDER_HOUR": "24"}, "REMINDER_HOUR"),
        ({"DIGEST_HOUR": "negen"}, "DIGEST_HOUR"),
    ],
)
def test_a_bad_aftercare_setting_is_one_line_naming_it(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError) as bad:
        Settings.from_env(env)
    assert str(bad.value).startswith(f"{named}:")
    assert "\n" not in str(bad.value)


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(timezone.utc)


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        ("2026-11-27T10:00+01:00", "2026-11-30T09:00+01:00"),  # Friday after 9: Monday
        ("2026-11-28T08:00+01:00", "2026-11-30T09:00+01:00"),  # Saturday: Monday
        ("2026-11-30T08:59+01:00", "2026-11-30T09:00+01:00"),  # Monday before 9: today
        ("2026-11-30T09:00+01:00", "2026-12-01T09:00+01:00"),  # Monday at 9: tomorrow
        ("2026-03-27T12:00+01:00", "2026-03-30T09:00+02:00"),  # over the move to summer time
    ],
)
def test_working_days_and_hours_are_amsterdams(after: str, expected: str) -> None:
    assert aftercare.next_working_hour(_utc(after), 9) == _utc(expected)


def test_snooze_and_daytime() -> None:
    friday = _utc("2026-12-04T16:30+01:00")
    assert aftercare.snooze_until(friday, "hour", 9) == _utc("2026-12-04T17:30+01:00")
    assert aftercare.snooze_until(friday, "tomorrow", 9) == _utc("2026-12-07T09:00+01:00")
    assert aftercare.snooze_until(friday, "week", 9) == _utc("2026-12-07T09:00+01:00")
    wednesday = _utc("2026-12-02T11:00+01:00")
    assert aftercare.snooze_until(wednesday, "tomorrow", 9) == _utc("2026-12-03T09:00+01:00")
    assert aftercare.snooze_until(wednesday, "week", 9) == _utc("2026-12-07T09:00+01:00")
    assert aftercare.daytime(_utc("2026-12-02T07:15+01:00")) == _utc("2026-12-02T09:00+01:00")
    assert aftercare.daytime(_utc("2026-12-02T19:59+01:00")) == _utc("2026-12-02T19:59+01:00")
    assert aftercare.daytime(_utc("2026-12-02T20:00+01:00")) == _utc("2026-12-03T09:00+01:00")
    assert aftercare.next_daily_hour(_utc("2026-12-05T10:00+01:00"), 9) == _utc(
        "2026-12-06T09:00+01:00"
    )  # the digest comes on Sunday too


async def test_the_running_desk_keeps_the_jobs_planned(
    app: App, scheduler: Scheduler, reporter: Reporter, clock: FixedClock
) -> None:
    from aiohttp import web

    from bot.channels.slack import SlackDesk

    ref = await report(reporter)
    desk = SlackDesk(app, web.Application(), scheduler=scheduler, poll_seconds=60)
    await desk.start()
    try:
        for _ in range(250):
            if await scheduler.run_time(aftercare.checkin_job(ref, 2)) is not None:
                break
            await asyncio.sleep(0.02)
    finally:
        await desk.stop()
    assert await scheduler.run_time(aftercare.checkin_job(ref, 1)) == clock.now() + timedelta(
        days=1
    )
    assert await scheduler.run_time(aftercare.DIGEST_JOB) is not None
