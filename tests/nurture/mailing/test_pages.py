"""The mailing pages and API: editor errors, preview, outbox, sending rules, access."""

from __future__ import annotations

from typing import Any

import pytest

from cible.core.errors import ValidationFailed
from cible.core.services import api_token_create
from cible.nurture.mailing import services
from cible.nurture.mailing.models import EmailTemplate, SendPolicy
from tests import factories
from tests.api.conftest import ApiClient, assert_error_shape


def test_the_editor_shows_syntax_errors_next_to_the_field(
    cast: Any, client_for: Any, template: Any
) -> None:
    client = client_for(cast.marketer)
    check = client.post(
        "/email/templates/check/",
        {"field": "body_en", "body_en": "Hi\n{% if contact.first_name %}\nthere"},
    )
    assert 'data-field="body_en"' in check.content.decode()
    assert "line 2:" in check.content.decode()
    assert (
        "check-ok"
        in client.post(
            "/email/templates/check/",
            {"field": "body_en", "body_en": "Hi {{ contact.first_name }}"},
        ).content.decode()
    )

    url = f"/email/templates/{template.pk}/"
    data = {
        "name": "Welcome",
        "subject_fr": "Bienvenue",
        "body_fr": "Bonjour {{ organisation.tradename }}",
        "version": template.version,
    }
    refused = client.post(url, data)
    assert refused.status_code == 422
    assert "unknown merge field “organisation.tradename”" in refused.content.decode()
    template.refresh_from_db()
    assert template.body_fr.startswith("Bonjour {{ contact.first_name")  # nothing written

    saved = client.post(url, {**data, "body_fr": "Bonjour {{ organisation.trade_name }}"})
    assert saved.status_code == 302
    template.refresh_from_db()
    assert template.body_fr == "Bonjour {{ organisation.trade_name }}" and template.version == 2
    stale = client.post(url, {**data, "body_fr": "Salut"})  # the form still says version 1
    assert stale.status_code == 422 and "changed" in stale.content.decode()


def test_preview_renders_the_draft_for_a_real_contact_and_flags_missing_fields(
    cast: Any, client_for: Any, people: dict[str, Any]
) -> None:
    client = client_for(cast.marketer)
    options = client.get("/email/contacts/", {"q": "Roy"}).content.decode()
    assert f'value="{people["jeanne"].pk}"' in options and "Jeanne Roy" in options
    preview = client.post(
        "/email/templates/preview/",
        {
            "contact": people["nameless"].pk,
            "subject_fr": 'Pour {{ organisation.trade_name|default:"vous" }}',
            "body_fr": "Bonjour {{ contact.first_name }} {{ contact.last_name }}",
        },
    ).content.decode()
    assert '<div class="fw-semibold mb-2" id="preview-subject">Pour vous</div>' in preview
    assert "Bonjour  Anonyme" in preview
    assert '<code class="missing-field">contact.first_name</code>' in preview
    assert '<code class="missing-field">organisation.trade_name</code>' in preview


def test_outbox_and_template_list_take_a_fixed_number_of_queries(
    cast: Any,
    client_for: Any,
    template: Any,
    people: dict[str, Any],
    always_open: Any,
    smtp_server: Any,
    django_assert_max_num_queries: Any,
    team_private: Any,
    settings: Any,
) -> None:
    settings.MAIL_SMTP_CONNECTIONS = 2  # two connections in threads: the same six messages
    more = [factories.contact(cast.ae, last_name=f"P{i}", email=f"p{i}@x.fr") for i in range(5)]
    services.queue_messages(
        template=template,
        recipients=[(c.pk, f"o:{c.pk}") for c in [*more, people["jeanne"]]],
        origin="test",
        channel="job",
    )
    assert services.send_due().sent == 6
    assert len(smtp_server.messages) == 6
    client = client_for(cast.marketer)
    with django_assert_max_num_queries(12):
        outbox = client.get("/email/outbox/", {"status": "sent"})
    assert outbox.content.decode().count('data-status="sent"') == 6 + 1  # rows + the tab
    assert (
        'Sent <span class="badge text-bg-light border tab-count">6</span>'
        in outbox.content.decode()
    )
    with django_assert_max_num_queries(10):
        listing = client.get("/email/templates/")
    assert '<td class="text-end" data-count="sent">6</td>' in listing.content.decode()
    message_id = outbox.content.decode().split('data-message="')[1].split('"')[0]
    detail = client.get(f"/email/outbox/{message_id}/").content.decode()
    assert "Email sent" in detail and "Message-ID" in detail
    # An AE of another team, under a team-private policy, does not see Alice's contacts' mail.
    assert client_for(cast.outsider).get(f"/email/outbox/{message_id}/").status_code == 404
    assert 'data-message="' not in client_for(cast.outsider).get("/email/outbox/").content.decode()


def test_sending_rules_are_validated_and_saved(cast: Any, client_for: Any) -> None:
    client = client_for(cast.marketer)
    bad = client.post(
        "/email/policy/",
        {
            "days": ["0", "1"],
            "start_hour": "18",
            "end_hour": "9",
            "time_zone": "Mars/Olympus",
            "per_domain_per_minute": "60",
            "max_attempts": "5",
            "backoff_seconds": "120",
            "claim_timeout_seconds": "900",
        },
    )
    assert bad.status_code == 422
    text = bad.content.decode()
    assert "must be after the start hour" in text and "is not a time zone" in text
    good = client.post(
        "/email/policy/",
        {
            "days": ["0", "1", "2"],
            "start_hour": "9",
            "end_hour": "18",
            "time_zone": "Europe/Paris",
            "per_domain_per_minute": "60",
            "max_attempts": "5",
            "backoff_seconds": "120",
            "claim_timeout_seconds": "900",
        },
    )
    assert good.status_code == 302
    policy = SendPolicy.current()
    assert (policy.days, policy.start_hour, policy.end_hour, policy.per_domain_per_minute) == (
        "012",
        9,
        18,
        60,
    )
    assert policy.claim_timeout_seconds == 900
    assert client_for(cast.ae).post("/email/policy/", {}).status_code == 422


