"""The `cible` command: Django's commands and Cible's own, as an operator runs them."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.management import call_command

from cible.people.models import Organisation
from tests import factories


@pytest.mark.django_db(transaction=True)
def test_backup_then_restore_brings_back_the_data(cast, tmp_path):
    factories.organisation(cast.ae, legal_name="Kept SAS")
    backup = tmp_path / "cible.backup"
    call_command("backup", str(backup))
    assert backup.stat().st_size > 0
    factories.organisation(cast.ae, legal_name="Added after the backup")
    Organisation.objects.filter(legal_name="Kept SAS").delete()
    call_command("restore", str(backup), "--yes")
    assert list(Organisation.objects.values_list("legal_name", flat=True)) == ["Kept SAS"]


@pytest.mark.django_db
def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path):
    if not settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        pytest.skip("pg_restore reports its own message; checked on SQLite")
    bogus = tmp_path / "notes.txt"
    bogus.write_text("hello")
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="not a SQLite backup"):
        call_command("restore", str(bogus), "--yes")


def test_cli_entry_point_runs_django_commands(capsys):
    from cible.cli import main

    main(["help", "serve"])
    assert "--workers" in capsys.readouterr().out


def test_serve_starts_gunicorn_and_answers(tmp_path):
    """`cible serve` migrates a fresh database and serves the login page through gunicorn."""
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "CIBLE_VAR_DIR": str(tmp_path / "var"),
        "CIBLE_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "cible.cli", "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=2) as answer:
                    body = answer.read().decode()
                break
            except OSError:
                assert server.poll() is None, server.stdout.read().decode() if server.stdout else ""
                assert time.monotonic() < deadline, "cible serve did not answer within 60 s"
                time.sleep(0.3)
        assert 'name="username"' in body and "Cible" in body
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/static/vendor/htmx/htmx.min.js", timeout=5
        ) as asset:
            assert asset.status == 200  # vendored assets are served without collectstatic
    finally:
        server.terminate()
        server.wait(timeout=20)
