"""The import wizard's pages: who may import, what a bad file or a bad mapping says, the dry
run's report, the real run, its progress while a worker is busy, and the error file."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from cible.demo.import_files import write_organisations_xlsx
from cible.people.models import Contact, Organisation, UserProfile
from cible.quality.imports import services, tasks
from cible.quality.imports.models import ImportRun
from tests.quality.imports.engine_support import csv_bytes, upload

pytestmark = pytest.mark.django_db

HEADER = ["Raison sociale", "SIREN", "Téléphone", "Pays"]
GOOD = [
    ["Cabinet Rousseau SARL", "552 120 222", "01 42 68 53 00", "France"],
    ["Brasserie Fontaine", "732829320", "+33 4 72 00 11 22", "FR"],
]
BAD = ["Conseil Girard", "123456789", "01 23 45 67 89", "France"]  # SIREN fails its check digit


@pytest.fixture(autouse=True)
def english_pages(cast: Any) -> None:
    """The cast reads English here, so that messages are checked as written in the code."""
    UserProfile.objects.update(language="en")


@pytest.fixture(autouse=True)
def var_dir(settings: Any, tmp_path: Path) -> Path:
    """Uploaded files go to a temporary directory, not to the checkout's var/."""
    settings.VAR_DIR = tmp_path / "var"
    return settings.VAR_DIR


def _file(rows: list[list[str]] | bytes, name: str = "salon.csv") -> SimpleUploadedFile:
    content = rows if isinstance(rows, bytes) else csv_bytes(rows)
    return SimpleUploadedFile(name, content, content_type="text/csv")


def _post_upload(client: Client, rows: list[list[str]] | bytes, **data: Any) -> Any:
    filename = data.pop("filename", "salon.csv")
    payload = {"entity": "organisations", "source": "Salon VivaTech 2026", **data}
    payload["file"] = _file(rows, filename)
    return client.post("/imports/new/", payload)


def _mapping_data(run: ImportRun, **changes: Any) -> dict[str, Any]:
    """The form as the page proposes it (the suggested mapping), with `changes`."""
    data: dict[str, Any] = {
        f"column_{i}": run.mapping.get(column, "") for i, column in enumerate(run.columns)
    }
    data.update(key="siren", policy="fill_empty")
    data.update(changes)
    return data


