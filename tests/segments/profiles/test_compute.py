"""Full and incremental fit-score computation over a handful of organisations with real values."""

from __future__ import annotations

from typing import Any

import pytest
from auditlog.models import LogEntry

from cible.people.models import Organisation
from cible.people.services import contact_create, organisation_delete, organisation_update
from cible.segments.profiles import selectors
from cible.segments.profiles.compute import fit_scores_compute
from cible.segments.profiles.models import FitScore, RunStatus, ScoringRun
from cible.segments.profiles.refresh import fit_scores_refresh_for
from cible.segments.profiles.services import profile_create, profile_update
from tests import factories
from tests.segments.profiles.conftest import PME, scores_by_name

pytestmark = pytest.mark.django_db


def test_full_computation_scores_every_organisation(base: Any, conquest: Any, cast: Any) -> None:
    result = fit_scores_compute(profile=conquest, actor=cast.marketer, channel="cli")

    assert result.rows == 5
    assert scores_by_name(conquest) == {
        "Acme": 83,
        "Beta": 17,
        "Gamma": 67,
        "Delta": 33,
        "Omega": 100,
    }
    conquest.refresh_from_db()
    assert conquest.scored_at is not None
    criteria = {c.label: c.pk for c in conquest.criteria.all()}
    acme = FitScore.objects.get(profile=conquest, organisation=base.acme)
    assert sorted(acme.matched) == sorted([criteria["Salesforce installed"], criteria["PME"]])
    explanation = selectors.fit_explanation(
        viewer=cast.admin, profile=conquest, organisation=base.acme
    )
    assert f"Acme: {explanation.describe()}" == (
        "Acme: 83/100 — Salesforce installed (+50), PME (+33), not in Lille (0)"
    )


def test_the_run_records_its_progress_and_one_audit_entry(base: Any, conquest: Any, cast: Any):
    messages: list[str] = []
    before = LogEntry.objects.count()

    fit_scores_compute(
        profile=conquest, actor=cast.marketer, channel="cli", progress=messages.append
    )

    run = ScoringRun.objects.get(profile=conquest)
    assert (run.status, run.rows, run.steps_done, run.steps_total) == (RunStatus.DONE, 5, 5, 5)
    assert run.percent == 100 and run.seconds is not None and run.finished_at is not None
    assert any("Salesforce installed: 3 organisations" in m for m in messages)
    assert messages[-1].startswith("conquest-crm-switchers: 5 organisations scored in")
    entries = LogEntry.objects.order_by("-pk")[: LogEntry.objects.count() - before]
    assert len(entries) == 1
    entry = entries[0]
    assert entry.actor == cast.marketer
    assert entry.additional_data["channel"] == "cli"
    assert entry.additional_data["bulk"]["rows"] == 5


def test_recomputing_writes_only_what_changed(base: Any, conquest: Any) -> None:
    """(Most rows changing — a first run, new criteria — replaces them all instead.)"""
    assert fit_scores_compute(profile=conquest).written == 5
    Organisation.objects.filter(pk=base.beta.pk).update(city="Lille")  # no signal: stale

    result = fit_scores_compute(profile=conquest)

    assert (result.rows, result.written) == (5, 1)
    assert FitScore.objects.filter(profile=conquest).count() == 5
    assert scores_by_name(conquest)["Beta"] == 0
    assert fit_scores_compute(profile=conquest).written == 0


def test_rows_naming_a_removed_criterion_are_rewritten(
    base: Any, conquest: Any, cast: Any, monkeypatch: Any
) -> None:
    from cible.segments.profiles import compute

    monkeypatch.setattr(compute, "REPLACE_SHARE", 1.0)  # never fall back to replacing every row
    fit_scores_compute(profile=conquest)
    salesforce, pme, lille = conquest.criteria.all()
    # Same weights and scores for every organisation but one criterion replaced by a twin:
    # the stored lists name a criterion that is gone, so every row that listed it is rewritten.
    profile_update(
        profile=conquest,
        actor=cast.admin,
        channel="ui",
        criteria=[
            {"id": salesforce.pk, "label": salesforce.label, "rule": salesforce.rule, "weight": 3},
            {"id": pme.pk, "label": pme.label, "rule": pme.rule, "weight": 2},
            {"label": "not in Lille (again)", "rule": lille.rule, "weight": 1},
        ],
    )
    new = conquest.criteria.get(label="not in Lille (again)")

    result = fit_scores_compute(profile=conquest)

    assert result.written == 3  # Beta, Gamma and Omega are not in Lille
    assert scores_by_name(conquest) == {
        "Acme": 83,
        "Beta": 17,
        "Gamma": 67,
        "Delta": 33,
        "Omega": 100,
    }
    assert FitScore.objects.get(profile=conquest, organisation=base.beta).matched == [new.pk]


