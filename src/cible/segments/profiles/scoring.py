"""The fit-score formula, pure: no database, so it is tested alone and shared by the bulk
computation (numpy, a million organisations at once) and by the explanation of one score.

score = 100 × (sum of the weights of the criteria met) / (sum of all weights), rounded half up.

An explanation gives each criterion its contribution in whole points, and the points of the
criteria met add up to the score exactly: each gets the integer part of its share, and the
points lost to rounding go to the largest remainders (the largest-remainder method; ties go to
the criterion listed first). So a criterion worth 33.3 points may show 33 or 34 depending on
which others were met — never a total that disagrees with the score.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Criterion:
    """What the formula needs of a criterion."""

    id: int
    label: str
    weight: int


@dataclass(frozen=True)
class Contribution:
    """One line of an explanation."""

    criterion_id: int
    label: str
    weight: int
    matched: bool
    points: int  # what it adds to this score: 0 when not met
    worth: float  # what it would add when met: 100 × weight / total weight

    def describe(self) -> str:
        if self.matched:
            return _("%(label)s (+%(points)d)") % {"label": self.label, "points": self.points}
        return _("%(label)s (0)") % {"label": self.label}


@dataclass(frozen=True)
class FitExplanation:
    """A fit score and why: the contribution of each criterion, in the profile's order."""

    score: int
    total_weight: int
    contributions: tuple[Contribution, ...]

    @property
    def matched_weight(self) -> int:
        return sum(c.weight for c in self.contributions if c.matched)

    @property
    def matched(self) -> tuple[Contribution, ...]:
        return tuple(c for c in self.contributions if c.matched)

    @property
    def missed(self) -> tuple[Contribution, ...]:
        return tuple(c for c in self.contributions if not c.matched)

    def describe(self) -> str:
        """ "83/100 — Salesforce installed (+50), PME (+33), not in Lille (0)" """
        lines = ", ".join(c.describe() for c in self.contributions)
        return _("%(score)d/100 — %(lines)s") % {"score": self.score, "lines": lines}


def fit_score(matched_weight: int, total_weight: int) -> int:
    """100 × matched / total, rounded half up (integers only: no float drift at .5)."""
    if total_weight <= 0:
        return 0
    return (200 * matched_weight + total_weight) // (2 * total_weight)


def fit_scores(
    matched_weights: npt.NDArray[np.integer], total_weight: int
) -> npt.NDArray[np.int16]:
    """`fit_score` over an array of matched weights at once."""
    if total_weight <= 0:
        return np.zeros(len(matched_weights), dtype=np.int16)
    weights = matched_weights.astype(np.int64)
    return ((200 * weights + total_weight) // (2 * total_weight)).astype(np.int16)


def explain(criteria: Sequence[Criterion], matched: Collection[int]) -> FitExplanation:
    """The score of an organisation meeting the criteria whose ids are in `matched`, explained."""
    total = sum(c.weight for c in criteria)
    met = [c.id in matched for c in criteria]
    score = fit_score(sum(c.weight for c, m in zip(criteria, met, strict=True) if m), total)
    points = [
        (100 * c.weight) // total if m and total else 0 for c, m in zip(criteria, met, strict=True)
    ]
    # Hand the points lost to rounding to the largest remainders among the criteria met.
    left = score - sum(points)
    if left > 0:
        order = sorted(
            (i for i, m in enumerate(met) if m),
            key=lambda i: (-((100 * criteria[i].weight) % total), i),
        )
        for i in order[:left]:
            points[i] += 1
    return FitExplanation(
        score=score,
        total_weight=total,
        contributions=tuple(
            Contribution(
                criterion_id=c.id,
                label=c.label,
                weight=c.weight,
                matched=m,
                points=p,
                worth=100 * c.weight / total if total else 0.0,
            )
            for c, m, p in zip(criteria, met, points, strict=True)
        ),
    )
