"""The import wizard, as a person uses it: a messy organisation file goes through upload,
mapping, dry run and import; the rejected rows come back in an error file, are fixed there and
imported again; once in French, once in English. And an import cancelled half-way, then resumed.

The French run checks labels that come from the French catalog (field names, the normalisers'
messages): without the compiled catalog they stay in English and that test fails.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from cible.demo.import_files import WrittenFile, write_organisations_csv
from cible.people.models import Organisation
from cible.quality.imports import services, tasks
from cible.quality.imports.models import ImportRun
from tests.browser.helpers import login
from tests.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROWS = 30
BAD_ROWS = 4  # one of each defect: SIREN failing its check, bad email, formula, 3.56E+08


@pytest.fixture(autouse=True)
def var_dir(settings: Any, tmp_path: Path) -> Path:
    """Uploaded files go to a temporary directory, not to the checkout's var/."""
    settings.VAR_DIR = tmp_path / "var"
    return settings.VAR_DIR


@pytest.fixture
def owners(cast: Any) -> list[str]:
    """The owners the file names, by email, as exports do."""
    User = get_user_model()
    User.objects.filter(pk=cast.ae.pk).update(email="alice.martin@example.fr")
    User.objects.filter(pk=cast.ae2.pk).update(email="basile.durand@example.fr")
    return ["alice.martin@example.fr", "basile.durand@example.fr"]


def _selected_text(page: Page, column: str) -> str:
    select = page.locator(f'#mapping-table tr[data-column="{column}"] select')
    return str(select.evaluate("s => s.selectedOptions[0].textContent")).strip()


def _count(page: Page, outcome: str) -> int:
    text = page.locator(f"#count-{outcome}").inner_text()
    return int(re.sub(r"\D", "", text) or 0)


def _fix(cells: dict[str, str], problem: str, fields: dict[str, str], row: int) -> None:
    """What a person does with each cell the error column names."""
    for column, field in fields.items():
        if not re.search(rf"(?:^|; ){re.escape(column)}: ", problem):
            continue
        value = cells[column]
        if field == "siren":  # the establishment number starts with the company's
            siret = next((cells[c] for c, f in fields.items() if f == "siret"), "")
            digits = re.sub(r"\D", "", siret)
            cells[column] = digits[:9] if len(digits) == 14 else ""
        elif field == "legal_name":
            cells[column] = f"Société corrigée {row}"
        elif field == "owner_email":
            cells[column] = "alice.martin@example.fr"
        elif field == "last_verified_at" and re.fullmatch(r"\d{2}/\d{2}/\d{4}", value or ""):
            day, month, year = value.split("/")
            cells[column] = f"{year}-{month}-{day}"
        else:
            cells[column] = ""  # unknown: better empty than wrong


def _fixed_file(download: Path, target: Path, written: WrittenFile) -> int:
    """The error file with its bad cells corrected (the error column left in); its row count."""
    text = download.read_text(encoding="utf-8-sig")
    delimiter = ";" if text.split("\n", 1)[0].count(";") else ","
    rows = list(csv.DictReader(io.StringIO(text), delimiter=delimiter))
    assert rows, "the error file has no rows"
    header = list(rows[0])
    assert header[: len(written.columns)] == written.columns  # the original columns, in order
    for number, cells in enumerate(rows, start=1):
        problem = cells[header[-1]]
        assert problem, f"row {number} of the error file says no reason"
        for column in written.columns:  # cells neutralised for spreadsheets come back as typed
            if cells[column].startswith("'="):
                cells[column] = cells[column][1:]
        _fix(cells, problem, written.fields, number)
    with target.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=header, delimiter=delimiter)
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)


def _upload(page: Page, path: Path, source: str | None) -> None:
    page.select_option("#id_entity", "organisations")
    if source is not None:
        page.fill("#id_source", source)
    page.set_input_files("#id_file", str(path))
    with page.expect_navigation():
        page.click("#upload")
    expect(page).to_have_url(re.compile(r"/imports/\d+/mapping/$"))