GOOD_RULES = {
    "days": ["0", "1", "2", "3", "4"],
    "start_hour": "8",
    "end_hour": "19",
    "time_zone": "Europe/Paris",
    "per_domain_per_minute": "600",
    "max_attempts": "6",
    "backoff_seconds": "60",
}
TIMEOUT_RULE = (
    "“Take back unfinished sends after” must be a whole number of seconds, "
    "from 60 (one minute) to 86,400 (one day)."
)


def test_the_claim_timeout_is_explained_shown_and_saved(cast: Any, client_for: Any) -> None:
    client = client_for(cast.marketer)
    page = client.get("/email/policy/").content.decode()
    assert "Take back unfinished sends after (seconds)" in page
    assert 'name="claim_timeout_seconds" value="600"' in page  # the default, ten minutes
    assert "the next sending round takes them back" in page  # the help text, next to the field

    saved = client.post("/email/policy/", {**GOOD_RULES, "claim_timeout_seconds": " 86400 "})

    assert saved.status_code == 302
    assert SendPolicy.current().claim_timeout_seconds == 86_400
    page = client.get("/email/policy/").content.decode()
    assert 'name="claim_timeout_seconds" value="86400"' in page
    client.post("/email/policy/", {**GOOD_RULES, "claim_timeout_seconds": "60"})
    assert SendPolicy.current().claim_timeout_seconds == 60


def test_a_claim_timeout_out_of_bounds_is_refused_with_a_message_naming_it(
    cast: Any, client_for: Any
) -> None:
    client = client_for(cast.marketer)
    for value in ("59", "86401", "0", "-600", "90.5", "ten minutes"):
        refused = client.post("/email/policy/", {**GOOD_RULES, "claim_timeout_seconds": value})
        assert refused.status_code == 422, value
        text = refused.content.decode()
        error = text.split('data-field="claim_timeout_seconds">')[1].split("</div>")[0]
        assert error == TIMEOUT_RULE, value
        assert SendPolicy.current().claim_timeout_seconds == 600, value
    empty = client.post("/email/policy/", {**GOOD_RULES, "claim_timeout_seconds": ""})
    assert empty.status_code == 422
    assert "“Take back unfinished sends after” needs a number of seconds." in (
        empty.content.decode()
    )
    # The other rules of a refused form are not saved either.
    assert SendPolicy.current().start_hour == 8


def test_the_service_refuses_a_bad_claim_timeout_whoever_calls_it(cast: Any) -> None:
    with pytest.raises(ValidationFailed) as refused:
        services.policy_update(
            actor=cast.marketer, channel="api", data={"claim_timeout_seconds": 30}
        )
    assert [(e.field, e.message) for e in refused.value.errors] == [
        ("claim_timeout_seconds", TIMEOUT_RULE)
    ]
    policy = services.policy_update(
        actor=cast.marketer, channel="api", data={"claim_timeout_seconds": 1200}
    )
    assert SendPolicy.current().claim_timeout_seconds == policy.claim_timeout_seconds == 1200
    assert SendPolicy.current().start_hour == 8  # the fields not given keep their value


def test_template_api_creates_checks_and_previews(cast: Any, people: dict[str, Any]) -> None:
    _token, key = api_token_create(user=cast.marketer, name="tests")
    api = ApiClient(key)
    refused = api.post("/mail/templates", {"name": "Bad", "body_en": "{% for x in y %}{{ x }}"})
    body = assert_error_shape(refused, 422)
    errors = {e["field"]: e["message"] for e in body["errors"]}
    assert errors["subject_en"] == "is required in this language"
    assert "'for'" in errors["body_en"]  # no loops in an email
    assert (
        api.post("/mail/templates/check", {"text": "{{ contact.nope }}"})
        .json()["errors"][0]["message"]
        .startswith("unknown merge field “contact.nope”")
    )
    created = api.post(
        "/mail/templates",
        {"name": "Hello", "subject_en": "Hi {{ contact.first_name }}", "body_en": "Hello"},
    )
    assert created.status_code == 201 and created.json()["languages"] == ["en"]
    pk = created.json()["id"]
    preview = api.post(f"/mail/templates/{pk}/preview", {"contact_id": people["jeanne"].pk})
    assert preview.json()["subject"] == "Hi Jeanne"
    assert preview.json()["language"] == "en"  # written in English only: the fallback
    conflict = api.patch(f"/mail/templates/{pk}", {"body_en": "Changed", "version": 7})
    assert_error_shape(conflict, 409)
    assert EmailTemplate.objects.get(pk=pk).body_en == "Hello"
    assert_error_shape(api.get("/mail/messages", status="lost"), 422)


def test_sending_days_are_named_in_the_users_language(cast: Any, client_for: Any) -> None:
    from cible.people.services import profile_set_language

    profile_set_language(user=cast.marketer, language="fr")
    page = client_for(cast.marketer).get("/email/policy/").content.decode()
    assert "Lundi" in page and "Dimanche" in page
    assert "Monday" not in page
