"""Every create, change, delete and export is logged with who, when, what and the channel."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry

from cible.people.services import organisation_delete, organisation_update
from tests import factories

pytestmark = pytest.mark.django_db


def test_create_and_change_are_logged_with_actor_channel_and_values(cast):
    org = factories.organisation(cast.ae, legal_name="Acme", city="Paris")
    organisation_update(organisation=org, actor=cast.ae2, channel="api", data={"city": "Lyon"})
    entries = list(LogEntry.objects.get_for_object(org).order_by("timestamp"))
    assert [e.action for e in entries] == [LogEntry.Action.CREATE, LogEntry.Action.UPDATE]
    created, changed = entries
    assert created.actor == cast.ae and created.additional_data["channel"] == "ui"
    assert changed.actor == cast.ae2 and changed.additional_data["channel"] == "api"
    assert changed.changes_dict["city"] == ["Paris", "Lyon"]
    assert "version" not in changed.changes_dict


def test_delete_is_logged(cast):
    org = factories.organisation(cast.ae, legal_name="Acme")
    pk = org.pk
    organisation_delete(organisation=org, actor=cast.ae, channel="cli")
    entry = LogEntry.objects.filter(object_pk=str(pk), action=LogEntry.Action.DELETE).get()
    assert entry.actor == cast.ae and entry.additional_data["channel"] == "cli"


def test_export_is_logged_with_the_filter_and_row_count(cast, client_for):
    factories.organisation(cast.ae, legal_name="Acme", postal_code="75008")
    factories.organisation(cast.ae, legal_name="Beta", postal_code="69003")
    response = client_for(cast.ae).get("/organisations/export.csv", {"region": "FR-IDF"})
    b"".join(response.streaming_content)
    entry = LogEntry.objects.filter(action=LogEntry.Action.ACCESS).get()
    assert entry.actor == cast.ae
    assert entry.additional_data["export"] == {"rows": 1, "query": "region=FR-IDF"}


def test_history_tab_shows_old_and_new_values(cast, client_for):
    org = factories.organisation(cast.ae, legal_name="Acme", city="Paris")
    organisation_update(organisation=org, actor=cast.ae, channel="ui", data={"city": "Lyon"})
    page = client_for(cast.ae).get(f"/organisations/{org.pk}/history/").content.decode()
    assert "Paris" in page and "Lyon" in page and "Alice Martin" in page
