"""Organisations and contacts: normalised on the way in, refused with named reasons when wrong."""

from __future__ import annotations

import pytest

from cible.core.errors import PermissionDenied, ValidationFailed
from cible.people.models import Contact, Organisation
from cible.people.services import contact_create, organisation_update
from tests import factories

pytestmark = pytest.mark.django_db


def _fields(error: ValidationFailed) -> dict[str, str]:
    return {e.field: e.message for e in error.errors}


def test_organisation_is_normalised_and_derived_fields_follow(cast):
    org = factories.organisation(
        cast.ae,
        legal_name="  acme   industrie ",
        siren="732 829 320",
        vat_number="fr 40 303265045",
        website="WWW.Acme-Industrie.fr/contact",
        phone="04 91 00 00 00",
        postal_code="13001",
        city="Marseille",
        country="france",
        headcount="1 200",
        naf_code="6201Z",
        annual_revenue="1 234 567,89",
        installed_products="",
    )
    assert org.legal_name == "Acme Industrie"
    assert (org.siren, org.vat_number, org.domain) == (
        "732829320",
        "FR40303265045",
        "acme-industrie.fr",
    )
    assert (org.phone, org.country, org.region) == ("+33491000000", "FR", "FR-PAC")
    assert (org.headcount, org.headcount_band, org.size_class) == (1200, "1000-4999", "eti")
    assert (org.naf_code, org.naf_division, org.naf_section) == ("62.01Z", "62", "J")
    assert str(org.annual_revenue) == "1234567.89"
    assert org.name_key == "acme industrie"
    assert org.owner == cast.ae
    assert "Programmation" in org.sector_label("fr") and "programming" in org.sector_label("en")


def test_every_bad_field_is_named_and_nothing_is_written(cast):
    with pytest.raises(ValidationFailed) as failure:
        factories.organisation(
            cast.ae,
            legal_name="x" * 10_000,
            siren="123456789",
            vat_number="FR00",
            phone="12",
            country="Atlantis",
            naf_code="00.00Z",
            headcount="many",
            website="not a url",
        )
    fields = _fields(failure.value)
    assert set(fields) >= {
        "legal_name",
        "siren",
        "vat_number",
        "phone",
        "country",
        "naf_code",
        "headcount",
        "website",
    }
    assert "too long" in fields["legal_name"]
    assert Organisation.objects.count() == 0


def test_unknown_fields_are_refused(cast):
    with pytest.raises(ValidationFailed) as failure:
        factories.organisation(cast.ae, legal_name="Acme", favourite_colour="blue")
    assert "favourite_colour" in _fields(failure.value)


def test_siret_must_match_siren(cast):
    with pytest.raises(ValidationFailed) as failure:
        factories.organisation(
            cast.ae, legal_name="Acme", siren="732829320", siret="55208131766522"
        )
    assert "siret" in _fields(failure.value)


def test_siren_is_taken_from_siret(cast):
    org = factories.organisation(cast.ae, legal_name="Acme", siret="732 829 320 00074")
    assert org.siren == "732829320"


def test_parent_cannot_be_a_descendant(cast):
    group = factories.organisation(cast.ae, legal_name="Group")
    subsidiary = factories.organisation(cast.ae, legal_name="Sub", parent=group.pk)
    with pytest.raises(ValidationFailed) as failure:
        organisation_update(
            organisation=group, actor=cast.ae, channel="ui", data={"parent": subsidiary.pk}
        )
    assert "parent" in _fields(failure.value)


def test_contact_is_normalised(cast):
    org = factories.organisation(cast.ae, legal_name="Acme")
    contact = contact_create(
        actor=cast.ae,
        channel="ui",
        data={
            "first_name": "JEAN-PIERRE",
            "last_name": "de la fontaine",
            "email": " Jean.Pierre@ACME.fr ",
            "phone": "+44 20 7946 0958",
            "mobile": "06.12.34.56.78",
            "organisation": org.pk,
            "email_opt_out": "oui",
        },
    )
    assert (contact.first_name, contact.last_name) == ("Jean-Pierre", "de la Fontaine")
    assert contact.email == "jean.pierre@acme.fr"
    assert (contact.phone, contact.mobile) == ("+442079460958", "+33612345678")
    assert contact.email_opt_out and contact.opted_out_at is not None


def test_contact_cannot_be_linked_to_an_organisation_the_user_cannot_see(cast, team_private):
    hidden = factories.organisation(cast.outsider, legal_name="Lyon Only")
    with pytest.raises(ValidationFailed) as failure:
        contact_create(
            actor=cast.ae, channel="ui", data={"last_name": "X", "organisation": hidden.pk}
        )
    assert "organisation" in _fields(failure.value)
    assert Contact.objects.count() == 0


def test_outsider_cannot_change_a_private_record(cast, team_private):
    org = factories.organisation(cast.ae, legal_name="Acme")
    with pytest.raises(PermissionDenied):
        organisation_update(organisation=org, actor=cast.outsider, channel="ui", data={"city": "X"})
