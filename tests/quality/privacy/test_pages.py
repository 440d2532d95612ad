"""The Privacy tab of a contact page, recording a consent from it, and the administrators'
privacy pages."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse

from cible.quality.privacy.models import ConsentEvent, Purpose
from tests.quality.privacy.conftest import PROOF_IP

pytestmark = pytest.mark.django_db


def test_the_contact_page_has_a_privacy_tab_with_grid_and_history(cast, gwen, client_for):
    page = client_for(cast.ae).get(reverse("people:contact_detail", args=[gwen.pk]))
    html = page.content.decode()
    assert 'id="privacy-tab-button"' in html and 'id="consent-grid"' in html
    assert "Livre blanc CRM 2026" in html and PROOF_IP in html
    assert 'id="privacy-export"' in html  # Alice owns her
    assert 'id="privacy-erase"' not in html  # only administrators erase
    other = client_for(cast.ae2).get(reverse("people:contact_detail", args=[gwen.pk]))
    assert 'id="privacy-export"' not in other.content.decode()
    admin = client_for(cast.admin).get(reverse("people:contact_detail", args=[gwen.pk]))
    assert 'id="privacy-erase"' in admin.content.decode()


def test_recording_a_withdrawal_from_the_tab(cast, gwen, client_for):
    client = client_for(cast.ae2)
    url = reverse("privacy:consent_record", args=[gwen.pk])
    data = {
        "channel": "email",
        "purpose": "marketing",
        "status": "withdrawn",
        "source": "ui",
        "proof_form": "Appel entrant",
        "proof_reference": "Ticket 77",
    }
    response = client.post(url, data, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "The consent was recorded." in response.content.decode()
    event = ConsentEvent.objects.filter(contact=gwen).order_by("-pk").first()
    assert (event.status, event.proof_reference, event.recorded_by) == (
        "withdrawn",
        "Ticket 77",
        cast.ae2,
    )
    bad = client.post(url, {**data, "proof_ip": "999.1.1.1"}, headers={"HX-Request": "true"})
    assert bad.status_code == 200 and "is not an IP address" in bad.content.decode()
    assert client.post(url, {**data, "proof_ip": "999.1.1.1"}).status_code == 422


def test_privacy_pages_are_for_administrators(cast, client_for):
    for name in ("privacy:home", "privacy:purposes", "privacy:rule_create"):
        assert client_for(cast.manager).get(reverse(name)).status_code == 404
        assert client_for(cast.admin).get(reverse(name)).status_code == 200


def test_administrators_edit_purposes_and_rules(cast, client_for):
    client = client_for(cast.admin)
    response = client.post(
        reverse("privacy:purposes"),
        {"name": "Enquêtes de satisfaction", "requires_consent": "on", "is_active": "on"},
    )
    assert response.status_code == 302
    survey = Purpose.objects.get(code="enquetes_de_satisfaction")
    assert survey.requires_consent and survey.is_active
    bad = client.post(
        reverse("privacy:rule_create"), {"name": "R", "consent": "any", "inactive_months": "0"}
    )
    assert bad.status_code == 422
    assert re.search(r'name="inactive_months"[^>]*aria-invalid="true"', bad.content.decode())
    good = client.post(
        reverse("privacy:rule_create"),
        {"name": "Cinq ans", "consent": "any", "inactive_months": "60", "exclude_customers": "on"},
    )
    assert good.status_code == 302
    assert "Cinq ans" in client.get(reverse("privacy:home")).content.decode()


def test_a_date_typed_in_the_form_is_the_users_local_time(cast, gwen, client_for):
    client_for(cast.ae).post(
        reverse("privacy:consent_record", args=[gwen.pk]),
        {
            "channel": "post",
            "purpose": "events",
            "status": "refused",
            "source": "ui",
            "occurred_at": "2026-02-01T10:00",
        },
    )
    event = ConsentEvent.objects.get(contact=gwen, channel="post")
    assert event.occurred_at == dt.datetime(2026, 2, 1, 9, tzinfo=dt.UTC)  # Paris is UTC+1


def test_the_journal_pages_show_what_an_erasure_did(cast, gwen, client_for):
    from cible.quality.privacy.erasure import contact_erase

    done = contact_erase(contact=gwen, actor=cast.admin, channel="ui", reason="Ticket 4521")
    page = client_for(cast.admin).get(reverse("privacy:request_detail", args=[done.pk]))
    html = page.content.decode()
    assert "Audit entries cleaned" in html and "Ticket 4521" in html
    assert f"#{gwen.pk}" in html


def test_the_privacy_tab_costs_the_same_queries_however_long_the_history(
    cast, gwen, client_for, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from cible.quality.privacy.services import consent_record

    client = client_for(cast.admin)
    url = reverse("people:contact_detail", args=[gwen.pk])
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    assert len(few.captured_queries) < 30
    for purpose in ("events", "product_news", "sales_follow_up", "marketing") * 3:
        consent_record(
            contact=gwen,
            actor=cast.ae,
            channel="ui",
            contact_channel="sms",
            purpose=purpose,
            status="granted",
            proof={"reference": "SMS keyword"},
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url)
