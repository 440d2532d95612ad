"""Nothing half-done: a crash, a kill or a cancel leaves whole batches, and running the import
again finishes it without a duplicate."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from stdnum import luhn

from cible.core.errors import ValidationFailed
from cible.people.models import Organisation
from cible.quality.imports import committing, services
from cible.quality.imports.models import ImportBatch, ImportRun
from tests.factories import organisation
from tests.quality.imports.engine_support import csv_bytes, upload, var_dir  # noqa: F401

ROOT = Path(__file__).resolve().parents[3]
MAPPING = {"Raison sociale": "legal_name", "SIREN": "siren", "Ville": "city"}


def sirens(count: int, start: int = 10_000_000) -> Iterator[str]:
    for prefix in range(start, start + count):
        yield f"{prefix}{luhn.calc_check_digit(str(prefix))}"


def rows(count: int) -> list[list[str]]:
    return [list(MAPPING)] + [
        [f"Entreprise {i}", siren, "Paris"] for i, siren in enumerate(sirens(count), start=1)
    ]


def mapped_run(actor: Any, count: int) -> ImportRun:
    run = upload(actor, rows(count))
    return services.configure(run, actor=actor, mapping=MAPPING, key="siren", policy="fill_empty")


def batch_ranges(run: ImportRun) -> list[tuple[int, int]]:
    return list(ImportBatch.objects.filter(run=run).values_list("first_row", "last_row"))


@pytest.mark.django_db
def test_a_crash_in_the_third_batch_leaves_whole_batches_and_a_rerun_finishes(
    cast: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.IMPORT_BATCH_ROWS = 3
    existing = organisation(cast.ae, legal_name="Entreprise 8", siren=next(sirens(8, 10_000_007)))
    run = mapped_run(cast.ae, 10)
    calls = {"n": 0}
    real_insert = committing.insert_creates

    def crash_on_third(*args: Any, **kwargs: Any) -> int:
        calls["n"] += 1
        written = real_insert(*args, **kwargs)
        if calls["n"] == 3:
            raise OSError("disk full")  # after the rows went to the database
        return written

    monkeypatch.setattr(committing, "insert_creates", crash_on_third)
    run = services.start(run, actor=cast.ae)

    assert run.status == "failed"
    assert "OSError: disk full" in run.error_message
    assert batch_ranges(run) == [(1, 3), (4, 6)]
    assert (run.rows_done, run.counts["created"]) == (6, 6)
    assert Organisation.objects.count() == 7  # 6 imported + the one that was there
    existing.refresh_from_db()
    assert (existing.city, existing.version) == ("", 1)  # its row was in the lost batch

    monkeypatch.setattr(committing, "insert_creates", real_insert)
    run = services.start(run, actor=cast.ae)

    assert run.status == "done", run.error_message
    assert batch_ranges(run) == [(1, 3), (4, 6), (7, 9), (10, 10)]
    assert run.counts == {"created": 9, "updated": 1, "unchanged": 0, "rejected": 0}
    assert run.rows_done == 10
    assert Organisation.objects.count() == 10
    assert Organisation.objects.values("siren").distinct().count() == 10
    existing.refresh_from_db()
    assert (existing.city, existing.version) == ("Paris", 2)


@pytest.mark.django_db
def test_cancel_keeps_the_committed_batches_and_start_resumes(cast: Any, settings: Any) -> None:
    settings.IMPORT_BATCH_ROWS = 2
    run = mapped_run(cast.ae, 6)

    def cancel_after_first_batch(current: ImportRun) -> None:
        if current.rows_done == 2:
            services.cancel(current, actor=cast.ae)

    run = services.start(run, actor=cast.ae, inline=True, progress=cancel_after_first_batch)

    assert run.status == "cancelled"
    assert (run.rows_done, run.counts["created"]) == (2, 2)
    assert Organisation.objects.count() == 2
    run = services.start(run, actor=cast.ae)
    assert run.status == "done"
    assert run.counts["created"] == 6
    assert (
        Organisation.objects.values("siren").distinct().count() == Organisation.objects.count() == 6
    )


@pytest.mark.django_db
def test_cancelling_a_run_that_has_not_started_abandons_it(cast: Any) -> None:
    run = mapped_run(cast.ae, 2)
    run = services.cancel(run, actor=cast.ae)
    assert run.status == "cancelled"
    assert not Organisation.objects.exists()


@pytest.mark.django_db
def test_a_running_run_is_resumed_only_once_its_worker_is_silent(cast: Any) -> None:
    run = mapped_run(cast.ae, 4)
    ImportRun.objects.filter(pk=run.pk).update(status="running", heartbeat_at=timezone.now())
    run.refresh_from_db()
    with pytest.raises(ValidationFailed, match="cannot be started now"):
        services.start(run, actor=cast.ae)

    ImportRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=5))
    run.refresh_from_db()
    run = services.start(run, actor=cast.ae)
    assert run.status == "done"
    assert Organisation.objects.count() == 4


@pytest.mark.django_db
def test_two_workers_never_commit_the_same_rows(cast: Any, settings: Any) -> None:
    settings.IMPORT_BATCH_ROWS = 3
    run = mapped_run(cast.ae, 6)

    def other_worker_commits_rows_4_to_6(current: ImportRun) -> None:
        if current.rows_done == 3:
            ImportBatch.objects.create(run=current, first_row=4, last_row=6)

    run = services.start(run, actor=cast.ae, inline=True, progress=other_worker_commits_rows_4_to_6)

    assert run.status == "failed"
    assert "Rows from 4 on were imported by another worker" in run.error_message
    assert Organisation.objects.count() == 3


# --- a real kill -9 of `cible import` -----------------------------------------------------------


def _cible(env: dict[str, str], *args: str, **kwargs: Any) -> Any:
    command = [sys.executable, "-m", "cible.cli", *args]
    return subprocess.run(
        command,
        env=env,
        cwd=Path(env["CIBLE_VAR_DIR"]).parent,
        capture_output=True,
        text=True,
        **kwargs,
    )


def test_a_killed_cible_import_resumes_without_duplicates(tmp_path: Path) -> None:
    database = tmp_path / "cible.sqlite3"
    env = {
        **os.environ,
        "CIBLE_DATABASE_URL": f"sqlite:///{database}",
        "CIBLE_VAR_DIR": str(tmp_path / "var"),
        "DJANGO_SETTINGS_MODULE": "cible.settings",
        "LANG": "C.UTF-8",
    }
    env.pop("CIBLE_TASKS_IMMEDIATE", None)
    assert _cible(env, "migrate", "-v0").returncode == 0
    made = _cible(
        env,
        "shell",
        "-c",
        "from cible.people.services import user_create; "
        "user_create(username='ada', password=None, role='admin', email='ada@cible.example')",
    )
    assert made.returncode == 0, made.stderr
    total = 12_000
    source = tmp_path / "comptes.csv"
    source.write_bytes(csv_bytes(rows(total)))
    command = [
        sys.executable, "-m", "cible.cli", "import", str(source), "--entity", "organisations",
        "--source", "Registre", "--key", "siren", "--user", "ada@cible.example",
        "--batch-size", "500",
    ]  # fmt: skip
    worker = subprocess.Popen(
        command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 120
        committed = 0
        while committed < 3 and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.05)
            with sqlite3.connect(database, timeout=20) as db:
                committed = db.execute("SELECT COUNT(*) FROM imports_importbatch").fetchone()[0]
        assert worker.poll() is None, "the import ended before it could be killed"
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()

    with sqlite3.connect(database) as db:
        uuid, status = db.execute("SELECT uuid, status FROM imports_importrun").fetchone()
        batches = db.execute(
            "SELECT first_row, last_row, created FROM imports_importbatch"
        ).fetchall()
        organisations = db.execute("SELECT COUNT(*) FROM people_organisation").fetchone()[0]
    assert status == "running"  # killed: nobody could say otherwise
    assert 3 <= len(batches) < total // 500
    assert organisations == sum(created for _f, _l, created in batches)  # whole batches only
    assert organisations == sum(last - first + 1 for first, last, _c in batches)

    resumed = _cible(
        env, "import", "--resume", str(uuid).replace("-", ""), "--user", "ada@cible.example"
    )
    assert resumed.returncode == 0, resumed.stderr + resumed.stdout

    with sqlite3.connect(database) as db:
        status, counts = db.execute("SELECT status, counts FROM imports_importrun").fetchone()
        count, distinct = db.execute(
            "SELECT COUNT(*), COUNT(DISTINCT siren) FROM people_organisation"
        ).fetchone()
    assert status == "done"
    assert count == distinct == total
    assert '"created": 12000' in counts


@pytest.mark.django_db
def test_a_reimport_reads_the_stored_records_in_slices(
    cast: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cible.quality.imports import decisions

    first = rows(7)
    for row in first[1:4]:
        row[2] = ""  # three records without a city yet
    run = upload(cast.ae, first)
    run = services.configure(run, actor=cast.ae, mapping=MAPPING, key="siren", policy="fill_empty")
    assert services.start(run, actor=cast.ae).counts["created"] == 7
    monkeypatch.setattr(decisions, "STORED_SLICE", 2)  # four slices for seven rows

    again = services.start(mapped_run(cast.ae, 7), actor=cast.ae)

    assert again.counts == {"created": 0, "updated": 3, "unchanged": 4, "rejected": 0}
    assert Organisation.objects.filter(city="Paris").count() == 7
    assert Organisation.objects.count() == 7
