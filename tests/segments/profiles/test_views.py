"""The pages of ideal customer profiles and personas as a user sees them: two profiles side by side
(seed 001: conquest and retention), the editor and its messages, scores with their distribution
and best fits, a fit explained on the organisation's page, personas and their contacts — each
over the records the viewer may see.

The base (conftest): Acme (Salesforce, PME, Lille; Alice's) 83, Beta (HubSpot, TPE, Paris;
Olivier's) 17, Gamma (Salesforce, ETI, Lyon; Basile's) 67, Delta (nothing, PME, Lille; Alice's)
33, Omega (Salesforce, PME, Marseille; Olivier's) 100 — under the conquest profile's weights
3 (Salesforce installed), 2 (PME), 1 (not in Lille).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.db.models import F
from django.urls import reverse

from cible.people.models import UserProfile
from cible.segments.profiles.models import IdealCustomerProfile, Persona
from cible.segments.profiles.services import persona_create, profile_create
from tests import factories
from tests.segments.profiles.conftest import CRITERIA, PME, SALESFORCE_INSTALLED

pytestmark = pytest.mark.django_db

CUSTOMER = {"match": "all", "conditions": [{"field": "status", "op": "in", "value": ["customer"]}]}
SALES_DIRECTORS = {
    "match": "all",
    "conditions": [
        {"field": "function", "op": "in", "value": ["sales"]},
        {"field": "seniority", "op": "in", "value": ["director", "executive"]},
    ],
}


@pytest.fixture(autouse=True)
def english(cast: Any) -> None:
    """Pages follow the user's profile language (French by default); these tests read English."""
    UserProfile.objects.update(language="en")


def _text(html: str) -> str:
    return re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def _post_profile(client: Any, url: str, criteria: list[dict[str, Any]], **fields: Any) -> Any:
    data: dict[str, Any] = {"purpose": "conquest", "is_active": "on", **fields}
    rows = []
    for i, item in enumerate(criteria):
        rows.append(str(i))
        data[f"c{i}-label"] = item["label"]
        data[f"c{i}-weight"] = str(item["weight"])
        data[f"c{i}-rule"] = json.dumps(item["rule"])
        if "id" in item:
            data[f"c{i}-id"] = str(item["id"])
    data["rows"] = rows
    return client.post(url, data)


def _fits(html: str) -> list[tuple[str, str]]:
    table = html.split('id="top-fits-table"')[1].split("</table>")[0]
    rows = re.findall(r'<tr data-organisation="\d+">(.*?)</tr>', table, re.S)
    found = []
    for row in rows:
        name = re.search(r'<a href="/organisations/\d+/">(.*?)</a>', row)
        score = re.search(r"data-score>(\d+)<", row)
        assert name and score
        found.append((name.group(1), score.group(1)))
    return found


# --- the editor --------------------------------------------------------------------------------


def test_a_marketer_builds_a_conquest_profile_and_sees_it_scored(
    client_for: Any, cast: Any, base: Any
) -> None:
    client = client_for(cast.marketer)
    assert client.get(reverse("profiles:create")).status_code == 200
    response = _post_profile(
        client, reverse("profiles:create"), CRITERIA, name="Conquest: CRM switchers"
    )
    assert response.status_code == 302
    profile = IdealCustomerProfile.objects.get(name="Conquest: CRM switchers")
    assert response["Location"] == reverse("profiles:detail", args=[profile.code])
    assert [(c.label, c.weight) for c in profile.criteria.all()] == [
        ("Salesforce installed", 3),
        ("PME", 2),
        ("not in Lille", 1),
    ]

    page = client.get(response["Location"])
    html = page.content.decode()
    assert "Its fit scores are up to date." in html
    assert _fits(html) == [
        ("Omega", "100"),
        ("Acme", "83"),
        ("Gamma", "67"),
        ("Delta", "33"),
        ("Beta", "17"),
    ]
    bands = dict(
        re.findall(r'<tr data-band="(\d+)"><td>[^<]*</td><td class="text-end">(\d+)', html)
    )
    assert (bands["80"], bands["60"], bands["30"], bands["10"], bands["90"]) == (
        "1",
        "1",
        "1",
        "1",
        "1",
    )
    assert "5 organisations you may see are scored" in _text(html)
    criteria = html.split('id="criteria"')[1].split("</table>")[0]
    assert "Salesforce installed" in criteria and "50.0" in criteria  # 3 of 6: 50 points
    assert 'data-scored="yes"' in html


