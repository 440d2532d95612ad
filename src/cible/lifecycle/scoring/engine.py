"""Rule scores over arrays: one lead or a million, the same arithmetic (SPEC C5).

`gather` pulls what a scoring needs into `LeadFacts` (one row per lead); `score` turns them into
the parts of every score — one column per rule that gave points — and the scores and grades.
Nothing here touches the database, so the batch run, the one-lead rescore after an interaction and
the explanation page cannot disagree: they all call `score`.

Behaviour decays by half every `half_life_days`: an interaction worth 10 points today is worth 5
after one half-life. `LeadFacts.decayed[i, k]` holds Σ 0.5^(age/half-life) over lead i's
interactions of kind k, so the kind's part is points × that sum, then capped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from cible.lifecycle.scoring.definition import (
    BANT_CHOICES,
    ENGAGEMENT_DIGITS,
    PROFILE_LETTERS,
    Rules,
)
from cible.people.models import Source

SOURCES: tuple[str, ...] = tuple(Source.values)
GRADES: tuple[str, ...] = tuple(p + e for p in PROFILE_LETTERS for e in ENGAGEMENT_DIGITS)
UNKNOWN = -1  # code of an empty BANT value or source


@dataclass
class Stored:
    """The scores a lead carries now (-1 / UNKNOWN when unscored), to write only what changed."""

    profile: npt.NDArray[np.int64]
    engagement: npt.NDArray[np.int64]
    grade: npt.NDArray[np.int64]  # index into GRADES
    current: npt.NDArray[np.bool_]  # written by the model (and version) being applied


@dataclass
class LeadFacts:
    """What the rules read, per lead, in the order of `lead_ids`."""

    lead_ids: npt.NDArray[np.int64]
    icp_fit: npt.NDArray[np.float64]  # 0–100, NaN without a fit score
    personas: npt.NDArray[np.bool_]  # [lead, rules.personas]
    segments: npt.NDArray[np.bool_]  # [lead, rules.segments]
    bant: dict[str, npt.NDArray[np.int8]]  # index into BANT_CHOICES[name], UNKNOWN if empty
    source: npt.NDArray[np.int8]  # index into SOURCES, UNKNOWN if empty
    decayed: npt.NDArray[np.float64]  # [lead, rules.kinds], Σ 0.5^(age / half-life)
    stored: Stored | None = None

    def __len__(self) -> int:
        return len(self.lead_ids)


@dataclass
class Scores:
    lead_ids: npt.NDArray[np.int64]
    part_names: list[str]  # "icp", "persona:3", "segment:12", "source", "bant:budget", "kind:call"
    parts: npt.NDArray[np.float64]  # [lead, part], points before clamping
    profile: npt.NDArray[np.int16]
    engagement: npt.NDArray[np.int16]
    grades: list[str]
    grade_codes: npt.NDArray[np.intp]  # index into GRADES

    def changed_from(self, stored: Stored) -> npt.NDArray[np.intp]:
        """Positions of the leads whose stored scores differ from these (or are missing, or
        were written by another model or version)."""
        same = (
            stored.current
            & (stored.profile == self.profile)
            & (stored.engagement == self.engagement)
            & (stored.grade == self.grade_codes)
        )
        return np.flatnonzero(~same)

    def row(self, index: int) -> dict[str, float]:
        """The non-zero parts of one lead, rounded to a tenth: its explanation's figures."""
        values = self.parts[index]
        return {
            name: round(float(value), 1)
            for name, value in zip(self.part_names, values, strict=True)
            if value != 0
        }


def codes(values: Sequence[str], choices: Sequence[str]) -> npt.NDArray[np.int8]:
    """Text values → indexes into `choices` (UNKNOWN for empty or unknown values)."""
    lookup = {choice: index for index, choice in enumerate(choices)}
    return np.fromiter((lookup.get(v, UNKNOWN) for v in values), dtype=np.int8, count=len(values))


def _lookup(points: dict[str, float], choices: Sequence[str]) -> npt.NDArray[np.float64]:
    """Points by code, with a last slot (index -1) for UNKNOWN worth nothing."""
    table = np.zeros(len(choices) + 1)
    for index, choice in enumerate(choices):
        table[index] = points.get(choice, 0.0)
    return table


def _clamped(total: npt.NDArray[np.float64]) -> npt.NDArray[np.int16]:
    return np.clip(np.floor(total + 0.5), 0, 100).astype(np.int16)


def _band(scores: npt.NDArray[np.int16], bands: tuple[float, float]) -> npt.NDArray[np.intp]:
    """0 for the top band, 1 for the middle, 2 for the rest."""
    return np.where(scores >= bands[0], 0, np.where(scores >= bands[1], 1, 2))


def score(facts: LeadFacts, rules: Rules) -> Scores:
    n = len(facts)
    names: list[str] = []
    columns: list[npt.NDArray[Any]] = []

    def add(name: str, column: npt.NDArray[Any]) -> None:
        names.append(name)
        columns.append(column)

    if rules.icp is not None and rules.icp_weight:
        add("icp", np.nan_to_num(facts.icp_fit, nan=0.0) * (rules.icp_weight / 100.0))
    for position, (persona, points) in enumerate(rules.personas):
        add(f"persona:{persona}", facts.personas[:, position] * points)
    for position, (segment, points) in enumerate(rules.segments):
        add(f"segment:{segment}", facts.segments[:, position] * points)
    if rules.sources:
        add("source", _lookup(dict(rules.sources), SOURCES)[facts.source])
    for name, choices in BANT_CHOICES.items():
        if name in rules.bant:
            add(f"bant:{name}", _lookup(dict(rules.bant[name]), choices)[facts.bant[name]])
    profile_count = len(columns)
    for position, (kind, rule) in enumerate(rules.kinds.items()):
        raw = facts.decayed[:, position] * rule.points
        add(f"kind:{kind}", np.clip(raw, -rule.cap, rule.cap))

    parts = np.column_stack(columns) if columns else np.zeros((n, 0))
    profile = _clamped(parts[:, :profile_count].sum(axis=1))
    engagement = _clamped(parts[:, profile_count:].sum(axis=1))
    letters = np.array(PROFILE_LETTERS)[_band(profile, rules.profile_bands)]
    digits = np.array(ENGAGEMENT_DIGITS)[_band(engagement, rules.engagement_bands)]
    grades = np.char.add(letters, digits).tolist() if n else []
    grade_codes = _band(profile, rules.profile_bands) * len(ENGAGEMENT_DIGITS) + _band(
        engagement, rules.engagement_bands
    )
    return Scores(
        lead_ids=facts.lead_ids,
        part_names=names,
        parts=parts,
        profile=profile,
        engagement=engagement,
        grades=grades,
        grade_codes=grade_codes,
    )


def decay_weights(
    ages_days: npt.NDArray[np.float64], half_life_days: float
) -> npt.NDArray[np.float64]:
    """0.5^(age / half-life); an interaction dated in the future counts as today."""
    return np.exp2(-np.maximum(ages_days, 0.0) / half_life_days)
