"""The demo's segmentation step (issue 5): seed 002's axes filled, two ICPs scored, three
personas, seed 002's targets — and the losing segment the pipeline step planted is found by the
cross-tab explorer.

One small dataset (seed 42) for the module: the tiny one has too few deals in Lille × Salesforce
for the flag (it needs ten closed deals in the cell).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Q

from cible.demo.generator import DemoContext, generate
from cible.demo.pipeline import is_doomed, region_group, team_band
from cible.demo.segments import PERSONAS, create_segmentation
from cible.insights.performance.periods import Period, Preset
from cible.insights.performance.selectors import crosstab
from cible.insights.performance.stats import FlagKind
from cible.people.models import Contact, Organisation
from cible.pipeline.models import Opportunity
from cible.segments.axes.models import Axis, Membership, Segment
from cible.segments.profiles.models import FitScore, IdealCustomerProfile, Persona, Purpose
from cible.segments.profiles.selectors import fit_explanation, persona_contacts
from cible.segments.targets.models import Target
from cible.segments.targets.selectors import target_count

User = get_user_model()
SEED_002_AXES = ["geography", "size", "sales-team", "installed-crm", "target-sectors"]
TODAY = dt.date(2026, 11, 26)


@pytest.fixture(scope="module")
def small(django_db_setup: Any, django_db_blocker: Any) -> Iterator[DemoContext]:
    """The small dataset, generated once for the module (on a fixed day) and rolled back."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield generate("small", 42, today=TODAY)
        transaction.set_rollback(True)


@pytest.fixture
def admin(small: DemoContext) -> Any:
    return User.objects.get(username="admin")


def _segment(axis: str, code: str) -> Segment:
    return Segment.objects.get(axis__code=axis, code=code)


