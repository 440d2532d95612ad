"""The dashboard's charts as the JSON that `static/cible/charts.js` draws (no database access)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from cible.quality.freshness import rules
from cible.quality.freshness.selectors import Dashboard, EntityFigures, TrendPoint


def _percent(part: int, whole: int) -> float | None:
    share = rules.share(part, whole)
    return None if share is None else round(share * 100, 1)


def completeness_chart(figures: EntityFigures) -> dict[str, Any]:
    return {
        "kind": "bars",
        "name": str(_("Filled")),
        "labels": [f.label for f in figures.fields],
        "values": [f.percent if f.percent is not None else 0 for f in figures.fields],
        "suffix": " %",
        "max": 100,
    }


def reasons_chart(figures: EntityFigures) -> dict[str, Any]:
    url = reverse("freshness:stale", args=[figures.entity])
    return {
        "kind": "bars",
        "name": str(_("Stale records")),
        "labels": [r.label for r in figures.reasons],
        "values": [r.count for r in figures.reasons],
        "links": [f"{url}?reason={r.code}" for r in figures.reasons],
    }


def trend_charts(points: list[TrendPoint]) -> dict[str, Any]:
    labels = [str(_("now")) if p.live else date_format(p.day, "SHORT_DATE_FORMAT") for p in points]

    def series(name: str, values: list[Any]) -> dict[str, Any]:
        return {"name": name, "values": values}

    def shares(entity: str, key: str, complement: bool = False) -> list[float | None]:
        result = []
        for p in points:
            counts = p.counts.get(entity, {})
            total, part = counts.get(rules.TOTAL, 0), counts.get(key, 0)
            result.append(_percent(total - part if complement else part, total))
        return result

    org, contact = rules.ORGANISATION, rules.CONTACT
    return {
        "shares": {
            "kind": "lines",
            "labels": labels,
            "suffix": " %",
            "series": [
                series(_("Complete organisations"), shares(org, rules.INCOMPLETE, True)),
                series(_("Complete contacts"), shares(contact, rules.INCOMPLETE, True)),
                series(_("Stale organisations"), shares(org, rules.STALE)),
                series(_("Stale contacts"), shares(contact, rules.STALE)),
            ],
        },
        "counts": {
            "kind": "lines",
            "labels": labels,
            "series": [
                series(
                    _("Stale organisations"), [p.counts[org].get(rules.STALE, 0) for p in points]
                ),
                series(
                    _("Stale contacts"), [p.counts[contact].get(rules.STALE, 0) for p in points]
                ),
                series(
                    _("Open duplicate pairs"),
                    [p.duplicates.get(org, 0) + p.duplicates.get(contact, 0) for p in points],
                ),
            ],
        },
    }


def dashboard_charts(board: Dashboard, points: list[TrendPoint]) -> dict[str, Any]:
    charts: dict[str, Any] = {}
    for figures in board.entities:
        charts[f"completeness_{figures.entity}"] = completeness_chart(figures)
        charts[f"reasons_{figures.entity}"] = reasons_chart(figures)
    trends = trend_charts(points)
    charts["trend_shares"] = trends["shares"]
    charts["trend_counts"] = trends["counts"]
    return charts
