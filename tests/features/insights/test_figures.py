"""`python -m bot stats` on a generated store: right totals, nothing small, nothing to undo."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from typing import Any

import pytest

from bot.__main__ import main
from bot.app import FEATURES
from bot.base.clock import FixedClock
from bot.base.messages import Incoming
from bot.base.settings import Settings
from bot.core.dialogue import Dialogue
from bot.features import privacy
from bot.features.insights import stats
from bot.features.insights.suppression import THRESHOLD, Suppressed
from bot.store import Store
from knowledge import Knowledge
from tests.fakes.keyword_nlu import KeywordNLU
from tests.features.insights.generated import Generated
from tests.features.insights.test_suppression import derivable

PERIOD = ("--from", "2025-01", "--to", "2026-06")


async def _cli(
    store: Store, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    monkeypatch.setenv("DATABASE_URL", store.url)

    def run() -> tuple[int, str, str]:
        code = main(["stats", *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return await asyncio.to_thread(run)


def _true_tables(found: dict[str, Any], truth: dict[str, list[list[int]]]) -> list[list[list[int]]]:
    return [truth[name] for name in found["tables"]]


async def _truth(store: Store) -> dict[str, list[list[int]]]:
    """The counts before suppression, straight from the same queries."""
    period = stats.Period.between("2025-01", "2026-06", store.clock.now())
    async with store.session() as session:
        return {t.name: t.counts for t in await stats.count_tables(session, period)}


def _hidden(found: dict[str, Any]) -> Suppressed:
    """What the output hides, read back from its "<5" marks."""
    hidden = Suppressed()
    hidden.rows = {i for i, m in enumerate(found["months"]) if found["totals"][m] == "<5"}
    hidden.grand = found["total"] == "<5"
    for t, table in enumerate(found["tables"].values()):
        for i, month in enumerate(found["months"]):
            for j, column in enumerate(table["columns"]):
                if table["rows"][month][column] == "<5":
                    hidden.cells.add((t, i, j))
        for j, column in enumerate(table["columns"]):
            if table["column_totals"][column] == "<5":
                hidden.columns.add((t, j))
    return hidden


def _numbers(found: dict[str, Any]) -> list[int]:
    values: list[Any] = [*found["totals"].values(), found["total"]]
    for table in found["tables"].values():
        values += [v for row in table["rows"].values() for v in row.values()]
        values += list(table["column_totals"].values())
    return [v for v in values if not isinstance(v, str)]


async def test_figures_match_a_direct_count_hide_small_cells_and_cannot_be_undone(
    store: Store,
    generated: Generated,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = await _cli(store, monkeypatch, capsys, "--json", *PERIOD)
    assert code == 0
    found = json.loads(out)
    assert found["months"][0] == "2025-01" and len(found["months"]) == 18
    assert found["total"] == sum(generated.months.values()) >= 500
    for month, n in found["totals"].items():
        assert n == (generated.months[month] if generated.months[month] >= THRESHOLD else "<5")
    for table in found["tables"].values():  # every table splits the same cases
        assert (
            sum(v for v in table["column_totals"].values() if isinstance(v, int)) <= found["total"]
        )
    assert min(_numbers(found)) >= THRESHOLD
    assert any(v == "<5" for t in found["tables"].values() for v in t["column_totals"].values())
    truth = await _truth(store)
    assert derivable(_true_tables(found, truth), _hidden(found)) == []
    for name, table in found["tables"].items():
        for i, month in enumerate(found["months"]):
            for j, column in enumerate(table["columns"]):
                shown = table["rows"][month][column]
                assert shown == "<5" or shown == truth[name][i][j]


async def test_no_free_text_no_reference_and_no_day_in_any_output(
    store: Store,
    generated: Generated,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    outputs = [
        (await _cli(store, monkeypatch, capsys, *shape, *PERIOD))[1]
        for shape in ((), ("--json",), ("--csv",))
    ]
    for out in outputs:
        assert "Kievitlaan" not in out and "Verhaal" not in out
        assert not any(ref in out for ref in generated.refs) and "WB-" not in out
        assert "Zwolle" not in out and "Nergenshuizen" not in out
    rows = list(csv.DictReader(io.StringIO(outputs[2])))
    assert [r["maand"] for r in rows] == [*json.loads(outputs[1])["months"], "totaal"]
    assert {
        "monitor_verbale_agressie",
        "monitor_bedreiging_intimidatie",
        "monitor_fysiek_geweld",
    } <= set(rows[0])
    assert {"monitor_online_sociale_media", "provincie_fryslan", "rol_burgemeester"} <= set(rows[0])
    assert "aandeel_aangifte_gedaan" in rows[0] and "Weerbaar in cijfers" in outputs[0]


async def test_deleted_and_purged_cases_still_count_as_numbers(
    store: Store,
    clock: FixedClock,
    knowledge: Knowledge,
    generated: Generated,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = json.loads((await _cli(store, monkeypatch, capsys, "--json", *PERIOD))[1])
    counts = await privacy.purge(store, Settings(retention_days=30))
    assert counts["cases"] == len(generated.purge) > 0
    dialogue = Dialogue(store, KeywordNLU(), Settings(), knowledge, clock, features=FEATURES)
    for user in generated.users[:5]:
        await dialogue.handle(Incoming(user, "/privacy"))
        await dialogue.handle(Incoming(user, button="privacy:erase"))
        replies = await dialogue.handle(Incoming(user, button="privacy:erase:yes"))
        assert "gewist" in replies[0].text
    after = json.loads((await _cli(store, monkeypatch, capsys, "--json", *PERIOD))[1])
    for key in ("totals", "total", "tables", "shares", "checkins_niet_goed"):
        assert after[key] == before[key], key
    from sqlalchemy import select

    from bot.store.models import StatsTally

    async with store.session() as session:
        rows = list((await session.execute(select(StatsTally))).scalars())
    assert sum(r.cases for r in rows) >= len(generated.purge) + 5
    assert {r.province for r in rows} >= {"Overijssel", "Zuid-Holland"}
    assert all(len(r.month) == 7 for r in rows)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_service_level_per_week_against_the_promise(store: Store, clock: FixedClock) -> None:
    from datetime import datetime, timedelta, timezone

    monday = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    async with store.session() as session:
        reporter = await store.reporter(session, "telegram:1")
    minutes = [(3, 10), (8, 20), (12, None), (30, 45), (None, None)]
    for n, (reaction, contact) in enumerate(minutes):
        clock.set(monday + timedelta(hours=n))
        async with store.session() as session:
            case = await store.create_case(session, reporter, kind="support")
            await store.add_event(session, case, "escalated", "systeem")
            start = clock.now()
            if n == 4:
                await store.add_event(session, case, "reescalated", "systeem")
            if reaction is not None:
                clock.set(start + timedelta(minutes=reaction))
                await store.add_event(session, case, "acknowledged", "Anna (U0ANNA0001)")
                case.owner = "Anna (U0ANNA0001)"
            if contact is not None:
                clock.set(start + timedelta(minutes=contact))
                await store.add_event(session, case, "relayed_to_reporter", "Anna (U0ANNA0001)")
    period = stats.Period.between("2026-03", "2026-03", clock.now())
    found = await stats.report(store, period, promise_minutes=15)
    [week] = [w for w in found.service if w["week"] == "2026-W10"]
    assert (week["escalations"], week["reacted"], week["contacted"]) == (5, 4, 3)
    assert (week["reaction_p50_min"], week["reaction_p90_min"]) == (8.0, 30.0)
    assert (week["contact_p50_min"], week["contact_p90_min"]) == (20.0, 45.0)
    assert week["within_promise"] == 0.6 and week["reescalations"] == 1
    assert found.now == {"open": 5, "unowned": 1}
    assert all(w["escalations"] == 0 for w in found.service if w["week"] != "2026-W10")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--from", "2026-13"), "geen maand"),
        (("--from", "2026-06", "--to", "2026-01"), "ligt na"),
        (("--from", "2000-01", "--to", "2026-01"), "hoogstens"),
    ],
)
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_bad_period_gets_a_clear_answer_and_changes_nothing(
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: tuple[str, ...],
    message: str,
) -> None:
    code, out, err = await _cli(store, monkeypatch, capsys, *args)
    assert code == 2 and out == "" and message in err and "Traceback" not in err
