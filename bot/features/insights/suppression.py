"""Complementary cell suppression: small counts hidden so that no total gives them back.

A report is a set of tables over the same rows (months): each table splits every row's cases over
its own columns, with row totals (shared by all tables), column totals and one grand total. A
count under THRESHOLD is hidden (primary suppression). Then more counts are hidden (secondary
suppression) until no hidden count can be worked out from the shown ones: the additive relations
(cells of a row add up to its total, cells of a column to its total, column totals and row totals
to the grand total) are solved together as a linear system over all tables, and a hidden count is
safe only when that system leaves it free. Secondary suppressions take the smallest shown count
of a row or column the exposed count is in; row totals and the grand total are hidden only when
they are small themselves or (row totals) when a single small one could be taken from the grand
total, so every table shows the same ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

THRESHOLD = 5

Matrix = Sequence[Sequence[int]]
# An entry of the report: ("cell", table, row, column), ("column", table, column),
# ("row", row) for a row total, ("grand",) for the grand total.
Entry = tuple


@dataclass
class Suppressed:
    """What to hide: entries as above, each kept as a set for quick look-up."""

    cells: set[tuple[int, int, int]] = field(default_factory=set)
    columns: set[tuple[int, int]] = field(default_factory=set)
    rows: set[int] = field(default_factory=set)
    grand: bool = False

    def hides(self, entry: Entry) -> bool:
        kind = entry[0]
        if kind == "cell":
            return entry[1:] in self.cells
        if kind == "column":
            return entry[1:] in self.columns
        if kind == "row":
            return entry[1] in self.rows
        return self.grand

    def hide(self, entry: Entry) -> None:
        kind = entry[0]
        if kind == "cell":
            self.cells.add(entry[1:])
        elif kind == "column":
            self.columns.add(entry[1:])
        elif kind == "row":
            self.rows.add(entry[1])
        else:
            self.grand = True


def relations(tables: Sequence[Matrix]) -> list[tuple[list[Entry], Entry]]:
    """Every additive relation of the report: (the entries that add up, their total)."""
    if not tables:
        return []
    rows = len(tables[0])
    found: list[tuple[list[Entry], Entry]] = [([("row", i) for i in range(rows)], ("grand",))]
    for t, table in enumerate(tables):
        columns = len(table[0]) if rows else 0
        for i in range(rows):
            found.append(([("cell", t, i, j) for j in range(columns)], ("row", i)))
        for j in range(columns):
            found.append(([("cell", t, i, j) for i in range(rows)], ("column", t, j)))
        found.append(([("column", t, j) for j in range(columns)], ("grand",)))
    return found


def value(tables: Sequence[Matrix], entry: Entry) -> int:
    """The true count of an entry."""
    kind = entry[0]
    if kind == "cell":
        return int(tables[entry[1]][entry[2]][entry[3]])
    if kind == "column":
        return sum(int(row[entry[2]]) for row in tables[entry[1]])
    if kind == "row":
        return sum(int(c) for c in tables[0][entry[1]])
    return sum(int(c) for row in tables[0] for c in row)


def exposed(tables: Sequence[Matrix], hidden: Suppressed) -> list[Entry]:
    """Hidden entries whose value the shown entries and the relations pin down."""
    unknowns: dict[Entry, int] = {}
    equations = relations(tables)
    for parts, total in equations:
        for entry in (*parts, total):
            if hidden.hides(entry) and entry not in unknowns:
                unknowns[entry] = len(unknowns)
    if not unknowns:
        return []
    system = np.zeros((len(equations), len(unknowns)))
    for r, (parts, total) in enumerate(equations):
        for entry in parts:
            if entry in unknowns:
                system[r, unknowns[entry]] += 1.0
        if total in unknowns:
            system[r, unknowns[total]] -= 1.0
    # An unknown is pinned down exactly when every solution of the homogeneous system leaves it
    # at zero: its row in a basis of the null space is zero.
    _, singular, vt = np.linalg.svd(system)
    rank = int((singular > 1e-9).sum())
    null = vt[rank:].T
    free = np.abs(null).max(axis=1) > 1e-9 if null.size else np.zeros(len(unknowns), bool)
    return [entry for entry, k in unknowns.items() if not free[k]]


def _companion(
    tables: Sequence[Matrix], hidden: Suppressed, entry: Entry, anywhere: bool = False
) -> Entry | None:
    """The smallest shown count that, hidden too, shares a relation with the exposed entry."""
    candidates: list[Entry] = []
    for parts, total in relations(tables):
        members = (*parts, total)
        if anywhere or entry in members:
            candidates.extend(e for e in members if e[0] in ("cell", "column"))
    shown = [e for e in dict.fromkeys(candidates) if not hidden.hides(e)]
    if not shown:
        return None
    return min(shown, key=lambda e: (value(tables, e), e[0] != "cell", e))


def suppress(tables: Sequence[Matrix], threshold: int = THRESHOLD) -> Suppressed:
    """Decide what to hide in tables that share their rows (each row adds up the same in all)."""
    hidden = Suppressed()
    if not tables or not tables[0]:
        return hidden
    rows = len(tables[0])
    for t, table in enumerate(tables):
        for i, row in enumerate(table):
            for j, count in enumerate(row):
                if count < threshold:
                    hidden.hide(("cell", t, i, j))
        for j in range(len(table[0])):
            if value(tables, ("column", t, j)) < threshold:
                hidden.hide(("column", t, j))
    small = [i for i in range(rows) if value(tables, ("row", i)) < threshold]
    hidden.rows.update(small)
    if value(tables, ("grand",)) < threshold:
        hidden.grand = True
    elif len(small) == 1 and rows > 1:
        # One hidden month total would be the grand total minus the others: hide a second one.
        others = [i for i in range(rows) if i not in hidden.rows]
        hidden.rows.add(min(others, key=lambda i: (value(tables, ("row", i)), i)))
    while True:
        # Cheap first: a relation with exactly one hidden entry gives it away.
        single = next(
            (
                next(e for e in (*parts, total) if hidden.hides(e))
                for parts, total in relations(tables)
                if sum(hidden.hides(e) for e in (*parts, total)) == 1
            ),
            None,
        )
        given_away = [single] if single is not None else exposed(tables, hidden)
        if not given_away:
            return hidden
        companion = _companion(tables, hidden, given_away[0]) or _companion(
            tables, hidden, given_away[0], anywhere=True
        )
        if companion is None:  # everything that may be hidden is hidden
            return hidden
        hidden.hide(companion)
