"""Detection measured on the demo's labelled set (a few thousand records with injected
duplicates and look-alikes): precision ≥ 0.97 and recall ≥ 0.92 at the default threshold."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction

from cible.demo.generator import generate
from cible.quality.duplicates.detect import run_detection
from cible.quality.duplicates.evaluation import Quality, measure
from cible.quality.duplicates.models import DuplicateLabel

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def measured(django_db_setup: Any, django_db_blocker: Any) -> Iterator[dict[str, Quality]]:
    """The small demo (2,000 organisations, ~8,000 contacts), detected once, rolled back."""
    with django_db_blocker.unblock(), transaction.atomic():
        generate("small", 7)
        kinds = set(DuplicateLabel.objects.values_list("kind", flat=True))
        for entity in ("organisation", "contact"):
            run_detection(entity=entity)
        yield {entity: measure(entity) for entity in ("organisation", "contact")} | {
            "kinds": kinds  # type: ignore[dict-item]
        }
        transaction.set_rollback(True)


def test_the_labelled_set_has_every_kind_of_trap(measured: dict[str, Any]) -> None:
    kinds = " ".join(measured["kinds"])
    for kind in ("typo", "abbreviation", "legal_form", "accents", "missing_fields"):
        assert kind in kinds
    for kind in ("changed_domain", "same_name_other_city", "subsidiary", "same_group_name"):
        assert kind in kinds
    assert "namesake" in kinds and "other_organisation_record" in kinds


@pytest.mark.parametrize("entity", ["organisation", "contact"])
def test_precision_and_recall_at_the_default_threshold(
    measured: dict[str, Quality], entity: str
) -> None:
    quality = measured[entity]
    assert quality.labelled_duplicates >= 50, quality
    assert quality.precision >= 0.97, quality
    assert quality.recall >= 0.92, quality
    assert quality.look_alikes_detected == 0, quality.false_alarms_by_kind
