"""A campaign, a form for it built by Marie the marketer, and a known account (Acme, owned by
Alice's team) with one of its people, shared by the capture tests."""

from __future__ import annotations

from typing import Any

import pytest

from cible.core.audit import Channel
from cible.engagement.campaigns.models import Campaign
from cible.engagement.capture import guard, services
from cible.engagement.capture.models import WebForm
from tests import factories

FIELDS = [
    {"field": "email", "required": True},
    {"field": "first_name"},
    {"field": "last_name"},
    {"field": "phone"},
    {"field": "company"},
    {"field": "company_website"},
    {"field": "message"},
]


@pytest.fixture
def campaign(cast: Any) -> Campaign:
    # Campaign services belong to another app; the row is all these tests need.
    return Campaign.objects.create(
        name="Livre blanc CRM", type="content", utm_campaign="lb-crm", owner=cast.marketer
    )


@pytest.fixture
def webform(cast: Any, campaign: Campaign) -> WebForm:
    return services.webform_create(
        actor=cast.marketer,
        channel=Channel.UI,
        data={
            "name": "White paper download",
            "interaction_kind": "content_download",
            "campaign": campaign,
            "fields": FIELDS,
            "consent_text_fr": "J'accepte de recevoir des e-mails.",
            "consent_text_en": "I agree to receive emails.",
            "consent_required": True,
            "thank_you_en": "Thanks! Your white paper is on its way.",
            "content_url": "https://www.example.com/white-paper.pdf",
            "allowed_origins": "https://www.example.com",
        },
    )


@pytest.fixture
def acme(cast: Any) -> Any:
    return factories.organisation(
        cast.ae, legal_name="Acme Industries", website="https://www.acme.fr"
    )


@pytest.fixture
def jeanne(cast: Any, acme: Any) -> Any:
    return factories.contact(
        cast.ae,
        first_name="Jeanne",
        last_name="Dupont",
        email="jeanne.dupont@acme.fr",
        job_title="Directrice commerciale",
        organisation=acme.pk,
    )


def shown_long_ago(form: WebForm) -> str:
    """A token for a page shown a minute ago: a person's pace."""
    import time

    return guard.issue_token(form.key, now=time.time() - 60)


def post(form: WebForm, **data: Any) -> dict[str, Any]:
    """What a person's browser posts: the page's token, a ticked consent, no honeypot."""
    return {"_ts": shown_long_ago(form), "consent": "on", "homepage": "", **data}
