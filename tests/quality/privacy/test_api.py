"""The privacy API: consents with their proof (the token included), may-contact, rules and runs,
and bad input answered with a 422 that names the field."""

from __future__ import annotations

import pytest

from cible.quality.privacy.models import ConsentEvent, PrivacyRequest
from tests import factories
from tests.api.conftest import assert_error_shape, fields_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def jean(cast):
    return factories.contact(cast.ae, first_name="Jean", last_name="Martin", email="jm@acme.fr")


def test_a_consent_recorded_through_the_api_keeps_the_token_as_proof(cast, jean, api_for):
    client = api_for(cast.ae)
    response = client.post(
        f"/privacy/contacts/{jean.pk}/consents",
        {
            "channel": "email",
            "purpose": "marketing",
            "status": "granted",
            "source": "form",
            "proof_form": "Inscription webinaire",
            "proof_ip": "2001:db8::1",
            "proof_email": "JM@Acme.fr",
            "occurred_at": "2026-02-01T10:00:00+01:00",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["purpose"], body["source"]) == ("granted", "marketing", "form")
    assert body["proof_email"] == "jm@acme.fr" and body["api_token"].startswith("tests (cib_")
    event = ConsentEvent.objects.get(pk=body["id"])
    assert event.api_token is not None and event.recorded_by == cast.ae

    consents = client.get(f"/privacy/contacts/{jean.pk}/consents").json()
    assert consents["email_consent"] == "granted"
    assert consents["current"] == [
        {
            "channel": "email",
            "purpose": "marketing",
            "status": "granted",
            "since": "2026-02-01T09:00:00Z",
            "event": event.pk,
        }
    ]
    allowed = client.get(
        f"/privacy/contacts/{jean.pk}/may-contact", channel="email", purpose="marketing"
    ).json()
    assert allowed["allowed"] is True and allowed["reason"] == "consent granted"


def test_unknown_channel_or_purpose_is_a_clear_422(cast, jean, api_for):
    client = api_for(cast.ae)
    body = assert_error_shape(
        client.post(
            f"/privacy/contacts/{jean.pk}/consents",
            {"channel": "fax", "purpose": "lottery", "status": "granted"},
        ),
        422,
    )
    assert fields_of(body) == {"channel", "purpose"}
    assert "“fax”" in body["detail"] and "email, phone, sms, post" in body["detail"]
    body = assert_error_shape(
        client.get(f"/privacy/contacts/{jean.pk}/may-contact", channel="email", purpose="nope"),
        422,
    )
    assert fields_of(body) == {"purpose"}
    body = assert_error_shape(
        client.post(f"/privacy/contacts/{jean.pk}/consents", {"channel": "email", "colour": 1}),
        422,
    )
    assert {"status", "colour"} <= fields_of(body)
    assert not ConsentEvent.objects.exists()


def test_retention_rules_dry_run_and_run_through_the_api(cast, api_for):
    admin = api_for(cast.admin)
    created = admin.post("/privacy/retention-rules", {"name": "3 ans", "inactive_months": 36})
    assert created.status_code == 201, created.content
    rule = created.json()
    assert (rule["consent"], rule["exclude_customers"], rule["is_active"]) == (
        "none_granted",
        True,
        False,
    )
    patched = admin.patch(f"/privacy/retention-rules/{rule['id']}", {"inactive_months": "48"})
    assert patched.json()["inactive_months"] == 48
    dry = admin.post(f"/privacy/retention-rules/{rule['id']}/dry-run", {})
    assert dry.status_code == 200 and dry.json()["request"]["dry_run"] is True
    run = admin.post(f"/privacy/retention-rules/{rule['id']}/run", {})
    assert run.status_code == 202 and run.json()["status"] == "done"
    journal = admin.get("/privacy/requests").json()
    assert [r["kind"] for r in journal] == ["retention", "retention"]
    assert admin.get(f"/privacy/requests/{run.json()['id']}").json()["channel"] == "api"

    bad = assert_error_shape(
        admin.post("/privacy/retention-rules", {"name": "x", "inactive_months": "forever"}), 422
    )
    assert fields_of(bad) == {"inactive_months"}
    assert_error_shape(api_for(cast.ae).get("/privacy/requests"), 403)
    assert_error_shape(api_for(cast.ae).post(f"/privacy/retention-rules/{rule['id']}/run", {}), 403)
    assert PrivacyRequest.objects.count() == 2


def test_purposes_are_listed_with_their_codes(cast, api_for):
    codes = [p["code"] for p in api_for(cast.sdr).get("/privacy/purposes").json()]
    assert codes == ["marketing", "events", "product_news", "sales_follow_up"]


def test_erasure_through_the_api(cast, jean, api_for):
    response = api_for(cast.admin).post(
        f"/privacy/contacts/{jean.pk}/erase", {"reason": "Demande RGPD n° 88"}
    )
    assert response.status_code == 200, response.content
    assert response.json()["kind"] == "erasure" and response.json()["contact"] == jean.pk
    jean.refresh_from_db()
    assert jean.anonymised_at is not None and jean.first_name == ""
    body = assert_error_shape(
        api_for(cast.admin).post(f"/privacy/contacts/{jean.pk}/erase", {}), 422
    )
    assert fields_of(body) == {"reason"}
