"""A target's CSV export: the records the viewer may see, formula-safe, logged as an export."""

from __future__ import annotations

import csv
import io
from typing import Any

from auditlog.models import LogEntry

from cible.segments.targets import selectors
from cible.segments.targets.services import target_create
from tests.segments.targets.world import SALES_DIRECTORS, Base, fresh, seed_002_definition


def read(response: Any) -> list[dict[str, str]]:
    text = b"".join(response.streaming_content).decode("utf-8").removeprefix("\ufeff")
    return list(csv.DictReader(io.StringIO(text)))


def test_organisation_export_lists_the_members_and_is_logged(cast: Any, base: Base) -> None:
    target = target_create(
        actor=cast.ae,
        channel="ui",
        data={"name": "Seed 002", "definition": seed_002_definition(), "shared": True},
    )
    response = selectors.target_export(viewer=cast.marketer, target=target, channel="api")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert f'filename="target-{target.pk}-' in response["Content-Disposition"]
    rows = read(response)
    assert [
        (r["Name"], r["City"], r["Installed products"], r["Sales team size"]) for r in rows
    ] == [
        ("Nordis", "Lille", "Salesforce", "15"),
        ("Parisia", "Paris", "Salesforce", "25"),
    ]
    entry = LogEntry.objects.get(action=LogEntry.Action.ACCESS)
    assert entry.actor == cast.marketer and entry.additional_data["channel"] == "api"
    assert entry.additional_data["export"]["rows"] == 2
    assert "Seed 002" in entry.additional_data["export"]["query"]
    assert "Installed CRM: Salesforce" in entry.additional_data["export"]["query"]


def test_contact_export_holds_only_what_the_viewer_sees(
    cast: Any, base: Base, team_private: Any
) -> None:
    target = target_create(
        actor=cast.ae,
        channel="ui",
        data={
            "name": "Sales directors",
            "level": "contact",
            "definition": {**seed_002_definition(), "contact": SALES_DIRECTORS},
        },
    )
    base.nora.__class__.objects.filter(pk=base.nora.pk).update(buying_role="decision_maker")
    rows = read(selectors.target_export(viewer=fresh(cast.ae), target=target))
    assert [(r["Last name"], r["Organisation"], r["Function"], r["Buying role"]) for r in rows] == [
        ("Nora", "Nordis", "Sales", "Decision maker")
    ]
    assert (
        LogEntry.objects.get(action=LogEntry.Action.ACCESS).additional_data["export"]["rows"] == 1
    )


def test_cells_that_look_like_formulas_are_defused(cast: Any, base: Base) -> None:
    base.nordis.__class__.objects.filter(pk=base.nordis.pk).update(city="=HYPERLINK(1)")
    target = target_create(
        actor=cast.ae,
        channel="ui",
        data={"name": "Seed 002", "definition": seed_002_definition()},
    )
    rows = read(selectors.target_export(viewer=cast.ae, target=target))
    assert rows[0]["City"] == "'=HYPERLINK(1)"
