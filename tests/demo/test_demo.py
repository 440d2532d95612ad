"""The demo dataset: deterministic, realistic, consistent with the ORM path, and with true
segment differences for a later analysis to find (seed 002)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password
from django.core.management import CommandError, call_command
from django.db import transaction
from django.urls import reverse
from stdnum.fr import siren as stdnum_siren
from stdnum.fr import siret as stdnum_siret

from cible.core import normalisers as norm
from cible.core.bulk import bulk_insert, log_bulk
from cible.core.roles import Role
from cible.demo.generator import DEMO_PASSWORD, DEMO_PASSWORD_HASH, DemoContext, generate
from cible.demo.people import DEMO_USERS
from cible.demo.pipeline import team_band
from cible.people.models import CompetitorProduct, Contact, Organisation, Team, UserProfile
from cible.people.services import contact_create, organisation_create
from cible.pipeline.models import Opportunity

User = get_user_model()


@pytest.fixture(scope="class")
def small(django_db_setup: Any, django_db_blocker: Any) -> Iterator[DemoContext]:
    """The small dataset, generated once for the class and rolled back afterwards."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield generate("small", 42)
        transaction.set_rollback(True)


def _labelled(entity: str) -> set[int]:
    """Records of the labelled duplicates the demo injects on purpose (`demo/duplicates.py`):
    the invariants of a clean base (unique SIRENs, domains, emails) do not hold for them."""
    from cible.quality.duplicates.models import DuplicateLabel

    pairs = DuplicateLabel.objects.filter(entity=entity).values_list("record_a", "record_b")
    return {pk for pair in pairs for pk in pair}


def _digest() -> str:
    digest = hashlib.sha256()
    for row in Organisation.objects.order_by("id").values_list(
        "legal_name",
        "trade_name",
        "siren",
        "domain",
        "phone",
        "postal_code",
        "naf_code",
        "headcount",
        "sales_team_size",
        "status",
    ):
        digest.update(repr(row).encode())
    for row in Contact.objects.order_by("id").values_list(
        "first_name", "last_name", "email", "job_title", "buying_role"
    ):
        digest.update(repr(row).encode())
    for row in Opportunity.objects.order_by("id").values_list("name", "stage", "recurring_amount"):
        digest.update(repr(row).encode())
    return digest.hexdigest()


def _wipe() -> None:
    """Everything the demo wrote about organisations, people and deals. The big tables of the
    lifecycle go first in one statement each: through the ORM, deleting the contacts would
    collect their tens of thousands of interactions and transitions one by one."""
    from cible.engagement.campaigns.models import CampaignMember
    from cible.engagement.interactions.models import Interaction
    from cible.lifecycle.leads.models import Lead, StageTransition
    from cible.lifecycle.scoring.models import LeadScore

    for model in (LeadScore, StageTransition, CampaignMember, Interaction):
        model.objects.all()._raw_delete(model.objects.db)
    Opportunity.objects.all().delete()
    Lead.objects.all()._raw_delete(Lead.objects.db)
    Contact.objects.all().delete()
    Organisation.objects.all().delete()


@pytest.mark.django_db
def test_same_seed_gives_the_same_rows() -> None:
    generate("tiny", 7)
    first = _digest()
    _wipe()
    generate("tiny", 7)
    assert _digest() == first
    _wipe()
    # another day: the same rows shifted in time (the same deals won and lost)
    ctx = generate("tiny", 7, today=dt.date(2031, 2, 28))
    assert _digest() == first
    assert Opportunity.objects.latest("created_at").created_at.date() < ctx.today
    _wipe()
    generate("tiny", 8)
    assert _digest() != first


