"""The monthly counts by category as a PNG bar chart (matplotlib, Agg: no display needed)."""

from __future__ import annotations

import io
from typing import cast

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from bot.features.insights.stats import Report
from flows import catalog, text

WIDTH, HEIGHT, DPI = 1000, 560, 100  # pixels of the PNG
HIDDEN_COLOUR = "#bdbdbd"


def _labels() -> dict[str, str]:
    found = catalog()
    labels = {c.value: c.label for c in found.choices["incident_type"]}
    return {**labels, "hulpvraag": "Hulpvraag", "onbekend": "Onbekend"}


def category_chart(report: Report) -> bytes:
    """Stacked bars per month: each shown category, and the hidden ones together in grey.

    A month whose total is hidden gets no bar at all; the grey part is the month total minus the
    shown cells, which anyone could work out from the published figures already.
    """
    table = report.tables["categorie"]
    months = report.period.months
    labels = _labels()
    figure = Figure(figsize=(WIDTH / DPI, HEIGHT / DPI), dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    bottoms = [0] * len(months)
    for column in table["columns"]:
        heights = [v if isinstance(v := table["rows"][m][column], int) else 0 for m in months]
        if any(heights):
            axes.bar(months, heights, bottom=bottoms, label=labels.get(column, column))
            bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
    rest = [t - b if isinstance(t, int) else 0 for t, b in zip(report.totals, bottoms, strict=True)]
    if any(rest):
        axes.bar(
            months,
            rest,
            bottom=bottoms,
            color=HIDDEN_COLOUR,
            hatch="//",
            label=text(None, "stats_chart_hidden"),
        )
    axes.set_title(text(None, "stats_chart_title", first=months[0], last=months[-1]))
    axes.tick_params(axis="x", labelrotation=60, labelsize=8)
    cast(MaxNLocator, axes.yaxis.get_major_locator()).set_params(integer=True)
    if axes.get_legend_handles_labels()[0]:  # no bars, no legend
        axes.legend(fontsize=8, loc="upper left", frameon=False)
    figure.subplots_adjust(left=0.07, right=0.98, top=0.92, bottom=0.16)
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI)
    return out.getvalue()
