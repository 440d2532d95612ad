"""An import writes without model signals: the segments of what it wrote still follow."""

from __future__ import annotations

from typing import Any

import pytest

from cible.people.models import Organisation
from cible.quality.imports import services
from tests.quality.imports.engine_support import upload, var_dir  # noqa: F401
from tests.quality.imports.test_resume import sirens
from tests.segments.axes.conftest import placed

MAPPING = {
    "Raison sociale": "legal_name",
    "SIREN": "siren",
    "Code postal": "postal_code",
    "Effectif": "headcount",
}


@pytest.mark.django_db
def test_imported_organisations_land_in_their_segments(
    cast: Any, django_capture_on_commit_callbacks: Any
) -> None:
    nordis, azur = sirens(2)
    run = upload(
        cast.ae,
        [list(MAPPING), ["Nordis", nordis, "59000", "42"], ["Azur Conseil", azur, "06000", "3"]],
    )
    run = services.configure(run, actor=cast.ae, mapping=MAPPING, key="siren", policy="fill_empty")

    with django_capture_on_commit_callbacks(execute=True):
        run = services.start(run, actor=cast.ae)

    assert run.status == "done", run.error_message
    in_lille = placed(Organisation.objects.get(legal_name="Nordis"))
    in_nice = placed(Organisation.objects.get(legal_name="Azur Conseil"))
    assert (in_lille["geography"], in_lille["size"]) == ("lille", "pme")
    assert (in_nice["geography"], in_nice["size"]) == ("paca", "tpe")
