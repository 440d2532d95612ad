"""`cible quality`: refresh, snapshot, sweep and stale from the command line."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from cible.quality.freshness.models import QualitySnapshot
from tests.quality.freshness.conftest import TODAY, Base

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("quality", *args, stdout=out)
    return out.getvalue()


def test_stale_counts_and_list(cast: Any, base: Base) -> None:
    output = run("stale", "--entity", "contact", "--owner", "alice", "--list", "5")
    assert "Contacts: 5 records, 3 stale" in output
    assert "Email bounced" in output
    assert "Rebond" in output and "bounced" in output
    assert "Lyonnais" not in output


def test_snapshot_refresh_and_sweep(cast: Any, base: Base) -> None:
    assert "Figures recomputed" in run("refresh")
    assert f"Snapshot of {TODAY} taken" in run("snapshot")
    assert f"Snapshot of {TODAY} replaced" in run("snapshot")
    assert "Snapshot of 2026-06-01 taken" in run("snapshot", "--date", "2026-06-01")
    assert QualitySnapshot.objects.filter(day="2026-06-01").exists()
    assert "0 verification tasks closed" in run("sweep")


def test_bad_arguments_are_named(cast: Any, base: Base) -> None:
    with pytest.raises(CommandError, match="not a YYYY-MM-DD date"):
        run("snapshot", "--date", "01/06/2026")
    with pytest.raises(CommandError, match="cannot be in the future"):
        run("snapshot", "--date", "2030-01-01")
    with pytest.raises(CommandError, match="no user named “nobody”"):
        run("stale", "--owner", "nobody")
