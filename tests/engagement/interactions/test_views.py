"""The Timeline tab of contact and organisation pages, and logging from it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cible.engagement.interactions.models import Interaction
from cible.engagement.interactions.services import record_interaction
from cible.people.services import profile_set_language

pytestmark = pytest.mark.django_db


@pytest.fixture
def english_ae(cast):
    profile_set_language(user=cast.ae, language="en")
    return cast.ae


def test_the_contact_page_has_a_timeline_with_the_log_buttons(
    english_ae, jeanne, client_for, webinar
):
    record_interaction(
        kind="webinar", contact=jeanne, campaign=webinar, channel="api", actor=english_ae
    )
    page = client_for(english_ae).get(reverse("people:contact_detail", args=[jeanne.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="timeline-section"' in html and "Log a call" in html and "Log a meeting" in html
    assert "Webinar CRM 2026" in html and "bi-camera-video" in html


def test_logging_a_call_saves_it_now_for_the_user_and_returns_the_section(
    english_ae, jeanne, client_for
):
    response = client_for(english_ae).post(
        reverse("interactions:contact_log", args=[jeanne.pk]),
        {"kind": "call", "outcome": "voicemail", "duration_minutes": "3"},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    call = Interaction.objects.get()
    assert (call.kind, call.outcome, call.owner_id, call.duration_seconds) == (
        "call",
        "voicemail",
        english_ae.pk,
        180,
    )
    assert "Call logged: Left a voicemail." in html and "3 min" in html


def test_a_time_in_the_future_is_refused_next_to_its_field(english_ae, jeanne, client_for):
    response = client_for(english_ae).post(
        reverse("interactions:contact_log", args=[jeanne.pk]),
        {"kind": "meeting", "outcome": "held", "occurred_at": "2099-01-01T10:00"},
    )
    assert response.status_code == 422
    assert "is in the future" in response.content.decode()
    assert Interaction.objects.count() == 0


def test_who_may_only_read_gets_no_buttons_and_a_403(cast, jeanne, client_for, team_private):
    client = client_for(cast.marketer)  # sees every account, changes only unowned ones
    page = client.get(reverse("people:contact_detail", args=[jeanne.pk])).content.decode()
    assert 'id="timeline-section"' in page and 'id="log-call"' not in page
    response = client.post(
        reverse("interactions:contact_log", args=[jeanne.pk]),
        {"kind": "call", "outcome": "connected"},
    )
    assert response.status_code == 403
    assert "You may not log interactions on Jeanne Dupont." in response.content.decode()
    assert Interaction.objects.count() == 0


def test_an_outsider_gets_a_404_for_a_team_private_contact(cast, jeanne, client_for, team_private):
    url = reverse("interactions:contact_timeline", args=[jeanne.pk])
    assert client_for(cast.outsider).get(url).status_code == 404


def test_filter_and_more_on_the_organisation_page(english_ae, jeanne, acme, client_for):
    for _n in range(55):
        record_interaction(kind="email_sent", contact=jeanne, channel="api", actor=english_ae)
    record_interaction(
        kind="meeting", organisation=acme, outcome="held", channel="ui", actor=english_ae
    )
    client = client_for(english_ae)
    first = client.get(
        reverse("interactions:organisation_timeline", args=[acme.pk])
    ).content.decode()
    assert first.count('class="list-group-item d-flex') == 50 and 'id="timeline-more"' in first
    meetings = client.get(
        reverse("interactions:organisation_timeline", args=[acme.pk]), {"kind": "meeting"}
    ).content.decode()
    assert meetings.count('data-kind="meeting"') == 1 and 'data-kind="email_sent"' not in meetings
    oldest = Interaction.objects.order_by("occurred_at", "id")[5]
    more = client.get(
        reverse("interactions:organisation_more", args=[acme.pk]),
        {"before": oldest.occurred_at.isoformat(), "before_id": oldest.pk},
    ).content.decode()
    assert more.count('data-kind="email_sent"') == 5 and 'id="timeline-more"' not in more


def test_the_contact_page_costs_a_fixed_number_of_queries(
    english_ae, jeanne, client_for, webinar, django_assert_max_num_queries
):
    client = client_for(english_ae)
    url = reverse("people:contact_detail", args=[jeanne.pk])
    record_interaction(
        kind="webinar", contact=jeanne, campaign=webinar, channel="api", actor=english_ae
    )
    client.get(url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for _n in range(30):
        record_interaction(
            kind="webinar", contact=jeanne, campaign=webinar, channel="api", actor=english_ae
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url)


def test_a_meeting_logged_on_the_organisation_page(english_ae, acme, client_for):
    client = client_for(english_ae)
    page = client.get(reverse("people:organisation_detail", args=[acme.pk])).content.decode()
    assert 'id="timeline-section"' in page and 'id="log-meeting"' in page
    response = client.post(
        reverse("interactions:organisation_log", args=[acme.pk]),
        {"kind": "meeting", "outcome": "no_show", "subject": "Kick-off"},
        headers={"HX-Request": "true"},
    )
    assert "Meeting logged: No-show." in response.content.decode()
    meeting = Interaction.objects.get()
    assert (meeting.organisation_id, meeting.contact_id, meeting.subject) == (
        acme.pk,
        None,
        "Kick-off",
    )


def test_a_broken_more_link_is_a_400_not_an_error(english_ae, acme, client_for):
    url = reverse("interactions:organisation_more", args=[acme.pk])
    client = client_for(english_ae)
    assert (
        client.get(url, {"before": "2026-13-45T10:00:00+00:00", "before_id": "1"}).status_code
        == 400
    )
    assert (
        client.get(url, {"before": "2026-01-01T10:00:00+00:00", "before_id": "9" * 30}).status_code
        == 400
    )
