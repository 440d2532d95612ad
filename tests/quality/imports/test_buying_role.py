"""Contacts' buying roles brought in by a file: the column is recognised by its header in French
and English, labels become codes like the seniority's, and a value that is no role is refused
naming its row and its column."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import translation

from cible.people.models import Contact, ContactBuyingRole
from cible.quality.imports import registry
from cible.quality.imports.mapping import suggest
from cible.quality.imports.models import ImportRejection
from tests.quality.imports.engine_support import imported, var_dir  # noqa: F401

pytestmark = pytest.mark.django_db

CODES = ", ".join(ContactBuyingRole.values)


def buying_roles() -> dict[str, str]:
    return dict(Contact.objects.values_list("last_name", "buying_role"))


@pytest.mark.parametrize(
    "header",
    ["Rôle d'achat", "Rôle dans l'achat", "Buying role", "Role in purchase", "ROLE D'ACHAT"],
)
def test_the_buying_role_column_is_recognised(header: str) -> None:
    contacts = registry.get("contacts")
    assert contacts is not None

    assert suggest(contacts, ["Nom", "Fonction", "Séniorité", header]) == {
        "Nom": "last_name",
        "Fonction": "job_title",
        "Séniorité": "seniority",
        header: "buying_role",
    }


def test_english_labels_and_codes_become_codes(cast: Any) -> None:
    rows = [
        ["Last name", "Email", "Buying role"],
        ["Martin", "martin@acme.fr", "Decision maker"],
        ["Durand", "durand@acme.fr", "economic buyer"],
        ["Leroy", "leroy@acme.fr", "Evaluator / researcher"],
        ["Petit", "petit@acme.fr", "recommender"],
        ["Roux", "roux@acme.fr", ""],
    ]
    run = imported(cast.ae, rows, key="email", entity="contacts")

    assert run.mapping["Buying role"] == "buying_role"
    assert run.counts == {"created": 5, "updated": 0, "unchanged": 0, "rejected": 0}
    assert buying_roles() == {
        "Martin": "decision_maker",
        "Durand": "economic_buyer",
        "Leroy": "evaluator",
        "Petit": "recommender",
        "Roux": "",
    }


def test_french_labels_become_codes(cast: Any) -> None:
    rows = [
        ["Nom", "E-mail", "Rôle d'achat"],
        ["Martin", "martin@acme.fr", "Décideur"],
        ["Durand", "durand@acme.fr", "prescripteur"],
        ["Leroy", "leroy@acme.fr", "ACHATS"],
        ["Petit", "petit@acme.fr", "Juridique"],
    ]
    with translation.override("fr"):
        run = imported(cast.ae, rows, key="email", entity="contacts")

    assert run.counts["created"] == 4, list(run.rejections.values_list("errors", flat=True))
    assert buying_roles() == {
        "Martin": "decision_maker",
        "Durand": "recommender",
        "Leroy": "purchasing",
        "Petit": "legal",
    }


def test_a_value_that_is_no_buying_role_is_refused_naming_row_and_column(cast: Any) -> None:
    rows = [
        ["Nom", "E-mail", "Rôle d'achat"],
        ["Martin", "martin@acme.fr", "decision_maker"],
        ["Durand", "durand@acme.fr", "sponsor"],
    ]
    run = imported(cast.ae, rows, key="email", entity="contacts", dry_run=True)

    assert run.dry_run_counts == {"created": 1, "updated": 0, "unchanged": 0, "rejected": 1}
    rejection = ImportRejection.objects.get(run=run, dry_run=True)
    assert rejection.row == 2
    assert rejection.errors == [
        {
            "field": "buying_role",
            "column": "Rôle d'achat",
            "message": f"“sponsor” is not one of: {CODES}",
        }
    ]
    assert rejection.message == f"Rôle d'achat: “sponsor” is not one of: {CODES}"
    assert not Contact.objects.exists()
