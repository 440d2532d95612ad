"""The public endpoints, as websites and robots use them: no login, no CSRF token, CORS only
for the form's own websites, and a clear 4xx for whatever cannot be read — stored anyway."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from cible.engagement.capture.models import FormSubmission, SubmissionOutcome
from cible.people.models import Contact
from tests.engagement.capture.conftest import post

ALLOWED = "https://www.example.com"


@pytest.fixture
def visitor() -> Client:
    return Client(enforce_csrf_checks=True)  # as strict as a browser coming from elsewhere


def json_post(client: Client, form: Any, body: Any, **headers: Any) -> Any:
    raw = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(
        f"/f/{form.key}.json?lang=en", data=raw, content_type="application/json", headers=headers
    )


def test_the_page_speaks_the_visitors_language_and_keeps_the_utm(
    visitor: Client, webform: Any
) -> None:
    french = visitor.get(
        f"/f/{webform.key}/?utm_source=newsletter&utm_campaign=lb-crm&other=1",
        headers={"accept-language": "fr-FR,fr;q=0.9"},
    )
    english = visitor.get(f"/f/{webform.key}/?lang=en")

    page = french.content.decode()
    assert french.status_code == 200
    assert "Adresse e-mail" in page and "J&#x27;accepte de recevoir des e-mails." in page
    assert 'name="utm_source" value="newsletter"' in page
    assert 'name="utm_campaign" value="lb-crm"' in page
    assert 'name="other"' not in page
    assert 'name="homepage"' in page and 'name="_ts" value="' in page
    assert "Email address" in english.content.decode()
    assert "I agree to receive emails." in english.content.decode()


def test_an_unknown_key_is_a_404(visitor: Client, db: Any) -> None:
    assert visitor.get("/f/no-such-form/").status_code == 404
    assert (
        visitor.post("/f/no-such-form.json", data="{}", content_type="application/json").status_code
        == 404
    )


def test_the_html_post_needs_no_csrf_and_thanks_the_person(visitor: Client, webform: Any) -> None:
    response = visitor.post(
        f"/f/{webform.key}/submit",
        post(webform, email="paul@globex.fr", last_name="Martin", lang="en", utm_source="ads"),
        headers={"referer": "https://www.example.com/crm"},
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "Thanks! Your white paper is on its way." in page
    assert 'href="https://www.example.com/white-paper.pdf"' in page
    submission = FormSubmission.objects.get()
    assert submission.outcome == SubmissionOutcome.ACCEPTED
    assert submission.utm == {"utm_source": "ads"}
    assert submission.page_url == "https://www.example.com/crm"
    assert "_ts" not in submission.data


def test_an_html_post_with_mistakes_shows_them_next_to_the_fields(
    visitor: Client, webform: Any
) -> None:
    data = post(webform, email="paul@", last_name="Martin", lang="en")
    del data["consent"]

    response = visitor.post(f"/f/{webform.key}/submit", data)

    assert response.status_code == 422
    page = response.content.decode()
    assert 'class="invalid-feedback d-block field-error" data-field="email"' in page
    assert "your consent is required to send this form" in page
    assert 'value="Martin"' in page  # what the person typed is kept
    assert FormSubmission.objects.get().outcome == SubmissionOutcome.INVALID


def test_the_html_post_redirects_when_the_form_says_so(visitor: Client, webform: Any) -> None:
    webform.redirect_url = "https://www.example.com/merci"
    webform.save()

    response = visitor.post(f"/f/{webform.key}/submit", post(webform, email="p@globex.fr"))

    assert response.status_code == 302
    assert response["Location"] == "https://www.example.com/merci"


def test_json_from_an_allowed_website_gets_cors_headers(visitor: Client, webform: Any) -> None:
    definition = visitor.get(f"/f/{webform.key}.json?lang=en", headers={"origin": ALLOWED})
    body = definition.json()
    data = {"email": "paul@globex.fr", "last_name": "Martin", "consent": True, "_ts": "x"}
    data["_ts"] = post(webform)["_ts"]
    data["utm"] = {"utm_source": "site"}

    response = json_post(visitor, webform, data, origin=ALLOWED)

    assert definition["Access-Control-Allow-Origin"] == ALLOWED
    assert body["fields"][0] == {
        "field": "email",
        "label": "Email address",
        "required": True,
        "type": "email",
    }
    assert body["token"] and body["honeypot"] == "homepage"
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == ALLOWED
    assert response.json()["content_url"] == "https://www.example.com/white-paper.pdf"
    assert FormSubmission.objects.get().utm == {"utm_source": "site"}
    assert Contact.objects.get().email == "paul@globex.fr"


def test_cors_is_refused_to_other_websites(visitor: Client, webform: Any) -> None:
    preflight_ok = visitor.options(
        f"/f/{webform.key}.json",
        headers={"origin": ALLOWED, "access-control-request-method": "POST"},
    )
    preflight_other = visitor.options(
        f"/f/{webform.key}.json", headers={"origin": "https://evil.example"}
    )
    posted = json_post(
        visitor, webform, post(webform, email="x@evil.example"), origin="https://evil.example"
    )

    assert preflight_ok.status_code == 204
    assert preflight_ok["Access-Control-Allow-Origin"] == ALLOWED
    assert "POST" in preflight_ok["Access-Control-Allow-Methods"]
    assert preflight_other.status_code == 403
    assert "Access-Control-Allow-Origin" not in preflight_other
    assert posted.status_code == 403
    assert "Access-Control-Allow-Origin" not in posted
    stored = FormSubmission.objects.get()
    assert stored.reason == "website not allowed: https://evil.example"
    assert not Contact.objects.exists()


def test_malformed_posts_get_a_clear_4xx_and_are_stored(visitor: Client, webform: Any) -> None:
    broken = json_post(visitor, webform, '{"email": "paul@globex.fr",')
    listed = json_post(visitor, webform, "[1, 2]")
    form_encoded = visitor.post(f"/f/{webform.key}.json?lang=en", {"email": "paul@globex.fr"})

    assert broken.status_code == 400
    assert broken.json()["detail"] == "The request body is not valid JSON."
    assert listed.status_code == 422
    assert listed.json()["errors"][0]["field"] == "body"
    assert form_encoded.status_code == 415
    assert "application/json" in form_encoded.json()["detail"]
    reasons = list(FormSubmission.objects.order_by("pk").values_list("reason", "outcome"))
    assert reasons == [
        ("body is not valid JSON", "invalid"),
        ("body is not a JSON object", "invalid"),
        ("content type multipart/form-data instead of application/json", "invalid"),
    ]
    assert FormSubmission.objects.first().data == {"body": '{"email": "paul@globex.fr",'}


def test_a_huge_body_is_a_413_and_a_huge_field_a_422(
    visitor: Client, webform: Any, settings: Any
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 50_000
    huge = json_post(visitor, webform, {"email": "a@b.example", "message": "x" * 60_000})
    long_field = json_post(
        visitor, webform, post(webform, email="a@globex.fr", last_name="y" * 300)
    )

    assert huge.status_code == 413
    assert long_field.status_code == 422
    assert long_field.json()["errors"] == [
        {"field": "last_name", "message": long_field.json()["errors"][0]["message"]}
    ]
    assert "300" in long_field.json()["errors"][0]["message"]
    assert FormSubmission.objects.order_by("pk").first().reason == "body too large"


def test_the_json_rate_limit_answers_429(visitor: Client, webform: Any) -> None:
    for n in range(5):
        json_post(visitor, webform, post(webform, email=f"p{n}@globex.fr", consent=True))

    response = json_post(visitor, webform, post(webform, email="p9@globex.fr", consent=True))

    assert response.status_code == 429
    assert response["Retry-After"] == "600"
    assert "Too many submissions" in response.json()["detail"]
    assert FormSubmission.objects.filter(outcome="throttled").count() == 1


def test_a_robot_learns_nothing_from_json(visitor: Client, webform: Any) -> None:
    response = json_post(visitor, webform, {"email": "bot@spam.example", "consent": True})

    assert response.status_code == 200
    assert response.json()["status"] == "received"
    assert FormSubmission.objects.get().outcome == SubmissionOutcome.SPAM


def test_an_unexpected_failure_keeps_the_data_and_is_no_500(
    visitor: Client, webform: Any, monkeypatch: Any
) -> None:
    from cible.engagement.capture import matching

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("database gone away")

    monkeypatch.setattr(matching, "contact_match", broken)

    response = json_post(visitor, webform, post(webform, email="paul@globex.fr", consent=True))
    page = visitor.post(
        f"/f/{webform.key}/submit", post(webform, email="anne@globex.fr", lang="en")
    )

    assert response.status_code == 503
    assert "was kept" in response.json()["detail"]
    assert page.status_code == 503 and "was kept" in page.content.decode()
    kept = list(FormSubmission.objects.order_by("pk").values_list("reason", "data"))
    assert [reason for reason, _data in kept] == ["could not be processed: RuntimeError"] * 2
    assert kept[0][1]["email"] == "paul@globex.fr"
    assert not Contact.objects.exists()
