import pytest

from cible.people.services import contact_create, organisation_create
from cible.pipeline.services import opportunity_create


@pytest.mark.django_db
def test_pages_render(cast, client_for):
    org = organisation_create(
        actor=cast.ae,
        channel="ui",
        data={
            "legal_name": "Acme SAS",
            "siren": "732 829 320",
            "postal_code": "75008",
            "city": "Paris",
            "country": "France",
            "headcount": "120",
            "naf_code": "6201Z",
            "website": "www.acme.fr",
        },
    )
    contact = contact_create(
        actor=cast.ae,
        channel="ui",
        data={
            "first_name": "jean",
            "last_name": "DUPONT",
            "email": "Jean.Dupont@Acme.fr",
            "phone": "01 23 45 67 89",
            "organisation": org.pk,
        },
    )
    opp = opportunity_create(
        actor=cast.ae,
        channel="ui",
        data={
            "name": "Acme CRM",
            "organisation": org.pk,
            "one_time_amount": "12 000",
            "recurring_amount": "1 500,50",
        },
    )
    client = client_for(cast.ae)
    for url in [
        "/",
        "/organisations/",
        f"/organisations/{org.pk}/",
        f"/organisations/{org.pk}/edit/",
        "/organisations/new/",
        "/contacts/",
        f"/contacts/{contact.pk}/",
        "/opportunities/",
        f"/opportunities/{opp.pk}/",
        f"/organisations/{org.pk}/history/",
        "/search/?q=acme",
        "/search/?q=0123456789",
        "/organisations/export.csv",
        "/settings/tokens/",
        "/opportunities/new/",
        f"/opportunities/{opp.pk}/edit/",
        f"/contacts/{contact.pk}/edit/",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
    assert org.region == "FR-IDF" and org.size_class == "pme" and org.domain == "acme.fr"
    assert contact.phone == "+33123456789" and contact.first_name == "Jean"