def _import_fix_and_reimport(
    page: Page, tmp_path: Path, written: WrittenFile, labels: dict[str, str]
) -> None:
    """The whole journey; `labels` holds the texts the page shows in the user's language."""
    page.goto("/imports/")
    with page.expect_navigation():
        page.click("#new-import")
    _upload(page, written.path, "Salon VivaTech 2026")

    # --- mapping: the suggestion is the mapping a person would choose ----------------------------
    expect(page.locator("#run-file")).to_contain_text(f"{ROWS}")
    table = page.locator("#mapping-table")
    for column, field in written.fields.items():
        expect(table.locator(f'tr[data-column="{column}"] select')).to_have_value(field)
    assert _selected_text(page, labels["phone_column"]) == labels["phone_field"]
    expect(
        table.locator(f'tr[data-column="{labels["phone_column"]}"] .sample-values')
    ).not_to_be_empty()
    page.check("#id_key_external_id")  # every row has its reference in the source
    expect(page.locator("#id_policy_fill_empty")).to_be_checked()
    with page.expect_navigation():
        page.click("#dry-run")

    # --- dry run: nothing written, the rejected rows with their reasons ------------------------
    expect(page.locator("#run-report")).to_have_attribute("data-dry-run", "1")
    expect(page.locator("#run-report [data-import-chart] svg")).to_be_visible()  # ECharts drew
    assert Organisation.objects.count() == 0
    rejected = _count(page, "rejected")
    assert rejected >= BAD_ROWS
    assert _count(page, "created") == ROWS - rejected
    for row, kind in written.bad_rows.items():
        reasons = page.locator(f'#rejections tr[data-row="{row}"]')
        expect(reasons.first).to_be_visible()
        if kind in ("siren_invalid", "siren_scientific"):
            expect(page.locator("#rejections")).to_contain_text(labels["siren_reason"])
    expect(page.locator("#run-changes")).to_contain_text("→")  # phones, countries… tidied
    with page.expect_navigation():
        page.click("#start-import")

    # --- the import: what went in, and the rows to fix ---------------------------------------
    expect(page.locator("#run-status")).to_have_attribute("data-status", "done")
    assert _count(page, "rejected") == rejected
    assert _count(page, "created") == ROWS - rejected
    assert Organisation.objects.count() == ROWS - rejected
    with page.expect_download() as info:
        page.click("#error-file")
    fixed = tmp_path / "salon-corrige.csv"
    assert _fixed_file(Path(info.value.path()), fixed, written) == rejected

    # --- the fixed file goes in through the same wizard, same source ---------------------------
    with page.expect_navigation():
        page.click("#import-another")
    expect(page.locator("#id_source")).to_have_value("Salon VivaTech 2026")
    _upload(page, fixed, None)
    expect(page.locator("#mapping-origin")).to_have_attribute("data-origin", "memory")
    error_column = page.locator("#mapping-table tbody tr").last
    expect(error_column.locator("select")).to_have_value("")  # the error column is ignored
    with page.expect_navigation():
        page.click("#dry-run")
    assert _count(page, "rejected") == 0
    assert _count(page, "created") == rejected
    with page.expect_navigation():
        page.click("#start-import")
    assert _count(page, "created") == rejected
    expect(page.locator("#rejections")).to_be_visible()  # "no row was rejected"
    assert Organisation.objects.count() == ROWS

    with page.expect_navigation():
        page.click("#imported-records")
    expect(page.locator("#result-count")).to_contain_text(f"{ROWS}")
    page.goto("/imports/")
    expect(page.locator("#import-runs tbody tr")).to_have_count(2)


def test_french_user_imports_a_messy_file_fixes_the_rejected_rows_and_reimports(
    page: Page, live_server, cast, owners, tmp_path: Path
) -> None:
    """Needs the French catalog."""
    written = write_organisations_csv(
        tmp_path / "salon.csv", ROWS, seed=11, dialect="fr", bad_rows=BAD_ROWS, owners=owners
    )
    login(page, live_server, "alice", PASSWORD)  # Alice's profile speaks French
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    labels = {
        "phone_column": "Téléphone",
        "phone_field": "Téléphone du standard",
        "siren_reason": "n'est pas un SIREN valide",
    }
    _import_fix_and_reimport(page, tmp_path, written, labels)


