"""Complementary suppression on random reports: nothing small shows, nothing hidden comes back."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.features.insights.suppression import THRESHOLD, Suppressed, relations, suppress, value


def derivable(tables: list[list[list[int]]], hidden: Suppressed) -> list[tuple]:
    """Hidden entries that the relations fix once the shown entries are filled in.

    Exact reduced row echelon form over the fractions (independent of the module's floating-point
    null space): an unknown is fixed when its pivot row has no free unknown in it.
    """
    equations = relations(tables)
    unknowns = list(
        dict.fromkeys(e for parts, total in equations for e in (*parts, total) if hidden.hides(e))
    )
    rows = [
        [Fraction(parts.count(u)) - Fraction(total == u) for u in unknowns]
        for parts, total in equations
    ]
    pivots: list[int] = []
    for c in range(len(unknowns)):
        r0 = len(pivots)
        pivot = next((r for r in range(r0, len(rows)) if rows[r][c] != 0), None)
        if pivot is None:
            continue
        rows[r0], rows[pivot] = rows[pivot], rows[r0]
        rows[r0] = [a / rows[r0][c] for a in rows[r0]]
        for r in range(len(rows)):
            if r != r0 and rows[r][c] != 0:
                factor = rows[r][c]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[r0], strict=True)]
        pivots.append(c)
    free = set(range(len(unknowns))) - set(pivots)
    return [unknowns[c] for r, c in enumerate(pivots) if all(rows[r][f] == 0 for f in free)]


@st.composite
def reports(draw: st.DrawFn) -> list[list[list[int]]]:
    """One to three tables over the same months, built from cases as the stats are."""
    months = draw(st.integers(1, 6))
    widths = draw(st.lists(st.integers(2, 5), min_size=1, max_size=3))
    cases = draw(
        st.lists(
            st.tuples(st.integers(0, months - 1), *(st.integers(0, w - 1) for w in widths)),
            max_size=120,
        )
    )
    # Clumps make large counts next to small ones, as in real months.
    cases = cases + cases[: draw(st.integers(0, len(cases)))] * draw(st.integers(0, 3))
    tables = [[[0] * w for _ in range(months)] for w in widths]
    for case in cases:
        for t, column in enumerate(case[1:]):
            tables[t][case[0]][column] += 1
    return tables


@settings(max_examples=150, deadline=None)
@given(reports())
def test_nothing_small_shows_and_nothing_hidden_can_be_derived(
    tables: list[list[list[int]]],
) -> None:
    hidden = suppress(tables)
    equations = relations(tables)
    entries = dict.fromkeys(e for parts, total in equations for e in (*parts, total))
    for entry in entries:
        if not hidden.hides(entry):
            assert value(tables, entry) >= THRESHOLD, entry
    for parts, total in equations:
        assert sum(hidden.hides(e) for e in (*parts, total)) != 1, (parts, total)
    assert derivable(tables, hidden) == []


def test_a_lone_small_cell_gets_a_companion_in_its_row_and_column() -> None:
    tables = [[[20, 3, 30], [25, 40, 50], [30, 35, 60]]]
    hidden = suppress(tables)
    assert (0, 0, 1) in hidden.cells
    assert len({c for c in hidden.cells if c[1] == 0}) >= 2  # a second one in the first month
    assert len({c for c in hidden.cells if c[2] == 1}) >= 2  # and in the second column
    assert hidden.rows == set() and not hidden.grand


def test_big_counts_are_all_shown() -> None:
    hidden = suppress([[[10, 12], [15, 9]]])
    assert (hidden.cells, hidden.columns, hidden.rows, hidden.grand) == (set(), set(), set(), False)


def test_a_single_small_month_hides_a_second_month_total() -> None:
    hidden = suppress([[[1, 2], [15, 9], [30, 40]]])
    assert hidden.rows == {0, 1}  # else the first month is the grand total minus the others
    assert {(0, 0, 0), (0, 0, 1)} <= hidden.cells
