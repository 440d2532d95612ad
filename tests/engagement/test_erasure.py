"""Erasing a person (GDPR art. 17) reaches their interactions, the forms they sent and their
leads: the rows stay for the counts, nothing in them names the person."""

from __future__ import annotations

import json
from typing import Any

from cible.engagement.capture.models import FormSubmission, WebForm
from cible.engagement.interactions.models import Interaction
from cible.lifecycle.leads.models import Lead
from cible.quality.privacy.erasure import contact_erase
from tests import factories


def test_erasure_scrubs_interactions_submissions_and_leads(cast: Any) -> None:
    gwen = factories.contact(
        cast.ae, first_name="Gwenaëlle", last_name="Kerbrat", email="gwen.kerbrat@armor.bzh"
    )
    other = factories.contact(cast.ae, first_name="Paul", last_name="Martin", email="p@m.fr")
    Interaction.objects.create(
        kind="call", contact=gwen, notes="Gwenaëlle Kerbrat rappelle jeudi", subject="Appel"
    )
    Interaction.objects.create(
        kind="web_visit",
        visitor_key="gwen.kerbrat@armor.bzh",
        properties={"page": "/tarifs", "email": "gwen.kerbrat@armor.bzh"},
    )
    kept = Interaction.objects.create(kind="call", contact=other, notes="Paul Martin ok")
    form = WebForm.objects.create(name="Démo")
    FormSubmission.objects.create(
        form=form, outcome="accepted", contact=gwen, data={"email": "gwen.kerbrat@armor.bzh"}
    )
    FormSubmission.objects.create(
        form=form,
        outcome="invalid",
        reason="consent: required",
        data={"email": "GWEN.KERBRAT@armor.bzh", "last_name": "Kerbrat"},
    )
    lead = Lead.objects.create(
        contact=gwen,
        stage="mql",
        external_id="X-4521",
        qualification_notes="Gwenaëlle Kerbrat veut une démo",
        properties={"Specialization": "Finance"},
    )

    contact_erase(contact=gwen, actor=cast.admin, channel="ui", reason="Ticket 4521")

    assert Interaction.objects.count() == 3  # still counted
    texts = json.dumps(
        list(Interaction.objects.exclude(pk=kept.pk).values("notes", "visitor_key", "properties")),
        ensure_ascii=False,
    )
    assert "Kerbrat" not in texts and "gwen.kerbrat" not in texts
    assert Interaction.objects.get(pk=kept.pk).notes == "Paul Martin ok"
    assert FormSubmission.objects.count() == 2
    assert list(FormSubmission.objects.values_list("data", flat=True)) == [{}, {}]
    lead.refresh_from_db()
    assert lead.stage == "mql" and lead.external_id == ""
    assert "Kerbrat" not in lead.qualification_notes
    assert lead.properties == {"Specialization": "Finance"}