def test_english_user_imports_a_messy_file_fixes_the_rejected_rows_and_reimports(
    page: Page, live_server, cast, owners, tmp_path: Path
) -> None:
    written = write_organisations_csv(
        tmp_path / "salon.csv", ROWS, seed=12, dialect="en", bad_rows=BAD_ROWS, owners=owners
    )
    login(page, live_server, "marie", PASSWORD)  # Marie's profile speaks English
    expect(page.locator("html")).to_have_attribute("lang", "en")
    labels = {
        "phone_column": "Phone",
        "phone_field": "Switchboard phone",
        "siren_reason": "is not a valid SIREN",
    }
    _import_fix_and_reimport(page, tmp_path, written, labels)


def _hold_polling(page: Page) -> None:
    """Let no status poll reach the server until `_release_polling`, and wait until one has been
    held, so that no request is in flight: the test thread may then use the database alone."""
    page.route("**/progress/", lambda route: route.abort())
    with page.expect_event("requestfailed"):
        pass


def _release_polling(page: Page) -> None:
    page.unroute("**/progress/")


def test_import_cancelled_half_way_then_resumed(
    page: Page, live_server, cast, owners, tmp_path: Path, settings: Any, monkeypatch
) -> None:
    """The worker is another process in production. Here its queue is held (the task records
    the run instead of running it), then the test plays the worker, batch by batch, while the
    page's polling is held: only one thread at a time uses the test database."""
    settings.IMPORT_BATCH_ROWS = 10
    written = write_organisations_csv(
        tmp_path / "salon.csv", ROWS, seed=13, dialect="en", bad_rows=0, owners=owners
    )
    queued: list[int] = []
    monkeypatch.setattr(tasks, "import_run", lambda run_id, actor_id: queued.append(run_id))
    login(page, live_server, "marie", PASSWORD)
    page.goto("/imports/new/")
    _upload(page, written.path, "Salon VivaTech 2026")
    with page.expect_navigation():
        page.click("#dry-run")
    with page.expect_navigation():
        page.click("#start-import")

    # Queued, not started: progress bar at zero, polling, a Cancel button.
    status = page.locator("#run-status")
    expect(status).to_have_attribute("data-status", "running")
    bar = page.locator("#run-progress [role=progressbar]")
    expect(bar).to_have_attribute("aria-valuenow", "0")
    expect(page.locator("#rows-done")).to_contain_text(f"0 of {ROWS} rows")
    run = ImportRun.objects.get()
    assert queued == [run.pk]

    def after_each_batch(current: ImportRun) -> None:
        """Between two batches (nothing uncommitted), the person watches and cancels."""
        if current.rows_done != 10:
            return
        _release_polling(page)
        expect(page.locator("#rows-done")).to_contain_text(f"10 of {ROWS} rows")  # polled
        expect(bar).to_have_attribute("aria-valuenow", "33")
        with page.expect_navigation():
            page.click("#cancel-run")
        expect(page.locator("#run-progress")).to_contain_text("Stopping after the current batch")
        _hold_polling(page)

    _hold_polling(page)
    services.run_import(run.pk, actor_id=cast.marketer.pk, progress=after_each_batch)
    _release_polling(page)

    # The worker stopped before its second batch; the page, polling, shows the outcome.
    expect(status).to_have_attribute("data-status", "cancelled")
    expect(page.locator("#run-cancelled")).to_contain_text(f"10 rows of {ROWS} went in")
    expect(page.locator("#count-created")).to_have_text("10")
    expect(page.locator("#run-report [data-import-chart] svg")).to_be_visible()  # drawn on swap
    assert Organisation.objects.count() == 10

    # Resumed, it finishes the job after the committed batch, without duplicates.
    monkeypatch.undo()
    with page.expect_navigation():
        page.click("#resume-import")
    expect(status).to_have_attribute("data-status", "done")
    assert _count(page, "created") == ROWS
    assert Organisation.objects.count() == ROWS