def test_two_profiles_keep_their_own_scores(base: Any, conquest: Any, cast: Any) -> None:
    retention = profile_create(
        actor=cast.admin,
        channel="ui",
        name="Retention: growing PME",
        purpose="retention",
        criteria=[{"label": "PME", "rule": PME, "weight": 1}],
    )
    fit_scores_compute(profile=conquest)
    fit_scores_compute(profile=retention)

    assert scores_by_name(retention) == {
        "Acme": 100,
        "Beta": 0,
        "Gamma": 0,
        "Delta": 100,
        "Omega": 100,
    }
    assert scores_by_name(conquest)["Acme"] == 83


def test_an_empty_base_is_scored_without_error(conquest: Any, cast: Any) -> None:
    result = fit_scores_compute(profile=conquest)

    assert result.rows == 0
    conquest.refresh_from_db()
    assert conquest.scored_at is not None
    assert ScoringRun.objects.get(profile=conquest).status == RunStatus.DONE
    assert (
        sum(b.count for b in selectors.fit_distribution(viewer=cast.admin, profile=conquest)) == 0
    )


def test_editing_an_organisation_rescored_it_at_once(
    base: Any, conquest: Any, cast: Any, committed: Any
) -> None:
    fit_scores_compute(profile=conquest)

    with committed():
        organisation_update(
            organisation=base.beta,
            actor=cast.outsider,
            channel="ui",
            data={"installed_products": ["Salesforce"], "headcount": 25},
        )

    # Beta: Salesforce (3) + PME (2) + not in Lille (1) = 100.
    assert scores_by_name(conquest)["Beta"] == 100
    with committed():
        organisation_update(
            organisation=base.acme, actor=cast.ae, channel="ui", data={"city": "Roubaix"}
        )
    assert scores_by_name(conquest)["Acme"] == 100


def test_a_new_organisation_is_scored_when_created(
    base: Any, conquest: Any, cast: Any, committed: Any
) -> None:
    fit_scores_compute(profile=conquest)

    with committed():
        factories.organisation(cast.ae, legal_name="Zeta", headcount=12, city="Lille")

    assert scores_by_name(conquest)["Zeta"] == 33


def test_a_deleted_organisation_loses_its_scores(base: Any, conquest: Any, cast: Any) -> None:
    fit_scores_compute(profile=conquest)

    organisation_delete(organisation=base.delta, actor=cast.ae, channel="ui")

    assert "Delta" not in scores_by_name(conquest)


def test_a_profile_not_yet_scored_is_left_alone(base: Any, conquest: Any, cast: Any) -> None:
    organisation_update(organisation=base.acme, actor=cast.ae, channel="ui", data={"city": "Lens"})

    assert FitScore.objects.filter(profile=conquest).count() == 0
    assert fit_scores_refresh_for(organisation_ids=[base.acme.pk]) == 0


def test_inactive_profiles_are_not_refreshed(base: Any, conquest: Any, cast: Any) -> None:
    fit_scores_compute(profile=conquest)
    profile_update(profile=conquest, actor=cast.admin, channel="ui", is_active=False)

    organisation_update(organisation=base.acme, actor=cast.ae, channel="ui", data={"city": "Lens"})

    assert scores_by_name(conquest)["Acme"] == 83


def test_a_criterion_on_contacts_follows_contact_changes(
    base: Any, cast: Any, committed: Any
) -> None:
    has_sales_director = {
        "match": "all",
        "conditions": [
            {"field": "contacts.function", "op": "in", "value": ["sales"]},
            {"field": "contacts.seniority", "op": "in", "value": ["director", "executive"]},
        ],
    }
    profile = profile_create(
        actor=cast.admin,
        channel="ui",
        name="Has a sales director",
        criteria=[
            {"label": "Sales director known", "rule": has_sales_director, "weight": 1},
            {"label": "PME", "rule": PME, "weight": 1},
        ],
    )
    fit_scores_compute(profile=profile)
    assert scores_by_name(profile)["Acme"] == 50

    with committed():
        contact = contact_create(
            actor=cast.ae,
            channel="ui",
            data={
                "last_name": "Durand",
                "function": "sales",
                "seniority": "director",
                "organisation": base.acme.pk,
            },
        )
    assert scores_by_name(profile)["Acme"] == 100

    from cible.people.services import contact_update

    with committed():
        contact_update(
            contact=contact, actor=cast.ae, channel="ui", data={"organisation": base.gamma.pk}
        )
    assert scores_by_name(profile)["Acme"] == 50
    assert scores_by_name(profile)["Gamma"] == 50


