"""`cible import`: the same engine in the foreground, a progress bar, a report, Ctrl-C."""

from __future__ import annotations

import io
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from auditlog.models import LogEntry
from django.core.management import CommandError, call_command

from cible.people.models import Organisation
from cible.quality.imports.models import ImportRun
from tests.factories import organisation
from tests.quality.imports.engine_support import csv_bytes, var_dir  # noqa: F401
from tests.quality.imports.test_resume import _cible, rows

MARTIN, ACME = "356000000", "552100554"


def cible_import(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def accounts(tmp_path: Path) -> Path:
    path = tmp_path / "comptes.csv"
    path.write_bytes(
        csv_bytes(
            [
                ["Raison sociale", "SIREN", "Téléphone", "Ville"],
                ["Boulangerie Martin", MARTIN, "01 42 68 53 00", "Paris"],
                ["Acme", ACME, "04 72 00 00 00", "Lyon"],
                ["Sans SIREN valide", "123", "", "Lille"],
            ]
        )
    )
    return path


@pytest.mark.django_db
def test_cli_imports_and_reports(cast: Any, accounts: Path) -> None:
    organisation(cast.ae, legal_name="Boulangerie Martin", siren=MARTIN)
    out, err = cible_import(
        str(accounts), "--entity", "organisations", "--source", "Registre", "--key", "siren",
        "--user", "alice",
    )  # fmt: skip

    run = ImportRun.objects.get()
    assert (run.status, run.channel) == ("done", "cli")
    assert run.counts == {"created": 1, "updated": 1, "unchanged": 0, "rejected": 1}
    assert "Raison sociale                 → legal_name" in out
    assert "  created                          1" in out
    assert "  updated                          1" in out
    assert "  rejected                         1" in out
    assert "  switchboard phone                2  (01 42 68 53 00 → +33142685300)" in out
    errors = accounts.parent / "comptes-errors.csv"
    assert f"Rejected rows and their reasons: {errors}" in out
    assert "Sans SIREN valide;123;;Lille;SIREN: " in errors.read_text(encoding="utf-8-sig")
    assert "100%" in err and "rows/s" in err  # the progress bar
    entry = LogEntry.objects.filter(additional_data__bulk__import=str(run.uuid)).get()
    assert entry.additional_data["channel"] == "import"
    assert entry.additional_data["bulk"]["via"] == "cli"
    assert entry.actor == cast.ae


@pytest.mark.django_db
def test_cli_dry_run_writes_nothing(cast: Any, accounts: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(accounts.parent)  # a resumed run writes its error file where it is run
    out, _err = cible_import(
        str(accounts), "--entity", "organisations", "--source", "Registre", "--user", "alice",
        "--dry-run",
    )  # fmt: skip
    run = ImportRun.objects.get()
    assert run.status == "checked"
    assert "Dry run (nothing written)" in out
    assert "  would be created                 2" in out
    assert f"cible import --resume {run.uuid}" in out
    assert not Organisation.objects.exists()

    out, _err = cible_import("--resume", str(run.uuid), "--user", "alice")
    assert Organisation.objects.count() == 2
    assert "  created                          2" in out


@pytest.mark.django_db
def test_cli_map_and_preset(cast: Any, tmp_path: Path) -> None:
    path = tmp_path / "salesforce.csv"
    path.write_bytes(
        csv_bytes(
            [
                ["Account ID", "Account Name", "Billing City", "Phone", "SIREN__c"],
                ["0015g00000AbCdE", "Acme", "Lyon", "04 72 00 00 00", ACME],
            ],
            delimiter=",",
        )
    )
    out, _err = cible_import(
        str(path), "--entity", "organisations", "--source", "Salesforce", "--preset", "salesforce",
        "--map", "SIREN__c=siren", "--map", "Phone=", "--key", "external_id", "--user", "alice",
    )  # fmt: skip
    run = ImportRun.objects.get()
    assert run.mapping == {
        "Account ID": "external_id",
        "Account Name": "legal_name",
        "Billing City": "city",
        "SIREN__c": "siren",
    }
    acme = Organisation.objects.get()
    assert (acme.siren, acme.city, acme.phone) == (ACME, "Lyon", "")
    assert "Phone                          → (ignored)" in out


@pytest.mark.django_db
def test_cli_refuses_bad_arguments_without_leaving_a_run(cast: Any, accounts: Path) -> None:
    with pytest.raises(CommandError, match="Missing: --entity"):
        cible_import(str(accounts), "--source", "Registre", "--user", "alice")
    with pytest.raises(CommandError, match="Fax"):
        cible_import(
            str(accounts), "--entity", "organisations", "--source", "Registre", "--user", "alice",
            "--map", "Fax=phone",
        )  # fmt: skip
    with pytest.raises(CommandError, match=r"No active user has the email nobody@x\.fr"):
        cible_import(
            str(accounts), "--entity", "organisations", "--source", "R", "--user", "nobody@x.fr"
        )
    assert not ImportRun.objects.exists()


def test_ctrl_c_stops_after_the_current_batch(tmp_path: Path) -> None:
    database = tmp_path / "cible.sqlite3"
    env = {
        **os.environ,
        "CIBLE_DATABASE_URL": f"sqlite:///{database}",
        "CIBLE_VAR_DIR": str(tmp_path / "var"),
        "LANG": "C.UTF-8",
    }
    assert _cible(env, "migrate", "-v0").returncode == 0
    made = _cible(
        env,
        "shell",
        "-c",
        "from cible.people.services import user_create; "
        "user_create(username='ada', password=None, role='admin', email='ada@cible.example')",
    )
    assert made.returncode == 0, made.stderr
    source = tmp_path / "comptes.csv"
    source.write_bytes(csv_bytes(rows(12_000)))
    command = [
        sys.executable, "-m", "cible.cli", "import", str(source), "--entity", "organisations",
        "--source", "Registre", "--key", "siren", "--batch-size", "500",
    ]  # fmt: skip
    worker = subprocess.Popen(
        command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    committed = 0
    deadline = time.monotonic() + 120
    while committed < 2 and time.monotonic() < deadline and worker.poll() is None:
        time.sleep(0.05)
        with sqlite3.connect(database, timeout=20) as db:
            committed = db.execute("SELECT COUNT(*) FROM imports_importbatch").fetchone()[0]
    worker.send_signal(signal.SIGINT)
    _out, err = worker.communicate(timeout=120)

    assert worker.returncode == 130, err
    with sqlite3.connect(database) as db:
        uuid, status, done = db.execute(
            "SELECT uuid, status, rows_done FROM imports_importrun"
        ).fetchone()
        organisations = db.execute("SELECT COUNT(*) FROM people_organisation").fetchone()[0]
    assert status == "cancelled"
    assert organisations == done and done % 500 == 0 and 0 < done < 12_000
    # The messages speak the server's language (French by default): check the resume command.
    assert f"cible import --resume {uuid[:8]}" in err
