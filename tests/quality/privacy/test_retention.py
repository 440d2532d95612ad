"""Retention rules: a dry run lists exactly the contacts a run then anonymises; a second run
finds nothing; activity anywhere (the record, a verification, a related record) keeps a
contact; every run is in the journal with its counts."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from auditlog.models import LogEntry
from django.core.management import call_command
from django.urls import reverse

from cible.core.errors import PermissionDenied
from cible.people.models import Contact
from cible.people.services import contact_update
from cible.quality.privacy import retention
from cible.quality.privacy.models import PrivacyRequest, RetentionRule
from cible.quality.privacy.services import consent_record, retention_rule_save
from tests import factories

pytestmark = pytest.mark.django_db

LONG_AGO = dt.datetime(2022, 1, 10, 9, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)


@pytest.fixture
def rule(cast):
    return retention_rule_save(
        actor=cast.admin,
        channel="ui",
        data={"name": "36 mois sans consentement ni activité", "inactive_months": "36"},
    )


@pytest.fixture
def base(cast, meeting_model):
    """Contacts created in January 2022; some worked since, some not."""
    with time_machine.travel(LONG_AGO, tick=False):
        names = ["Dormant", "Sleeper", "Customer", "Consented", "Verified", "Met", "Recent"]
        people = {n: factories.contact(cast.ae, last_name=n) for n in names}
        contact_update(
            contact=people["Customer"],
            actor=cast.ae,
            channel="ui",
            data={"lifecycle_stage": "customer"},
        )
        consent_record(
            contact=people["Consented"],
            actor=cast.ae,
            channel="ui",
            contact_channel="email",
            purpose="events",
            status="granted",
        )
    with time_machine.travel(dt.datetime(2025, 6, 1, tzinfo=dt.UTC), tick=False):
        Contact.objects.filter(pk=people["Verified"].pk).update(
            last_verified_at=dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
        )
        meeting_model.objects.create(
            contact=people["Met"], subject="Salon", held_at=dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
        )
    with time_machine.travel(dt.datetime(2025, 12, 1, tzinfo=dt.UTC), tick=False):
        people["Recent"].job_title = "Acheteur"
        people["Recent"].save()
    return people


def test_the_dry_run_selects_the_inactive_without_consent_and_changes_nothing(cast, rule, base):
    with time_machine.travel(NOW, tick=False):
        dry = retention.retention_dry_run(rule=rule, actor=cast.admin, channel="ui")
    expected = {base["Dormant"].pk, base["Sleeper"].pk}
    assert dry.matched == 2 and set(dry.details["sample_ids"]) == expected
    assert dry.details["cutoff"].startswith("2023-03-01")
    assert Contact.objects.filter(anonymised_at__isnull=False).count() == 0
    assert dry.dry_run and dry.status == "done"


def test_the_run_anonymises_the_same_set_and_a_rerun_finds_nothing(cast, rule, base):
    with time_machine.travel(NOW, tick=False):
        dry = retention.retention_dry_run(rule=rule, actor=cast.admin, channel="ui")
        run = retention.retention_run_start(rule=rule, actor=cast.admin, channel="ui")
        again = retention.retention_run_start(rule=rule, actor=cast.admin, channel="ui")
    anonymised = set(
        Contact.objects.filter(anonymised_at__isnull=False).values_list("pk", flat=True)
    )
    assert anonymised == set(dry.details["sample_ids"])
    assert (run.status, run.matched, run.processed) == ("done", 2, 2)
    assert run.details["digest"] == dry.details["digest"]  # the very set of the dry run
    assert (again.matched, again.processed) == (0, 0)
    assert Contact.objects.count() == 7
    dormant = Contact.objects.get(pk=base["Dormant"].pk)
    assert dormant.last_name == f"Anonymised contact #{dormant.pk}"
    entry = LogEntry.objects.get_for_object(dormant).order_by("-pk").first()
    assert entry.additional_data["privacy"] == {"action": "retention", "request": run.pk}
    runs = LogEntry.objects.get_for_object(rule).filter(additional_data__privacy__isnull=False)
    assert sorted(e.additional_data["privacy"]["anonymised"] for e in runs) == [0, 0, 2]


def test_customers_are_kept_unless_the_rule_says_otherwise(cast, rule, base):
    retention_rule_save(
        actor=cast.admin, channel="ui", data={"exclude_customers": False}, rule=rule
    )
    with time_machine.travel(NOW, tick=False):
        ids = set(retention.candidates(rule).values_list("pk", flat=True))
    assert base["Customer"].pk in ids and base["Consented"].pk not in ids


def test_a_rule_on_withdrawn_consent_picks_those_who_objected(cast, base):
    with time_machine.travel(LONG_AGO, tick=False):
        consent_record(
            contact=base["Sleeper"],
            actor=cast.ae,
            channel="ui",
            contact_channel="phone",
            purpose=None,
            status="refused",
        )
    withdrawn = retention_rule_save(
        actor=cast.admin,
        channel="api",
        data={"name": "Objections", "consent": "withdrawn", "inactive_months": 24},
    )
    with time_machine.travel(NOW, tick=False):
        assert list(retention.candidates(withdrawn)) == [Contact.objects.get(pk=base["Sleeper"].pk)]


def test_the_nightly_sweep_runs_active_rules_only(cast, rule, base):
    with time_machine.travel(NOW, tick=False):
        assert retention.retention_run_active() == []
        retention_rule_save(actor=cast.admin, channel="ui", data={"is_active": True}, rule=rule)
        [done] = retention.retention_run_active()
    assert (done.processed, done.channel, done.actor) == (2, "job", None)


def test_only_administrators_run_rules(cast, rule, client_for):
    with pytest.raises(PermissionDenied):
        retention.retention_dry_run(rule=rule, actor=cast.manager, channel="ui")
    with pytest.raises(PermissionDenied):
        retention_rule_save(actor=cast.ae, channel="ui", data={"name": "x", "inactive_months": 1})
    response = client_for(cast.manager).post(reverse("privacy:rule_run", args=[rule.pk]))
    assert response.status_code == 404
    assert not PrivacyRequest.objects.exists()


def test_bad_rules_are_refused_with_each_field_named(cast):
    from cible.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as failure:
        retention_rule_save(
            actor=cast.admin,
            channel="ui",
            data={
                "name": "",
                "consent": "sometimes",
                "inactive_months": "0",
                "is_active": "peut-être",
            },
        )
    fields = {e.field for e in failure.value.errors}
    assert fields == {"name", "consent", "inactive_months", "is_active"}
    assert not RetentionRule.objects.exists()


def test_the_command_line_dry_runs_and_runs(cast, rule, base, capsys):
    retention_rule_save(actor=cast.admin, channel="ui", data={"is_active": True}, rule=rule)
    with time_machine.travel(NOW, tick=False):
        call_command("privacy", "retention", "--dry-run")
        assert "2 contacts would be anonymised" in capsys.readouterr().out
        call_command("privacy", "retention", "--rule", str(rule.pk))
        assert "2 of 2 contacts anonymised" in capsys.readouterr().out
    assert Contact.objects.filter(anonymised_at__isnull=False).count() == 2
    assert PrivacyRequest.objects.filter(channel="cli").count() == 2


def test_the_pages_show_the_dry_run_sample_and_the_run(cast, rule, base, client_for):
    client = client_for(cast.admin)
    home = client.get(reverse("privacy:home")).content.decode()
    assert rule.name in home
    with time_machine.travel(NOW, tick=False):
        response = client.post(reverse("privacy:rule_dry_run", args=[rule.pk]), follow=True)
    page = response.content.decode()
    assert "Dormant" in page and "Sleeper" in page and "Recent" not in page
    assert 'id="request-matched">2<' in page
    with time_machine.travel(NOW, tick=False):
        response = client.post(reverse("privacy:rule_run", args=[rule.pk]), follow=True)
    assert 'id="request-processed">2<' in response.content.decode()


def test_a_grant_overridden_by_a_later_unsubscribe_no_longer_protects(cast, rule, base):
    with time_machine.travel(LONG_AGO + dt.timedelta(days=1), tick=False):
        consent_record(
            contact=base["Consented"],
            actor=cast.ae,
            channel="ui",
            contact_channel="email",
            purpose=None,
            status="withdrawn",
            source="email_unsubscribe",
        )
    with time_machine.travel(NOW, tick=False):
        ids = set(retention.candidates(rule).values_list("pk", flat=True))
    assert base["Consented"].pk in ids
