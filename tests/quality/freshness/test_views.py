"""The pages: dashboard, stale lists with bulk actions, my tasks, staleness rules."""

from __future__ import annotations

import re
from typing import Any

import pytest

from cible.quality.freshness.models import FreshnessPolicy, VerificationTask
from tests.quality.freshness.conftest import Base

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english_pages(cast: Any) -> None:
    """Pages follow the user's profile language (French by default); these tests read English."""
    from cible.people.models import UserProfile

    UserProfile.objects.update(language="en")


def text(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_dashboard_shows_figures_charts_and_owners(cast: Any, base: Base, client_for: Any) -> None:
    response = client_for(cast.admin).get("/quality/")
    assert response.status_code == 200
    page = text(response)
    assert 'data-figure="stale">4<' in page
    assert '<tr data-owner="' + str(cast.ae.pk) + '">' in page
    trend = response.context["charts"]["trend_counts"]
    assert trend["series"][0]["values"] == [4]  # the live point: 4 stale organisations
    completeness = response.context["charts"]["completeness_organisation"]
    assert completeness["labels"][0] == "SIREN (French organisations)"
    assert completeness["values"][0] == 50.0


def test_dashboard_in_french(cast: Any, base: Base, client_for: Any) -> None:
    from cible.people.services import profile_set_language

    profile_set_language(user=cast.ae, language="fr")
    response = client_for(cast.ae).get("/quality/")
    assert response.status_code == 200
    assert '<html lang="fr">' in response.content.decode()


def test_dashboard_query_count_does_not_grow_with_owners(
    cast: Any, base: Base, client_for: Any, django_assert_max_num_queries: Any
) -> None:
    client = client_for(cast.admin)
    client.get("/quality/")
    with django_assert_max_num_queries(40):
        client.get("/quality/")


def test_stale_list_shows_reasons_and_filters_by_owner(
    cast: Any, base: Base, client_for: Any
) -> None:
    client = client_for(cast.manager)
    page = text(client.get(f"/quality/stale/contact/?owner={cast.ae.pk}"))
    for name in ("Rebond", "Parti", "Ferme"):
        assert name in page
    assert "Lyonnais" not in page
    assert 'data-reason="bounced">Email bounced<' in page
    only_left = text(client.get(f"/quality/stale/contact/?owner={cast.ae.pk}&reason=left"))
    assert "Parti" in only_left and "Rebond" not in only_left
    assert client.get("/quality/stale/lead/").status_code == 404


def test_bulk_actions_from_the_stale_list(cast: Any, base: Base, client_for: Any) -> None:
    client = client_for(cast.manager)
    response = client.post(
        "/quality/stale/organisation/tasks/",
        {"scope": "owner", "owner": str(cast.ae.pk), "next": "/quality/"},
        follow=True,
    )
    assert "3 verification tasks created (Alice Martin: 3)." in text(response)
    response = client_for(cast.ae).post(
        "/quality/stale/organisation/verify/",
        {"ids": [base.old_org.pk, base.never_org.pk]},
        follow=True,
    )
    assert "2 records marked as verified today." in text(response)
    assert VerificationTask.objects.filter(done_at__isnull=True).count() == 1
    response = client.post("/quality/stale/organisation/verify/", {}, follow=True)
    assert "select at least one record" in text(response)


def test_my_tasks_and_quick_actions(cast: Any, base: Base, client_for: Any) -> None:
    client_for(cast.manager).post(
        "/quality/stale/contact/tasks/", {"scope": "selected", "ids": [base.left_contact.pk]}
    )
    client = client_for(cast.ae)
    page = text(client.get("/quality/tasks/"))
    assert "Parti" in page and "Has left the organisation" in page
    task = VerificationTask.objects.get()
    response = client.post(f"/quality/tasks/{task.pk}/verify/", follow=True)
    assert "Parti: has left the organisation." in text(response)  # as the record says
    assert "Nothing to verify" in text(client.get("/quality/tasks/"))
    assert "Parti" in text(client.get("/quality/tasks/?done=1"))
    assert client_for(cast.outsider).post(f"/quality/tasks/{task.pk}/verify/").status_code == 302


def test_only_administrators_change_the_rules(cast: Any, client_for: Any) -> None:
    assert client_for(cast.manager).get("/quality/rules/").status_code == 404
    client = client_for(cast.admin)
    assert client.get("/quality/rules/").status_code == 200
    bad = client.post(
        "/quality/rules/",
        {
            "organisation_max_age_days": "douze mois",
            "contact_max_age_days": "365",
            "never_verified_grace_days": "90",
            "task_due_days": "14",
        },
    )
    assert bad.status_code == 422
    assert "“douze mois” is not a whole number" in text(bad)
    good = client.post(
        "/quality/rules/",
        {
            "organisation_max_age_days": "180",
            "contact_max_age_days": "1 095",
            "never_verified_grace_days": "30",
            "task_due_days": "7",
            "email_bounced": "on",
        },
    )
    assert good.status_code == 302
    policy = FreshnessPolicy.current()
    assert (policy.organisation_max_age_days, policy.contact_max_age_days) == (180, 1095)
    assert policy.email_bounced and not policy.contact_left and not policy.organisation_closed


def test_admin_takes_a_snapshot_and_asks_for_a_recomputation(
    cast: Any, base: Base, client_for: Any
) -> None:
    client = client_for(cast.admin)
    assert "Today&#x27;s snapshot was taken" in text(client.post("/quality/snapshot/", follow=True))
    assert client_for(cast.ae).post("/quality/snapshot/").status_code == 404
    assert "being recomputed" in text(client.post("/quality/refresh/", follow=True))


@pytest.mark.parametrize(
    "member", ["admin", "manager", "ae", "ae2", "sdr", "outsider", "marketer", "csm"]
)
def test_every_role_opens_every_page(
    cast: Any, base: Base, client_for: Any, team_private: Any, member: str
) -> None:
    client = client_for(getattr(cast, member))
    for url in (
        "/quality/",
        "/quality/stale/organisation/",
        "/quality/stale/contact/?reason=bounced",
        "/quality/tasks/",
        "/quality/tasks/?done=1",
    ):
        assert client.get(url).status_code == 200, url
