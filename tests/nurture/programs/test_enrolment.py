"""Ways in (by target, by stage, by routing, by hand) and the figures a program shows, through
the access policy."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from cible.core.errors import ConflictError, ValidationFailed
from cible.engagement.interactions.services import record_interaction
from cible.lifecycle.leads import services as leads
from cible.lifecycle.leads.models import Lead, StageTransition
from cible.nurture.mailing.models import OutboundMessage
from cible.nurture.programs import selectors, services
from cible.nurture.programs.models import Enrolment
from cible.segments.targets.services import target_create
from tests import factories
from tests.nurture.programs.conftest import later

pytestmark = pytest.mark.django_db


def test_enrol_by_target_skips_opted_out_and_already_enrolled(
    cast: Any, nurture: Any, dupont: Any, martin: Any, acme: Any
) -> None:
    colleague = factories.contact(
        cast.ae,
        first_name="Luc",
        last_name="Bernard",
        organisation=acme.pk,
        email="luc@acme.example",
    )
    factories.contact(cast.ae, last_name="Absent", organisation=acme.pk, email_opt_out=True)
    target = target_create(
        actor=cast.marketer,
        channel="ui",
        data={
            "name": "Acme",
            "definition": {
                "organisation": {
                    "match": "all",
                    "conditions": [
                        {"field": "legal_name", "op": "equals", "value": "Acme Industrie"}
                    ],
                }
            },
        },
    )
    program = nurture["program"]
    services.enrol(
        program=program, contact_ids=[dupont.pk], source="manual", actor=cast.marketer, channel="ui"
    )

    assert (
        services.enrol_target(program=program, target=target, actor=cast.marketer, channel="ui")
        == 1
    )
    assert (
        services.enrol_target(program=program, target=target, actor=cast.marketer, channel="ui")
        == 0
    )
    enrolled = dict(Enrolment.objects.values_list("contact_id", "source"))
    assert enrolled == {dupont.pk: "manual", colleague.pk: "target"}


def test_leads_entering_the_stage_are_enrolled_with_their_lead(
    cast: Any, nurture: Any, dupont: Any, django_capture_on_commit_callbacks: Any
) -> None:
    program = nurture["program"]
    services.program_update(
        program=program, actor=cast.marketer, channel="ui", data={"enrol_on_stage": "recycled"}
    )
    lead = leads.open_lead(
        contact=dupont, source="website", stage="mql", actor=cast.ae, channel="ui"
    )
    with django_capture_on_commit_callbacks(execute=True):
        leads.reject(lead=lead, actor=cast.sdr, reason="Not before next year")

    enrolment = Enrolment.objects.get()
    assert (enrolment.contact, enrolment.lead, enrolment.lead_stage, enrolment.source) == (
        dupont,
        lead,
        "recycled",
        "stage",
    )


def test_routing_enrols_through_the_same_service_and_drafts_refuse(
    cast: Any, nurture: Any, dupont: Any
) -> None:
    lead = leads.open_lead(
        contact=dupont, source="website", stage="prospect", actor=cast.ae, channel="ui"
    )
    count = services.enrol(
        program=nurture["program"],
        contact_ids=[],
        lead_ids=[lead.pk],
        source="routing",
        actor=None,
        channel="job",
    )
    assert count == 1 and Enrolment.objects.get().lead == lead
    draft = services.program_create(actor=cast.marketer, channel="ui", data={"name": "Not yet"})
    with pytest.raises(ValidationFailed, match="only an active or paused program takes contacts"):
        services.enrol(
            program=draft,
            contact_ids=[dupont.pk],
            source="manual",
            actor=cast.marketer,
            channel="ui",
        )
    with pytest.raises(ConflictError, match="is already in “Recycled leads”"):
        services.enrol_contact(
            program=nurture["program"], contact=dupont, actor=cast.ae, channel="ui"
        )


def test_metrics_count_real_emails_replies_mqls_and_compare_with_leads_not_nurtured(
    cast: Any, nurture: Any, dupont: Any, martin: Any, acme: Any
) -> None:
    program = nurture["program"]
    for person in (dupont, martin):
        leads.open_lead(
            contact=person, source="website", stage="prospect", actor=cast.admin, channel="ui"
        )
    services.enrol(
        program=program,
        contact_ids=[dupont.pk, martin.pk],
        source="manual",
        actor=cast.marketer,
        channel="ui",
    )
    services.advance_due(now=later())
    OutboundMessage.objects.update(sent_at=timezone.now())
    OutboundMessage.objects.filter(contact=dupont).update(
        opened_at=timezone.now(), clicked_at=timezone.now()
    )
    record_interaction(kind="email_replied", contact=dupont, actor=cast.admin, channel="api")
    leads.move(
        lead=Lead.objects.get(contact=martin), to_stage="mql", actor=cast.admin, channel="ui"
    )
    # Two similar leads never nurtured: Prospects over the same period, one of them won.
    others = [
        factories.contact(cast.ae, last_name=name, organisation=acme.pk) for name in ("Roy", "Noel")
    ]
    for person in others:
        leads.open_lead(
            contact=person, source="website", stage="prospect", actor=cast.admin, channel="ui"
        )
    won = Lead.objects.get(contact=others[0])
    StageTransition.objects.create(
        lead=won, from_stage="opportunity", to_stage="customer", channel="ui"
    )

    m = selectors.program_metrics(viewer=cast.marketer, program=program)

    assert (m.enrolled, m.active, m.sent, m.opened, m.clicked, m.replies, m.mqls) == (
        2,
        2,
        2,
        1,
        1,
        1,
        1,
    )
    assert (m.nurtured.count, m.nurtured.converted) == (2, 0)
    assert (m.not_nurtured.count, m.not_nurtured.converted, m.not_nurtured.rate) == (2, 1, 0.5)
    assert m.stages == ["prospect"]


def test_olivier_sees_no_paris_contacts_where_everyone_is(
    cast: Any, team_private: Any, nurture: Any, dupont: Any, martin: Any
) -> None:
    services.enrol(
        program=nurture["program"],
        contact_ids=[dupont.pk, martin.pk],
        source="manual",
        actor=cast.marketer,
        channel="ui",
    )
    services.advance_due(now=later())

    def seen(user: Any) -> list[str]:
        groups = selectors.where_everyone_is(viewer=user, program=nurture["program"])
        return [
            f"{g.name}: {', '.join(str(e.contact) for e in g.enrolments)}"
            for g in groups
            if g.count
        ]

    assert seen(cast.outsider) == ["Three days: Paul Martin"]
    assert seen(cast.ae) == ["Three days: Jeanne Dupont"]
    assert seen(cast.marketer) == ["Three days: Jeanne Dupont, Paul Martin"]
    assert selectors.program_metrics(viewer=cast.outsider, program=nurture["program"]).enrolled == 1
