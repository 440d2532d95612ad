"""`cible duplicates detect | list | merge --threshold … | quality`."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from cible.people.models import Organisation
from cible.quality.duplicates.models import DetectionRun, MergeRecord

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("duplicates", *args, stdout=out)
    return out.getvalue()


def test_detect_list_and_merge(cast, twins) -> None:
    text = run("detect", "--entity", "organisation")
    assert "organisation: 4 records" in text and "1 pairs stored (1 new)" in text
    assert DetectionRun.objects.get().channel == "cli"
    listed = run("list", "--entity", "organisation")
    assert "Dupont Conseil SAS" in listed and "same SIREN" in listed
    assert "1 open pairs" in run("merge", "--threshold", "0.97", "--dry-run")
    assert not MergeRecord.objects.exists()
    merged = run("merge", "--threshold", "97", "--user", "ada")
    assert "1 merged, 0 skipped, 0 refused" in merged
    record = MergeRecord.objects.get()
    assert (record.channel, record.merged_by) == ("cli", cast.admin)
    assert not Organisation.objects.filter(pk=twins.newer.pk).exists()
    assert "No open pairs" in run("list")


def test_bad_arguments_are_named(cast) -> None:
    with pytest.raises(CommandError, match=r"between 0\.5 and 1"):
        run("merge", "--threshold", "abc")
    with pytest.raises(CommandError, match="No active user named 'nobody'"):
        run("merge", "--threshold", "0.9", "--user", "nobody")
    with pytest.raises(CommandError, match="No labelled set"):
        run("quality")
