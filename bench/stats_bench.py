"""Stats: `python -m bot stats` over 100,000 cases on a throwaway PostgreSQL server.

The store is seeded with COPY (reporters with roles and gemeenten, cases over 18 months, a timeline
per case with escalations, reactions and contacts, check-in answers, a tally of erased cases),
analysed, then the whole report of the 18 months (every table, suppression and the weekly service
level) is made five times after one warm-up run. Reported: the median and every run in seconds,
against the target of 2 s.
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from bench import throwaway_postgres
from bot.features.insights import stats
from bot.store import open_store
from bot.store.models import TALLY_KEY

CASES = 100_000
REPORTERS = 2_000
RUNS = 5
TARGET_S = 2.0
START = datetime(2025, 1, 1, tzinfo=timezone.utc)
DAYS = 546  # 18 months
TYPES = ("verbale_agressie", "bedreiging", "fysiek_geweld", "vernieling", "online", "doxing")
ROLES = ("burgemeester", "wethouder", "raadslid", "statenlid", "ambtenaar", None)
PLACES = ("Zwolle", "Den Haag", "Utrecht", "Súdwest-Fryslân", "Maastricht", "Tilburg", None)
PLATFORMS = ("x", "facebook", "instagram", "whatsapp", None)


def _naive(moment: datetime) -> datetime:
    return moment.replace(tzinfo=None)  # the store keeps UTC without a zone


async def _seed(url: str) -> dict[str, int]:
    import asyncpg

    rng = random.Random(21)
    dsn = url.replace("postgresql+asyncpg", "postgresql")
    connection = await asyncpg.connect(dsn)
    try:
        created = _naive(START)
        await connection.copy_records_to_table(
            "reporters",
            columns=["id", "user_key", "role", "municipality", "verified", "created_at"],
            records=[
                (n, f"telegram:{n}", rng.choice(ROLES), rng.choice(PLACES), True, created)
                for n in range(1, REPORTERS + 1)
            ],
        )
        cases, events, checkins = [], [], []
        for n in range(1, CASES + 1):
            at = START + timedelta(seconds=rng.uniform(0, DAYS * 86400))
            kind = "support" if rng.random() < 0.15 else "incident"
            kind_type = rng.choice(TYPES) if kind == "incident" else None
            escalated = kind == "support" or rng.random() < 0.4
            owner = "Anna (U0ANNA0001)" if escalated and rng.random() < 0.9 else None
            cases.append(
                (
                    n,
                    f"WB-{at.year}-{n:06d}",
                    rng.randint(1, REPORTERS),
                    kind,
                    "closed" if rng.random() < 0.7 else "open",
                    "normal",
                    kind_type,
                    rng.choice(PLATFORMS) if kind_type in ("online", "doxing") else None,
                    rng.choice(("gedaan", "van_plan", "nee", None)),
                    kind == "support" or rng.random() < 0.5,
                    owner,
                    _naive(at),
                    _naive(at),
                )
            )
            events.append((n, _naive(at), "created", "melder", "{}"))
            if escalated:
                events.append((n, _naive(at), "escalated", "systeem", "{}"))
                if owner:
                    reacted = at + timedelta(minutes=rng.expovariate(1 / 12))
                    events.append((n, _naive(reacted), "acknowledged", owner, "{}"))
                    contact = reacted + timedelta(minutes=rng.expovariate(1 / 30))
                    events.append((n, _naive(contact), "contact_started", owner, "{}"))
                else:
                    events.append(
                        (n, _naive(at + timedelta(hours=1)), "reescalated", "systeem", "{}")
                    )
                if rng.random() < 0.2:
                    answer = rng.choice(("goed", "niet_goed", "contact"))
                    when = _naive(at + timedelta(days=1))
                    checkins.append((n, 1, when, True, 1, when, when, answer))
        await connection.copy_records_to_table(
            "cases",
            columns=[
                "id",
                "ref",
                "reporter_id",
                "kind",
                "status",
                "urgency",
                "incident_type",
                "platform",
                "aangifte",
                "wants_support",
                "owner",
                "created_at",
                "updated_at",
            ],
            records=cases,
        )
        await connection.copy_records_to_table(
            "case_events", columns=["case_id", "at", "kind", "actor", "detail"], records=events
        )
        await connection.copy_records_to_table(
            "checkins",
            columns=[
                "case_id",
                "number",
                "due_at",
                "planned",
                "sent",
                "sent_at",
                "answered_at",
                "answer",
            ],
            records=checkins,
        )
        await connection.copy_records_to_table(
            "stats_tally",
            columns=[*TALLY_KEY, "cases", "checkins_niet_goed"],
            records=[
                (f"2025-{m:02d}", "incident", t, "", "", "", "", "", rng.randint(1, 9), 0)
                for m in range(1, 13)
                for t in TYPES
            ],
        )
        await connection.execute("ANALYZE")
    finally:
        await connection.close()
    return {"cases": len(cases), "events": len(events), "checkins": len(checkins)}


async def _measure(url: str) -> dict[str, Any]:
    store = await open_store(url)
    try:
        started = time.perf_counter()
        seeded = await _seed(url)
        seed_s = time.perf_counter() - started
        period = stats.Period.between("2025-01", "2026-06", START)
        await stats.report(store, period, 15)  # warm-up: connections, plans, the catalogue
        runs = []
        for _ in range(RUNS):
            started = time.perf_counter()
            found = await stats.report(store, period, 15)
            json.dumps(found.as_json())
            runs.append(time.perf_counter() - started)
    finally:
        await store.close()
    median = statistics.median(runs)
    return {
        **seeded,
        "seed_s": round(seed_s, 1),
        "months": len(period.months),
        "weeks": len(period.week_bounds()),
        "median_s": round(median, 3),
        "runs_s": [round(r, 3) for r in runs],
        "target_s": TARGET_S,
        "under_target": median < TARGET_S,
    }


async def _run() -> dict[str, Any]:
    server = throwaway_postgres()
    if isinstance(server, str):
        return {"skipped": server}
    try:
        server.start()
        result = await _measure(server.create_database("stats_bench"))
    finally:
        server.destroy()
    return {"database": "postgresql", **result}


def run() -> dict[str, Any]:
    """Median seconds of the whole 18-month report over 100,000 cases."""
    return asyncio.run(_run())


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
