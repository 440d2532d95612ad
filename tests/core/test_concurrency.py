"""Two people editing the same record never silently overwrite each other."""

from __future__ import annotations

import pytest

from cible.core.errors import ConflictError
from cible.people.models import Organisation
from cible.people.services import organisation_update
from tests import factories

pytestmark = pytest.mark.django_db


def test_second_of_two_conflicting_saves_is_refused_and_nothing_is_overwritten(cast):
    org = factories.organisation(cast.ae, legal_name="Acme", city="Paris")
    alice_copy = Organisation.objects.get(pk=org.pk)
    basile_copy = Organisation.objects.get(pk=org.pk)
    organisation_update(organisation=alice_copy, actor=cast.ae, channel="ui", data={"city": "Lyon"})
    with pytest.raises(ConflictError) as conflict:
        organisation_update(
            organisation=basile_copy, actor=cast.ae2, channel="ui", data={"city": "Lille"}
        )
    assert "your version 1, now 2" in str(conflict.value)
    stored = Organisation.objects.get(pk=org.pk)
    assert (stored.city, stored.version) == ("Lyon", 2)


def test_form_shows_conflict_message_with_409(cast, client_for):
    org = factories.organisation(cast.ae, legal_name="Acme", city="Paris")
    alice, basile = client_for(cast.ae), client_for(cast.ae2)
    form = {"legal_name": "Acme", "version": "1"}
    assert alice.post(f"/organisations/{org.pk}/edit/", {**form, "city": "Lyon"}).status_code == 302
    response = basile.post(f"/organisations/{org.pk}/edit/", {**form, "city": "Lille"})
    assert response.status_code == 409
    assert 'id="conflict-message"' in response.content.decode()
    assert Organisation.objects.get(pk=org.pk).city == "Lyon"


def test_a_save_based_on_the_latest_version_goes_through(cast):
    org = factories.organisation(cast.ae, legal_name="Acme")
    organisation_update(organisation=org, actor=cast.ae, channel="ui", data={"city": "Lyon"})
    organisation_update(organisation=org, actor=cast.ae, channel="ui", data={"city": "Lille"})
    assert Organisation.objects.get(pk=org.pk).version == 3
