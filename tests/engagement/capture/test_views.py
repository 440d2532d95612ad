"""The builder's pages: Marie builds and edits a form; the list and a form's submissions read
in a fixed number of queries; sales people do not get in."""

from __future__ import annotations

from typing import Any

from cible.engagement.capture import services
from cible.engagement.capture.models import WebForm
from tests.engagement.capture.conftest import post

BUILDER_POST = {
    "name": "Demo request",
    "interaction_kind": "demo_request",
    "title_fr": "Demandez une démo",
    "title_en": "Request a demo",
    "consent_text_fr": "J'accepte d'être contacté.",
    "consent_text_en": "I agree to be contacted.",
    "consent_required": "on",
    "is_active": "on",
    "allowed_origins": "https://www.example.com/landing, http://localhost:8080",
    "use_last_name": "on",
    "required_last_name": "on",
    "order_last_name": "1",
    "use_company": "on",
    "label_en_company": "Your company",
    "order_company": "3",
    "order_email": "2",
    "use_message": "",
}


def test_marie_builds_a_form(client_for: Any, cast: Any, campaign: Any) -> None:
    client = client_for(cast.marketer)

    response = client.post("/forms/new/", {**BUILDER_POST, "campaign": campaign.pk})

    form = WebForm.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/forms/{form.pk}/"
    assert form.owner == cast.marketer and form.campaign == campaign
    assert form.interaction_kind == "demo_request"
    assert [f["field"] for f in form.fields] == ["last_name", "email", "company"]
    assert form.fields[0]["required"] and form.fields[1]["required"]
    assert form.fields[2]["label_en"] == "Your company"
    assert form.allowed_origins == "https://www.example.com\nhttp://localhost:8080"


def test_mistakes_in_the_builder_are_named(client_for: Any, cast: Any) -> None:
    client = client_for(cast.marketer)

    response = client.post(
        "/forms/new/",
        {
            **BUILDER_POST,
            "name": "",
            "allowed_origins": "ftp://files.example",
            "consent_text_fr": "",
            "consent_text_en": "",
            "redirect_url": "merci",
        },
    )

    assert response.status_code == 422
    page = response.content.decode()
    assert 'data-field="name"' in page
    assert 'data-field="allowed_origins"' in page
    assert 'data-field="redirect_url"' in page
    assert "a required consent needs the text the visitor agrees to" in page
    assert not WebForm.objects.exists()


def test_a_stale_edit_is_refused(client_for: Any, cast: Any, webform: Any) -> None:
    client = client_for(cast.admin)
    stale = {**BUILDER_POST, "version": webform.version}
    services.webform_update(
        form=WebForm.objects.get(pk=webform.pk),
        actor=cast.marketer,
        channel="ui",
        data={**BUILDER_POST, "name": "Renamed meanwhile", "fields": webform.fields},
    )

    response = client.post(f"/forms/{webform.pk}/edit/", stale)

    assert response.status_code == 422
    assert 'id="form-errors"' in response.content.decode()
    webform.refresh_from_db()
    assert webform.name == "Renamed meanwhile"


def test_sales_people_cannot_build_forms(client_for: Any, cast: Any, webform: Any) -> None:
    client = client_for(cast.ae)

    assert client.get("/forms/").status_code == 403
    assert client.get(f"/forms/{webform.pk}/").status_code == 403
    assert client.post("/forms/new/", BUILDER_POST).status_code == 403
    assert not services.may_build(cast.sdr)


def test_the_list_reads_in_a_fixed_number_of_queries(
    client_for: Any, cast: Any, webform: Any, django_assert_max_num_queries: Any
) -> None:
    for n in range(3):
        services.submit(
            form=webform,
            data=post(webform, email=f"p{n}@globex.fr"),
            utm={},
            sender=f"192.0.2.{n}",
            page_url="",
            language="en",
        )
    services.submit(
        form=webform,
        data={"email": "bot@x.example"},
        utm={},
        sender="192.0.2.9",
        page_url="",
        language="en",
    )
    client = client_for(cast.marketer)

    with django_assert_max_num_queries(12):
        response = client.get("/forms/")

    page = response.content.decode()
    assert f'<tr data-form="{webform.pk}">' in page
    assert '<td class="text-end" data-count="accepted">3</td>' in page
    assert '<td class="text-end" data-count="refused">1</td>' in page


def test_a_forms_page_shows_its_submissions_snippet_and_preview(
    client_for: Any, cast: Any, webform: Any, jeanne: Any, django_assert_max_num_queries: Any
) -> None:
    for n in range(20):
        services.submit(
            form=webform,
            data=post(webform, email=f"p{n}@globex.fr", last_name="P"),
            utm={"utm_source": "ads"},
            sender=f"192.0.2.{n}",
            page_url="",
            language="en",
        )
    services.submit(
        form=webform,
        data=post(webform, email="jeanne.dupont@acme.fr"),
        utm={},
        sender="192.0.2.200",
        page_url="",
        language="en",
    )
    client = client_for(cast.marketer)

    with django_assert_max_num_queries(20):
        response = client.get(f"/forms/{webform.pk}/?lang=en")

    page = response.content.decode()
    assert page.count('data-outcome="accepted"') == 22  # 21 rows and the tab
    assert f'data-contact="{jeanne.pk}">Jeanne Dupont</a>' in page
    snippet = response.context["snippet_html"]
    assert f'action="http://testserver/f/{webform.key}/submit"' in snippet
    assert f'fetch("http://testserver/f/{webform.key}.json?lang=en")' in snippet
    assert 'name="homepage"' in snippet and 'name="utm_source" value=""' in snippet
    assert "&lt;form method=&quot;post&quot;" in page  # shown as text to copy
    assert "I agree to receive emails." in page  # the English preview
    assert '<span class="badge text-bg-light" data-count="accepted">21</span>' in page

    services.submit(
        form=webform,
        data={"email": "bot@x.example"},
        utm={},
        sender="192.0.2.99",
        page_url="",
        language="en",
    )
    spam_only = client.get(f"/forms/{webform.pk}/?outcome=spam").content.decode()
    assert spam_only.count("<tr data-submission=") == 1
    assert "no form token" in spam_only
