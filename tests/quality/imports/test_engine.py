"""The import engine through its services: dry run, policies, keys, links, duplicates, audit."""

from __future__ import annotations

from typing import Any

import pytest
from auditlog.models import LogEntry
from django.utils import timezone

from cible.core.errors import ValidationFailed
from cible.people.models import Contact, Organisation
from cible.quality.imports import services
from cible.quality.imports.models import ExternalKey, ImportBatch, ImportRejection
from tests.factories import contact, organisation
from tests.quality.imports.engine_support import imported, upload, var_dir  # noqa: F401

pytestmark = pytest.mark.django_db

# Valid SIRENs (Luhn) and the SIRET of a head office of the first.
MARTIN, ACME, DURAND, LEROY = "356000000", "552100554", "732829320", "404833048"
MARTIN_SIRET = "35600000000048"

ORG_MAPPING = {
    "Raison sociale": "legal_name",
    "SIREN": "siren",
    "Téléphone": "phone",
    "Ville": "city",
    "Site web": "website",
}
ORG_HEADER = list(ORG_MAPPING)


def org_rows(*rows: list[str]) -> list[list[str]]:
    return [ORG_HEADER, *rows]


def rejection_messages(run: Any, *, dry_run: bool = False) -> dict[int, str]:
    return {r.row: r.message for r in ImportRejection.objects.filter(run=run, dry_run=dry_run)}


# --- the dry run --------------------------------------------------------------------------------


def test_dry_run_reports_what_would_happen_and_writes_nothing(cast: Any) -> None:
    existing = organisation(cast.ae, legal_name="Boulangerie Martin", siren=MARTIN)
    rows = org_rows(
        ["Boulangerie Martin", MARTIN, "01 42 68 53 00", "Paris", ""],
        ["Acme", ACME, "04 72 00 00 00", "Lyon", "acme.fr"],
        ["Mauvais SIREN", "123456789", "", "", ""],
        ["Acme bis", ACME, "", "", ""],
    )
    run = imported(cast.ae, rows, key="siren", mapping=ORG_MAPPING, dry_run=True)

    assert run.status == "checked"
    assert run.dry_run_counts == {"created": 1, "updated": 1, "unchanged": 0, "rejected": 2}
    assert run.counts == {}
    assert Organisation.objects.count() == 1
    existing.refresh_from_db()
    assert existing.phone == "" and existing.version == 1
    messages = rejection_messages(run, dry_run=True)
    assert set(messages) == {3, 4}
    assert messages[3].startswith("SIREN: ")
    assert "duplicate of row 2" in messages[4] and ACME in messages[4]
    assert run.changes["phone"] == 2  # both phones reformatted to E.164
    assert not ImportBatch.objects.filter(run=run).exists()
    assert not ExternalKey.objects.exists()


def test_dry_run_then_import_give_the_same_counts(cast: Any) -> None:
    organisation(cast.ae, legal_name="Boulangerie Martin", siren=MARTIN)
    rows = org_rows(
        ["Boulangerie Martin", MARTIN, "01 42 68 53 00", "Paris", ""],
        ["Acme", ACME, "", "Lyon", ""],
        ["", DURAND, "", "", ""],
    )
    run = imported(cast.ae, rows, key="siren", mapping=ORG_MAPPING, dry_run=True)
    run = services.start(run, actor=cast.ae)
    assert run.status == "done"
    assert (
        run.counts
        == run.dry_run_counts
        == {
            "created": 1,
            "updated": 1,
            "unchanged": 0,
            "rejected": 1,
        }
    )
    assert rejection_messages(run) == {3: "Raison sociale: is required"}


# --- policies -----------------------------------------------------------------------------------


def test_fill_empty_sets_only_the_blank_fields(cast: Any) -> None:
    existing = organisation(
        cast.ae, legal_name="Boulangerie Martin", siren=MARTIN, phone="0142685300"
    )
    rows = org_rows(["Boulangerie Martin SA", MARTIN, "04 72 00 00 00", "Paris", "martin.fr"])
    run = imported(cast.ae, rows, key="siren", policy="fill_empty", mapping=ORG_MAPPING)

    assert run.counts == {"created": 0, "updated": 1, "unchanged": 0, "rejected": 0}
    existing.refresh_from_db()
    assert existing.legal_name == "Boulangerie Martin"  # kept
    assert existing.phone == "+33142685300"  # kept
    assert existing.city == "Paris"  # filled
    assert existing.website == "https://martin.fr" and existing.domain == "martin.fr"
    assert existing.version == 2


