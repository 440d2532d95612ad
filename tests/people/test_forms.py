"""Forms: inline validation as the user types, messages next to fields, nothing half-saved."""

from __future__ import annotations

import pytest

from cible.people.models import Organisation

pytestmark = pytest.mark.django_db


def test_inline_validation_names_the_problem(cast, client_for):
    client = client_for(cast.ae)
    page = client.post(
        "/organisations/validate/", {"field": "siren", "siren": "123456789"}
    ).content.decode()
    assert "field-error" in page and "SIREN" in page


def test_inline_validation_shows_the_stored_form(cast, client_for):
    client = client_for(cast.ae)
    page = client.post(
        "/organisations/validate/", {"field": "phone", "phone": "01 44 55 66 77"}
    ).content.decode()
    assert "+33144556677" in page
    page = client.post(
        "/contacts/validate/", {"field": "email", "email": "Jean@Acme.FR"}
    ).content.decode()
    assert "jean@acme.fr" in page


def test_form_is_wired_for_inline_validation(cast, client_for):
    page = client_for(cast.ae).get("/organisations/new/").content.decode()
    assert 'hx-post="/organisations/validate/"' in page and 'id="feedback-siren"' in page


def test_invalid_form_shows_messages_and_saves_nothing(cast, client_for):
    response = client_for(cast.ae).post(
        "/organisations/new/", {"legal_name": "Acme", "siren": "123456789", "country": "Atlantis"}
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert 'data-field="siren"' in page and 'data-field="country"' in page
    assert 'value="Acme"' in page  # what was typed is kept
    assert Organisation.objects.count() == 0


def test_valid_form_creates_and_redirects(cast, client_for):
    response = client_for(cast.ae).post(
        "/organisations/new/",
        {"legal_name": "Acme", "siren": "732 829 320", "postal_code": "59000", "city": "Lille"},
    )
    org = Organisation.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/organisations/{org.pk}/"
    assert (org.siren, org.region, org.owner) == ("732829320", "FR-HDF", cast.ae)


def test_outsider_cannot_open_the_edit_form_of_a_private_record(cast, team_private, client_for):
    org = Organisation.objects.create(legal_name="Hidden", name_key="hidden", owner=cast.ae)
    assert (
        client_for(cast.outsider)
        .post(f"/organisations/{org.pk}/edit/", {"legal_name": "Mine"})
        .status_code
        == 404
    )
    assert Organisation.objects.get(pk=org.pk).legal_name == "Hidden"


def test_mark_as_verified_stamps_today_and_is_audited(cast, client_for):
    from auditlog.models import LogEntry

    org = Organisation.objects.create(legal_name="Acme", name_key="acme", owner=cast.ae)
    client = client_for(cast.ae)
    assert 'id="verify"' in client.get(f"/organisations/{org.pk}/").content.decode()
    assert client.post(f"/organisations/{org.pk}/verify/").status_code == 302
    org.refresh_from_db()
    assert org.last_verified_at is not None and org.version == 2
    entry = LogEntry.objects.get_for_object(org).get(action=LogEntry.Action.UPDATE)
    assert "last_verified_at" in entry.changes_dict and entry.actor == cast.ae


def test_the_contact_form_saves_the_buying_role_and_the_page_shows_it(cast, client_for):
    from cible.people.models import Contact

    client = client_for(cast.ae)
    form = client.get("/contacts/new/").content.decode()
    # The cast works in French.
    assert '<option value="economic_buyer">Acheteur économique (budget)</option>' in form
    response = client.post(
        "/contacts/new/", {"last_name": "Durand", "buying_role": "decision_maker"}
    )
    contact = Contact.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/contacts/{contact.pk}/"
    assert contact.buying_role == "decision_maker"
    page = client.get(f"/contacts/{contact.pk}/").content.decode()
    assert "Rôle d'achat</dt>" in page and "Décideur" in page

    edit = client.get(f"/contacts/{contact.pk}/edit/").content.decode()
    assert '<option value="decision_maker" selected>Décideur</option>' in edit
    response = client.post(
        f"/contacts/{contact.pk}/edit/",
        {"last_name": "Durand", "buying_role": "", "version": contact.version},
    )
    assert response.status_code == 302
    contact.refresh_from_db()
    assert (contact.buying_role, contact.version) == ("", 2)  # back to unknown


def test_the_contact_list_filters_on_the_buying_role(cast, client_for):
    from tests import factories

    factories.contact(cast.ae, last_name="Durand", buying_role="economic_buyer")
    factories.contact(cast.ae, last_name="Leroy", buying_role="user")
    factories.contact(cast.ae, last_name="Petit")
    client = client_for(cast.ae)
    response = client.get("/contacts/", {"buying_role": "economic_buyer"})
    assert [c.last_name for c in response.context["page"].object_list] == ["Durand"]
    assert 'name="buying_role"' in response.content.decode()