def test_the_editor_names_each_problem_next_to_its_criterion(
    client_for: Any, cast: Any, base: Any
) -> None:
    client = client_for(cast.marketer)
    unknown_field = {
        "match": "all",
        "conditions": [{"field": "shoe_size", "op": "equals", "value": 3}],
    }
    response = _post_profile(
        client,
        reverse("profiles:create"),
        [
            {"label": "Salesforce installed", "weight": 3, "rule": SALESFORCE_INSTALLED},
            {"label": "Big feet", "weight": 1, "rule": unknown_field},
        ],
        name="Broken",
    )
    assert response.status_code == 422
    html = response.content.decode()
    first, second = html.split('class="criterion card')[1:3]
    assert "field-error" not in first
    assert "Some conditions need fixing (see below)." in second
    assert "shoe_size" in second  # the message on the condition names the unknown field

    response = _post_profile(
        client,
        reverse("profiles:create"),
        [
            {"label": "PME", "weight": 2, "rule": PME},
            {"label": "Salesforce installed", "weight": 0, "rule": SALESFORCE_INSTALLED},
        ],
        name="Broken",
    )
    assert response.status_code == 422
    first, second = response.content.decode().split('class="criterion card')[1:3]
    assert "field-error" not in first
    assert re.search(r'data-field="weight">must be between 1 and 100<', second)
    assert not IdealCustomerProfile.objects.filter(name="Broken").exists()

    response = _post_profile(client, reverse("profiles:create"), [], name="Empty")
    assert response.status_code == 422
    assert "a profile needs at least one criterion" in response.content.decode()


def test_a_criterion_row_is_added_after_the_last(client_for: Any, cast: Any) -> None:
    client = client_for(cast.marketer)
    html = client.get(reverse("profiles:criterion_row"), {"rows": ["0", "3"]}).content.decode()
    assert 'name="rows" value="4"' in html
    assert 'name="c4-label"' in html and 'name="c4-rule"' in html


def test_editing_the_weights_rescores(client_for: Any, cast: Any, base: Any, conquest: Any) -> None:
    client = client_for(cast.manager)
    form = client.get(reverse("profiles:edit", args=[conquest.code])).content.decode()
    assert 'value="Salesforce installed"' in form
    ids = [c.pk for c in conquest.criteria.all()]
    criteria = [dict(item, id=pk) for item, pk in zip(CRITERIA, ids, strict=True)]
    criteria[0]["weight"] = 1  # Salesforce now weighs 1 of 4: Acme 3/4 → 75
    response = _post_profile(
        client,
        reverse("profiles:edit", args=[conquest.code]),
        criteria,
        name=conquest.name,
        code=conquest.code,
        version=conquest.version,
    )
    assert response.status_code == 302
    html = client.get(response["Location"]).content.decode()
    assert ("Acme", "75") in _fits(html)
    assert [c.pk for c in IdealCustomerProfile.objects.get(pk=conquest.pk).criteria.all()] == ids