def test_overwrite_replaces_mapped_fields_and_rederives(cast: Any) -> None:
    existing = organisation(
        cast.ae, legal_name="Boulangerie Martin", siren=MARTIN, phone="0142685300", city="Paris"
    )
    rows = org_rows(["Martin et Fils", MARTIN, "04 72 00 00 00", "", ""])
    run = imported(cast.ae, rows, key="siren", policy="overwrite", mapping=ORG_MAPPING)

    assert run.counts["updated"] == 1
    existing.refresh_from_db()
    assert existing.legal_name == "Martin et Fils"
    assert existing.name_key == "martin et fils"  # derived again
    assert existing.phone == "+33472000000"
    assert existing.city == "Paris"  # an empty cell erases nothing
    assert existing.version == 2


def test_an_editor_who_opened_the_record_before_the_import_gets_a_conflict(cast: Any) -> None:
    from cible.core.errors import ConflictError
    from cible.people.services import organisation_update

    existing = organisation(cast.ae, legal_name="Boulangerie Martin", siren=MARTIN)
    opened = Organisation.objects.get(pk=existing.pk)  # a colleague's form, version 1
    imported(
        cast.ae, org_rows(["", MARTIN, "01 42 68 53 00", "", ""]), key="siren", mapping=ORG_MAPPING
    )

    with pytest.raises(ConflictError):
        organisation_update(
            organisation=opened, actor=cast.ae2, channel="ui", data={"city": "Lyon"}
        )
    existing.refresh_from_db()
    assert (existing.phone, existing.city, existing.version) == ("+33142685300", "", 2)


def test_skip_leaves_existing_records_untouched(cast: Any) -> None:
    existing = organisation(cast.ae, legal_name="Boulangerie Martin", siren=MARTIN)
    rows = org_rows(
        ["Autre nom", MARTIN, "04 72 00 00 00", "Lyon", ""],
        ["Acme", ACME, "", "Lyon", ""],
    )
    run = imported(cast.ae, rows, key="siren", policy="skip", mapping=ORG_MAPPING)

    assert run.counts == {"created": 1, "updated": 0, "unchanged": 1, "rejected": 0}
    existing.refresh_from_db()
    assert (existing.legal_name, existing.phone, existing.city, existing.version) == (
        "Boulangerie Martin",
        "",
        "",
        1,
    )


def test_reimport_of_the_same_file_is_all_unchanged(cast: Any) -> None:
    rows = org_rows(
        ["Boulangerie Martin", MARTIN, "01 42 68 53 00", "Paris", "www.martin.fr"],
        ["Acme", ACME, "+33 4 72 00 00 00", "Lyon", ""],
    )
    imported(cast.ae, rows, key="siren", policy="overwrite", mapping=ORG_MAPPING)
    before = list(Organisation.objects.order_by("id").values_list("id", "version", "updated_at"))
    again = imported(cast.ae, rows, key="siren", policy="overwrite", mapping=ORG_MAPPING)

    assert again.counts == {"created": 0, "updated": 0, "unchanged": 2, "rejected": 0}
    after = list(Organisation.objects.order_by("id").values_list("id", "version", "updated_at"))
    assert after == before


def test_a_file_without_the_required_column_updates_but_does_not_create(cast: Any) -> None:
    existing = organisation(cast.ae, legal_name="Boulangerie Martin", siren=MARTIN)
    rows = [["SIREN", "Téléphone"], [MARTIN, "01 42 68 53 00"], [ACME, "04 72 00 00 00"]]
    run = imported(cast.ae, rows, key="siren", mapping={"SIREN": "siren", "Téléphone": "phone"})

    assert run.counts == {"created": 0, "updated": 1, "unchanged": 0, "rejected": 1}
    existing.refresh_from_db()
    assert existing.phone == "+33142685300"
    assert rejection_messages(run) == {2: "legal name: is required"}


# --- keys ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "column", "stored", "cell"),
    [
        ("siren", "siren", {"siren": MARTIN}, "356 000 000"),
        ("siret", "siret", {"siret": MARTIN_SIRET}, "356 000 000 00048"),
        ("domain", "domain", {"website": "https://www.martin.fr"}, "martin.fr"),
    ],
)
def test_upsert_organisations_by_key(
    cast: Any, key: str, column: str, stored: dict[str, str], cell: str
) -> None:
    existing = organisation(cast.ae, legal_name="Boulangerie Martin", **stored)
    rows = [["Nom", "Clé", "Ville"], ["Martin", cell, "Paris"], ["Acme", "", "Lyon"]]
    mapping = {"Nom": "legal_name", "Clé": column, "Ville": "city"}
    run = imported(cast.ae, rows, key=key, mapping=mapping)

    assert run.counts == {"created": 1, "updated": 1, "unchanged": 0, "rejected": 0}
    existing.refresh_from_db()
    assert existing.city == "Paris"
    assert Organisation.objects.count() == 2
    again = imported(cast.ae, rows, key=key, mapping=mapping)
    assert again.counts["unchanged"] == 1
    assert Organisation.objects.count() == 3  # the row without a key is created each time


