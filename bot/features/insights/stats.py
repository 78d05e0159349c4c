"""Figures without people, in Monitor terms, and the support team's own service level.

Counted per month of the report (Amsterdam time): by category, role, channel (offline, or online
and where), province, aangifte and whether support was asked. Live cases are counted from the case
store, erased ones from `stats_tally` (written when a case is deleted or purged). Everything is
added up in SQL; Python only sees a few rows per month. Counts under 5 are hidden as "<5" with
complementary suppression (bot.features.insights.suppression), so no hidden count follows from the totals.

Service level per week of the escalation: minutes from the first escalation to the team's first
reaction (Oppakken, a chat or a reply) and to the first contact with the reporter, p50 and p90
(nearest rank), against SUPPORT_RESPONSE_MINUTES; re-escalations; open and unowned cases now.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import and_, case, func, literal, select
from sqlalchemy import text as text_sql
from sqlalchemy.ext.asyncio import AsyncSession

from bot.base.clock import AMSTERDAM
from bot.features.insights.suppression import THRESHOLD, Suppressed, suppress
from bot.store import Case, CaseEvent, Reporter, Store
from bot.store.models import Checkin, StatsTally
from flows import catalog, text
from nlu import ENTITY_VALUES
from nlu.safety import normalise

HIDDEN = f"<{THRESHOLD}"
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
YEAR = re.compile(r"^\d{4}$")
MAX_MONTHS = 120
DEFAULT_MONTHS = 12
UNKNOWN = "onbekend"
ONLINE_TYPES = ("online", "doxing")
TEAM_REACTION = ("acknowledged", "contact_started", "relayed_to_reporter")
CONTACT = ("contact_started", "relayed_to_reporter")
# Column names of the export: each category under the Monitor category it counts towards
# (physical violence includes damaging objects; online is reported separately).
MONITOR = {
    "verbale_agressie": "monitor_verbale_agressie",
    "bedreiging": "monitor_bedreiging_intimidatie",
    "fysiek_geweld": "monitor_fysiek_geweld",
    "vernieling": "monitor_fysiek_geweld_vernieling",
    "online": "monitor_online_sociale_media",
    "doxing": "monitor_online_doxing",
}
PROVINCES_FILE = Path(__file__).resolve().parent / "provinces.yml"


class PeriodError(ValueError):
    """A period that cannot be read; the message says why, in Dutch."""


# --- period ----------------------------------------------------------------------------------


def _month_start(year: int, month: int) -> datetime:
    return datetime(year, month, 1, tzinfo=AMSTERDAM).astimezone(timezone.utc)


def _add_months(year: int, month: int, n: int) -> tuple[int, int]:
    index = year * 12 + month - 1 + n
    return index // 12, index % 12 + 1


@dataclass(frozen=True)
class Period:
    """Whole months, first to last, in Amsterdam time."""

    first: tuple[int, int]
    last: tuple[int, int]

    @classmethod
    def between(cls, first: str | None, last: str | None, now: datetime) -> Period:
        """--from / --to (YYYY-MM); by default the last twelve months up to this one."""
        local = now.astimezone(AMSTERDAM)
        end = _parse_month(last) if last else (local.year, local.month)
        start = _parse_month(first) if first else _add_months(*end, 1 - DEFAULT_MONTHS)
        if start > end:
            raise PeriodError(
                text(None, "stats_period_order", first=_label(start), last=_label(end))
            )
        if (end[0] * 12 + end[1]) - (start[0] * 12 + start[1]) >= MAX_MONTHS:
            raise PeriodError(text(None, "stats_period_long", months=MAX_MONTHS))
        return cls(start, end)

    @classmethod
    def parse(cls, written: str, now: datetime) -> Period:
        """What follows /weerbaar cijfers: nothing, 2026, 2026-03, or 2026-01 2026-06."""
        words = written.replace("..", " ").replace("t/m", " ").split()
        if not words:
            return cls.between(None, None, now)
        if len(words) == 1 and YEAR.match(words[0]):
            return cls.between(f"{words[0]}-01", f"{words[0]}-12", now)
        if len(words) == 1:
            return cls.between(words[0], words[0], now)
        if len(words) == 2:
            return cls.between(words[0], words[1], now)
        raise PeriodError(text(None, "stats_period_form"))

    @property
    def months(self) -> list[str]:
        count = (self.last[0] * 12 + self.last[1]) - (self.first[0] * 12 + self.first[1]) + 1
        return [_label(_add_months(*self.first, n)) for n in range(count)]

    @property
    def start(self) -> datetime:
        return _month_start(*self.first)

    @property
    def end(self) -> datetime:
        return _month_start(*_add_months(*self.last, 1))

    def month_bounds(self) -> list[tuple[str, datetime, datetime]]:
        return [
            (
                label,
                _month_start(*_add_months(*self.first, n)),
                _month_start(*_add_months(*self.first, n + 1)),
            )
            for n, label in enumerate(self.months)
        ]

    def week_bounds(self) -> list[tuple[str, datetime, datetime]]:
        """ISO weeks (Monday to Monday, Amsterdam time) that overlap the period."""
        day = date(*self.first, 1)
        day -= timedelta(days=day.weekday())
        last = date(*_add_months(*self.last, 1), 1)
        weeks = []
        while day < last:
            year, week, _ = day.isocalendar()
            start = datetime.combine(day, datetime.min.time(), tzinfo=AMSTERDAM)
            end = datetime.combine(day + timedelta(days=7), datetime.min.time(), tzinfo=AMSTERDAM)
            weeks.append(
                (
                    f"{year}-W{week:02d}",
                    start.astimezone(timezone.utc),
                    end.astimezone(timezone.utc),
                )
            )
            day += timedelta(days=7)
        return weeks


def _parse_month(written: str) -> tuple[int, int]:
    found = MONTH.match(written.strip())
    if not found:
        raise PeriodError(text(None, "stats_period_month", text=written.strip()[:20]))
    return int(found[1]), int(found[2])


def _label(month: tuple[int, int]) -> str:
    return f"{month[0]:04d}-{month[1]:02d}"


def _bucket(column: Any, bounds: Sequence[tuple[str, datetime, datetime]]) -> Any:
    """The label of the month or week a moment falls in (NULL outside them)."""
    return case(*[(and_(column >= start, column < end), label) for label, start, end in bounds])


def week_of(moment: datetime) -> list[tuple[str, datetime, datetime]]:
    """The one ISO week (Amsterdam time) a moment falls in, as week bounds."""
    local = moment.astimezone(AMSTERDAM).date()
    monday = local - timedelta(days=local.weekday())
    year, week, _ = monday.isocalendar()
    start = datetime.combine(monday, datetime.min.time(), tzinfo=AMSTERDAM)
    end = datetime.combine(monday + timedelta(days=7), datetime.min.time(), tzinfo=AMSTERDAM)
    return [(f"{year}-W{week:02d}", start.astimezone(timezone.utc), end.astimezone(timezone.utc))]


# --- dimensions ------------------------------------------------------------------------------


def slug(name: str) -> str:
    """A column name part: plain letters and underscores."""
    return re.sub(r"[^a-z0-9]+", "_", normalise(name)).strip("_")


@cache
def _provinces() -> tuple[dict[str, str], tuple[str, ...]]:
    data = yaml.safe_load(PROVINCES_FILE.read_text(encoding="utf-8"))
    by_name = {
        normalise(municipality): province
        for province, municipalities in data["provinces"].items()
        for municipality in municipalities
    }
    for alias, official in data["aliases"].items():
        by_name[normalise(alias)] = by_name[normalise(official)]
    names = tuple(data["provinces"])
    by_name.update({normalise(p): p for p in names if normalise(p) not in by_name})
    return by_name, names


def province_of(name: str | None) -> str | None:
    """The province of a gemeente (or a province's own name), None when not known."""
    return _provinces()[0].get(normalise(name)) if name else None


@cache
def _choices(flow: str | None, name: str) -> tuple[str, ...]:
    found = catalog()
    if flow is None:
        return tuple(c.value for c in found.choices[name])
    return tuple(c.value for c in found.flows[flow].slots[name].choices)


def _roles() -> tuple[str, ...]:
    return ENTITY_VALUES["role"]


# Where each field a table reads is stored, for live cases and in the tally of erased ones.
LIVE = {
    "kind": Case.kind,
    "incident_type": Case.incident_type,
    "platform": Case.platform,
    "aangifte": Case.aangifte,
    "wants_support": Case.wants_support,
    "role": Reporter.role,
    "place": Reporter.municipality,
}
TALLIED = {
    "kind": StatsTally.kind,
    "incident_type": StatsTally.incident_type,
    "platform": StatsTally.platform,
    "aangifte": StatsTally.aangifte,
    "wants_support": StatsTally.wants_support,
    "role": StatsTally.role,
    "place": StatsTally.province,
}
# Live cases are counted in two scans: the case's own fields together (few combinations), and
# the reporter's role and gemeente together (at most one combination per reporter).
LIVE_SCANS = (("kind", "incident_type", "platform", "aangifte", "wants_support"), ("role", "place"))


@dataclass(frozen=True)
class Dimension:
    """One table of the report: the fields it reads and the column a case lands in."""

    name: str
    fields: tuple[str, ...]
    classify: Callable[..., str]
    columns: Callable[[], list[str]]
    export: Callable[[str], str]


def _category(kind: str, incident_type: str | None) -> str:
    if incident_type:
        return incident_type
    return "hulpvraag" if kind == "support" else UNKNOWN


def _channel(incident_type: str | None, platform: str | None) -> str:
    if incident_type in ONLINE_TYPES:
        return f"online_{platform or UNKNOWN}"
    return "offline" if incident_type else UNKNOWN


def _asked(kind: str, wants_support: Any) -> str:
    return "gevraagd" if kind == "support" or wants_support in (True, "ja") else "niet_gevraagd"


def _aangifte(aangifte: str | None) -> str:
    if aangifte == "gedaan":
        return "gedaan"
    return "niet_gedaan" if aangifte else UNKNOWN


DIMENSIONS = (
    Dimension(
        "categorie",
        ("kind", "incident_type"),
        _category,
        lambda: [*_choices(None, "incident_type"), "hulpvraag", UNKNOWN],
        lambda column: MONITOR.get(column, f"overig_{column}"),
    ),
    Dimension(
        "rol",
        ("role",),
        lambda role: role if role in _roles() else UNKNOWN,
        lambda: [*_roles(), UNKNOWN],
        lambda column: f"rol_{column}",
    ),
    Dimension(
        "kanaal",
        ("incident_type", "platform"),
        _channel,
        lambda: [
            "offline",
            *(f"online_{p}" for p in _choices("report_incident", "platform")),
            f"online_{UNKNOWN}",
            UNKNOWN,
        ],
        lambda column: f"kanaal_{column}",
    ),
    Dimension(
        "provincie",
        ("place",),
        lambda name: province_of(name) or UNKNOWN,
        lambda: [*_provinces()[1], UNKNOWN],
        lambda column: f"provincie_{slug(column)}",
    ),
    Dimension(
        "aangifte",
        ("aangifte",),
        _aangifte,
        lambda: ["gedaan", "niet_gedaan", UNKNOWN],
        lambda column: f"aangifte_{column}",
    ),
    Dimension(
        "steun",
        ("kind", "wants_support"),
        _asked,
        lambda: ["gevraagd", "niet_gevraagd"],
        lambda column: f"steun_{column}",
    ),
)
SHARES = (("aangifte_gedaan", "aangifte", "gedaan"), ("steun_gevraagd", "steun", "gevraagd"))


# --- erased cases ----------------------------------------------------------------------------


def _blank(value: Any) -> str:
    return "" if value is None else str(value)


async def tally_erased(store: Store, session: AsyncSession, case: Case, reporter: Reporter) -> None:
    """Count a case that is about to be erased, in the caller's transaction (numbers only)."""
    answers = await session.execute(
        select(func.count()).where(Checkin.case_id == case.id, Checkin.answer == "niet_goed")
    )
    niet_goed = int(answers.scalar_one())
    support = "" if case.wants_support is None else ("ja" if case.wants_support else "nee")
    key = {
        "month": case.created_at.astimezone(AMSTERDAM).strftime("%Y-%m"),
        "kind": case.kind,
        "incident_type": _blank(case.incident_type),
        "role": _blank(reporter.role),
        "province": _blank(province_of(reporter.municipality)),
        "platform": _blank(case.platform),
        "aangifte": _blank(case.aangifte),
        "wants_support": support,
    }
    insert = store._insert(StatsTally).values(**key, cases=1, checkins_niet_goed=niet_goed)
    await session.execute(
        insert.on_conflict_do_update(
            index_elements=list(key),
            set_={
                "cases": StatsTally.cases + 1,
                "checkins_niet_goed": StatsTally.checkins_niet_goed + niet_goed,
            },
        )
    )


# --- counting --------------------------------------------------------------------------------


@dataclass
class Table:
    """One dimension's counts: rows are the period's months, columns its values."""

    name: str
    columns: list[str]
    counts: list[list[int]]


async def _scan(
    session: AsyncSession, period: Period, fields: Sequence[str], tallied: bool
) -> list[tuple[str, dict[str, Any], int]]:
    """Cases per month and combination of these fields: (month, {field: value}, count)."""
    if tallied:
        source = select(
            StatsTally.month.label("month"),
            *(TALLIED[f].label(f) for f in fields),
            StatsTally.cases.label("n"),
        ).where(StatsTally.month.in_(period.months))
    else:
        source = select(
            _bucket(Case.created_at, period.month_bounds()).label("month"),
            *(LIVE[f].label(f) for f in fields),
            literal(1).label("n"),
        ).where(
            Case.purged_at.is_(None), Case.created_at >= period.start, Case.created_at < period.end
        )
        if any(LIVE[f].class_ is Reporter for f in fields):
            source = source.join(Reporter, Reporter.id == Case.reporter_id)
    rows = source.subquery()
    grouped = [rows.c.month, *(rows.c[f] for f in fields)]
    found = await session.execute(select(*grouped, func.sum(rows.c.n)).group_by(*grouped))
    return [
        (month, {f: None if v == "" else v for f, v in zip(fields, values, strict=True)}, int(n))
        for month, *values, n in found
        if month is not None
    ]


async def count_tables(session: AsyncSession, period: Period) -> list[Table]:
    """Every dimension's table of the period, live and erased cases together."""
    months = period.months
    tables = [Table(d.name, d.columns(), []) for d in DIMENSIONS]
    for table in tables:
        table.counts = [[0] * len(table.columns) for _ in months]
    scans = [(fields, False) for fields in LIVE_SCANS] + [(tuple(TALLIED), True)]
    for fields, tallied in scans:
        rows = await _scan(session, period, fields, tallied)
        for dimension, table in zip(DIMENSIONS, tables, strict=True):
            if not set(dimension.fields) <= set(fields):
                continue
            for month, values, n in rows:
                value = dimension.classify(*(values[f] for f in dimension.fields))
                if value not in table.columns:  # a value the catalogue no longer offers
                    table.columns.append(value)
                    for row in table.counts:
                        row.append(0)
                table.counts[months.index(month)][table.columns.index(value)] += n
    return tables


async def _niet_goed(session: AsyncSession, period: Period) -> list[int]:
    months = period.months
    found = [0] * len(months)
    answers = (
        select(_bucket(Case.created_at, period.month_bounds()).label("month"))
        .select_from(Checkin)
        .join(Case, Case.id == Checkin.case_id)
        .where(
            Checkin.answer == "niet_goed",
            Case.purged_at.is_(None),
            Case.created_at >= period.start,
            Case.created_at < period.end,
        )
        .subquery()
    )
    live = await session.execute(select(answers.c.month, func.count()).group_by(answers.c.month))
    tallied = await session.execute(
        select(StatsTally.month, func.sum(StatsTally.checkins_niet_goed))
        .where(StatsTally.month.in_(months))
        .group_by(StatsTally.month)
    )
    for label, n in [*live, *tallied]:
        if label is not None:
            found[months.index(label)] += int(n or 0)
    return found


def _minutes(store: Store, later: Any, earlier: Any) -> Any:
    if store.dialect == "postgresql":
        return func.extract("epoch", later - earlier) / 60.0
    return (func.julianday(later) - func.julianday(earlier)) * 1440.0


def _per_case(store: Store, weeks: Sequence[tuple[str, datetime, datetime]]) -> Any:
    """One row per case escalated in these weeks: its week, minutes to reaction and to contact."""
    event = CaseEvent
    counted = ("escalated", "reescalated", *TEAM_REACTION)
    grouped = (
        select(
            func.min(case((event.kind == "escalated", event.at))).label("escalated"),
            func.min(case((event.kind.in_(TEAM_REACTION), event.at))).label("reacted"),
            func.min(case((event.kind.in_(CONTACT), event.at))).label("contacted"),
            func.sum(case((event.kind == "reescalated", 1), else_=0)).label("reescalations"),
        )
        .where(event.at >= weeks[0][1], event.kind.in_(counted))
        .group_by(event.case_id)
        .subquery()
    )
    escalated = grouped.c.escalated

    def after(moment: Any) -> Any:  # an earlier reaction belongs to an earlier escalation
        return case((moment >= escalated, _minutes(store, moment, escalated)))

    return (
        select(
            _bucket(escalated, weeks).label("week"),
            after(grouped.c.reacted).label("reaction"),
            after(grouped.c.contacted).label("contact"),
            grouped.c.reescalations,
        )
        .where(escalated >= weeks[0][1], escalated < weeks[-1][2])
        .subquery()
    )


def _nearest_rank(ranked: Any, name: str, percent: int) -> Any:
    """The value at rank ceil(percent/100 * n) of a week's non-empty values."""
    position = (percent * ranked.c[f"{name}_n"] + 99) // 100  # SQL integer division
    return func.max(case((ranked.c[f"{name}_rank"] == position, ranked.c[name])))


async def service_level(
    session: AsyncSession,
    store: Store,
    weeks: Sequence[tuple[str, datetime, datetime]],
    promise: int,
) -> list[dict[str, Any]]:
    """Per week: escalations, reactions and contacts (p50/p90 minutes), within the promise."""
    per_case = _per_case(store, weeks)
    windows = []
    for name in ("reaction", "contact"):
        value = per_case.c[name]
        windows += [
            func.row_number()
            .over(partition_by=per_case.c.week, order_by=[value.is_(None), value])
            .label(f"{name}_rank"),
            func.count(value).over(partition_by=per_case.c.week).label(f"{name}_n"),
        ]
    ranked = select(*per_case.c, *windows).subquery()
    rows = await session.execute(
        select(
            ranked.c.week,
            func.count(),
            func.count(ranked.c.reaction),
            func.count(ranked.c.contact),
            func.sum(case((ranked.c.reaction <= promise, 1), else_=0)),
            func.sum(ranked.c.reescalations),
            _nearest_rank(ranked, "reaction", 50),
            _nearest_rank(ranked, "reaction", 90),
            _nearest_rank(ranked, "contact", 50),
            _nearest_rank(ranked, "contact", 90),
        ).group_by(ranked.c.week)
    )
    by_week = {row[0]: row[1:] for row in rows}
    result = []
    for label, _, _ in weeks:
        found = by_week.get(label, (0, 0, 0, 0, 0, None, None, None, None))
        escalations, reacted, contacted, within, again, r50, r90, c50, c90 = found
        result.append(
            {
                "week": label,
                "escalations": int(escalations),
                "reacted": int(reacted),
                "reaction_p50_min": _round(r50),
                "reaction_p90_min": _round(r90),
                "contacted": int(contacted),
                "contact_p50_min": _round(c50),
                "contact_p90_min": _round(c90),
                "within_promise": round(int(within or 0) / int(escalations), 3)
                if escalations
                else None,
                "reescalations": int(again or 0),
            }
        )
    return result


def _round(minutes: Any) -> float | None:
    return None if minutes is None else round(float(minutes), 1)


async def workload(session: AsyncSession, member: str | None = None) -> dict[str, int]:
    """Cases not closed now; without an owner; owned by this team member (a Slack id)."""
    not_closed = Case.status != "closed"
    counts = [
        func.count(),
        func.sum(case((Case.owner.is_(None), 1), else_=0)),
    ]
    if member is not None:
        counts.append(func.sum(case((Case.owner.like(f"%({member})"), 1), else_=0)))
    row = (await session.execute(select(*counts).where(not_closed))).one()
    result = {"open": int(row[0] or 0), "unowned": int(row[1] or 0)}
    if member is not None:
        result["mine"] = int(row[2] or 0)
    return result


# --- the report ------------------------------------------------------------------------------


def _shown(count: int, hidden: bool) -> int | str:
    return HIDDEN if hidden else count


def _share(part: int | str, whole: int | str) -> float | str:
    """A share of shown counts; hidden when either is."""
    if isinstance(part, str) or isinstance(whole, str) or not whole:
        return HIDDEN
    return round(part / whole, 3)


@dataclass
class Report:
    """The figures of a period, with what is hidden already applied; ready to print."""

    period: Period
    promise_minutes: int
    totals: list[int | str]
    grand_total: int | str
    tables: dict[str, dict[str, Any]]
    shares: dict[str, list[float | str]]
    period_shares: dict[str, float | str]
    niet_goed: list[int | str]
    service: list[dict[str, Any]]
    now: dict[str, int]

    def as_json(self) -> dict[str, Any]:
        return {
            "period": {"from": self.period.months[0], "to": self.period.months[-1]},
            "hidden_below": THRESHOLD,
            "months": self.period.months,
            "totals": dict(zip(self.period.months, self.totals, strict=True)),
            "total": self.grand_total,
            "tables": self.tables,
            "shares": {
                name: dict(zip(self.period.months, values, strict=True))
                for name, values in self.shares.items()
            },
            "period_shares": self.period_shares,
            "checkins_niet_goed": dict(zip(self.period.months, self.niet_goed, strict=True)),
            "service": {
                "promise_minutes": self.promise_minutes,
                "weeks": self.service,
                **self.now,
            },
        }

    def csv_columns(self) -> list[tuple[str, str, str]]:
        """(export name, table, column) of every counted column, in order."""
        found = []
        for dimension in DIMENSIONS:
            for column in self.tables[dimension.name]["columns"]:
                found.append((dimension.export(column), dimension.name, column))
        return found

    def as_csv(self) -> str:
        """One row per month and a total row; columns named for the Monitor's categories."""
        columns = self.csv_columns()
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(
            [
                "maand",
                "totaal",
                *(name for name, _, _ in columns),
                *(f"aandeel_{s}" for s, _, _ in SHARES),
            ]
        )
        for i, month in enumerate(self.period.months):
            writer.writerow(
                [
                    month,
                    self.totals[i],
                    *(self.tables[t]["rows"][month][c] for _, t, c in columns),
                    *(self.shares[s][i] for s, _, _ in SHARES),
                ]
            )
        writer.writerow(
            [
                "totaal",
                self.grand_total,
                *(self.tables[t]["column_totals"][c] for _, t, c in columns),
                *(self.period_shares[s] for s, _, _ in SHARES),
            ]
        )
        return out.getvalue()

    def as_text(self) -> str:
        """For a terminal: each table with months down and values across."""
        lines = [
            text(None, "stats_title", first=self.period.months[0], last=self.period.months[-1]),
            text(None, "stats_hidden", threshold=THRESHOLD),
        ]
        for name, table in self.tables.items():
            lines += ["", f"[{name}]"]
            header = ["maand", "totaal", *table["columns"]]
            body = [
                [
                    month,
                    str(self.totals[i]),
                    *(str(table["rows"][month][c]) for c in table["columns"]),
                ]
                for i, month in enumerate(self.period.months)
            ]
            body.append(
                [
                    "totaal",
                    str(self.grand_total),
                    *(str(table["column_totals"][c]) for c in table["columns"]),
                ]
            )
            widths = [max(len(r[k]) for r in [header, *body]) for k in range(len(header))]
            for row in [header, *body]:
                lines.append("  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)))
        lines += ["", text(None, "stats_service_title", promise=self.promise_minutes)]
        lines += [service_line(week) for week in self.service]
        lines.append(text(None, "stats_now", **self.now))
        shown = ", ".join(
            f"{m}: {n}" for m, n in zip(self.period.months, self.niet_goed, strict=True)
        )
        lines.append(text(None, "stats_niet_goed", months=shown))
        return "\n".join(lines)


def _minutes_text(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"


def service_line(week: dict[str, Any]) -> str:
    """One week of the service level as a Dutch line."""
    share = week["within_promise"]
    return text(
        None,
        "stats_service_week",
        week=week["week"],
        escalations=week["escalations"],
        reaction_p50=_minutes_text(week["reaction_p50_min"]),
        reaction_p90=_minutes_text(week["reaction_p90_min"]),
        contact_p50=_minutes_text(week["contact_p50_min"]),
        contact_p90=_minutes_text(week["contact_p90_min"]),
        within="–" if share is None else f"{round(share * 100)}%",
        reescalations=week["reescalations"],
    )


def _publish(
    tables: list[Table], months: list[str]
) -> tuple[Suppressed, dict[str, dict[str, Any]]]:
    hidden = suppress([t.counts for t in tables])
    published: dict[str, dict[str, Any]] = {}
    for t, table in enumerate(tables):
        published[table.name] = {
            "columns": table.columns,
            "rows": {
                month: {
                    column: _shown(table.counts[i][j], (t, i, j) in hidden.cells)
                    for j, column in enumerate(table.columns)
                }
                for i, month in enumerate(months)
            },
            "column_totals": {
                column: _shown(sum(row[j] for row in table.counts), (t, j) in hidden.columns)
                for j, column in enumerate(table.columns)
            },
        }
    return hidden, published


async def report(store: Store, period: Period, promise_minutes: int) -> Report:
    """Every figure of the period, counted in one transaction."""
    async with store.session() as session:
        if store.dialect == "postgresql":
            # Enough memory to group in a hash table instead of sorting 100,000s of rows on disk.
            await session.execute(text_sql("SET LOCAL work_mem = '64MB'"))
        tables = await count_tables(session, period)
        niet_goed = await _niet_goed(session, period)
        service = await service_level(session, store, period.week_bounds(), promise_minutes)
        now = await workload(session)
    months = period.months
    hidden, published = _publish(tables, months)
    totals = [sum(row) for row in tables[0].counts]
    shown_totals = [_shown(n, i in hidden.rows) for i, n in enumerate(totals)]
    grand_total = _shown(sum(totals), hidden.grand)
    shares = {
        name: [
            _share(published[table]["rows"][month][column], shown_totals[i])
            for i, month in enumerate(months)
        ]
        for name, table, column in SHARES
    }
    period_shares = {
        name: _share(published[table]["column_totals"][column], grand_total)
        for name, table, column in SHARES
    }
    return Report(
        period=period,
        promise_minutes=promise_minutes,
        totals=shown_totals,
        grand_total=grand_total,
        tables=published,
        shares=shares,
        period_shares=period_shares,
        niet_goed=[_shown(n, n < THRESHOLD) for n in niet_goed],
        service=service,
        now=now,
    )