def _errors_by_field(html: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, text in re.findall(r'data-field="([^"]+)">([^<]+)<', html):
        found.setdefault(name, []).append(text.strip())
    return found


# --- who may import -----------------------------------------------------------------------------


def test_ae_sees_their_runs_and_the_new_import_button(cast, client_for) -> None:
    run = upload(cast.ae, [HEADER, *GOOD])
    page = client_for(cast.ae).get("/imports/")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="new-import"' in html
    assert f'href="/imports/{run.pk}/"' in html
    assert "Salon VivaTech 2026" in html and "file.csv" in html


def test_colleague_does_not_see_another_users_run(cast, client_for) -> None:
    run = upload(cast.ae, [HEADER, *GOOD])
    basile = client_for(cast.ae2)
    assert f"/imports/{run.pk}/" not in basile.get("/imports/").content.decode()
    for url in ("", "mapping/", "progress/", "errors.csv"):
        assert basile.get(f"/imports/{run.pk}/{url}").status_code == 404, url
    for url in ("check/", "start/", "cancel/"):
        assert basile.post(f"/imports/{run.pk}/{url}").status_code == 404, url
    assert basile.post(f"/imports/{run.pk}/mapping/", _mapping_data(run)).status_code == 404
    run.refresh_from_db()
    assert run.status == ImportRun.Status.UPLOADED  # nothing Basile did touched it


def test_administrator_sees_every_run(cast, client_for) -> None:
    run = upload(cast.ae, [HEADER, *GOOD])
    admin = client_for(cast.admin)
    assert f"/imports/{run.pk}/" in admin.get("/imports/").content.decode()
    assert admin.get(f"/imports/{run.pk}/mapping/").status_code == 200


def test_user_who_may_not_create_organisations_cannot_import(cast, client_for) -> None:
    nobody = get_user_model().objects.create_user(username="visitor", password="x")  # no role
    client = client_for(nobody)
    assert 'id="new-import"' not in client.get("/imports/").content.decode()
    assert client.get("/imports/new/").status_code == 403
    assert _post_upload(client, [HEADER, *GOOD]).status_code == 403
    assert not ImportRun.objects.exists()


def test_pages_need_a_login(cast) -> None:
    response = Client().get("/imports/")
    assert response.status_code == 302 and "/login/" in response["Location"]


# --- the upload step ----------------------------------------------------------------------------


def test_upload_offers_previous_sources_and_both_entities(cast, client_for) -> None:
    upload(cast.ae, [HEADER, *GOOD], source="Export Salesforce mars")
    html = client_for(cast.ae).get("/imports/new/").content.decode()
    assert '<option value="Export Salesforce mars">' in html  # the datalist
    assert 'value="organisations"' in html and 'value="contacts"' in html


@pytest.mark.parametrize(
    ("content", "filename", "message"),
    [
        (b"", "empty.csv", "The file is empty."),
        (b"Raison sociale;SIREN\r\n", "header.csv", "no data rows"),
        (b"\x00\x01\x02\xff\xfe" * 100, "binary.csv", "not a text file"),
        (b"Nom;Nom;Ville\r\nA;B;Paris\r\n", "twice.csv", "appears 2 times"),
        (b"PK\x03\x04garbage", "broken.xlsx", "cannot be read"),
    ],
)
def test_bad_file_is_explained_next_to_the_file_field(
    cast, client_for, content: bytes, filename: str, message: str
) -> None:
    response = _post_upload(client_for(cast.ae), content, filename=filename)
    assert response.status_code == 422
    errors = _errors_by_field(response.content.decode())
    assert any(message in text for text in errors["file"]), errors
    assert not ImportRun.objects.exists()


def test_row_with_too_many_cells_names_the_row(cast, client_for) -> None:
    content = b"Raison sociale;SIREN\r\nA;552120222\r\nB;732829320;extra;cells\r\n"
    response = _post_upload(client_for(cast.ae), content)
    assert response.status_code == 422
    assert any("Row 2" in text for text in _errors_by_field(response.content.decode())["file"])


def test_source_is_required(cast, client_for) -> None:
    response = _post_upload(client_for(cast.ae), [HEADER, *GOOD], source="  ")
    assert response.status_code == 422
    assert "source" in _errors_by_field(response.content.decode())
    assert not ImportRun.objects.exists()


def test_good_file_leads_to_its_mapping(cast, client_for) -> None:
    response = _post_upload(client_for(cast.ae), [HEADER, *GOOD])
    run = ImportRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/imports/{run.pk}/mapping/"
    assert (run.source, run.filename, run.rows_total) == ("Salon VivaTech 2026", "salon.csv", 2)


# --- the mapping step ---------------------------------------------------------------------------


def _selected(html: str, column_index: int) -> str:
    select = re.search(rf'<select name="column_{column_index}".*?</select>', html, flags=re.DOTALL)
    assert select is not None
    chosen = re.search(r'<option value="([^"]*)"[^>]*selected', select.group(0))
    return chosen.group(1) if chosen else ""


def test_mapping_page_shows_samples_and_the_suggested_fields(cast, client_for) -> None:
    run = upload(cast.ae, [HEADER, *GOOD])
    html = client_for(cast.ae).get(f"/imports/{run.pk}/mapping/").content.decode()
    assert "Cabinet Rousseau SARL" in html and "Brasserie Fontaine" in html  # sample values
    assert "01 42 68 53 00" in html
    assert [_selected(html, i) for i in range(4)] == ["legal_name", "siren", "phone", "country"]
    assert "Suggested from the column names." in html
    assert "Ignore this column" in html
    # each key and each policy comes with its line of explanation
    assert "The 9-digit company number" in html
    assert "only their empty fields are filled" in html


def test_salesforce_export_is_recognised(cast, client_for) -> None:
    header = ["Account ID", "Account Name", "Website", "Phone", "Billing City"]
    row = ["001A000001", "Cabinet Rousseau", "rousseau.fr", "01 42 68 53 00", "Paris"]
    run = upload(cast.ae, [header, row], source="Salesforce")
    html = client_for(cast.ae).get(f"/imports/{run.pk}/mapping/").content.decode()
    assert 'data-origin="preset"' in html
    assert "Recognised as an export from Salesforce" in html
    assert _selected(html, 0) == "external_id"
    assert _selected(html, 1) == "legal_name"


def test_mapping_is_remembered_for_the_source(cast, client_for) -> None:
    client = client_for(cast.ae)
    header = ["Raison sociale", "SIREN", "Col. 7", "Pays"]  # a header nothing recognises
    first = upload(cast.ae, [header, *GOOD])
    assert "Col. 7" not in first.mapping
    data = _mapping_data(first, column_2="phone")  # the user says what it holds
    assert client.post(f"/imports/{first.pk}/mapping/", data).status_code == 302
    second = upload(cast.ae, [header, BAD], source="salon  vivatech 2026")
    html = client.get(f"/imports/{second.pk}/mapping/").content.decode()
    assert 'data-origin="memory"' in html
    assert "remembered from the last import" in html
    assert _selected(html, 2) == "phone"


def test_field_chosen_for_two_columns_is_refused_next_to_the_column(cast, client_for) -> None:
    run = upload(cast.ae, [HEADER, *GOOD])
    response = client_for(cast.ae).post(
        f"/imports/{run.pk}/mapping/", _mapping_data(run, column_2="legal_name")
    )
    assert response.status_code == 422
    errors = _errors_by_field(response.content.decode())
    assert any("chosen for several columns" in text for text in errors["column_2"]), errors
    run.refresh_from_db()
    assert run.status == ImportRun.Status.UPLOADED


def test_key_without_its_column_is_refused_next_to_the_key(cast, client_for) -> None:
    run = upload(cast.ae, [HEADER, *GOOD])
    response = client_for(cast.ae).post(
        f"/imports/{run.pk}/mapping/", _mapping_data(run, key="domain")
    )
    assert response.status_code == 422
    errors = _errors_by_field(response.content.decode())
    assert any("No column is mapped to domain" in text for text in errors["key"]), errors


def test_required_field_unmapped_is_said_unless_the_file_only_updates(cast, client_for) -> None:
    client = client_for(cast.ae)
    run = upload(cast.ae, [HEADER, *GOOD])
    response = client.post(f"/imports/{run.pk}/mapping/", _mapping_data(run, column_0=""))
    assert response.status_code == 422
    html = response.content.decode()
    assert re.search(r"legal name is not mapped: no record can be created", html, re.I)
    response = client.post(
        f"/imports/{run.pk}/mapping/", _mapping_data(run, column_0="", update_only="on")
    )
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.status == ImportRun.Status.CHECKED
    assert run.dry_run_counts["rejected"] == 2  # neither SIREN exists yet: nothing to update


# --- dry run, import, report --------------------------------------------------------------------


def test_dry_run_reports_then_import_creates_and_error_file_holds_the_rejected_row(
    cast, client_for
) -> None:
    client = client_for(cast.ae)
    run = upload(cast.ae, [HEADER, *GOOD, BAD])
    response = client.post(f"/imports/{run.pk}/mapping/", _mapping_data(run))
    assert response.status_code == 302 and response["Location"] == f"/imports/{run.pk}/"

    html = client.get(f"/imports/{run.pk}/").content.decode()
    assert re.search(r'id="count-created">2<', html)
    assert re.search(r'id="count-rejected">1<', html)
    assert "Nothing has been written yet." in html
    assert 'id="start-import"' in html and 'id="change-mapping"' in html
    rejected = re.search(r'<tr data-row="3">.*?</tr>', html, flags=re.DOTALL)
    assert rejected is not None and "SIREN" in rejected.group(0)  # row 3, column SIREN
    assert "01 42 68 53 00" in html and "+33142685300" in html  # before → after
    assert not Organisation.objects.exists()

    dry_file = client.get(f"/imports/{run.pk}/errors.csv?dry_run=1")
    assert dry_file.status_code == 200
    assert "file-errors.csv" in dry_file["Content-Disposition"]

    response = client.post(f"/imports/{run.pk}/start/")
    assert response.status_code == 302
    html = client.get(f"/imports/{run.pk}/").content.decode()
    assert re.search(r'id="count-created">2<', html)
    assert 'id="imported-records"' in html
    assert sorted(Organisation.objects.values_list("legal_name", flat=True)) == [
        "Brasserie Fontaine",
        "Cabinet Rousseau SARL",
    ]

    errors = client.get(f"/imports/{run.pk}/errors.csv")
    rows = list(csv.reader(io.StringIO(errors.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == [*HEADER, "error"]
    assert rows[1][:4] == BAD
    assert "SIREN" in rows[1][4]


def test_changing_the_mapping_after_the_dry_run(cast, client_for) -> None:
    client = client_for(cast.ae)
    run = upload(cast.ae, [HEADER, *GOOD])
    client.post(f"/imports/{run.pk}/mapping/", _mapping_data(run))
    page = client.get(f"/imports/{run.pk}/mapping/")
    assert page.status_code == 200
    assert _selected(page.content.decode(), 1) == "siren"  # the choices made, not suggestions


def test_mapping_of_a_finished_run_goes_to_its_report(cast, client_for) -> None:
    client = client_for(cast.ae)
    run = upload(cast.ae, [HEADER, *GOOD])
    client.post(f"/imports/{run.pk}/mapping/", _mapping_data(run))
    client.post(f"/imports/{run.pk}/start/")
    response = client.get(f"/imports/{run.pk}/mapping/")
    assert response.status_code == 302 and response["Location"] == f"/imports/{run.pk}/"


def test_starting_twice_says_why_instead_of_failing(cast, client_for) -> None:
    client = client_for(cast.ae)
    run = upload(cast.ae, [HEADER, *GOOD])
    client.post(f"/imports/{run.pk}/mapping/", _mapping_data(run))
    client.post(f"/imports/{run.pk}/start/")
    response = client.post(f"/imports/{run.pk}/start/", follow=True)
    assert response.status_code == 200
    assert "cannot be started now" in response.content.decode()
    assert Organisation.objects.count() == 2


# --- progress while a worker is busy ------------------------------------------------------------


@pytest.fixture
def idle_worker(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """Tasks are queued but no consumer has picked them up yet."""
    queued: list[tuple[Any, ...]] = []
    monkeypatch.setattr(tasks, "check_run", lambda *args: queued.append(("check", *args)))
    monkeypatch.setattr(tasks, "import_run", lambda *args: queued.append(("import", *args)))
    return queued


def test_progress_is_polled_while_running_and_the_report_stops_the_polling(
    cast, client_for, idle_worker
) -> None:
    client = client_for(cast.ae)
    run = upload(cast.ae, [HEADER, *GOOD])
    client.post(f"/imports/{run.pk}/mapping/", _mapping_data(run))
    run.refresh_from_db()
    assert run.status == ImportRun.Status.CHECKING and idle_worker == [
        ("check", run.pk, cast.ae.pk)
    ]

    html = client.get(f"/imports/{run.pk}/").content.decode()
    assert 'hx-trigger="every 1s"' in html
    assert f'hx-get="/imports/{run.pk}/progress/"' in html
    assert "0 of 2 rows" in html

    services.run_check(run.pk, actor_id=cast.ae.pk)  # the worker does its job
    block = client.get(f"/imports/{run.pk}/progress/").content.decode()
    assert block.startswith('<div id="run-status"')
    assert "hx-trigger" not in block
    assert re.search(r'id="count-created">2<', block)


def test_cancel_stops_a_running_import_before_its_next_batch(cast, client_for, idle_worker) -> None:
    client = client_for(cast.ae)
    run = upload(cast.ae, [HEADER, *GOOD])
    services.configure(run, actor=cast.ae, mapping=run.mapping, key="siren", policy="fill_empty")
    client.post(f"/imports/{run.pk}/start/")
    html = client.get(f"/imports/{run.pk}/").content.decode()
    assert 'id="cancel-run"' in html

    response = client.post(f"/imports/{run.pk}/cancel/")
    assert response.status_code == 302
    html = client.get(f"/imports/{run.pk}/").content.decode()
    assert "Stopping after the current batch" in html and 'id="cancel-run"' not in html

    services.run_import(run.pk, actor_id=cast.ae.pk)  # the worker sees the request
    html = client.get(f"/imports/{run.pk}/").content.decode()
    assert 'id="run-cancelled"' in html and 'id="resume-import"' in html
    assert not Organisation.objects.exists()


# --- other kinds of files and records -----------------------------------------------------------


def test_workbook_goes_through_the_same_steps(cast, client_for, tmp_path: Path) -> None:
    written = write_organisations_xlsx(tmp_path / "salon.xlsx", 8, seed=4, dialect="en")
    client = client_for(cast.ae)
    with written.path.open("rb") as handle:
        response = client.post(
            "/imports/new/",
            {"entity": "organisations", "source": "Salon VivaTech 2026", "file": handle},
        )
    assert response.status_code == 302
    run = ImportRun.objects.get()
    html = client.get(f"/imports/{run.pk}/mapping/").content.decode()
    assert "salon.xlsx" in html and "Excel" in html and "8 rows" in html
    for index, column in enumerate(run.columns):
        assert _selected(html, index) == written.fields.get(column, ""), column


def test_tab_separated_file_says_so(cast, client_for) -> None:
    content = csv_bytes([HEADER, *GOOD], delimiter="\t")
    client = client_for(cast.ae)
    assert _post_upload(client, content, filename="export.tsv").status_code == 302
    run = ImportRun.objects.get()
    html = client.get(f"/imports/{run.pk}/mapping/").content.decode()
    assert re.search(r"delimiter <code>tab</code>", html)


def test_contacts_are_linked_to_their_organisation_by_siren(cast, client_for) -> None:
    client = client_for(cast.ae)
    organisations = upload(cast.ae, [HEADER, *GOOD])
    services.configure(
        organisations,
        actor=cast.ae,
        mapping=organisations.mapping,
        key="siren",
        policy="fill_empty",
    )
    services.start(organisations, actor=cast.ae)
    header = ["Prénom", "Nom", "E-mail", "SIREN de la société"]
    rows = [
        ["Claire", "ROUSSEAU", "Claire.Rousseau@Rousseau.fr", "552120222"],
        ["Hugo", "Fontaine", "hugo@", "732829320"],
    ]
    response = _post_upload(client, [header, *rows], entity="contacts", source="Salon")
    assert response.status_code == 302
    run = ImportRun.objects.get(entity="contacts")
    html = client.get(f"/imports/{run.pk}/mapping/").content.decode()
    assert [_selected(html, i) for i in range(4)] == [
        "first_name",
        "last_name",
        "email",
        "organisation_siren",
    ]
    assert 'value="email"' in html and "compared without case" in html  # the contacts' keys
    response = client.post(f"/imports/{run.pk}/mapping/", _mapping_data(run, key="email"))
    assert response.status_code == 302
    client.post(f"/imports/{run.pk}/start/")
    html = client.get(f"/imports/{run.pk}/").content.decode()
    assert re.search(r'id="count-created">1<', html)
    assert re.search(r'id="count-rejected">1<', html)
    assert 'href="/contacts/?created_at_min=' in html
    contact = Contact.objects.get()
    assert (contact.email, contact.organisation.legal_name) == (
        "claire.rousseau@rousseau.fr",
        "Cabinet Rousseau SARL",
    )


def test_failed_import_says_why_and_offers_to_resume(cast, client_for, idle_worker) -> None:
    client = client_for(cast.ae)
    run = upload(cast.ae, [HEADER, *GOOD])
    services.configure(run, actor=cast.ae, mapping=run.mapping, key="siren", policy="fill_empty")
    client.post(f"/imports/{run.pk}/start/")
    # the worker stopped on a disk full error before its first batch
    ImportRun.objects.filter(pk=run.pk).update(
        status=ImportRun.Status.FAILED, error_message="No space left on device"
    )
    html = client.get(f"/imports/{run.pk}/").content.decode()
    assert "The import stopped:" in html and "No space left on device" in html
    assert 'id="resume-import"' in html and 'id="change-mapping"' in html
    assert "every 1s" not in html  # nothing to poll

    idle_worker.clear()
    client.post(f"/imports/{run.pk}/start/")
    assert idle_worker == [("import", run.pk, cast.ae.pk)]
