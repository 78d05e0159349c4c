"""A generated case store: hundreds of cases over 18 months, some escalated, some erased."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from bot.base.clock import AMSTERDAM, FixedClock
from bot.store import Reporter, Store
from bot.store.models import Checkin

START = datetime(2025, 1, 1, 0, 30, tzinfo=AMSTERDAM)  # the first month, Amsterdam time
MONTHS = 18
TYPES = ("verbale_agressie", "bedreiging", "fysiek_geweld", "vernieling", "online", "doxing")
PLATFORMS = ("x", "facebook", "whatsapp", None)
ROLES = ("burgemeester", "wethouder", "raadslid", "ambtenaar", None)
PLACES = ("Zwolle", "Den Haag", "Súdwest-Fryslân", "Maastricht", "Nergenshuizen", None)


@dataclass
class Generated:
    """What was put in, to check the figures against."""

    months: Counter[str] = field(default_factory=Counter)
    stories: list[str] = field(default_factory=list)
    refs: list[str] = field(default_factory=list)
    purge: list[str] = field(
        default_factory=list
    )  # closed long ago: the retention purge takes them
    users: list[str] = field(default_factory=list)


async def generate(store: Store, clock: FixedClock, cases: int = 540, seed: int = 21) -> Generated:
    """Reporters with roles and places, cases spread over 18 months, a third escalated."""
    rng = random.Random(seed)
    made = Generated()
    span = (START.replace(year=2026, month=7) - START).total_seconds()
    moments = sorted(START + timedelta(seconds=rng.uniform(0, span)) for _ in range(cases))
    async with store.session() as session:
        reporters = []
        for n in range(60):
            user = f"telegram:{5000 + n}"
            reporter: Reporter = await store.reporter(session, user)
            reporter.role, reporter.municipality = rng.choice(ROLES), rng.choice(PLACES)
            reporters.append(reporter)
            made.users.append(user)
    async with store.session() as session:  # one transaction: quick to write
        for n, moment in enumerate(moments):
            clock.set(moment)
            story = f"Verhaal nummer {n} aan de Kievitlaan {1000 + n}"
            kind = "support" if rng.random() < 0.15 else "incident"
            incident_type = rng.choice(TYPES) if kind == "incident" else None
            case = await store.create_case(
                session,
                rng.choice(reporters),
                kind=kind,
                story=story,
                incident_type=incident_type,
                platform=rng.choice(PLATFORMS) if incident_type in ("online", "doxing") else None,
                location=f"Kievitlaan {1000 + n}",
                aangifte=rng.choice(("gedaan", "van_plan", "nee")) if kind == "incident" else None,
                wants_support=rng.random() < 0.6 if kind == "incident" else None,
            )
            if kind == "support" or case.wants_support:
                await store.add_event(session, case, "escalated", "systeem")
                clock.advance(timedelta(minutes=rng.randint(1, 40)))
                await store.add_event(session, case, "acknowledged", "Anna (U0ANNA0001)")
                case.owner, case.status = "Anna (U0ANNA0001)", "acknowledged"
                clock.advance(timedelta(minutes=rng.randint(0, 90)))
                await store.add_event(session, case, "contact_started", "Anna (U0ANNA0001)")
                if n % 4 == 0:
                    now = clock.now()
                    session.add(
                        Checkin(
                            case_id=case.id,
                            number=1,
                            due_at=now,
                            planned=True,
                            sent=1,
                            sent_at=now,
                            answered_at=now,
                            answer="niet_goed",
                        )
                    )
            if moment < START.replace(year=2026, month=1) and rng.random() < 0.1:
                case.status = "closed"
                made.purge.append(case.ref)
            made.refs.append(case.ref)
            made.months[moment.astimezone(AMSTERDAM).strftime("%Y-%m")] += 1
            made.stories.append(story)
    clock.set(datetime(2026, 7, 1, 12, 0, tzinfo=timezone.utc))
    return made
