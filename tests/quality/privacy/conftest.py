"""A person with a past: a contact whose details changed, who consented and objected, whose
organisation has deals — the material every privacy test needs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.apps import apps
from django.db import connection, models

from cible.people.models import Contact, UserProfile
from cible.people.services import contact_update
from cible.quality.privacy.services import consent_record
from tests import factories
from tests.api.conftest import api_for  # noqa: F401 - the API fixture, for these tests too

GWEN = {
    "first_name": "Gwénaëlle",
    "last_name": "Quesnel-Barbier",
    "email": "gwen.qb@ancien-fournisseur.fr",  # her address before she changed jobs
    "secondary_email": "gwenaelle.perso@exemple.org",
    "phone": "02 98 44 12 34",
    "mobile": "06 71 23 45 99",
    "job_title": "Directrice des achats",
    "linkedin_url": "https://www.linkedin.com/in/gwenaelle-quesnel-barbier",
}
NEW_EMAIL = "g.quesnel-barbier@forges-kerhuel.fr"
PROOF_IP = "198.51.100.23"


@pytest.fixture
def account(cast: Any) -> Any:
    return factories.organisation(cast.ae, legal_name="Forges de Kerhuel SAS", city="Brest")


@pytest.fixture
def gwen(cast: Any, account: Any) -> Contact:
    """Owned by Alice (AE Paris). Changed email once, consented to the newsletter on a web form,
    then ticked "opted out of calls" on her record."""
    contact = factories.contact(cast.ae, organisation=account.pk, **GWEN)
    contact_update(contact=contact, actor=cast.ae, channel="ui", data={"email": NEW_EMAIL})
    consent_record(
        contact=contact,
        actor=cast.ae,
        channel="ui",
        contact_channel="email",
        purpose="marketing",
        status="granted",
        source="form",
        proof={
            "form": "Livre blanc CRM 2026",
            "text": "J'accepte de recevoir la newsletter mensuelle.",
            "ip": PROOF_IP,
            "email": NEW_EMAIL,
        },
    )
    contact.refresh_from_db()
    contact_update(contact=contact, actor=cast.ae, channel="ui", data={"phone_opt_out": True})
    contact.refresh_from_db()
    return contact


def personal_values() -> list[str]:
    """What must vanish everywhere: her names, every email and phone she had (as stored)."""
    return [
        GWEN["first_name"],
        GWEN["last_name"],
        GWEN["email"],
        NEW_EMAIL,
        GWEN["secondary_email"],
        "+33298441234",
        "+33671234599",
        PROOF_IP,
    ]


def rows_mentioning(values: list[str]) -> list[tuple[str, str, str]]:
    """(table, column, value) of every cell of every table holding one of `values`, compared
    case-insensitively, also as JSON stores non-ASCII text (é → \\u00e9)."""
    needles = set()
    for value in values:
        needles.add(value.lower())
        needles.add(json.dumps(value)[1:-1].lower())
    found = []
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {quote(table)}")
            columns = [d[0] for d in cursor.description]
            for row in cursor.fetchall():
                for column, cell in zip(columns, row, strict=True):
                    if isinstance(cell, bytes | memoryview):
                        text = bytes(cell).decode("utf-8", "replace")
                    elif isinstance(cell, dict | list):
                        text = json.dumps(cell)
                    elif isinstance(cell, str):
                        text = cell
                    else:
                        continue
                    lowered = text.lower()
                    hits = [n for n in needles if n in lowered]
                    if hits:
                        found.append((table, column, hits[0]))
    return found


# --- a related record of a later issue, found generically -----------------------------------------


@pytest.fixture(scope="module")
def meeting_model(django_db_setup: Any, django_db_blocker: Any) -> Iterator[type[models.Model]]:
    """A model that points at contacts, as later issues' interactions will: the privacy code must
    find it through `Contact._meta.related_objects` without naming it."""

    class Meeting(models.Model):
        contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="meetings")
        subject = models.CharField(max_length=200)
        held_at = models.DateTimeField()

        class Meta:
            # An installed app without models of its own: `_meta.related_objects` only looks
            # at installed apps. Unregistered again when the module's tests are done.
            app_label = "demo"
            db_table = "privacy_test_meeting"

        def __str__(self) -> str:  # quotes the person: audit entries keep this label
            return f"{self.subject} ({self.contact})"

    apps.clear_cache()
    with django_db_blocker.unblock(), connection.schema_editor() as editor:
        editor.create_model(Meeting)
    try:
        yield Meeting
    finally:
        with django_db_blocker.unblock(), connection.schema_editor() as editor:
            editor.delete_model(Meeting)
        del apps.all_models["demo"]["meeting"]
        apps.clear_cache()


@pytest.fixture(autouse=True)
def pages_in_english(request: pytest.FixtureRequest) -> None:
    """Pages follow the user's profile language; these tests read the English wording."""
    if "cast" in request.fixturenames:
        request.getfixturevalue("cast")
        UserProfile.objects.update(language="en")