def test_a_run_whose_criteria_changed_meanwhile_writes_nothing(
    base: Any, conquest: Any, monkeypatch: Any
) -> None:
    from cible.segments.profiles import compute
    from cible.segments.profiles.models import ProfileCriterion

    fit_scores_compute(profile=conquest)
    reads = compute._id_array

    def read_then_edit(queryset: Any) -> Any:
        # Somebody changes a weight while the run reads (without the service, to keep it short).
        ProfileCriterion.objects.filter(profile=conquest, label="PME").update(weight=5)
        return reads(queryset)

    monkeypatch.setattr(compute, "_id_array", read_then_edit)
    result = fit_scores_compute(profile=conquest)

    assert result.rows == 0
    run = ScoringRun.objects.filter(profile=conquest).first()
    assert run.status == RunStatus.FAILED
    assert run.error.startswith("The criteria changed while the scores were computed")
    assert scores_by_name(conquest)["Acme"] == 83  # the previous run's rows stay


def test_bulk_writers_rescore_what_they_wrote(base: Any, conquest: Any) -> None:
    from cible.segments.profiles import compute

    fit_scores_compute(profile=conquest)
    # A bulk writer (no signals) moves two organisations to Lille.
    Organisation.objects.filter(pk__in=[base.gamma.pk, base.omega.pk]).update(city="Lille")

    assert compute.fit_scores_after_bulk(organisation_ids=[base.gamma.pk]) == 1
    assert scores_by_name(conquest)["Gamma"] == 50
    assert scores_by_name(conquest)["Omega"] == 100  # not named: left for the next run

    compute.fit_scores_after_bulk(organisation_ids=None)  # unknown: every profile, everyone
    assert scores_by_name(conquest)["Omega"] == 83


def test_a_retention_criterion_on_deals_follows_the_pipeline(
    base: Any, cast: Any, committed: Any
) -> None:
    won_a_deal = {
        "match": "all",
        "conditions": [{"field": "opportunities.stage", "op": "in", "value": ["won"]}],
    }
    retention = profile_create(
        actor=cast.manager,
        channel="ui",
        name="Retention: customers to grow",
        purpose="retention",
        criteria=[
            {"label": "Won a deal", "rule": won_a_deal, "weight": 2},
            {"label": "PME", "rule": PME, "weight": 1},
        ],
    )
    fit_scores_compute(profile=retention)
    assert scores_by_name(retention)["Acme"] == 33

    with committed():
        deal = factories.opportunity(cast.ae, base.acme, stage="negotiation")
    assert scores_by_name(retention)["Acme"] == 33

    from cible.pipeline.services import opportunity_update

    with committed():
        opportunity_update(opportunity=deal, actor=cast.ae, channel="ui", data={"stage": "won"})
    assert scores_by_name(retention)["Acme"] == 100


def test_an_organisation_deleted_during_a_run_keeps_no_score(
    base: Any, conquest: Any, monkeypatch: Any
) -> None:
    from cible.segments.profiles import compute

    reads = compute._id_array
    calls = []

    def read_then_delete(queryset: Any) -> Any:
        calls.append(queryset)
        if len(calls) == 2:  # after the list of every organisation was read
            Organisation.objects.filter(pk=base.delta.pk).delete()
        return reads(queryset)

    monkeypatch.setattr(compute, "_id_array", read_then_delete)
    result = fit_scores_compute(profile=conquest)

    assert result.rows == 4
    assert set(scores_by_name(conquest)) == {"Acme", "Beta", "Gamma", "Omega"}


