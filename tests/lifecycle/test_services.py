"""Opening leads, moving them by hand, Sales' one-click answers, BANT and the contact's mirror."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from cible.core.errors import ConflictError, PermissionDenied, ValidationFailed
from cible.lifecycle.leads import services
from cible.lifecycle.leads.models import Lead, StageTransition
from tests import factories
from tests.lifecycle.conftest import scored
from tests.quality.imports.engine_support import imported, var_dir  # noqa: F401

pytestmark = pytest.mark.django_db
TOMORROW = dt.date.today() + dt.timedelta(days=1)


def stage_of(contact) -> str:
    contact.refresh_from_db()
    return contact.lifecycle_stage


def test_opening_a_lead_records_its_first_transition_and_mirrors_the_contact(cast, dupont, acme):
    lead = services.open_lead(
        contact=dupont, source="event", stage="prospect", actor=cast.sdr, channel="ui"
    )
    assert (lead.stage, lead.organisation, lead.source) == ("prospect", acme, "event")
    first = lead.transitions.get()
    assert (first.from_stage, first.to_stage, first.actor, first.channel) == (
        "",
        "prospect",
        cast.sdr,
        "ui",
    )
    assert stage_of(dupont) == "prospect"


def test_a_second_live_lead_is_refused_naming_the_first(cast, dupont, lead):
    with pytest.raises(ConflictError) as caught:
        services.open_lead(contact=dupont, source="website", actor=cast.ae, channel="ui")
    assert f"Jeanne Dupont already has a live lead: #{lead.pk}, Prospect since" in str(caught.value)
    assert Lead.objects.count() == 1


def test_after_a_customer_a_new_demand_opens_a_new_lead(cast, dupont, lead):
    Lead.objects.filter(pk=lead.pk).update(stage="customer")
    again = services.open_lead(contact=dupont, source="referral", actor=cast.ae, channel="ui")
    assert again.pk != lead.pk and stage_of(dupont) == "suspect"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"source": "carrier pigeon"}, "source"),
        ({"source": "website", "stage": "sql"}, "stage"),
        ({"source": "website", "campaign": 999999}, "campaign"),
        ({"source": "website", "owner": 999999}, "owner"),
    ],
)
def test_bad_input_names_the_field(cast, dupont, data, field):
    with pytest.raises(ValidationFailed) as caught:
        services.open_lead(contact=dupont, actor=cast.ae, channel="api", **data)
    assert field in {e.field for e in caught.value.errors}
    assert not Lead.objects.exists()


def test_a_lead_needs_someone(cast):
    with pytest.raises(ValidationFailed) as caught:
        services.open_lead(source="website", actor=cast.ae, channel="api")
    assert caught.value.errors[0].message == "a lead needs a contact or an organisation"


def test_a_hand_move_records_who_why_and_the_scores_then(cast, dupont, lead):
    scored(lead, 72, 55, "A2")
    services.move(lead=lead, to_stage="mql", actor=cast.marketer, channel="ui", note="hot")
    services.move(
        lead=lead,
        to_stage="recycled",
        actor=cast.ae,
        channel="ui",
        reason="not_ready",
        requalify_on=TOMORROW.isoformat(),
        note="budget next year",
    )
    lead.refresh_from_db()
    assert (lead.stage, lead.recycle_reason, lead.requalify_on) == (
        "recycled",
        "not_ready",
        TOMORROW,
    )
    last = lead.transitions.order_by("-id").first()
    assert (last.from_stage, last.to_stage, last.reason, last.note, last.actor) == (
        "mql",
        "recycled",
        "not_ready",
        "budget next year",
        cast.ae,
    )
    assert (last.profile_score, last.engagement_score, last.grade) == (72, 55, "A2")
    assert stage_of(dupont) == "recycled"


def test_a_backward_move_is_refused_naming_both_stages(cast, lead):
    services.move(lead=lead, to_stage="sql", actor=cast.ae, channel="ui")
    with pytest.raises(ValidationFailed) as caught:
        services.move(lead=lead, to_stage="mql", actor=cast.ae, channel="api")
    assert str(caught.value) == (
        "A lead cannot move from Sales qualified lead (SQL) to Marketing qualified lead (MQL): "
        "the way back is Recycled, with a reason"
    )
    assert caught.value.errors[0].field == "to_stage"
    lead.refresh_from_db()
    assert lead.stage == "sql" and lead.transitions.count() == 2


@pytest.mark.parametrize(
    ("to_stage", "extra", "field"),
    [
        ("recycled", {"requalify_on": TOMORROW}, "reason"),
        ("recycled", {"reason": "not_ready"}, "requalify_on"),
        ("recycled", {"reason": "not_ready", "requalify_on": "2001-01-01"}, "requalify_on"),
        ("recycled", {"reason": "rain", "requalify_on": TOMORROW}, "reason"),
        ("disqualified", {}, "reason"),
    ],
)
def test_leaving_the_road_needs_its_reason_and_date(cast, lead, to_stage, extra, field):
    with pytest.raises(ValidationFailed) as caught:
        services.move(lead=lead, to_stage=to_stage, actor=cast.ae, channel="ui", **extra)
    assert field in {e.field for e in caught.value.errors}
    lead.refresh_from_db()
    assert lead.stage == "prospect"


def test_reopening_a_disqualified_lead_needs_a_note(cast, dupont, lead):
    services.move(lead=lead, to_stage="disqualified", actor=cast.ae, channel="ui", reason="no_need")
    assert stage_of(dupont) == "disqualified"
    with pytest.raises(ValidationFailed):
        services.move(lead=lead, to_stage="prospect", actor=cast.ae, channel="ui")
    services.move(lead=lead, to_stage="prospect", actor=cast.ae, channel="ui", note="new project")
    lead.refresh_from_db()
    assert (lead.stage, lead.disqualify_reason) == ("prospect", "")
    assert stage_of(dupont) == "prospect"


def test_reopening_while_another_lead_is_live_is_a_conflict(cast, dupont, lead):
    services.move(lead=lead, to_stage="disqualified", actor=cast.ae, channel="ui", reason="no_need")
    services.open_lead(contact=dupont, source="website", actor=cast.ae, channel="ui")
    with pytest.raises(ConflictError):
        services.move(lead=lead, to_stage="prospect", actor=cast.ae, channel="ui", note="back")
    assert Lead.objects.get(pk=lead.pk).stage == "disqualified"


def test_a_stale_version_is_a_conflict(cast, lead):
    stale = lead.version
    services.move(lead=Lead.objects.get(pk=lead.pk), to_stage="mql", actor=cast.ae, channel="ui")
    with pytest.raises(ConflictError):
        services.move(lead=lead, to_stage="sal", actor=cast.ae, channel="ui", version=stale)
    assert StageTransition.objects.filter(lead=lead).count() == 2


def test_sales_accepts_or_rejects_an_mql(cast, dupont, lead):
    services.move(lead=lead, to_stage="mql", actor=cast.marketer, channel="ui")
    with pytest.raises(PermissionDenied):
        services.accept(lead=lead, actor=cast.marketer)
    services.accept(lead=lead, actor=cast.sdr)
    assert lead.stage == "sal" and stage_of(dupont) == "sal"
    with pytest.raises(ValidationFailed) as caught:
        services.accept(lead=lead, actor=cast.sdr)
    assert "this lead is at Sales accepted lead (SAL)" in str(caught.value)


@time_machine.travel(dt.datetime(2026, 6, 1, 9, tzinfo=dt.UTC))
def test_rejecting_recycles_with_sales_words_and_a_date_in_three_months(cast, lead):
    services.move(lead=lead, to_stage="mql", actor=cast.marketer, channel="ui")
    with pytest.raises(ValidationFailed):
        services.reject(lead=lead, actor=cast.ae, reason="  ")
    services.reject(lead=lead, actor=cast.ae, reason="student, not a buyer")
    lead.refresh_from_db()
    assert (lead.stage, lead.recycle_reason, lead.requalify_on) == (
        "recycled",
        "rejected_by_sales",
        dt.date(2026, 8, 30),
    )
    assert lead.transitions.order_by("-id").first().note == "student, not a buyer"


def test_qualifying_a_sal_that_meets_the_agreed_sql_definition_moves_it(cast, lead, agreed):
    services.move(lead=lead, to_stage="sal", actor=cast.ae, channel="ui")
    services.qualify(
        lead=lead,
        actor=cast.ae,
        budget="approved",
        authority="none",
        need="critical",
        timing="within_quarter",
        notes="",
        version=lead.version,
    )
    assert lead.stage == "sal"  # authority is missing
    services.qualify(
        lead=lead,
        actor=cast.ae,
        budget="approved",
        authority="decision_maker",
        need="critical",
        timing="within_quarter",
        notes="CFO signs",
        version=lead.version,
    )
    lead.refresh_from_db()
    assert (lead.stage, lead.qualification_notes) == ("sql", "CFO signs")
    rule = lead.transitions.order_by("-id").first()
    assert (rule.to_stage, rule.channel, rule.definition) == ("sql", "rule", agreed["sql"])


def test_a_move_the_agreed_definition_forbids_lists_what_is_missing(cast, lead, agreed):
    scored(lead, 45, None)
    with pytest.raises(ValidationFailed) as caught:
        services.move(lead=lead, to_stage="mql", actor=cast.marketer, channel="ui")
    assert str(caught.value) == (
        "The agreed definition of Marketing qualified lead (MQL) (version 1) is not met: "
        "profile score 60 or more (now 45); engagement score 40 or more (not scored yet)."
    )
    scored(lead, 60, 40)
    services.move(lead=lead, to_stage="mql", actor=cast.marketer, channel="ui")
    assert lead.transitions.order_by("-id").first().definition == agreed["mql"]


def test_bant_values_are_checked(cast, lead):
    with pytest.raises(ValidationFailed) as caught:
        services.lead_update(
            lead=lead, actor=cast.ae, channel="api", data={"budget": "lots", "stage": "sql"}
        )
    assert {e.field for e in caught.value.errors} == {"budget", "stage"}


def test_an_outsider_may_not_move_a_team_private_lead(cast, lead, team_private):
    Lead.objects.filter(pk=lead.pk).update(owner=cast.ae)
    lead.refresh_from_db()
    with pytest.raises(PermissionDenied):
        services.move(lead=lead, to_stage="mql", actor=cast.outsider, channel="ui")


def test_a_lead_for_an_organisation_alone(cast, acme):
    lead = services.open_lead(organisation=acme, source="outbound", actor=cast.sdr, channel="ui")
    assert (lead.contact, lead.organisation, lead.stage) == (None, acme, "suspect")
    other = factories.organisation(cast.ae, legal_name="Beta")
    assert services.open_lead(organisation=other, source="outbound", actor=cast.sdr, channel="ui")


def test_a_contacts_stage_follows_its_lead_and_is_not_set_by_hand(cast, dupont, lead) -> None:
    from cible.core.errors import ValidationFailed
    from cible.people.services import contact_update

    dupont.refresh_from_db()
    assert dupont.lifecycle_stage == "prospect"
    with pytest.raises(ValidationFailed) as refused:
        contact_update(
            contact=dupont, actor=cast.ae, channel="ui", data={"lifecycle_stage": "customer"}
        )
    assert refused.value.errors[0].field == "lifecycle_stage"
    assert f"follows their lead #{lead.pk}" in refused.value.errors[0].message
    # Other fields, and the same stage, still save.
    contact_update(contact=dupont, actor=cast.ae, channel="ui", data={"job_title": "DAF"})
    dupont.refresh_from_db()
    assert (dupont.job_title, dupont.lifecycle_stage) == ("DAF", "prospect")


def test_an_import_may_not_set_the_stage_of_a_contact_who_has_a_lead(cast, dupont, lead) -> None:
    """The import refuses the row as the contact's form refuses the edit, in the dry run too;
    the contact without a lead takes the file's stage."""
    from cible.people.models import Contact
    from cible.quality.imports.models import ImportRejection

    free = factories.contact(cast.ae, first_name="Paul", last_name="Leroy", email="paul@leroy.fr")
    Contact.objects.filter(pk=dupont.pk).update(
        email="jeanne@dupont.fr", email_key="jeanne@dupont.fr"
    )
    rows = [
        ["Email", "Nom", "Phase"],
        ["jeanne@dupont.fr", "Dupont", "customer"],
        ["paul@leroy.fr", "Leroy", "customer"],
    ]
    mapping = {"Email": "email", "Nom": "last_name", "Phase": "lifecycle_stage"}
    options = {"key": "email", "policy": "overwrite", "mapping": mapping, "entity": "contacts"}
    checked = imported(cast.ae, rows, dry_run=True, **options)
    assert checked.dry_run_counts == {"created": 0, "updated": 1, "unchanged": 0, "rejected": 1}
    run = imported(cast.ae, rows, **options)
    assert run.counts == {"created": 0, "updated": 1, "unchanged": 0, "rejected": 1}
    assert (stage_of(dupont), stage_of(free)) == ("prospect", "customer")
    refused = ImportRejection.objects.get(run=run, dry_run=False)
    assert refused.cells[0] == "jeanne@dupont.fr"
    assert refused.errors[0]["column"] == "Phase"
    assert f"follows their lead #{lead.pk}" in refused.errors[0]["message"]
