"""`cible profiles`: list the profiles, score them with progress."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from tests.segments.profiles.conftest import scores_by_name

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("profiles", *args, stdout=out)
    return out.getvalue()


def test_score_computes_every_active_profile(base: Any, conquest: Any) -> None:
    output = run("score")

    assert "conquest-crm-switchers: 5 organisations" in output
    assert "  Salesforce installed: 3 organisations" in output
    assert "conquest-crm-switchers: 5 organisations scored in" in output
    assert scores_by_name(conquest)["Acme"] == 83


def test_score_names_an_unknown_profile(conquest: Any) -> None:
    with pytest.raises(CommandError, match="No profile with the code nope"):
        run("score", "nope")


def test_list_shows_weights_and_shares(conquest: Any) -> None:
    output = run("list")

    assert "conquest-crm-switchers: Conquest: CRM switchers (conquest; not scored)" in output
    assert "  3 (50.0 pts)  Salesforce installed:" in output
    assert "  1 (16.7 pts)  not in Lille:" in output
