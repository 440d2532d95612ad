"""A forbidden record is absent everywhere: lists, counts, detail pages, search, exports."""

from __future__ import annotations

import csv
import io

import pytest

from cible.core import access, search
from cible.people.models import Organisation
from cible.pipeline.models import Opportunity
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def paris_account(cast):
    org = factories.organisation(
        cast.ae,
        legal_name="Bijouterie Parisienne",
        siren="732829320",
        phone="01 44 55 66 77",
        website="bijoux-paris.fr",
    )
    factories.contact(
        cast.ae,
        first_name="Zoé",
        last_name="Zimmer",
        email="zoe@bijoux-paris.fr",
        phone="06 11 22 33 44",
        organisation=org.pk,
    )
    factories.opportunity(cast.ae, org, name="Bijouterie CRM", one_time_amount="48000")
    return org


def _export_rows(client, url):
    response = client.get(url)
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


def test_outsider_does_not_see_other_teams_private_accounts(
    cast, team_private, paris_account, client_for
):
    outsider = client_for(cast.outsider)
    listing = outsider.get("/organisations/")
    assert "Bijouterie Parisienne" not in listing.content.decode()
    assert access.visible(cast.outsider, Organisation.objects.all()).count() == 0
    assert outsider.get(f"/organisations/{paris_account.pk}/").status_code == 404
    assert outsider.get(f"/organisations/{paris_account.pk}/edit/").status_code == 404
    assert outsider.get(f"/organisations/{paris_account.pk}/history/").status_code == 404
    for text in [
        "Bijou",
        "732 829 320",
        "01 44 55 66 77",
        "bijoux-paris.fr",
        "zoe@bijoux-paris.fr",
        "+33611223344",
    ]:
        assert search.search(cast.outsider, text).total == 0, text
        page = outsider.get("/search/", {"q": text}).content.decode()
        assert "Bijouterie" not in page.split('id="search-results"')[1]
    rows = _export_rows(outsider, "/organisations/export.csv")
    assert len(rows) == 1  # the header only
    assert len(_export_rows(outsider, "/contacts/export.csv")) == 1
    assert len(_export_rows(outsider, "/opportunities/export.csv")) == 1
    assert outsider.get("/home/count/organisations/").content.decode() == "0"
    assert outsider.get("/home/count/contacts/").content.decode() == "0"


def test_teammates_and_manager_see_the_teams_accounts(cast, team_private, paris_account):
    for member in (cast.ae2, cast.sdr, cast.manager, cast.admin):
        assert access.visible(member, Organisation.objects.all()).count() == 1, member
        assert search.search(member, "Bijou").total >= 1


def test_shared_policy_lets_everyone_see_accounts_but_not_other_teams_deals(cast, paris_account):
    assert access.visible(cast.outsider, Organisation.objects.all()).count() == 1
    assert (
        access.visible(cast.outsider, Opportunity.objects.all()).count() == 0
    )  # pipeline is private by default
    assert access.visible(cast.ae2, Opportunity.objects.all()).count() == 1


def test_marketing_sees_contacts_but_not_deal_amounts(
    cast, team_private, paris_account, client_for
):
    marketer = client_for(cast.marketer)
    assert access.visible(cast.marketer, Organisation.objects.all()).count() == 1
    assert access.visible(cast.marketer, Opportunity.objects.all()).count() == 1
    assert not access.amounts_visible(cast.marketer)
    deal = Opportunity.objects.get()
    page = marketer.get(f"/opportunities/{deal.pk}/").content.decode()
    assert "48" not in page.split('id="one-time-amount"')[-1][:40]
    assert 'id="one-time-amount"' not in page
    rows = _export_rows(marketer, "/opportunities/export.csv")
    assert rows[0] and not any(
        "amount" in header.lower() or "montant" in header.lower() for header in rows[0]
    )
    assert all("48000" not in cell for row in rows for cell in row)
    listing = marketer.get("/opportunities/", {"sort": "-one_time_amount"}).content.decode()
    assert "48" not in listing.split("record-table")[1] if "record-table" in listing else True


def test_granted_marketer_sees_amounts(cast, paris_account):
    cast.marketer.profile.sees_deal_amounts = True
    cast.marketer.profile.save()
    assert access.amounts_visible(cast.marketer)


def test_marketing_cannot_change_deals(cast, paris_account):
    deal = Opportunity.objects.get()
    assert access.can(cast.marketer, "view", deal)
    assert not access.can(cast.marketer, "change", deal)
    assert access.can(cast.ae2, "change", deal)
    assert not access.can(cast.outsider, "change", deal)


def test_anonymous_sees_nothing(db, paris_account, client):
    assert client.get("/organisations/").status_code == 302
    assert client.get("/organisations/export.csv").status_code == 302
