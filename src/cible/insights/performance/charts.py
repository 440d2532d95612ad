"""A cross-tab as the JSON of an ECharts heatmap (no database access).

    {"kind": "heatmap", "name": "Win rate", "measure": "win_rate", "unit": "percent",
     "suffix": " %", "x_name": axis B, "y_name": axis A,
     "x_labels": [axis B's segments], "y_labels": [axis A's segments],
     "data": [[x, y, value], …],            # ECharts' heatmap series data; "-" when undefined
     "keys": [[segment A id, segment B id], …],   # per data point, for a click (None:
                                            #   unsegmented) → crosstab_accounts
     "closed": [closed deals, …],           # per data point, for the tooltip
     "min": …, "max": …,                    # of the defined values, for the visualMap
     "flags": [{"x", "y", "kind": "under" | "over", "sentence"}, …]}

Percentages are 0–100 with one decimal; money is a number of the deals' currency units.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from cible.insights.performance.measures import Measures, Unit
from cible.insights.performance.selectors import CrossTab

EMPTY = "-"  # ECharts' mark of a missing value


def chart_value(measures: Measures, code: str, unit: Unit) -> int | float | None:
    value = measures.value(code)
    if value is None:
        return None
    if unit == Unit.PERCENT:
        return round(float(value) * 100, 1)
    if isinstance(value, Decimal):
        return float(value.quantize(Decimal("0.01")))
    return value


def heatmap_chart(tab: CrossTab) -> dict[str, Any]:
    spec = tab.measure
    data: list[list[Any]] = []
    keys: list[list[int | None]] = []
    closed: list[int] = []
    flags: list[dict[str, Any]] = []
    defined: list[float] = []
    for y, cells in enumerate(tab.cells):
        for x, cell in enumerate(cells):
            value = chart_value(cell.measures, spec.code, spec.unit)
            data.append([x, y, EMPTY if value is None else value])
            keys.append([cell.row.id, cell.column.id])
            closed.append(cell.measures.closed)
            if value is not None:
                defined.append(value)
            if cell.flag is not None:
                flags.append(
                    {"x": x, "y": y, "kind": cell.flag.kind.value, "sentence": cell.flag.sentence}
                )
    return {
        "kind": "heatmap",
        "name": str(spec.label),
        "measure": spec.code,
        "unit": spec.unit.value,
        "suffix": " %" if spec.unit == Unit.PERCENT else "",
        "x_name": tab.axis_b.display_name,
        "y_name": tab.axis_a.display_name,
        "x_labels": [str(c.name) for c in tab.columns],
        "y_labels": [str(r.name) for r in tab.rows],
        "data": data,
        "keys": keys,
        "closed": closed,
        "min": min(defined, default=0),
        "max": max(defined, default=0),
        "flags": flags,
    }
