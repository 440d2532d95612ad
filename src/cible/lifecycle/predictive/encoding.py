"""Turning lead fields into model columns, in a way a person can read back (SPEC C5: per-lead
explanations).

Every field becomes a handful of yes/no columns: a text field one per frequent value (rare values
share "other", and missing is a value of its own); a number one per range between its training
deciles (and "missing"). A logistic regression over such columns is additive in log-odds, so a
lead's probability is exactly the intercept plus one weight per field — "Time on website 900 to
1,500: +1.2" — and its explanation is those weights, nothing estimated after the fact.
Quantile ranges also let the model bend where a straight line would not (twice the visits is not
twice as likely).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np
import numpy.typing as npt
from scipy import sparse

MISSING = "∅"
OTHER = "…"
MIN_COUNT = 10  # a text value seen fewer times than this in training joins "other"
BINS = 10


@dataclass
class Feature:
    name: str
    kind: str  # "number" or "text"
    values: list[str] = field(default_factory=list)  # text: the frequent values
    edges: list[float] = field(default_factory=list)  # number: inner bin edges
    labels: list[str] = field(default_factory=list)  # one per column, readable

    @property
    def width(self) -> int:
        return len(self.labels)


def _number_labels(edges: list[float]) -> list[str]:
    def show(value: float) -> str:
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:g}"

    if not edges:
        return ["all", MISSING]
    labels = [f"< {show(edges[0])}"]
    labels += [f"{show(low)} – {show(high)}" for low, high in pairwise(edges)]
    labels.append(f"≥ {show(edges[-1])}")
    return [*labels, MISSING]


def _fit_number(name: str, column: npt.NDArray[np.float64]) -> Feature:
    known = column[~np.isnan(column)]
    edges: list[float] = []
    if len(known):
        quantiles = np.quantile(known, np.linspace(0, 1, BINS + 1)[1:-1])
        edges = sorted({float(q) for q in quantiles if math.isfinite(q)})
        # An edge at the minimum would leave the first range empty.
        edges = [e for e in edges if e > known.min()]
    return Feature(name, "number", edges=edges, labels=_number_labels(edges))


def _fit_text(name: str, column: npt.NDArray[np.object_]) -> Feature:
    counts = Counter(v for v in column if v is not None)
    values = sorted(v for v, n in counts.items() if n >= MIN_COUNT)
    return Feature(name, "text", values=values, labels=[*values, OTHER, MISSING])


def _positions(feature: Feature, column: npt.NDArray[np.generic]) -> npt.NDArray[np.intp]:
    """The column (within the feature) each row falls in."""
    if feature.kind == "number":
        numbers = column.astype(np.float64)
        where = np.searchsorted(np.asarray(feature.edges), numbers, side="right")
        if not feature.edges:
            where = np.zeros(len(numbers), dtype=np.intp)
        return np.where(np.isnan(numbers), feature.width - 1, where)
    lookup = {value: i for i, value in enumerate(feature.values)}
    other, missing = len(feature.values), len(feature.values) + 1
    return np.fromiter(
        (missing if v is None else lookup.get(v, other) for v in column),
        dtype=np.intp,
        count=len(column),
    )


@dataclass
class FeatureSpace:
    features: list[Feature]

    @classmethod
    def fit(cls, columns: dict[str, npt.NDArray[np.generic]]) -> FeatureSpace:
        """`columns`: float arrays (NaN missing) for numbers, object arrays (None) for text."""
        features = [
            _fit_number(name, values.astype(np.float64))
            if values.dtype.kind == "f"
            else _fit_text(name, values.astype(object))
            for name, values in columns.items()
        ]
        return cls(features)

    @property
    def width(self) -> int:
        return sum(f.width for f in self.features)

    def offsets(self) -> list[int]:
        return [0, *np.cumsum([f.width for f in self.features]).tolist()][:-1]

    def transform(self, columns: dict[str, npt.NDArray[np.generic]]) -> sparse.csr_matrix:
        """One row per lead, one 1 per feature."""
        rows = len(next(iter(columns.values()))) if columns else 0
        indices = np.empty((rows, len(self.features)), dtype=np.intp)
        for k, (feature, offset) in enumerate(zip(self.features, self.offsets(), strict=True)):
            indices[:, k] = offset + _positions(feature, columns[feature.name])
        data = np.ones(indices.size, dtype=np.float64)
        indptr = np.arange(0, indices.size + 1, len(self.features))
        return sparse.csr_matrix((data, indices.ravel(), indptr), shape=(rows, self.width))

    def label(self, column: int) -> tuple[str, str]:
        """(field, value range) of a model column."""
        for feature, offset in zip(self.features, self.offsets(), strict=True):
            if offset <= column < offset + feature.width:
                return feature.name, feature.labels[column - offset]
        raise IndexError(column)