def test_upsert_contacts_by_email_ignores_case(cast: Any) -> None:
    existing = contact(cast.ae, first_name="Jeanne", last_name="Martin", email="jeanne@martin.fr")
    rows = [
        ["Prénom", "Nom", "Email", "Poste"],
        ["Jeanne", "Martin", "Jeanne@MARTIN.fr", "Gérante"],
        ["Paul", "Leroy", "paul@leroy.fr", "Directeur"],
    ]
    mapping = {"Prénom": "first_name", "Nom": "last_name", "Email": "email", "Poste": "job_title"}
    run = imported(cast.ae, rows, key="email", mapping=mapping, entity="contacts")

    assert run.counts == {"created": 1, "updated": 1, "unchanged": 0, "rejected": 0}
    existing.refresh_from_db()
    assert existing.job_title == "Gérante"
    created = Contact.objects.get(email_key="paul@leroy.fr")
    assert (created.name_key, created.owner) == ("leroy paul", cast.ae)


def test_external_ids_are_per_source(cast: Any) -> None:
    rows = [
        ["Id", "Nom", "Ville"],
        ["001A", "Boulangerie Martin", "Paris"],
        ["001B", "Acme", "Lyon"],
    ]
    mapping = {"Id": "external_id", "Nom": "legal_name", "Ville": "city"}
    first = imported(cast.ae, rows, key="external_id", mapping=mapping, source="Salesforce")
    again = imported(cast.ae, rows, key="external_id", mapping=mapping, source="salesforce ")
    other = imported(cast.ae, rows, key="external_id", mapping=mapping, source="HubSpot")

    assert first.counts["created"] == 2
    assert again.counts == {"created": 0, "updated": 0, "unchanged": 2, "rejected": 0}
    assert other.counts["created"] == 2  # the same id in another source is another record
    assert Organisation.objects.filter(legal_name="Acme").count() == 2
    keys = ExternalKey.objects.filter(external_id="001A").order_by("source")
    assert [k.source for k in keys] == ["hubspot", "salesforce"]
    assert len({k.object_id for k in keys}) == 2


def test_external_id_of_a_deleted_record_is_reassigned(cast: Any) -> None:
    rows = [["Id", "Nom"], ["001A", "Boulangerie Martin"]]
    mapping = {"Id": "external_id", "Nom": "legal_name"}
    imported(cast.ae, rows, key="external_id", mapping=mapping, source="Salesforce")
    Organisation.objects.all().delete()
    run = imported(cast.ae, rows, key="external_id", mapping=mapping, source="Salesforce")

    assert run.counts["created"] == 1
    assert ExternalKey.objects.get().object_id == Organisation.objects.get().pk


def test_external_id_is_the_fallback_when_the_key_is_blank(cast: Any) -> None:
    rows = [["Id", "Nom", "SIREN", "Ville"], ["001A", "Boulangerie Martin", "", "Paris"]]
    mapping = {"Id": "external_id", "Nom": "legal_name", "SIREN": "siren", "Ville": "city"}
    imported(cast.ae, rows, key="siren", mapping=mapping, source="Salesforce")
    rows[1] = ["001A", "Boulangerie Martin", MARTIN, "Paris"]
    run = imported(cast.ae, rows, key="siren", mapping=mapping, source="Salesforce")

    assert run.counts["updated"] == 1
    assert Organisation.objects.get().siren == MARTIN


# --- contacts and their organisations -----------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "cell"),
    [
        ("organisation_external_id", "ACC-1"),
        ("organisation_siren", "356 000 000"),
        ("organisation_domain", "https://www.martin.fr/contact"),
        ("organisation_name", "BOULANGERIE  MARTIN"),
    ],
)
def test_contacts_link_to_their_organisation(cast: Any, field: str, cell: str) -> None:
    imported(
        cast.ae,
        [["Ref", "Nom", "SIREN", "Site"], ["ACC-1", "Boulangerie Martin", MARTIN, "martin.fr"]],
        key="siren",
        mapping={"Ref": "external_id", "Nom": "legal_name", "SIREN": "siren", "Site": "website"},
        source="CRM",
    )
    organisation(cast.ae, legal_name="Acme", siren=ACME, website="acme.fr")
    rows = [["Nom", "Email", "Société"], ["Martin", "jeanne@martin.fr", cell]]
    mapping = {"Nom": "last_name", "Email": "email", "Société": field}
    run = imported(cast.ae, rows, key="email", mapping=mapping, entity="contacts", source="CRM")

    assert run.counts["created"] == 1, rejection_messages(run)
    assert Contact.objects.get().organisation.legal_name == "Boulangerie Martin"


