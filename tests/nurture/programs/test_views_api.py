"""The pages and the API of the incubator: the list in a fixed number of queries, the editor over
HTMX, a contact's Nurture tab, and the REST endpoints with their 422s naming the problem."""

from __future__ import annotations

from typing import Any

import pytest

from cible.nurture.programs import services
from cible.nurture.programs.models import Enrolment, NurtureProgram, ProgramStep
from tests.nurture.programs.conftest import later

pytestmark = pytest.mark.django_db


def test_the_list_shows_each_program_with_its_figures_in_fixed_queries(
    cast: Any,
    client_for: Any,
    nurture: Any,
    dupont: Any,
    martin: Any,
    django_assert_max_num_queries: Any,
) -> None:
    for n in range(5):
        services.program_create(actor=cast.marketer, channel="ui", data={"name": f"Draft {n}"})
    services.enrol(
        program=nurture["program"],
        contact_ids=[dupont.pk, martin.pk],
        source="manual",
        actor=cast.marketer,
        channel="ui",
    )
    services.advance_due(now=later())
    client = client_for(cast.marketer)
    with django_assert_max_num_queries(12):
        response = client.get("/nurture/")
    html = response.content.decode()
    assert response.status_code == 200
    row = html[html.index(f'data-program="{nurture["program"].pk}"') :].split("</tr>")[0]
    assert (
        '<td class="text-end enrolled">2</td>' in row
        and '<td class="text-end active">2</td>' in row
    )
    assert html.count("<tr data-program=") == 6


def test_building_a_program_in_the_editor_over_htmx(
    cast: Any, client_for: Any, template: Any
) -> None:
    client = client_for(cast.marketer)
    response = client.post(
        "/nurture/new/", {"name": "Webinar no-shows", "description": "Keep them warm"}
    )
    program = NurtureProgram.objects.get(name="Webinar no-shows")
    assert response.status_code == 302 and program.exit_on_mql and program.exit_on_reply
    htmx = {"HTTP_HX_REQUEST": "true"}
    client.post(f"/nurture/{program.pk}/steps/", {"kind": "send_email"}, **htmx)
    send = ProgramStep.objects.get(program=program)
    page = client.post(
        f"/nurture/{program.pk}/steps/{send.pk}/",
        {"label": "Replay", "template": str(template.pk)},
        **htmx,
    )
    assert "Ready to run" in page.content.decode()
    page = client.post(
        f"/nurture/{program.pk}/steps/", {"kind": "branch", "after": send.pk}, **htmx
    )
    html = page.content.decode()
    branch = ProgramStep.objects.get(program=program, kind="branch")
    assert f"“Branch #{branch.pk}” has no step for its “yes” answer." in html
    assert '"nurture-chart-data"' in html and '"label": "yes"' not in html
    page = client.post(
        f"/nurture/{program.pk}/steps/{branch.pk}/",
        {"condition": "opened", "yes": send.pk, "no": ""},
        **htmx,
    )
    assert "leads back to “Replay”: an endless loop." in page.content.decode()

    response = client.post(f"/nurture/{program.pk}/status/", {"status": "active"})
    program.refresh_from_db()
    assert program.status == "draft"
    assert "The program cannot run" in client.get(response.url).content.decode()


def test_a_contact_page_offers_enrolment_and_shows_where_they_are(
    cast: Any, client_for: Any, nurture: Any, dupont: Any
) -> None:
    client = client_for(cast.marketer)  # Marie reads Cible in English
    page = client.get(f"/contacts/{dupont.pk}/").content.decode()
    assert "Enrol in a program" in page and "Not in any program." in page
    response = client.post(
        f"/nurture/contacts/{dupont.pk}/enrol/", {"program": nurture["program"].pk}
    )
    assert response.status_code == 302
    services.advance_due(now=later())
    page = client.get(f"/contacts/{dupont.pk}/").content.decode()
    tab = page[page.index('id="contact-programs"') :].split("</table>")[0]
    assert "Recycled leads" in tab and "Three days" in tab and "Active" in tab
    enrolment = Enrolment.objects.get()
    path = client.get(f"/nurture/enrolments/{enrolment.pk}/").content.decode()
    assert "Email queued" in path and "Waiting" in path


def test_api_builds_runs_and_reports_a_program(
    cast: Any, api_for: Any, template: Any, dupont: Any, martin: Any, team_private: Any
) -> None:
    api = api_for(cast.marketer)
    program = api.post(
        "/nurture/programs", {"name": "API nurture", "enrol_on_stage": "recycled"}
    ).json()
    pid = program["id"]
    send = api.post(
        f"/nurture/programs/{pid}/steps",
        {"kind": "send_email", "config": {"template": template.pk}},
    ).json()
    wait = api.post(
        f"/nurture/programs/{pid}/steps",
        {"kind": "wait", "after": send["id"], "config": {"mode": "delay"}},
    ).json()
    refused = api.post(f"/nurture/programs/{pid}/status", {"status": "active"})
    assert refused.status_code == 422
    assert refused.json()["errors"] == [
        {
            "field": f"steps.{wait['id']}",
            "message": f"“Wait #{wait['id']}” waits for no time: give days or hours.",
        }
    ]
    bad = api.patch(
        f"/nurture/programs/{pid}/steps/{wait['id']}",
        {"config": {"mode": "delay", "days": "three"}},
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "config.days"
    assert (
        api.patch(
            f"/nurture/programs/{pid}/steps/{wait['id']}", {"config": {"mode": "delay", "days": 2}}
        ).status_code
        == 200
    )
    assert (
        api.post(f"/nurture/programs/{pid}/status", {"status": "active"}).json()["status"]
        == "active"
    )

    assert api.post(
        f"/nurture/programs/{pid}/enrolments", {"contacts": [dupont.pk, martin.pk]}
    ).json() == {"enrolled": 2}
    services.advance_due(now=later())
    detail = api.get(f"/nurture/programs/{pid}").json()
    assert [(s["kind"], s["waiting"]) for s in detail["steps"]] == [("send_email", 0), ("wait", 2)]
    metrics = api.get(f"/nurture/programs/{pid}/metrics").json()
    assert (metrics["enrolled"], metrics["active"], metrics["not_nurtured"]["rate"]) == (2, 2, None)
    olivier = api_for(cast.outsider)
    page = olivier.get(f"/nurture/programs/{pid}/enrolments", count="true").json()
    assert page["count"] == 1 and page["items"][0]["contact"] == martin.pk
    assert (
        olivier.post(f"/nurture/programs/{pid}/enrolments", {"contacts": [dupont.pk]}).status_code
        == 403
    )
