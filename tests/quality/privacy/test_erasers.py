"""Erasure reaches what other apps keep about the person: the snapshots of their merges
(duplicates), and the rejected rows, samples and stored files of their imports (imports)."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from cible.core.errors import ConflictError
from cible.people.models import Contact
from cible.quality.duplicates import merge
from cible.quality.duplicates.models import MergeRecord
from cible.quality.imports import services as imports
from cible.quality.imports.erasure import Identity
from cible.quality.imports.models import ImportRejection, ImportRun
from cible.quality.privacy.erasure import contact_erase
from tests import factories
from tests.quality.imports.engine_support import imported, upload, var_dir  # noqa: F401
from tests.quality.privacy.conftest import GWEN, NEW_EMAIL, personal_values, rows_mentioning

pytestmark = pytest.mark.django_db

# Duplicates of her, merged into her one after the other: an old webmail record, and an even
# older one merged into that one first.
TWIN = {"first_name": "Gwenaelle", "last_name": "Quesnel Barbier", "email": "gqb@webmail.fr"}
OLDER = {"first_name": "Gwen", "last_name": "Quesnel", "email": "gwen.qb.pro@gmail.com"}
CONTACT_MAPPING = {
    "Prénom": "first_name",
    "Nom": "last_name",
    "Email": "email",
    "Téléphone": "phone",
    "Poste": "job_title",
    "Société": "organisation_name",
}


def everything_of_hers() -> list[str]:
    """Her values as stored and as people type them, and those of the duplicates merged into
    her."""
    return [
        *personal_values(),
        GWEN["phone"],
        GWEN["mobile"],
        GWEN["job_title"],
        *TWIN.values(),
        *OLDER.values(),
    ]


@pytest.fixture
def yann(cast: Any) -> Contact:
    """Another person, whose data must all stay."""
    return factories.contact(
        cast.ae, first_name="Yann", last_name="Le Gall", email="y@k.fr", phone="02 98 00 11 22"
    )


@pytest.fixture
def merges(cast: Any, gwen: Contact, yann: Contact) -> dict[str, MergeRecord]:
    """She was once merged into Yann by mistake (undone: she is the record merged), then her
    duplicates were merged into her (she is the record kept), one into the other first."""
    wrong = merge.records_merge(
        entity="contact", survivor=yann, loser=gwen, actor=cast.ae, channel="ui"
    )
    merge.merge_undo(merge=wrong, actor=cast.ae, channel="ui")
    gwen = Contact.objects.get(pk=gwen.pk)
    twin = factories.contact(cast.ae, **TWIN)
    older = factories.contact(cast.ae, **OLDER)
    chained = merge.records_merge(
        entity="contact", survivor=twin, loser=older, actor=cast.ae, channel="ui"
    )
    twin = Contact.objects.get(pk=twin.pk)
    kept = merge.records_merge(
        entity="contact", survivor=gwen, loser=twin, actor=cast.ae, channel="ui"
    )
    return {"wrong": wrong, "chained": chained, "kept": kept}


@pytest.fixture
def runs(cast: Any, gwen: Contact, yann: Contact) -> dict[str, ImportRun]:
    """Three imports holding her: one rejected her row (an organisation nobody knows), one is
    still at the mapping step with her among the samples, one updated her record."""
    rejected = imported(
        cast.ae,
        [
            list(CONTACT_MAPPING),
            [
                GWEN["first_name"],
                GWEN["last_name"],
                GWEN["email"],
                GWEN["phone"],
                GWEN["job_title"],
                "Forges Inconnues",
            ],
            ["Paul", "Leroy", "paul@leroy.fr", "01 42 68 53 00", "Directeur", "Société Fantôme"],
        ],
        key="email",
        mapping=CONTACT_MAPPING,
        entity="contacts",
    )
    assert rejected.counts["rejected"] == 2
    waiting = upload(
        cast.ae,
        [
            ["Prénom", "Nom", "Email", "Mobile"],
            [GWEN["first_name"].upper(), GWEN["last_name"], GWEN["email"], GWEN["mobile"]],
            ["Yann", "Le Gall", "y@k.fr", "06 11 22 33 44"],
        ],
        entity="contacts",
        source="Salon Rennes 2026",
    )
    updated = imported(
        cast.ae,
        [["Email", "Poste"], [NEW_EMAIL, "Directrice achats Bretagne"], ["y@k.fr", "Gérant"]],
        key="email",
        mapping={"Email": "email", "Poste": "job_title"},
        policy="overwrite",
        entity="contacts",
        source="CRM Bretagne",
    )
    assert updated.counts["updated"] == 2
    return {"rejected": rejected, "waiting": waiting, "updated": updated}


def test_nothing_of_her_is_left_in_merges_and_imports(
    cast: Any,
    gwen: Contact,
    yann: Contact,
    merges: dict[str, MergeRecord],
    runs: dict[str, ImportRun],
    django_capture_on_commit_callbacks: Any,
) -> None:
    found = {table for table, _column, _value in rows_mentioning(everything_of_hers())}
    assert {"duplicates_mergerecord", "imports_importrejection", "imports_importrun"} <= found
    files = {name: run.stored_file for name, run in runs.items()}
    assert all(path.is_file() for path in files.values())

    with django_capture_on_commit_callbacks(execute=True):
        request = contact_erase(contact=gwen, actor=cast.admin, channel="ui", reason="Ticket 4521")

    assert rows_mentioning(everything_of_hers()) == []
    assert request.details["other_rows"] == 7  # 3 merges, 1 rejected row, 3 imports
    # Her imports lost their stored file; the runs stay, as the record of what was imported.
    assert not any(path.exists() for path in files.values())
    assert ImportRun.objects.filter(stored_path="").count() == 3
    assert ImportRun.objects.count() == 3
    # The fact of each merge stays, with her as an anonymised contact.
    assert MergeRecord.objects.count() == 3
    kept = MergeRecord.objects.get(pk=merges["kept"].pk)
    assert (kept.survivor_label, kept.loser_label) == (
        f"Anonymised contact #{gwen.pk}",
        f"Anonymised contact #{kept.loser_id}",
    )
    assert kept.survivor_before["fields"]["email"] == "[redacted]"
    assert kept.survivor_before["fields"]["organisation"] == gwen.organisation_id
    assert kept.moved == merges["kept"].moved
    wrong = MergeRecord.objects.get(pk=merges["wrong"].pk)
    assert wrong.loser_label == f"Anonymised contact #{gwen.pk}"
    assert wrong.survivor_label == "Yann Le Gall"  # another person: untouched
    assert wrong.survivor_before["fields"]["email"] == "y@k.fr"


def test_other_peoples_rows_and_samples_stay(
    cast: Any, gwen: Contact, runs: dict[str, ImportRun], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        contact_erase(contact=gwen, actor=cast.admin, channel="ui", reason="Ticket 4521")

    rows = {r.row: r for r in ImportRejection.objects.filter(run=runs["rejected"])}
    assert rows[1].cells == ["[redacted]"] * 5 + ["Forges Inconnues"]
    assert "forges inconnues" in rows[1].message  # why it was rejected is still told
    assert rows[2].cells == [
        "Paul",
        "Leroy",
        "paul@leroy.fr",
        "01 42 68 53 00",
        "Directeur",
        "Société Fantôme",
    ]
    waiting = ImportRun.objects.get(pk=runs["waiting"].pk)
    assert waiting.samples == {
        "Prénom": ["[redacted]", "Yann"],
        "Nom": ["[redacted]", "Le Gall"],
        "Email": ["[redacted]", "y@k.fr"],
        "Mobile": ["[redacted]", "06 11 22 33 44"],
    }
    # An import whose file was deleted says so when it is run, and nothing is written.
    imports.configure(
        waiting, actor=cast.ae, mapping=waiting.mapping, key="email", policy="fill_empty"
    )
    checked = imports.check(ImportRun.objects.get(pk=waiting.pk), actor=cast.ae)
    assert checked.status == ImportRun.Status.FAILED
    assert "no longer kept" in checked.error_message


def test_a_merge_of_the_person_cannot_be_undone_any_more(
    cast: Any, gwen: Contact, merges: dict[str, MergeRecord], client_for: Any
) -> None:
    contact_erase(contact=gwen, actor=cast.admin, channel="ui", reason="Ticket 4521")
    record = MergeRecord.objects.get(pk=merges["kept"].pk)

    with pytest.raises(ConflictError) as refused:
        merge.merge_undo(merge=record, actor=cast.admin, channel="ui")
    assert str(refused.value) == (
        f"Contact #{gwen.pk} was anonymised (erasure of their personal data): this merge no "
        "longer holds who they were, so it cannot be undone."
    )
    assert MergeRecord.objects.get(pk=record.pk).undone_at is None
    assert not Contact.objects.filter(pk=record.loser_id).exists()

    page = client_for(cast.admin).get(reverse("duplicates:merge", args=[record.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "this merge no longer holds who they were" in text
    assert 'id="undo"' not in text
    assert GWEN["last_name"] not in text and TWIN["email"] not in text
    posted = client_for(cast.admin).post(
        reverse("duplicates:merge_undo", args=[record.pk]), follow=True
    )
    assert "cannot be undone" in posted.content.decode()
    assert MergeRecord.objects.get(pk=record.pk).undone_at is None


def test_an_organisation_merge_quoting_her_loses_the_quote_only(
    cast: Any, gwen: Contact, account: Any
) -> None:
    copy = factories.organisation(
        cast.ae,
        legal_name="Forges de Kerhuel",
        city="Brest",
        description=f"Acheteuse : {GWEN['first_name']} {GWEN['last_name']}, {NEW_EMAIL}",
    )
    record = merge.records_merge(
        entity="organisation", survivor=account, loser=copy, actor=cast.ae, channel="ui"
    )

    contact_erase(contact=gwen, actor=cast.admin, channel="ui", reason="Ticket 4521")

    record.refresh_from_db()
    assert record.loser_snapshot["fields"]["description"] == "Acheteuse : [redacted], [redacted]"
    assert record.loser_label == "Forges de Kerhuel"
    assert record.loser_snapshot["fields"]["city"] == "Brest"
    assert merge.merge_undo(merge=record, actor=cast.ae, channel="ui").pk == copy.pk


# What the privacy app hands the erasers as identifying her: as stored, her full name both ways.
HER = [
    "+33298441234",
    "gwen.qb@ancien-fournisseur.fr",
    "Gwénaëlle Quesnel-Barbier",
    "Quesnel-Barbier Gwénaëlle",
]


@pytest.mark.parametrize(
    "cell",
    [
        "02 98 44 12 34",
        "+33 (0)2 98 44 12 34",
        "0033298441234",
        "02.98.44.12.34",
        "Tél. 02 98 44 12 34",
        "GWEN.QB@ANCIEN-FOURNISSEUR.FR",
        "Gwénaëlle <gwen.qb@ancien-fournisseur.fr>",
        "Mme Gwénaëlle Quesnel-Barbier",
        "QUESNEL-BARBIER GWÉNAËLLE",
    ],
)
def test_a_cell_is_hers_however_it_was_typed(cell: str) -> None:
    identity = Identity(HER)
    assert identity.cell(cell)


@pytest.mark.parametrize(
    "cells",
    [
        ["02 98 44 12 35", "Quesnel", ""],
        ["Gwénaëlle", "Martin", "gwen@ailleurs.fr"],
        ["Barbier", "Gwénaëlle", "12"],
    ],
)
def test_someone_else_is_not_her(cells: list[str]) -> None:
    identity = Identity(HER)
    assert not identity.row(cells)


def test_her_first_and_last_names_in_two_cells_make_the_row_hers() -> None:
    identity = Identity(HER)
    assert identity.row(["Quesnel-Barbier", "Brest", "GWÉNAËLLE"])
    assert not identity.row(["Quesnel-Barbier", "Brest", "Yann"])
