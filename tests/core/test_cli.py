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