@pytest.mark.django_db
class TestSegmentationStep:
    def test_every_seed_002_axis_has_members(self, small: DemoContext) -> None:
        per_axis = dict(
            Membership.objects.values_list("axis__code").annotate(n=Count("id")).order_by()
        )
        organisations = Organisation.objects.count()
        for code in SEED_002_AXES:
            # exclusive axes: at most one segment per organisation, most of them placed
            assert organisations * 0.5 < per_axis[code] <= organisations, code
        for segment in Segment.objects.filter(axis__code__in=SEED_002_AXES):
            assert segment.member_count == segment.memberships.count(), segment.code
            assert segment.rebuilt_at is not None
        # the segments behind seed 002's target are not empty
        for axis, code in [
            ("geography", "lille"),
            ("geography", "paris"),
            ("installed-crm", "salesforce"),
            ("sales-team", "11-20"),
            ("sales-team", "over-20"),
        ]:
            assert _segment(axis, code).member_count > 20, code
        assert small.counts["segment memberships"] == Membership.objects.count()

    def test_memberships_follow_the_records(self, small: DemoContext) -> None:
        """Lille's members are exactly the organisations of the Nord (59) in Hauts-de-France."""
        lille = set(
            _segment("geography", "lille").memberships.values_list("organisation_id", flat=True)
        )
        expected = set(
            Organisation.objects.filter(region="FR-HDF", postal_code__startswith="59").values_list(
                "pk", flat=True
            )
        )
        assert lille == expected

    def test_two_icps_are_scored_and_explain_themselves(
        self, small: DemoContext, admin: Any
    ) -> None:
        conquest = IdealCustomerProfile.objects.get(code="conquete")
        retention = IdealCustomerProfile.objects.get(code="fidelisation")
        assert conquest.purpose == Purpose.CONQUEST
        assert retention.purpose == Purpose.RETENTION
        assert conquest.name.startswith("Conquête")
        organisations = Organisation.objects.count()
        for profile in (conquest, retention):
            assert profile.scored_at is not None
            assert profile.criteria.count() >= 5
            assert len(set(profile.criteria.values_list("weight", flat=True))) > 1  # weighted
            scores = FitScore.objects.filter(profile=profile)
            assert scores.count() == organisations
            spread = set(scores.values_list("score", flat=True))
            assert len(spread) >= 5, spread  # the scores tell organisations apart
        # conquest and retention disagree: the best customers are not the best prospects
        top_retention = FitScore.objects.filter(profile=retention).order_by("-score", "pk").first()
        assert top_retention is not None
        customer = top_retention.organisation
        assert customer.status == "customer"
        conquest_fit = FitScore.objects.get(profile=conquest, organisation=customer)
        assert conquest_fit.score < top_retention.score
        # the explanation adds up to the stored score
        explanation = fit_explanation(viewer=admin, profile=retention, organisation=customer)
        assert explanation.score == top_retention.score
        assert sum(c.points for c in explanation.contributions) == explanation.score
        assert "Client" in [c.label for c in explanation.matched]

    def test_the_personas_match_contacts(self, small: DemoContext, admin: Any) -> None:
        personas = list(Persona.objects.order_by("position"))
        assert [p.code for p in personas] == [spec["code"] for spec in PERSONAS]
        sales_directors = persona_contacts(viewer=admin, persona=personas[0])
        assert sales_directors.count() > 100
        assert set(sales_directors.values_list("function", flat=True)) == {"sales"}
        assert set(sales_directors.values_list("seniority", flat=True)) <= {"director", "executive"}
        for persona in personas[1:]:
            assert persona_contacts(viewer=admin, persona=persona).exists(), persona.code
        # The sales decision makers: the sales directors whose buying role is known to be
        # decision maker or economic buyer — most of them, not all (some roles are unknown).
        deciders = persona_contacts(viewer=admin, persona=personas[3])
        roles = set(sales_directors.values_list("buying_role", flat=True))
        assert {"", "decision_maker", "economic_buyer", "influencer"} <= roles
        assert set(deciders.values_list("buying_role", flat=True)) == {
            "decision_maker",
            "economic_buyer",
        }
        assert (
            deciders.count()
            == sales_directors.filter(buying_role__in=["decision_maker", "economic_buyer"]).count()
        )
        assert 0.35 < deciders.count() / sales_directors.count() < 0.75

    def test_seed_002_targets_are_shared_and_count(self, small: DemoContext, admin: Any) -> None:
        targets = list(Target.objects.order_by("pk"))
        assert len(targets) == 3
        assert all(t.shared and t.owner.username == "manager" for t in targets)
        contacts_target, accounts_target = targets[0], targets[1]
        assert contacts_target.level == "contact"
        assert accounts_target.level == "organisation"
        # the same selection by hand: Salesforce, 11–20 or > 20 salespeople, Lille or Paris
        accounts = Organisation.objects.filter(
            Q(region="FR-IDF") | Q(region="FR-HDF", postal_code__startswith="59"),
            installed_products__name="Salesforce",
            sales_team_size__gte=11,
        )
        expected_accounts = set(accounts.values_list("pk", flat=True))
        assert len(expected_accounts) > 10
        counted = target_count(viewer=admin, target=accounts_target)
        assert counted.count == len(expected_accounts)
        directors = Contact.objects.filter(
            organisation_id__in=expected_accounts,
            function="sales",
            seniority__in=["director", "executive"],
            anonymised_at__isnull=True,
        )
        counted = target_count(viewer=admin, target=contacts_target)
        assert counted.count is not None and counted.count > 0
        assert counted.count <= directors.count()
        # an AE of the Lyon-Lille team counts over what they may see: never more
        ae = User.objects.get(username="ae.lille")
        assert (target_count(viewer=ae, target=accounts_target).count or 0) <= len(
            expected_accounts
        )

    def test_the_cross_tab_flags_lille_salesforce(self, small: DemoContext, admin: Any) -> None:
        """Seed 002: "you lose 100 % of the deals in this segment" is seen without looking."""
        period = Period.of(Preset.LAST_2_YEARS, today=TODAY)
        tab = crosstab(
            viewer=admin,
            axis_a=Axis.objects.get(code="geography"),
            axis_b=Axis.objects.get(code="installed-crm"),
            period=period,
        )
        cell = tab.cell(
            _segment("geography", "lille").pk, _segment("installed-crm", "salesforce").pk
        )
        assert cell.measures.won == 0
        assert cell.measures.closed >= 10
        assert cell.flag is not None and cell.flag.kind == FlagKind.UNDER
        assert cell.flag.interval.high < tab.overall_win_rate
        assert tab.flagged[0] == cell  # the strongest finding of the table
        # and the ground truth behind it: every deal of the doomed accounts is lost
        doomed = [
            org.pk
            for org in Organisation.objects.filter(region="FR-HDF", sales_team_size__range=(11, 20))
            if is_doomed(
                region_group(org.region, org.country),
                "Salesforce" if org.installed_products.filter(name="Salesforce").exists() else None,
                team_band(org.sales_team_size),
            )
        ]
        assert doomed
        closed = Opportunity.objects.filter(organisation_id__in=doomed, stage__in=["won", "lost"])
        assert closed.exists() and not closed.filter(stage="won").exists()

    def test_running_the_step_again_adds_nothing(self, small: DemoContext) -> None:
        before = {
            "profiles": IdealCustomerProfile.objects.count(),
            "personas": Persona.objects.count(),
            "targets": Target.objects.count(),
            "memberships": Membership.objects.count(),
            "scores": FitScore.objects.count(),
        }
        with transaction.atomic():
            create_segmentation(dataclasses.replace(small, counts={}, timings={}, shared={}))
            after = {
                "profiles": IdealCustomerProfile.objects.count(),
                "personas": Persona.objects.count(),
                "targets": Target.objects.count(),
                "memberships": Membership.objects.count(),
                "scores": FitScore.objects.count(),
            }
            transaction.set_rollback(True)
        assert after == before
