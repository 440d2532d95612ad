"""How good detection is, measured against a labelled set (`DuplicateLabel`, built by the demo).

Precision: of the pairs detected at the threshold, the share that are true duplicates. Every
detected pair counts, not only labelled ones: two records of the base that are not labelled as
duplicates are distinct companies or people, so a pair of them is a false alarm.
Recall: of the labelled duplicates, the share detected at the threshold.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from cible.quality.duplicates.models import DuplicateLabel, DuplicatePair
from cible.quality.duplicates.scoring import DEFAULT_THRESHOLD


@dataclass(frozen=True)
class Quality:
    entity: str
    threshold: float
    detected: int
    true_positives: int
    labelled_duplicates: int
    look_alikes_detected: int  # labelled "not the same" but detected: the worst false alarms
    missed_by_kind: dict[str, int] = field(default_factory=dict)
    false_alarms_by_kind: dict[str, int] = field(default_factory=dict)

    @property
    def precision(self) -> float:
        return self.true_positives / self.detected if self.detected else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.labelled_duplicates if self.labelled_duplicates else 1.0

    def __str__(self) -> str:
        return (
            f"{self.entity}: precision {self.precision:.3f}, recall {self.recall:.3f} at "
            f"{self.threshold:.2f} ({self.detected} detected, {self.true_positives} right, "
            f"{self.labelled_duplicates} labelled duplicates, "
            f"{self.look_alikes_detected} look-alikes wrongly detected)"
        )


def measure(entity: str, threshold: float = DEFAULT_THRESHOLD) -> Quality:
    """Precision and recall of the stored pairs of `entity` against its labels."""
    detected = set(
        DuplicatePair.objects.filter(entity=entity, score__gte=threshold).values_list(
            "record_a", "record_b"
        )
    )
    labels = {
        (a, b): (duplicate, kind)
        for a, b, duplicate, kind in DuplicateLabel.objects.filter(entity=entity).values_list(
            "record_a", "record_b", "duplicate", "kind"
        )
    }
    truth = {pair for pair, (duplicate, _kind) in labels.items() if duplicate}
    missed = Counter(
        kind.split("+")[0] if "other_organisation" in kind else kind
        for pair, (duplicate, kind) in labels.items()
        if duplicate and pair not in detected
    )
    alarms = Counter(
        labels[pair][1] if pair in labels else "unlabelled" for pair in detected - truth
    )
    return Quality(
        entity=entity,
        threshold=threshold,
        detected=len(detected),
        true_positives=len(detected & truth),
        labelled_duplicates=len(truth),
        look_alikes_detected=sum(n for kind, n in alarms.items() if kind != "unlabelled"),
        missed_by_kind=dict(missed),
        false_alarms_by_kind=dict(alarms),
    )