def test_contact_with_an_unknown_or_ambiguous_organisation_is_rejected(cast: Any) -> None:
    organisation(cast.ae, legal_name="Dupont")
    organisation(cast.ae, legal_name="Dupont")
    rows = [
        ["Nom", "Email", "Société"],
        ["Martin", "a@a.fr", "Dupont"],
        ["Leroy", "b@b.fr", "Inconnue SA"],
        ["Durand", "c@c.fr", ""],
    ]
    mapping = {"Nom": "last_name", "Email": "email", "Société": "organisation_name"}
    run = imported(cast.ae, rows, key="email", mapping=mapping, entity="contacts")

    assert run.counts == {"created": 1, "updated": 0, "unchanged": 0, "rejected": 2}
    messages = rejection_messages(run)
    assert messages[1].startswith("Société: 2 organisations match dupont (ids ")
    assert messages[2].startswith("Société: no organisation you can see matches inconnue sa")
    assert Contact.objects.get().organisation is None


def test_owner_by_email_and_the_importer_by_default(cast: Any) -> None:
    cast.ae2.email = "basile@cible.example"
    cast.ae2.save()
    rows = org_rows(["Martin", MARTIN, "", "", ""], ["Acme", ACME, "", "", ""])
    rows[0].append("Commercial (email)")
    rows[1].append("Basile@cible.example")
    rows[2].append("")
    mapping = {**ORG_MAPPING, "Commercial (email)": "owner_email"}
    run = imported(cast.ae, rows, key="siren", mapping=mapping)

    assert run.counts["created"] == 2
    assert Organisation.objects.get(siren=MARTIN).owner == cast.ae2
    assert Organisation.objects.get(siren=ACME).owner == cast.ae
    rows[1][-1] = "nobody@cible.example"
    rows[1][0] = "Martin 2"
    run = imported(cast.ae, rows, key="siren", mapping=mapping, policy="overwrite")
    assert rejection_messages(run) == {
        1: "Commercial (email): no active user has the email nobody@cible.example"
    }


# --- duplicates within the file, access, erased people ------------------------------------------


def test_a_key_twice_in_the_file_first_wins(cast: Any) -> None:
    rows = org_rows(
        ["Boulangerie Martin", MARTIN, "", "Paris", ""],
        ["Acme", ACME, "", "", ""],
        ["Martin (doublon)", "356000000", "", "Lyon", ""],
    )
    run = imported(cast.ae, rows, key="siren", mapping=ORG_MAPPING)

    assert run.counts == {"created": 2, "updated": 0, "unchanged": 0, "rejected": 1}
    assert Organisation.objects.get(siren=MARTIN).city == "Paris"
    assert rejection_messages(run)[3] == (
        "SIREN: duplicate of row 1 (same SIREN 356000000): only the first is imported; "
        "import this row again to apply it to that record"
    )


def test_a_key_again_in_a_later_batch_is_a_duplicate_in_the_dry_run_and_the_import(
    cast: Any, settings: Any
) -> None:
    settings.IMPORT_BATCH_ROWS = 2
    rows = org_rows(
        ["Boulangerie Martin", MARTIN, "", "Paris", ""],
        ["Acme", ACME, "", "", ""],
        ["Durand", DURAND, "", "", ""],
        ["Martin (doublon)", MARTIN, "", "Lyon", ""],
    )
    run = imported(cast.ae, rows, key="siren", mapping=ORG_MAPPING, dry_run=True)
    run = services.start(run, actor=cast.ae)

    assert (
        run.dry_run_counts
        == run.counts
        == {
            "created": 3,
            "updated": 0,
            "unchanged": 0,
            "rejected": 1,
        }
    )
    expected = (
        "SIREN: duplicate of row 1 (same SIREN 356000000): only the first is imported; "
        "import this row again to apply it to that record"
    )
    assert rejection_messages(run, dry_run=True) == rejection_messages(run) == {4: expected}
    assert Organisation.objects.get(siren=MARTIN).city == "Paris"