def test_a_stale_edit_is_refused_with_a_way_back(client_for: Any, cast: Any, conquest: Any) -> None:
    client = client_for(cast.marketer)
    version = conquest.version
    IdealCustomerProfile.objects.filter(pk=conquest.pk).update(version=F("version") + 1)
    response = _post_profile(
        client,
        reverse("profiles:edit", args=[conquest.code]),
        CRITERIA,
        name="Renamed",
        code=conquest.code,
        version=version,
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="conflict-message"' in html
    assert IdealCustomerProfile.objects.get(pk=conquest.pk).name == conquest.name


def test_only_managers_change_profiles(client_for: Any, cast: Any, conquest: Any) -> None:
    client = client_for(cast.ae)
    assert client.get(reverse("profiles:create")).status_code == 403
    assert client.post(reverse("profiles:delete", args=[conquest.code])).status_code == 403
    assert client.post(reverse("profiles:score", args=[conquest.code])).status_code == 403
    page = client.get(reverse("profiles:list")).content.decode()
    assert 'id="profile-new"' not in page
    assert 'data-profile="conquest-crm-switchers"' in page


def test_a_manager_deletes_a_profile(client_for: Any, cast: Any, conquest: Any) -> None:
    response = client_for(cast.admin).post(reverse("profiles:delete", args=[conquest.code]))
    assert response.status_code == 302
    assert not IdealCustomerProfile.objects.filter(pk=conquest.pk).exists()


# --- scores and explanations -------------------------------------------------------------------


def test_two_profiles_are_listed_with_their_purpose(
    client_for: Any, cast: Any, base: Any, conquest: Any
) -> None:
    profile_create(
        actor=cast.marketer,
        channel="ui",
        name="Retention: grow customers",
        purpose="retention",
        criteria=[{"label": "Customer", "rule": CUSTOMER, "weight": 1}],
    )
    html = client_for(cast.ae).get(reverse("profiles:list")).content.decode()
    rows = re.findall(r'<tr data-profile="([^"]+)">(.*?)</tr>', html, re.S)
    assert [code for code, _row in rows] == ["conquest-crm-switchers", "retention-grow-customers"]
    assert "Conquest (new customers)" in rows[0][1] and "3" in rows[0][1]
    assert "Retention and growth (existing customers)" in rows[1][1]


def test_score_now_recomputes_and_reports(
    client_for: Any, cast: Any, base: Any, conquest: Any
) -> None:
    client = client_for(cast.marketer)
    response = client.post(reverse("profiles:score", args=[conquest.code]), follow=True)
    html = response.content.decode()
    assert "5 organisations scored in" in html
    assert 'id="scoring-run" data-status="done"' in html
    run = client.get(
        reverse("profiles:run", args=[conquest.code]), {"poll": 1}, HTTP_HX_REQUEST="true"
    )
    assert run["HX-Refresh"] == "true"  # done: the page reloads with the scores


def test_an_outsider_sees_only_the_fits_of_organisations_they_may_see(
    team_private: Any, client_for: Any, cast: Any, base: Any, conquest: Any
) -> None:
    client_for(cast.admin).post(reverse("profiles:score", args=[conquest.code]))
    html = (
        client_for(cast.outsider)
        .get(reverse("profiles:detail", args=[conquest.code]))
        .content.decode()
    )
    assert _fits(html) == [("Omega", "100"), ("Beta", "17")]
    assert "2 organisations you may see are scored" in _text(html)
    hidden = client_for(cast.outsider).get(
        reverse("profiles:fit", args=[conquest.code, base.acme.pk])
    )
    assert hidden.status_code == 404


def test_top_fits_are_paginated(client_for: Any, cast: Any, base: Any, conquest: Any) -> None:
    for n in range(30):
        factories.organisation(cast.ae, legal_name=f"Filler {n:02d}", headcount=50)
    client = client_for(cast.admin)
    client.post(reverse("profiles:score", args=[conquest.code]))
    first = client.get(reverse("profiles:detail", args=[conquest.code])).content.decode()
    assert len(_fits(first)) == 25 and "Page 1 of 2" in _text(first)
    second = client.get(
        reverse("profiles:detail", args=[conquest.code]), {"page": 2}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert second.startswith('<div id="top-fits">')
    assert len(_fits(second)) == 10  # 35 organisations
    assert _fits(second)[-1] == ("Beta", "17")


def test_a_fit_explains_itself_and_adds_up(
    client_for: Any, cast: Any, base: Any, conquest: Any
) -> None:
    client = client_for(cast.admin)
    client.post(reverse("profiles:score", args=[conquest.code]))
    html = client.get(reverse("profiles:fit", args=[conquest.code, base.acme.pk])).content.decode()
    assert re.search(r"data-fit-score>83<", html)
    lines = re.findall(
        r'<tr data-criterion="\d+" data-matched="(yes|no)".*?<td>(.*?)<div.*?data-points>([^<]*)<',
        html,
        re.S,
    )
    assert [(m, label, points.strip()) for m, label, points in lines] == [
        ("yes", "Salesforce installed", "+50"),
        ("yes", "PME", "+33"),
        ("no", "not in Lille", "0"),
    ]
    assert "data-total>83<" in html


def test_the_organisation_page_shows_its_fit_to_each_active_profile(
    client_for: Any, cast: Any, base: Any, conquest: Any
) -> None:
    retention = profile_create(
        actor=cast.marketer,
        channel="ui",
        name="Retention: grow customers",
        purpose="retention",
        criteria=[
            {"label": "Customer", "rule": CUSTOMER, "weight": 1},
            {"label": "PME", "rule": PME, "weight": 1},
        ],
    )
    profile_create(
        actor=cast.marketer,
        channel="ui",
        name="Dormant",
        is_active=False,
        criteria=[{"label": "PME", "rule": PME, "weight": 1}],
    )
    html = (
        client_for(cast.ae)
        .get(reverse("people:organisation_detail", args=[base.acme.pk]))
        .content.decode()
    )
    assert "Fit (ICP)" in html
    section = html.split('id="organisation-fits"')[1]
    cards = re.findall(r'data-fit-profile="([^"]+)"', section)
    assert cards == [conquest.code, retention.code]
    assert re.search(rf'data-profile="{conquest.code}".*?data-fit-score>83<', section, re.S)
    assert re.search(rf'data-profile="{retention.code}".*?data-fit-score>50<', section, re.S)
    assert "Dormant" not in section


def test_no_fit_tab_without_an_active_profile(client_for: Any, cast: Any, base: Any) -> None:
    html = (
        client_for(cast.ae)
        .get(reverse("people:organisation_detail", args=[base.acme.pk]))
        .content.decode()
    )
    assert "Fit (ICP)" not in html


# --- personas ----------------------------------------------------------------------------------


@pytest.fixture
def directors(cast: Any, base: Any) -> dict[str, Any]:
    contact = factories.contact
    return {
        "nadia": contact(
            cast.ae,
            last_name="Nadia",
            function="sales",
            seniority="director",
            organisation=base.acme.pk,
        ),
        "paul": contact(
            cast.outsider,
            last_name="Paul",
            function="sales",
            seniority="executive",
            organisation=base.beta.pk,
        ),
        "ines": contact(
            cast.ae,
            last_name="Ines",
            function="marketing",
            seniority="director",
            organisation=base.acme.pk,
        ),
    }


def test_a_persona_is_built_and_matches_contacts(
    client_for: Any, cast: Any, directors: Any
) -> None:
    client = client_for(cast.marketer)
    response = client.post(
        reverse("profiles:persona_create"),
        {
            "name": "Sales directors",
            "rule": json.dumps(SALES_DIRECTORS),
            "description": "They sign.",
        },
    )
    assert response.status_code == 302
    persona = Persona.objects.get(name="Sales directors")
    html = client.get(response["Location"]).content.decode()
    assert re.search(r'id="persona-count">2<', html)
    listed = re.findall(r'<tr data-contact="\d+"><td><a [^>]*>([^<]*)</a>', html)
    assert sorted(listed) == ["Nadia", "Paul"]
    assert (
        'id="persona-rule">Function is Sales and seniority is one of Director / VP, Executive '
        "(C-level, owner)</span>"
    ) in html
    count = client.get(reverse("profiles:persona_count", args=[persona.code]))
    assert count.content.decode().strip() == "2"
    listing = client.get(reverse("profiles:persona_list")).content.decode()
    assert f'data-persona="{persona.code}"' in listing


def test_an_outsider_counts_only_the_contacts_they_may_see(
    team_private: Any, client_for: Any, cast: Any, directors: Any
) -> None:
    persona = persona_create(
        actor=cast.marketer, channel="ui", name="Sales directors", rule=SALES_DIRECTORS
    )
    client = client_for(cast.outsider)
    assert (
        client.get(reverse("profiles:persona_count", args=[persona.code])).content.decode().strip()
        == "1"
    )
    html = client.get(reverse("profiles:persona_detail", args=[persona.code])).content.decode()
    assert re.findall(r'<tr data-contact="\d+"><td><a [^>]*>([^<]*)</a>', html) == ["Paul"]


def test_a_persona_rule_error_is_shown_on_its_condition(client_for: Any, cast: Any) -> None:
    bad = {"match": "all", "conditions": [{"field": "seniority", "op": "in", "value": ["emperor"]}]}
    response = client_for(cast.marketer).post(
        reverse("profiles:persona_create"), {"name": "Emperors", "rule": json.dumps(bad)}
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "Some conditions need fixing (see below)." in html
    assert "emperor" in html
    assert not Persona.objects.filter(name="Emperors").exists()


def test_a_persona_is_edited_and_deleted(client_for: Any, cast: Any) -> None:
    persona = persona_create(
        actor=cast.marketer, channel="ui", name="Sales directors", rule=SALES_DIRECTORS
    )
    client = client_for(cast.manager)
    response = client.post(
        reverse("profiles:persona_edit", args=[persona.code]),
        {
            "name": "Sales leaders",
            "code": persona.code,
            "rule": json.dumps(SALES_DIRECTORS),
            "version": persona.version,
        },
    )
    assert response.status_code == 302
    assert Persona.objects.get(pk=persona.pk).name == "Sales leaders"
    assert (
        client_for(cast.ae)
        .post(reverse("profiles:persona_delete", args=[persona.code]))
        .status_code
        == 403
    )
    assert client.post(reverse("profiles:persona_delete", args=[persona.code])).status_code == 302
    assert not Persona.objects.filter(pk=persona.pk).exists()