def _writable(row: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    return {name: row[name] for name in fields if row[name] not in (None, "")}


ORG_INPUT = [
    "legal_name",
    "trade_name",
    "siren",
    "siret",
    "vat_number",
    "website",
    "phone",
    "street",
    "postal_code",
    "city",
    "country",
    "naf_code",
    "headcount",
    "headcount_band",
    "annual_revenue",
    "currency",
    "sales_team_size",
    "status",
    "source",
]
CONTACT_INPUT = [
    "first_name",
    "last_name",
    "email",
    "phone",
    "mobile",
    "job_title",
    "function",
    "seniority",
    "buying_role",
    "language",
    "linkedin_url",
    "email_consent",
    "lifecycle_stage",
    "source",
    "has_left",
    "phone_opt_out",
]


@pytest.mark.django_db
class TestSmallDataset:
    """One small dataset (seed 42) shared by the checks of this class."""

    def test_small_is_deterministic(self, small: DemoContext) -> None:
        """The class's small dataset has the digest of a second generation with the same seed."""
        first = _digest()
        with transaction.atomic():
            _wipe()
            generate("small", 42)
            assert _digest() == first
            transaction.set_rollback(True)

    def test_counts_are_in_range(self, small: DemoContext) -> None:
        assert Organisation.objects.count() == 2_000
        assert 7_200 <= Contact.objects.count() <= 8_800
        assert 300 <= Opportunity.objects.count() <= 1_500
        assert small.counts["organisations"] == 2_000
        assert small.counts["contacts"] == Contact.objects.count()
        assert (
            CompetitorProduct.objects.filter(
                name__in=["Salesforce", "SugarCRM", "Sage CRM", "HubSpot"]
            ).count()
            == 4
        )
        # every organisation has at least one contact, and contacts belong to organisations
        assert not Organisation.objects.filter(contacts__isnull=True).exists()
        assert not Contact.objects.filter(organisation__isnull=True).exists()
        # a few parent/subsidiary links, a few opt-outs
        assert Organisation.objects.filter(parent__isnull=False).exists()
        assert 0 < Contact.objects.filter(email_opt_out=True).count() < 800
        # one bulk audit entry per bulk-loaded model, none per row
        bulk = LogEntry.objects.filter(
            additional_data__bulk__isnull=False, action=LogEntry.Action.CREATE
        )
        bulk_models = {
            "organisation",
            "contact",
            "opportunity",
            "consentevent",
            "lead",
            "interaction",
        }
        logged = Counter(bulk.values_list("content_type__model", flat=True))
        # The base is bulk-loaded once per model; the incubator's three weeks then run through
        # the real services, which log each of their set-based writes (emails queued, sent …).
        assert set(logged) == bulk_models | {"outboundmessage", "task"}
        assert all(logged[model] == 1 for model in bulk_models - {"interaction"})
        assert LogEntry.objects.filter(object_pk="", action=LogEntry.Action.CREATE).count() == sum(
            logged.values()
        )

    def test_geography_sizes_and_crms_are_spread(self, small: DemoContext) -> None:
        by_region = Counter(
            Organisation.objects.filter(country="FR").values_list("region", flat=True)
        )
        for region in ("FR-IDF", "FR-PAC", "FR-ARA", "FR-HDF"):
            assert by_region[region] > 100, by_region
        assert len(by_region) >= 8  # "other France" spans many regions
        europe = Counter(
            Organisation.objects.exclude(country="FR").values_list("country", flat=True)
        )
        assert set(europe) == {"DE", "BE", "ES", "IT", "GB", "NL", "CH"}
        sizes = Counter(Organisation.objects.values_list("size_class", flat=True))
        assert set(sizes) == {"tpe", "pme", "eti", "ge"}
        crms = Counter(
            Organisation.installed_products.through.objects.values_list(
                "competitorproduct__name", flat=True
            )
        )
        assert all(crms[name] > 20 for name in ("Salesforce", "SugarCRM", "Sage CRM", "HubSpot"))
        assert Organisation.objects.filter(installed_products__isnull=True).count() > 300  # no CRM
        bands = Counter(
            team_band(n) for n in Organisation.objects.values_list("sales_team_size", flat=True)
        )
        assert all(bands[band] > 50 for band in ("0-3", "4-10", "11-20", "21+"))

    def test_buying_roles_follow_function_and_seniority(self, small: DemoContext) -> None:
        """Executives decide, finance holds the budget, IT evaluates, staff use; a share of the
        roles is unknown."""

        def roles(**where: Any) -> Counter[str]:
            found = Contact.objects.filter(**where).exclude(buying_role="")
            return Counter(found.values_list("buying_role", flat=True))

        unknown = Contact.objects.filter(buying_role="").count() / Contact.objects.count()
        assert 0.25 < unknown < 0.35, unknown
        assert len(roles()) == 8  # every role is played by someone
        assert set(roles(function="purchasing")) == {"purchasing"}
        assert set(roles(function="legal")) == {"legal"}
        finance_heads = roles(function="finance", seniority="executive")
        assert set(finance_heads) == {"economic_buyer", "decision_maker"}
        assert finance_heads.most_common(1)[0][0] == "economic_buyer"
        executives = roles(function="general_management", seniority="executive")
        assert set(executives) == {"decision_maker", "economic_buyer"}
        assert set(roles(function="it", seniority__in=["manager", "individual"])) <= {
            "evaluator",
            "recommender",
            "user",
        }
        assert set(roles(function="sales", seniority="individual")) == {"user", "influencer"}
        assert roles(seniority="manager").most_common(1)[0][0] == "influencer"

    def test_every_role_has_a_user_in_teams(self, small: DemoContext) -> None:
        roles = set(UserProfile.objects.values_list("role", flat=True))
        assert roles >= set(Role.values)
        assert Team.objects.get(name="AE Paris").members.filter(role=Role.AE).count() == 2
        assert Team.objects.get(name="AE Lyon-Lille").members.filter(role=Role.AE).count() == 2
        assert User.objects.get(username="admin").is_superuser
        assert check_password(DEMO_PASSWORD, DEMO_PASSWORD_HASH)
        assert User.objects.get(username="ae.lille").password == DEMO_PASSWORD_HASH
        # owners are AEs and SDRs
        owner_roles = set(
            UserProfile.objects.filter(user__organisations__isnull=False).values_list(
                "role", flat=True
            )
        )
        assert owner_roles == {Role.AE, Role.SDR}

    def test_demo_users_can_log_in(self, small: DemoContext, client: Any) -> None:
        assert client.login(username="marketing", password=DEMO_PASSWORD)
        response = client.get(reverse("people:organisation_list") + "?region=FR-HDF&size_class=pme")
        assert response.status_code == 200

    def test_identifiers_are_valid_and_unique(self, small: DemoContext) -> None:
        organisations, contacts = _labelled("organisation"), _labelled("contact")
        french = Organisation.objects.filter(country="FR").exclude(pk__in=organisations)
        sirens = list(french.values_list("siren", flat=True))
        assert all(stdnum_siren.is_valid(s) for s in sirens)
        assert len(set(sirens)) == len(sirens)
        assert not Organisation.objects.exclude(country="FR").exclude(siren="").exists()
        for siren, siret, vat in french.exclude(siret="").values_list(
            "siren", "siret", "vat_number"
        ):
            assert stdnum_siret.is_valid(siret) and siret.startswith(siren)
            assert vat == "" or norm.vat(vat) == vat
        domains = list(
            Organisation.objects.exclude(pk__in=organisations).values_list("domain", flat=True)
        )
        assert len(set(domains)) == len(domains)
        clean = Contact.objects.exclude(pk__in=contacts).exclude(organisation__in=organisations)
        emails = list(clean.values_list("email", flat=True))
        assert len(set(emails)) == len(emails)
        for email, domain in clean.values_list("email", "organisation__domain")[:500]:
            assert email.endswith("@" + domain)

    def test_regions_match_postal_codes(self, small: DemoContext) -> None:
        for postal_code, region, city in Organisation.objects.filter(country="FR").values_list(
            "postal_code", "region", "city"
        ):
            assert region == norm.french_region_from_postal_code(postal_code), (postal_code, city)
        assert set(Organisation.objects.filter(city="Lille").values_list("region", flat=True)) == {
            "FR-HDF"
        }
        assert set(
            Organisation.objects.filter(city="Paris").values_list("postal_code", flat=True)
        ) <= {f"750{n:02d}" for n in range(1, 21)}
        assert not Organisation.objects.exclude(country="FR").exclude(region="").exists()

    def test_bulk_rows_equal_what_the_orm_path_stores(self, small: DemoContext) -> None:
        """The same input through `organisation_create`/`contact_create` gives the same columns."""
        admin = User.objects.get(username="admin")
        ignored = {
            "id",
            "created_at",
            "updated_at",
            "version",
            "owner",
            "parent",
            "last_verified_at",
            "email_bounced_at",  # set by the freshness step, not an input of the services
            "tier",
            "opted_out_at",
            "organisation",
            "reports_to",
            "email_opt_out",
        }
        sample = Organisation.objects.exclude(pk__in=_labelled("organisation")).order_by("id")[::37]
        for bulk in sample:
            row = Organisation.objects.filter(pk=bulk.pk).values().get()
            created = organisation_create(
                actor=admin, channel="cli", data=_writable(row, ORG_INPUT)
            )
            again = Organisation.objects.filter(pk=created.pk).values().get()
            for name in row:
                if name.removesuffix("_id") not in ignored:
                    assert again[name] == row[name], (name, row[name], again[name])
        for bulk in Contact.objects.exclude(pk__in=_labelled("contact")).order_by("id")[::151]:
            row = Contact.objects.filter(pk=bulk.pk).values().get()
            data = _writable(row, CONTACT_INPUT)
            data["email"] = data["email"].replace("@", "@copy.")  # a different address, same shape
            created = contact_create(actor=admin, channel="cli", data=data)
            again = Contact.objects.filter(pk=created.pk).values().get()
            for name in row:
                if name.removesuffix("_id") in ignored:
                    continue
                expected = (
                    row[name].replace("@", "@copy.")
                    if name in ("email", "email_key")
                    else row[name]
                )
                assert again[name] == expected, (name, row[name], again[name])

    def test_win_rates_really_differ_by_segment(self, small: DemoContext) -> None:
        closed = Opportunity.objects.filter(stage__in=["won", "lost"])
        won, total = closed.filter(stage="won").count(), closed.count()
        assert 0.15 <= won / total <= 0.40, (won, total)

        doomed = Opportunity.objects.filter(
            organisation__region="FR-HDF",
            organisation__installed_products__name="Salesforce",
            organisation__sales_team_size__gte=11,
            organisation__sales_team_size__lte=20,
        )
        assert doomed.count() >= 5
        assert doomed.filter(stage__in=["won", "lost"]).count() >= 5
        assert not doomed.filter(stage="won").exists()
        in_lille = doomed.filter(organisation__city="Lille")
        assert in_lille.count() >= 5 and not in_lille.filter(stage="won").exists()

        def rate(qs: Any) -> float:
            qs = qs.filter(stage__in=["won", "lost"])
            return qs.filter(stage="won").count() / max(1, qs.count())

        assert rate(closed.filter(organisation__region="FR-PAC")) > rate(closed) + 0.05
        assert rate(closed.exclude(organisation__country="FR")) < rate(closed) - 0.05

    def test_customers_are_the_accounts_with_a_won_deal(self, small: DemoContext) -> None:
        customers = set(Organisation.objects.filter(status="customer").values_list("id", flat=True))
        winners = set(
            Opportunity.objects.filter(stage="won").values_list("organisation_id", flat=True)
        )
        assert customers == winners
        assert not Organisation.objects.filter(status="customer", tier="").exists()
        assert (
            not Contact.objects.filter(lifecycle_stage="customer")
            .exclude(organisation__status="customer")
            .exists()
        )
        # closed deals have a close date, lost ones a reason, and nothing closes before it opens
        assert not Opportunity.objects.filter(
            stage__in=["won", "lost"], closed_on__isnull=True
        ).exists()
        assert not Opportunity.objects.filter(stage="lost", lost_reason="").exists()
        for created, closed_on in Opportunity.objects.exclude(closed_on=None).values_list(
            "created_at", "closed_on"
        ):
            assert created.date() <= closed_on

    def test_demo_logins_lists_every_demo_user(self, small: DemoContext) -> None:
        out = StringIO()
        call_command("demo_logins", stdout=out)
        text = out.getvalue()
        for username, *_rest in DEMO_USERS:
            assert f" {username} " in text or text.count(username) >= 1
        assert DEMO_PASSWORD in text


@pytest.mark.django_db
def test_command_generates_then_refuses_a_non_empty_database() -> None:
    out = StringIO()
    call_command("demo", "--size", "tiny", "--seed", "3", stdout=out)
    assert Organisation.objects.count() == 300
    assert "rows/s" in out.getvalue()
    with pytest.raises(CommandError, match="--force"):
        call_command("demo", "--size", "tiny", stdout=StringIO())
    skipped = StringIO()
    call_command("demo", "--size", "tiny", "--if-empty", stdout=skipped)
    assert "not added" in skipped.getvalue()
    assert Organisation.objects.count() == 300
    call_command("demo", "--size", "tiny", "--seed", "4", "--force", stdout=StringIO())
    assert Organisation.objects.count() == 600
    # the ids handed out afterwards by the ORM do not collide with the bulk-inserted ones
    org = organisation_create(
        actor=User.objects.get(username="admin"), channel="ui", data={"legal_name": "Après SAS"}
    )
    assert org.pk > Organisation.objects.exclude(pk=org.pk).order_by("-pk").first().pk  # type: ignore[union-attr]


@pytest.mark.django_db
def test_command_refuses_a_database_with_one_organisation(cast: Any) -> None:
    organisation_create(actor=cast.ae, channel="ui", data={"legal_name": "Déjà là SAS"})
    with pytest.raises(CommandError, match="already holds"):
        call_command("demo", "--size", "tiny", stdout=StringIO())
    assert Organisation.objects.count() == 1


# --- core.bulk ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_bulk_insert_fills_omitted_columns_and_logs_one_entry(cast: Any) -> None:
    rows = ((f"Bulk {n} SAS", f"bulk {n} sas") for n in range(1_234))
    written = bulk_insert(Organisation, ["legal_name", "name_key"], rows, batch=500)
    assert written == 1_234
    org = Organisation.objects.get(name_key="bulk 7 sas")
    assert (org.version, org.currency, org.status, org.description) == (1, "EUR", "suspect", "")
    assert org.created_at is not None and org.owner_id is None
    assert not LogEntry.objects.get_for_objects(Organisation.objects.all()).exists()  # no signals
    entry = log_bulk(actor=cast.admin, channel="import", model=Organisation, rows=written)
    entry.refresh_from_db()
    assert entry.action == LogEntry.Action.CREATE
    assert entry.object_pk == ""
    assert entry.additional_data == {"bulk": {"rows": 1_234}, "channel": "import"}
    assert entry.actor == cast.admin


@pytest.mark.django_db
def test_bulk_insert_is_all_or_nothing(cast: Any) -> None:
    rows = [(1, "Un SAS", "un sas"), (1, "Doublon SAS", "doublon sas")]  # the same id twice
    with pytest.raises(Exception), transaction.atomic():  # noqa: B017 - IntegrityError differs by backend
        bulk_insert(Organisation, ["id", "legal_name", "name_key"], rows)
    assert not Organisation.objects.exists()
