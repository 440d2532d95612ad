"""Compliance figures (page and API), the lead page's card, the editors and the API's answers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from cible.lifecycle.leads.models import Lead
from cible.routing.sla.models import ClockStatus, Handoff, SlaClock, SlaPolicy
from tests.api.conftest import assert_error_shape
from tests.routing.sla.conftest import new_lead

MIN = dt.timedelta(minutes=1)


def clock(
    policy: SlaPolicy,
    lead: Any,
    owner: Any,
    team: Any,
    started: dt.datetime,
    touched_after: int | None,
    status: str,
) -> SlaClock:
    return SlaClock.objects.create(
        policy=policy,
        lead=lead,
        owner=owner,
        team=team,
        started_at=started,
        due_at=started + 60 * MIN,
        status=status,
        met_at=started + touched_after * MIN if touched_after is not None else None,
    )


def history(cast: Any, policies: Any) -> dict[str, Any]:
    """Sophie (AE Paris): touched after 30 and 20 minutes, and once after 90 (breached) —
    leads that arrived 2 hours before assignment; Olivier (AE Lyon): once after 10 minutes."""
    first = policies[Handoff.FIRST_TOUCH]
    monday = timezone.now() - dt.timedelta(days=7)
    made = {}
    for name, owner, team, after, status in (
        ("A", cast.sdr, cast.paris, 30, ClockStatus.MET),
        ("B", cast.sdr, cast.paris, 20, ClockStatus.MET),
        ("C", cast.sdr, cast.paris, 90, ClockStatus.BREACHED),
        ("D", cast.outsider, cast.lyon, 10, ClockStatus.MET),
    ):
        lead = new_lead(cast, name, owner=owner)
        Lead.objects.filter(pk=lead.pk).update(arrived_at=monday - dt.timedelta(hours=2))
        made[name] = clock(first, lead, owner, team, monday, after, status)
    # An acceptance still running counts as started, neither met nor breached.
    clock(
        policies[Handoff.MQL_ACCEPTANCE], made["A"].lead, cast.sdr, cast.paris, monday, None, "open"
    )
    return made


def test_compliance_figures_by_team_and_person(cast: Any, policies: Any, client_for: Any) -> None:
    history(cast, policies)
    text = client_for(cast.admin).get("/sla/compliance/").content.decode()
    assert '<div class="fs-4" id="total-started">5</div>' in text
    assert '<div class="fs-4" id="total-compliance">75.0 %</div>' in text
    # Response times 10, 20, 30, 90 min: median 20 min (nearest rank), p90 90 min = 1 h 30.
    assert "median 20 min · p90 1 h 30" in text
    # Speed to lead adds the 2 hours between arrival and assignment.
    assert "median 2 h 20 · p90 3 h 30" in text
    cells = '<td class="text-end">{}</td>' * 4
    paris = cells.format(4, 2, 1, 1)
    assert f'<td>AE Paris</td>{paris}<td class="text-end compliance">66.7 %</td>' in text
    olivier = cells.format(1, 1, 0, 0)
    assert f'<td>Olivier Roux</td>{olivier}<td class="text-end compliance">100.0 %</td>' in text


def test_compliance_counts_only_what_one_may_see(
    cast: Any, policies: Any, api_for: Any, team_private: Any
) -> None:
    history(cast, policies)
    olivier = api_for(cast.outsider).get("/sla/compliance").json()
    assert (olivier["total"]["started"], olivier["total"]["compliance"]) == (1, 100.0)
    assert [row["label"] for row in olivier["by_user"]] == ["Olivier Roux"]
    sophie = api_for(cast.sdr).get("/sla/compliance", handoff="first_touch").json()
    assert (sophie["total"]["met"], sophie["total"]["breached"]) == (2, 1)
    assert sophie["response_median_seconds"] == 30 * 60
    assert sum(week["started"] for week in sophie["by_week"]) == 3
    bad = api_for(cast.sdr).get("/sla/compliance", start="yesterday", handoff="coffee")
    assert {e["field"] for e in assert_error_shape(bad, 422)["errors"]} == {"start", "handoff"}


def test_the_lead_page_shows_its_clocks_and_escalation(
    cast: Any, policies: Any, client_for: Any
) -> None:
    made = history(cast, policies)
    SlaClock.objects.filter(pk=made["C"].pk).update(
        escalated_at=timezone.now(), reassigned_at=timezone.now(), reassigned_to=cast.ae2
    )
    text = client_for(cast.manager).get(f"/leads/{made['C'].lead_id}/").content.decode()
    assert 'id="lead-section-sla"' in text
    assert "Breached" in text and "Manager notified" in text
    assert "Reassigned to Basile Durand" in text


def test_policy_and_calendar_editors(
    cast: Any, policies: Any, client_for: Any, api_for: Any, office: Any
) -> None:
    sam = client_for(cast.manager)
    response = sam.post(
        "/sla/policies/new/",
        {
            "name": "Lyon first touch",
            "handoff": "first_touch",
            "target_minutes": "30",
            "business_hours": "on",
            "team": cast.lyon.pk,
            "notify_manager": "on",
            "active": "on",
        },
    )
    assert response.status_code == 422
    assert "business hours need a calendar" in response.content.decode()
    response = sam.post(
        "/sla/policies/new/",
        {
            "name": "Lyon first touch",
            "handoff": "first_touch",
            "target_minutes": "30",
            "business_hours": "on",
            "calendar": office.pk,
            "team": cast.lyon.pk,
            "active": "on",
        },
    )
    assert response.status_code == 302
    lyon = SlaPolicy.objects.get(name="Lyon first touch")
    assert lyon.team == cast.lyon
    listing = sam.get("/sla/").content.decode()
    assert f'<a href="/sla/policies/{lyon.pk}/">Lyon first touch</a>' in listing
    assert "30 minutes" in listing and "business hours, France — Paris office" in listing
    edit = sam.get(f"/sla/policies/{lyon.pk}/").content.decode()
    assert 'value="Lyon first touch"' in edit
    # A second active general first-touch policy would be ambiguous.
    api = api_for(cast.admin)
    clash = api.post(
        "/sla/policies",
        {"name": "Other", "handoff": "first_touch", "target_minutes": 60, "business_hours": False},
    )
    assert [e["field"] for e in assert_error_shape(clash, 422)["errors"]] == ["active"]
    bad = api.post("/sla/calendars", {"name": "Night shift", "opening_hours": "22:00-06:00"})
    assert assert_error_shape(bad, 422)["errors"] == [
        {"field": "opening_hours", "message": "Opening range 22:00-06:00 ends before it starts."}
    ]
    made = api.post("/sla/calendars", {"name": "Metz office", "holidays_subdivision": "57"})
    assert made.status_code == 201 and made.json()["holidays_subdivision"] == "57"
    assert client_for(cast.sdr).post("/sla/calendars/new/", {"name": "Mine"}).status_code == 302
    assert not SlaPolicy.objects.filter(name="Mine").exists()
    assert api_for(cast.sdr).post("/sla/sweep", {}).status_code == 403


def test_clock_api_filters_and_the_sweep_endpoint(cast: Any, policies: Any, api_for: Any) -> None:
    made = history(cast, policies)
    SlaClock.objects.filter(pk=made["D"].pk).update(
        status="open", met_at=None, due_at=timezone.now() - MIN
    )
    api = api_for(cast.admin)
    page = api.get("/sla/clocks", status="open", handoff="first_touch").json()
    assert [c["lead"] for c in page["items"]] == [made["D"].lead_id]
    # D and A's overdue acceptance breach; Sam (Paris) hears of A and of C, breached but never
    # told; Lyon has no manager to tell about D.
    assert api.post("/sla/sweep", {}).json() == {"breached": 2, "notified": 2, "reassigned": 0}
    assert SlaClock.objects.get(pk=made["D"].pk).status == "breached"
    assert (
        assert_error_shape(api.get("/sla/clocks", status="late"), 422)["errors"][0]["field"]
        == "status"
    )