def test_a_criterion_on_segments_follows_the_membership(
    base: Any, cast: Any, committed: Any
) -> None:
    from cible.segments.axes.services import axis_create, segment_create

    axis = axis_create(actor=cast.admin, channel="ui", data={"name": "CRM for the ICP test"})
    salesforce = segment_create(
        actor=cast.admin,
        channel="ui",
        axis=axis,
        data={
            "name": "Salesforce",
            "rule": {
                "match": "all",
                "conditions": [
                    {"field": "installed_products", "op": "any_of", "value": ["Salesforce"]}
                ],
            },
        },
    )
    profile = profile_create(
        actor=cast.admin,
        channel="ui",
        name="Salesforce users",
        criteria=[
            {
                "label": "In the Salesforce segment",
                "rule": {
                    "match": "all",
                    "conditions": [{"field": "segment", "op": "in", "value": [salesforce.pk]}],
                },
                "weight": 1,
            }
        ],
    )
    fit_scores_compute(profile=profile)
    assert scores_by_name(profile) == {
        "Acme": 100,
        "Beta": 0,
        "Gamma": 100,
        "Delta": 0,
        "Omega": 100,
    }

    # The segment's membership is refreshed first (the axes app listens first), then the score.
    with committed():
        organisation_update(
            organisation=base.delta,
            actor=cast.ae,
            channel="ui",
            data={"installed_products": ["Salesforce"]},
        )
    assert scores_by_name(profile)["Delta"] == 100


def test_a_criterion_on_a_segment_by_hand_follows_its_members(
    base: Any, cast: Any, committed: Any
) -> None:
    from cible.segments.axes.services import (
        axis_create,
        segment_add_members,
        segment_create,
        segment_remove_members,
    )

    axis = axis_create(actor=cast.admin, channel="ui", data={"name": "Key accounts (test)"})
    key = segment_create(
        actor=cast.admin, channel="ui", axis=axis, data={"name": "Key", "kind": "manual"}
    )
    profile = profile_create(
        actor=cast.admin,
        channel="ui",
        name="Key PME",
        criteria=[
            {
                "label": "Key account",
                "rule": {
                    "match": "all",
                    "conditions": [{"field": "segment", "op": "in", "value": [key.pk]}],
                },
                "weight": 1,
            },
            {"label": "PME", "rule": PME, "weight": 1},
        ],
    )
    fit_scores_compute(profile=profile)
    assert scores_by_name(profile)["Acme"] == 50

    with committed():
        segment_add_members(
            segment=key, actor=cast.admin, channel="ui", organisation_ids=[base.acme.pk]
        )
    assert scores_by_name(profile)["Acme"] == 100

    with committed():
        segment_remove_members(
            segment=key, actor=cast.admin, channel="ui", organisation_ids=[base.acme.pk]
        )
    assert scores_by_name(profile)["Acme"] == 50


def _profile_queries(queries: Any) -> list[str]:
    return [q["sql"] for q in queries if "profiles_" in q["sql"]]


def test_deleting_an_organisation_costs_no_query_per_contact(
    base: Any, conquest: Any, cast: Any, committed: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    fit_scores_compute(profile=conquest)  # criteria on the organisation's own fields only
    for n in range(30):
        factories.contact(cast.ae, organisation=base.delta.pk, last_name=f"Contact {n}")

    with CaptureQueriesContext(connection) as ctx, committed():
        Organisation.objects.filter(pk=base.delta.pk).delete()

    # Reading what the profiles depend on once, not once per contact (the scores rows go with
    # the organisation in the cascade).
    assert len(_profile_queries(ctx.captured_queries)) <= 5
    assert "Delta" not in scores_by_name(conquest)


def test_a_criterion_on_contacts_rescores_once_per_transaction(
    base: Any, cast: Any, committed: Any
) -> None:
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    profile = profile_create(
        actor=cast.admin,
        channel="ui",
        name="Has a director",
        criteria=[
            {
                "label": "Director known",
                "rule": {
                    "match": "all",
                    "conditions": [
                        {"field": "contacts.seniority", "op": "in", "value": ["director"]}
                    ],
                },
                "weight": 1,
            }
        ],
    )
    fit_scores_compute(profile=profile)
    assert scores_by_name(profile)["Acme"] == 0

    with CaptureQueriesContext(connection) as ctx, committed(), transaction.atomic():
        for n in range(30):
            factories.contact(
                cast.ae, organisation=base.acme.pk, last_name=f"C{n}", seniority="manager"
            )
        factories.contact(
            cast.ae, organisation=base.acme.pk, last_name="Boss", seniority="director"
        )

    assert len(_profile_queries(ctx.captured_queries)) <= 10
    assert scores_by_name(profile)["Acme"] == 100

    # A rolled-back change leaves the old scores.
    with committed():
        try:
            with transaction.atomic():
                Organisation.objects.get(pk=base.acme.pk).contacts.all().delete()
                raise RuntimeError
        except RuntimeError:
            pass
    assert scores_by_name(profile)["Acme"] == 100
