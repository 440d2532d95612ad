"""Imports write in bulk, without the model signals the tally listens to: the dashboard still
counts what an import filled, created or closed as soon as the import is done."""

from __future__ import annotations

from typing import Any

import pytest

from cible.quality.freshness import selectors, tally
from cible.quality.freshness.selectors import EntityFigures
from tests import factories
from tests.quality.imports.engine_support import imported, var_dir  # noqa: F401

pytestmark = pytest.mark.django_db

MARTIN, ACME = "356000000", "552100554"  # valid SIRENs (Luhn)


def figures(viewer: Any) -> dict[str, EntityFigures]:
    tally.tally_catch_up()
    fresh = type(viewer).objects.get(pk=viewer.pk)  # the access policy is cached on a user
    return {f.entity: f for f in selectors.dashboard(viewer=fresh).entities}


def field(f: EntityFigures, name: str) -> tuple[int, int]:
    found = next(x for x in f.fields if x.name == name)
    return found.filled, found.expected


def reasons(f: EntityFigures) -> dict[str, int]:
    return {r.code: r.count for r in f.reasons}


def test_fields_filled_by_an_import_count_at_once(cast: Any) -> None:
    factories.organisation(cast.ae, legal_name="Boulangerie Martin", siren=MARTIN)
    factories.organisation(cast.ae, legal_name="Acme", siren=ACME)
    before = figures(cast.admin)["organisation"]
    assert (field(before, "domain"), field(before, "phone")) == ((0, 2), (0, 2))

    run = imported(
        cast.ae,
        [["SIREN", "Site web", "Téléphone"], [MARTIN, "https://www.boulangerie-martin.fr", ""]],
        key="siren",
        mapping={"SIREN": "siren", "Site web": "website", "Téléphone": "phone"},
    )
    assert run.counts["updated"] == 1

    after = figures(cast.admin)["organisation"]
    assert (field(after, "domain"), field(after, "phone")) == ((1, 2), (0, 2))
    assert after.total == 2


def test_records_created_by_an_import_count_at_once(cast: Any) -> None:
    factories.organisation(cast.ae, legal_name="Boulangerie Martin", siren=MARTIN)
    assert figures(cast.admin)["organisation"].total == 1

    imported(
        cast.ae,
        [["Raison sociale", "SIREN", "Site web"], ["Acme", ACME, "https://acme.fr"]],
        key="siren",
        mapping={"Raison sociale": "legal_name", "SIREN": "siren", "Site web": "website"},
    )

    after = figures(cast.admin)["organisation"]
    assert after.total == 2
    assert field(after, "domain") == (1, 2)


def test_an_organisation_closed_by_an_import_makes_its_contacts_stale(cast: Any) -> None:
    account = factories.organisation(cast.ae, legal_name="Boulangerie Martin", siren=MARTIN)
    factories.contact(
        cast.ae, last_name="Martin", email="jeanne@martin.fr", organisation=account.pk
    )
    assert reasons(figures(cast.admin)["contact"]).get("closed", 0) == 0

    imported(
        cast.ae,
        [["SIREN", "Statut"], [MARTIN, "closed"]],
        key="siren",
        mapping={"SIREN": "siren", "Statut": "status"},
        policy="overwrite",
    )

    f = figures(cast.admin)
    assert reasons(f["organisation"])["closed"] == 1
    assert reasons(f["contact"])["closed"] == 1
