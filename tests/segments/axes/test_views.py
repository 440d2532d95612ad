"""The axes and segments pages: what a person sees and what the forms refuse."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from auditlog.models import LogEntry

from cible.segments.axes.models import Axis, Membership, RebuildRun, Segment
from tests import factories
from tests.segments.axes.conftest import segment

pytestmark = pytest.mark.django_db

PME_IN_LILLE = {
    "match": "all",
    "conditions": [
        {"field": "size_class", "op": "in", "value": ["pme"]},
        {"field": "city", "op": "equals", "value": "Lille"},
    ],
}


@pytest.fixture
def lille(cast: Any, products: Any) -> dict[str, Any]:
    """Two PME in Lille (one Alice's, one Olivier's, another team's) and a TPE in Lille."""
    return {
        "nordis": factories.organisation(
            cast.ae, legal_name="Nordis", postal_code="59000", city="Lille", headcount=42
        ),
        "flandres": factories.organisation(
            cast.outsider,
            legal_name="Flandres Logistique",
            postal_code="59000",
            city="Lille",
            headcount=120,
        ),
        "petit": factories.organisation(
            cast.ae, legal_name="Petit Lille", postal_code="59800", city="Lille", headcount=3
        ),
    }


@pytest.fixture(autouse=True)
def english_pages(cast: Any) -> None:
    """Pages follow the user's profile language (French by default); these tests read English."""
    from cible.people.models import UserProfile

    UserProfile.objects.update(language="en")


def _rule_segment_data(name: str, rule: Any) -> dict[str, Any]:
    return {"name": name, "kind": "rule", "rule": json.dumps(rule)}


# --- the axes page --------------------------------------------------------------------------------


def test_axes_page_shows_the_parallel_axes_with_counts_and_rules(
    client_for: Any, cast: Any, lille: Any
) -> None:
    response = client_for(cast.sdr).get("/segments/")
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("Geography", "Size", "Sales-team size", "Installed CRM", "Target sectors"):
        assert name in html
    lille_item = _segment_item(html, "lille")
    assert re.search(r"data-count>3<", lille_item)
    assert "Region is Hauts-de-France and postal code starts with “59”" in lille_item
    assert re.search(r"data-count>2<", _segment_item(html, "pme"))
    assert 'id="axis-new"' not in html  # an SDR reads segmentation, and does not change it
    charts = re.findall(r'id="axis-chart-size-data" type="application/json">(.*?)</script>', html)
    chart = json.loads(charts[0])
    assert chart["labels"][:2] == ["TPE (< 10)", "PME (10–249)"]
    assert chart["values"][:2] == [1, 2]


def _segment_item(html: str, code: str) -> str:
    start = html.index(f'data-segment="{code}"')
    return html[start : html.index("</li>", start)]


def test_counts_cover_only_what_the_viewer_may_see(
    client_for: Any, cast: Any, lille: Any, team_private: Any
) -> None:
    html = client_for(cast.ae).get("/segments/").content.decode()
    assert re.search(r"data-count>2<", _segment_item(html, "lille"))  # Flandres is Lyon team's
    html = client_for(cast.marketer).get("/segments/").content.decode()
    assert re.search(r"data-count>3<", _segment_item(html, "lille"))


def test_counts_are_localised(client_for: Any, cast: Any) -> None:
    from cible.people.models import UserProfile

    Segment.objects.filter(axis__code="size", code="pme").update(member_count=12345)
    UserProfile.objects.filter(user=cast.admin).update(language="fr")
    html = client_for(cast.admin).get("/segments/").content.decode()
    assert re.search(r"data-count>12\s345<", _segment_item(html, "pme"))
    assert "Taille" in html or "Size" in html


# --- axes -----------------------------------------------------------------------------------------


def test_a_marketer_creates_edits_and_deletes_an_axis(client_for: Any, cast: Any) -> None:
    client = client_for(cast.marketer)
    assert client.get("/segments/axes/new/").status_code == 200
    response = client.post(
        "/segments/axes/new/",
        {"name": "GTM model", "description": "How we sell to them", "exclusive": "on"},
    )
    axis = Axis.objects.get(code="gtm-model")
    assert response.status_code == 302
    assert axis.exclusive and axis.description == "How we sell to them"
    response = client.post(f"/segments/axes/{axis.pk}/edit/", {"name": "Go-to-market model"})
    assert response.status_code == 302
    axis.refresh_from_db()
    assert axis.name == "Go-to-market model" and not axis.exclusive and not axis.is_active
    assert axis.code == "gtm-model"  # a blank code keeps the one it has
    assert client.post(f"/segments/axes/{axis.pk}/delete/").status_code == 302
    assert not Axis.objects.filter(pk=axis.pk).exists()


def test_axis_form_errors_are_shown_next_to_their_field(client_for: Any, cast: Any) -> None:
    response = client_for(cast.admin).post(
        "/segments/axes/new/", {"name": "Geo", "code": "geography"}
    )
    assert response.status_code == 422
    assert "another axis already has this code" in response.content.decode()


def test_an_account_executive_may_not_change_segmentation(client_for: Any, cast: Any) -> None:
    client = client_for(cast.outsider)
    size = Axis.objects.get(code="size")
    pme = segment("size", "pme")
    assert client.get("/segments/axes/new/").status_code == 403
    assert client.post("/segments/axes/new/", {"name": "Mine"}).status_code == 403
    assert client.post(f"/segments/axes/{size.pk}/delete/").status_code == 403
    assert client.get(f"/segments/axes/{size.pk}/segments/new/").status_code == 403
    assert (
        client.post(f"/segments/{pme.pk}/edit/", {"name": "x", "kind": "manual"}).status_code == 403
    )
    assert client.post(f"/segments/{pme.pk}/delete/").status_code == 403
    assert client.post("/segments/rebuild/").status_code == 403
    assert Axis.objects.filter(pk=size.pk).exists() and Segment.objects.filter(pk=pme.pk).exists()
    assert not Axis.objects.filter(name="Mine").exists()


def test_pages_need_a_login(client: Any) -> None:
    assert client.get("/segments/").status_code == 302


# --- segments -------------------------------------------------------------------------------------


def test_a_rule_segment_gets_its_members_at_once(client_for: Any, cast: Any, lille: Any) -> None:
    client = client_for(cast.manager)
    client.post("/segments/axes/new/", {"name": "Campaigns", "exclusive": "", "is_active": "on"})
    campaigns = Axis.objects.get(code="campaigns")
    response = client.post(
        f"/segments/axes/{campaigns.pk}/segments/new/",
        _rule_segment_data("PME in Lille", PME_IN_LILLE),
    )
    created = Segment.objects.get(axis=campaigns, code="pme-in-lille")
    assert response.status_code == 302 and response["Location"] == f"/segments/{created.pk}/"
    page = client.get(f"/segments/{created.pk}/").content.decode()
    assert "Size is SME (PME, 10–249) and city is “Lille”" in page
    assert "Nordis" in page and "Flandres Logistique" in page and "Petit Lille" not in page
    assert re.search(r'id="member-count">2<', page)


def test_rule_errors_are_shown_next_to_the_condition_that_has_them(
    client_for: Any, cast: Any
) -> None:
    size = Axis.objects.get(code="size")
    rule = {
        "match": "all",
        "conditions": [
            {"field": "headcount", "op": "gte", "value": "ten"},
            {"field": "colour", "op": "equals", "value": "blue"},
        ],
    }
    response = client_for(cast.admin).post(
        f"/segments/axes/{size.pk}/segments/new/", _rule_segment_data("Odd", rule)
    )
    assert response.status_code == 422
    html = response.content.decode()
    first = re.search(r'rule-error" data-key="0">([^<]*)<', html)
    second = re.search(r'rule-error" data-key="1">([^<]*)<', html)
    assert first and "headcount is a number" in first.group(1).lower()
    assert second and "unknown field “colour”" in second.group(1)
    assert "Some conditions need fixing" in html
    # What the person built is still there, to be fixed rather than rebuilt.
    assert 'value="ten"' in html
    assert not Segment.objects.filter(name="Odd").exists()


def test_a_rule_segment_needs_a_rule(client_for: Any, cast: Any) -> None:
    size = Axis.objects.get(code="size")
    response = client_for(cast.admin).post(
        f"/segments/axes/{size.pk}/segments/new/", {"name": "Empty", "kind": "rule"}
    )
    assert response.status_code == 422
    assert "a segment by rule needs a rule" in response.content.decode()


def test_editing_a_segment_keeps_its_version_and_refuses_a_stale_one(
    client_for: Any, cast: Any, lille: Any
) -> None:
    pme = segment("size", "pme")
    client = client_for(cast.admin)
    form = client.get(f"/segments/{pme.pk}/edit/").content.decode()
    assert "Size is" not in form and 'name="rule"' in form
    data = {
        "name": "PME",
        "kind": "rule",
        "rule": json.dumps(
            {
                "match": "all",
                "conditions": [{"field": "headcount", "op": "between", "value": ["10", "100"]}],
            }
        ),
        "version": pme.version,
    }
    assert client.post(f"/segments/{pme.pk}/edit/", data).status_code == 302
    assert set(
        Membership.objects.filter(segment=pme).values_list("organisation__legal_name", flat=True)
    ) == {"Nordis"}
    response = client.post(f"/segments/{pme.pk}/edit/", data)  # the same, old, version again
    assert response.status_code == 409
    assert "Reload the latest version" in response.content.decode()


def test_a_segment_by_hand_takes_members_and_lets_them_go(
    client_for: Any, cast: Any, lille: Any
) -> None:
    geography = Axis.objects.get(code="geography")
    client = client_for(cast.marketer)
    client.post(
        f"/segments/axes/{geography.pk}/segments/new/",
        {"name": "Key accounts north", "kind": "manual", "position": "1"},
    )
    key = Segment.objects.get(code="key-accounts-north")
    assert key.kind == "manual" and key.rule is None
    nordis = lille["nordis"]
    response = client.post(f"/segments/{key.pk}/members/add/", {"organisation": nordis.pk})
    assert response.status_code == 302
    page = client.get(f"/segments/{key.pk}/").content.decode()
    assert "1 organisation added." in page
    assert f'data-organisation="{nordis.pk}"' in page
    # Exclusive axis, placed by hand first: Nordis left the Lille segment.
    assert not Membership.objects.filter(
        segment=segment("geography", "lille"), organisation=nordis
    ).exists()
    client.post(f"/segments/{key.pk}/members/remove/", {"organisation": nordis.pk})
    assert not Membership.objects.filter(segment=key).exists()
    assert Membership.objects.filter(
        segment=segment("geography", "lille"), organisation=nordis
    ).exists()


def test_adding_an_organisation_the_user_cannot_see_is_refused(
    client_for: Any, cast: Any, lille: Any, team_private: Any
) -> None:
    key = Segment.objects.create(
        axis=Axis.objects.get(code="geography"), code="key", name="Key", kind="manual"
    )
    response = client_for(cast.manager).post(
        f"/segments/{key.pk}/members/add/", {"organisation": lille["flandres"].pk}, follow=True
    )
    assert "no organisation you can see has the id" in response.content.decode()
    assert not Membership.objects.filter(segment=key).exists()


def test_deleting_a_segment(client_for: Any, cast: Any) -> None:
    pme = segment("size", "pme")
    response = client_for(cast.admin).post(f"/segments/{pme.pk}/delete/", follow=True)
    assert "The segment “PME (10–249)” was deleted." in response.content.decode()
    assert not Segment.objects.filter(pk=pme.pk).exists()


def test_segment_members_are_paginated_and_exported_as_the_viewer_sees_them(
    client_for: Any, cast: Any, lille: Any, team_private: Any
) -> None:
    lille_segment = segment("geography", "lille")
    response = client_for(cast.ae).get(f"/segments/{lille_segment.pk}/export.csv")
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert lines[0].startswith("id,name,legal_name")
    assert sorted(line.split(",")[1] for line in lines[1:]) == ["Nordis", "Petit Lille"]
    entry = LogEntry.objects.filter(action=LogEntry.Action.ACCESS).latest("timestamp")
    assert entry.additional_data["export"]["rows"] == 2
    page = client_for(cast.ae).get(f"/segments/{lille_segment.pk}/").content.decode()
    assert "Flandres" not in page and re.search(r'id="member-count">2<', page)


def test_an_unknown_segment_is_not_found(client_for: Any, cast: Any) -> None:
    assert client_for(cast.admin).get("/segments/999999/").status_code == 404


# --- rebuild --------------------------------------------------------------------------------------


def test_rebuild_all_shows_how_long_it_took(
    client_for: Any, cast: Any, lille: Any, django_capture_on_commit_callbacks: Any
) -> None:
    Membership.objects.all().delete()
    client = client_for(cast.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/segments/rebuild/")
    response = client.get(response["Location"])
    run = RebuildRun.objects.get()
    assert run.status == "done" and run.segments_total == 26
    html = response.content.decode()
    assert 'data-status="done"' in html and "26 of 26 segments" in html and "took" in html
    assert re.search(r"data-count>3<", _segment_item(html, "lille"))
    progress = client.get(f"/segments/rebuild/{run.pk}/")
    assert progress.status_code == 200 and "26 of 26 segments" in progress.content.decode()
    # Polling a finished run reloads the page, to show the new counts.
    polled = client.get(f"/segments/rebuild/{run.pk}/?poll=1", HTTP_HX_REQUEST="true")
    assert polled["HX-Refresh"] == "true"


def test_a_running_rebuild_polls_its_progress(client_for: Any, cast: Any) -> None:
    from django.utils import timezone

    run = RebuildRun.objects.create(started_at=timezone.now(), segments_total=26, segments_done=13)
    html = client_for(cast.sdr).get("/segments/").content.decode()
    assert f'hx-get="/segments/rebuild/{run.pk}/?poll=1"' in html
    assert "50 %" in html
    response = client_for(cast.admin).post("/segments/rebuild/", follow=True)
    assert "already running" in response.content.decode()


# --- the rule builder -----------------------------------------------------------------------------


def _builder(client: Any, rule: Any, action: str, at: str = "", level: str = "organisation") -> str:
    response = client.post(
        "/segments/rule-builder/",
        {
            "_builder": "rule",
            "_level": level,
            "_id": "id_rule",
            "_action": action,
            "_at": at,
            "rule": json.dumps(rule),
        },
    )
    assert response.status_code == 200
    return response.content.decode()


def _posted_rule(html: str) -> Any:
    import html as html_module

    value = re.search(r'class="rule-json" name="rule" id="id_rule" value="([^"]*)"', html)
    assert value
    return json.loads(html_module.unescape(value.group(1)))


def test_the_builder_adds_conditions_and_groups_and_removes_them(
    client_for: Any, cast: Any
) -> None:
    client = client_for(cast.sdr)
    html = _builder(client, None, "add")
    assert _posted_rule(html) == {"match": "all", "conditions": [{"field": "", "op": ""}]}
    assert "Choose a field…" in html and 'data-key="0"' in html
    rule = _posted_rule(_builder(client, _posted_rule(html), "add_group"))
    assert rule["conditions"][1] == {"match": "any", "conditions": [{"field": "", "op": ""}]}
    rule = _posted_rule(_builder(client, rule, "remove", "0"))
    assert rule == {
        "match": "all",
        "conditions": [{"match": "any", "conditions": [{"field": "", "op": ""}]}],
    }


def test_a_new_field_brings_the_operators_and_inputs_of_its_kind(
    client_for: Any, cast: Any
) -> None:
    client = client_for(cast.sdr)
    rule = {"match": "all", "conditions": [{"field": "headcount", "op": "", "value": "x"}]}
    html = _builder(client, rule, "field", "0")
    assert _posted_rule(html)["conditions"][0] == {"field": "headcount", "op": "equals"}
    assert '<option value="between"' in html and '<option value="contains"' not in html
    assert 'type="number"' in html
    rule = {"match": "all", "conditions": [{"field": "headcount", "op": "between", "value": "5"}]}
    html = _builder(client, rule, "op", "0")
    assert 'id="id_rule-c-0-value2"' in html  # two inputs: from … and …
    rule = {"match": "all", "conditions": [{"field": "size_class", "op": "", "value": ""}]}
    html = _builder(client, rule, "field", "0")
    assert 'class="btn-check" data-part="value"' in html  # chips for a few choices
    assert 'value="pme"' in html and "SME (PME, 10–249)" in html
    rule = {"match": "all", "conditions": [{"field": "segment", "op": "in", "value": []}]}
    assert "Geography › Lille" in _builder(client, rule, "refresh")


def test_the_builder_offers_the_fields_of_its_level(client_for: Any, cast: Any) -> None:
    rule = {"match": "all", "conditions": [{"field": "", "op": ""}]}
    html = _builder(client_for(cast.sdr), rule, "refresh", level="contact")
    assert '<option value="seniority"' in html and '<option value="organisation.city"' in html
    assert '<option value="contacts.function"' not in html


def test_the_builder_refuses_what_it_did_not_draw(client_for: Any, cast: Any) -> None:
    client = client_for(cast.sdr)
    bad = {"_builder": 'rule"><script>', "_level": "organisation", "_action": "add"}
    assert client.post("/segments/rule-builder/", bad).status_code == 400
    bad = {"_builder": "rule", "_level": "planet", "_action": "add"}
    assert client.post("/segments/rule-builder/", bad).status_code == 400
    ok = {"_builder": "rule", "_level": "contact", "_action": "add", "rule": "{not json"}
    assert client.post("/segments/rule-builder/", ok).status_code == 200


def test_pages_take_a_fixed_number_of_queries(
    client_for: Any, cast: Any, lille: Any, team_private: Any, django_assert_max_num_queries: Any
) -> None:
    client = client_for(cast.ae)
    lille_segment = segment("geography", "lille")
    client.get("/segments/")  # warm the session
    # Each page includes the navbar's bell: 2 queries (unread count, latest).
    with django_assert_max_num_queries(12):
        client.get("/segments/")  # 5 axes, 26 segments, the counts the viewer may see
    with django_assert_max_num_queries(12):
        client.get(f"/segments/{lille_segment.pk}/")