def test_records_the_importer_may_not_change_are_rejected(cast: Any, team_private: Any) -> None:
    theirs = organisation(cast.outsider, legal_name="Lyon SA", siren=MARTIN)
    rows = org_rows(["Lyon SA", MARTIN, "04 72 00 00 00", "", ""])
    run = imported(cast.ae, rows, key="siren", mapping=ORG_MAPPING, policy="overwrite")

    assert run.counts["rejected"] == 1
    assert rejection_messages(run)[1] == f"matches a record you may not change (id {theirs.pk})"
    theirs.refresh_from_db()
    assert theirs.phone == ""


def test_an_erased_contact_is_not_filled_again(cast: Any) -> None:
    rows = [["Id", "Nom", "Email"], ["C-1", "Martin", "jeanne@martin.fr"]]
    mapping = {"Id": "external_id", "Nom": "last_name", "Email": "email"}
    imported(cast.ae, rows, key="external_id", mapping=mapping, entity="contacts")
    Contact.objects.update(anonymised_at=timezone.now(), last_name="Anonyme", email="")
    run = imported(cast.ae, rows, key="external_id", mapping=mapping, entity="contacts")

    assert run.counts["rejected"] == 1
    assert "erased under the GDPR" in rejection_messages(run)[1]
    assert Contact.objects.get().email == ""


def test_opting_out_by_import_is_dated(cast: Any) -> None:
    existing = contact(cast.ae, last_name="Martin", email="jeanne@martin.fr")
    rows = [["Email", "Désinscrit"], ["jeanne@martin.fr", "oui"]]
    run = imported(
        cast.ae,
        rows,
        key="email",
        mapping={"Email": "email", "Désinscrit": "email_opt_out"},
        entity="contacts",
    )
    assert run.counts["updated"] == 1
    existing.refresh_from_db()
    assert existing.email_opt_out is True and existing.opted_out_at is not None


# --- audit, bad input ---------------------------------------------------------------------------


def test_one_audit_entry_per_batch_with_channel_import(cast: Any, settings: Any) -> None:
    settings.IMPORT_BATCH_ROWS = 2
    organisation(cast.ae, legal_name="Boulangerie Martin", siren=MARTIN)
    entries_before = LogEntry.objects.count()
    rows = org_rows(
        ["Boulangerie Martin", MARTIN, "", "Paris", ""],
        ["Acme", ACME, "", "", ""],
        ["Durand", DURAND, "", "", ""],
    )
    run = imported(cast.ae, rows, key="siren", mapping=ORG_MAPPING, channel="cli")

    entries = list(LogEntry.objects.order_by("id")[entries_before:])
    assert len(entries) == 2  # two batches: rows 1-2 and row 3
    first, second = (e.additional_data for e in entries)
    assert first["channel"] == second["channel"] == "import"
    assert first["bulk"]["import"] == str(run.uuid) and first["bulk"]["via"] == "cli"
    assert (first["bulk"]["created"], first["bulk"]["updated"]) == (1, 1)
    acme, durand = Organisation.objects.get(siren=ACME), Organisation.objects.get(siren=DURAND)
    assert first["bulk"]["created_ids"] == [[acme.pk, acme.pk]]
    assert second["bulk"]["created_ids"] == [[durand.pk, durand.pk]]
    assert all(e.actor == cast.ae for e in entries)


def test_a_broken_file_is_refused_naming_the_row(cast: Any) -> None:
    content = b"Nom;SIREN\r\nMartin;356000000\r\nAcme;552100554;en trop\r\n"
    with pytest.raises(ValidationFailed) as refused:
        upload(cast.ae, content)
    assert refused.value.errors[0].field == "file"
    assert "Row 2 has more cells than the header" in refused.value.errors[0].message


def test_a_bad_mapping_is_refused_naming_the_columns(cast: Any) -> None:
    run = upload(cast.ae, org_rows(["Martin", MARTIN, "", "", ""]))
    with pytest.raises(ValidationFailed) as refused:
        services.configure(
            run,
            actor=cast.ae,
            mapping={"Raison sociale": "legal_name", "Ville": "legal_name", "Fax": "phone"},
            key="siret",
            policy="everything",
        )
    errors = {(e.field, e.message) for e in refused.value.errors}
    assert ("mapping", "the file has no column “Fax”") in errors
    assert (
        "Ville",
        "legal name is chosen for several columns (“Raison sociale”, “Ville”): keep one",
    ) in errors
    assert (
        "key",
        "no column is mapped to SIRET: map one, or find records by another key",
    ) in errors
    assert any(field == "policy" for field, _message in errors)


def test_a_user_without_a_role_may_not_import(db: Any) -> None:
    from django.contrib.auth import get_user_model

    nobody = get_user_model().objects.create_user("nobody", password="x" * 12)
    with pytest.raises(services.PermissionDenied):
        upload(nobody, org_rows(["Martin", MARTIN, "", "", ""]))
