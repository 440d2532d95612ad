"""The demo's consent history agrees with the contacts' summary fields, so that the Privacy tab,
`may_contact` and the lists tell the same story on demo data."""

from __future__ import annotations

import pytest

from cible.demo.generator import generate
from cible.people.models import Contact
from cible.quality.privacy.models import ConsentEvent, RetentionRule
from cible.quality.privacy.selectors import contactable, may_contact

pytestmark = pytest.mark.django_db


def test_demo_consents_stand_behind_the_summary_fields() -> None:
    ctx = generate("tiny", 5)
    granted = Contact.objects.filter(email_consent="granted", email_opt_out=False).count()
    opted_out = Contact.objects.filter(email_opt_out=True).count()
    assert granted > 50 and opted_out > 0
    assert (
        ConsentEvent.objects.filter(status="granted", purpose__code="marketing").count() == granted
    )
    assert ConsentEvent.objects.filter(channel="email", purpose=None).count() == opted_out
    assert ConsentEvent.objects.count() == ctx.counts["consent events"]
    web = ConsentEvent.objects.filter(source="form").select_related("contact").first()
    assert web.proof_email == web.contact.email and web.occurred_at == web.contact.created_at

    sample = Contact.objects.order_by("pk")[:300]
    allowed = set(
        contactable(Contact.objects.filter(pk__in=[c.pk for c in sample]), "email", "marketing")
    )
    assert allowed == {c for c in sample if may_contact(c, "email", "marketing")}
    assert all(c.email_consent == "granted" and not c.email_opt_out for c in allowed)
    assert RetentionRule.objects.get().is_active is False
