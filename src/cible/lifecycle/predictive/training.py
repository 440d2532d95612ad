"""Training a predictive model on the base's own history, and measuring it honestly (SPEC C5).

- **Labels**: a lead converted when it reached the target stage (customer, or opportunity) — now
  or at any time of its history; it was lost when it left the road (recycled, disqualified)
  without reaching it. Open leads are what the model is for, not what it learns from.
- **Time-based validation**: leads are ordered by arrival; the model learns on the older 80 %
  and is judged on the newest 20 %, as it will be used: on leads it has never seen, later.
- **Leaks**: a field that separates converted from lost leads almost perfectly on its own, or
  whose frequent values are nearly all-converted or all-lost, was probably filled in after the
  outcome was known ("Tags: Closed by Horizzon"). Such fields are set aside and named in the
  report, unless the user includes them; fields declared "known after contact" are set aside too.
- **Edges**: too little history → the report says how much is missing and nothing is scored;
  probabilities are kept inside [0.1 %, 99.9 %] and shown as such, never as 0 or 100 %.
- **Beside the rule model**: the same figures for the active rule model's scores on the same
  validation leads, so the two are compared on equal terms.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import connections
from django.utils import timezone
from django.utils.translation import gettext as _
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from cible.lifecycle.leads.models import ASIDE, RANK, ROAD, Lead, Stage, StageTransition
from cible.lifecycle.predictive.encoding import Feature, FeatureSpace
from cible.lifecycle.predictive.features import TAKEN_UP, Columns, lead_frame
from cible.lifecycle.predictive.models import PredictiveModel, TrainingStatus

MIN_EACH = 50  # converted and lost leads each, at the least
VALIDATION_SHARE = 0.2
LEAK_AUC = 0.85  # one field alone separating this well is suspicious
LEAK_PURE_SHARE = 0.30  # share of leads in values ≥ 95 % or ≤ 5 % converted (30+ leads each)
PURE_MIN_COUNT = 30
FLOOR, CEILING = 0.001, 0.999
REGULARISATION = 0.3


@dataclass
class Fitted:
    """What scoring needs: the columns, and the regression's weights."""

    space: FeatureSpace
    intercept: float
    weights: npt.NDArray[np.float64]
    exclude: list[str]
    order_by: str

    def as_data(self) -> dict[str, Any]:
        return {
            "features": [asdict(f) for f in self.space.features],
            "intercept": self.intercept,
            "weights": self.weights.tolist(),
            "exclude": self.exclude,
            "order_by": self.order_by,
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Fitted:
        return cls(
            space=FeatureSpace([Feature(**f) for f in data["features"]]),
            intercept=float(data["intercept"]),
            weights=np.asarray(data["weights"], dtype=np.float64),
            exclude=list(data["exclude"]),
            order_by=str(data["order_by"]),
        )

    def log_odds(self, columns: Columns) -> npt.NDArray[np.float64]:
        matrix = self.space.transform(columns)
        return np.asarray(matrix @ self.weights + self.intercept, dtype=np.float64)

    def probabilities(self, columns: Columns) -> npt.NDArray[np.float64]:
        return bounded(1.0 / (1.0 + np.exp(-self.log_odds(columns))))


def bounded(p: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.clip(p, FLOOR, CEILING)


def positive_stages(target: str) -> list[str]:
    return [s.value for s in ROAD if RANK[s] >= RANK[Stage(target)]]


def labels(
    target: str, database: str = "default"
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int8]]:
    """Ids (sorted) and outcomes (1 converted, 0 lost) of the leads with an outcome."""
    positive = positive_stages(target)
    over = [*positive, *(s.value for s in ASIDE)]
    lead, transition = Lead._meta.db_table, StageTransition._meta.db_table
    marks = ", ".join(["%s"] * len(positive))
    sql = (
        f"SELECT l.id, CASE WHEN l.stage IN ({marks}) OR EXISTS (SELECT 1 FROM {transition} t "
        f"WHERE t.lead_id = l.id AND t.to_stage IN ({marks})) THEN 1 ELSE 0 END "
        f"FROM {lead} l WHERE l.stage IN ({', '.join(['%s'] * len(over))}) ORDER BY l.id"
    )
    with connections[database].cursor() as cursor:
        cursor.execute(sql, [*positive, *positive, *over])
        rows = cursor.fetchall()
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    return ids, np.array([r[1] for r in rows], dtype=np.int8)


def _single_field_auc(
    values: npt.NDArray[Any],
    y: npt.NDArray[np.int8],
    train: npt.NDArray[np.intp],
    valid: npt.NDArray[np.intp],
) -> float | None:
    """How well the field alone ranks the validation leads: numbers as they are, text values by
    their conversion rate in training. Symmetric: 0.2 counts as 0.8."""
    if values.dtype.kind == "f":
        score = np.nan_to_num(
            values[valid], nan=np.nanmin(values) - 1 if np.isfinite(np.nanmin(values)) else 0
        )
    else:
        rate: dict[Any, float] = {}
        prior = float(y[train].mean())
        keys = values[train]
        for key in set(keys.tolist()):
            chosen = y[train][keys == key]
            rate[key] = (chosen.sum() + prior * 5) / (len(chosen) + 5)  # smoothed
        score = np.array([rate.get(v, prior) for v in values[valid]])
    if len(set(y[valid].tolist())) < 2 or len(set(score.tolist())) < 2:
        return None
    auc = float(roc_auc_score(y[valid], score))
    return max(auc, 1 - auc)


def _pure_share(values: npt.NDArray[Any], y: npt.NDArray[np.int8]) -> float:
    """Share of leads whose (present) value converts ≥ 95 % or ≤ 5 % of the time."""
    if values.dtype.kind == "f" or not len(values):
        return 0.0
    pure = 0
    for key in {v for v in values.tolist() if v is not None}:
        chosen = y[values == key]
        if len(chosen) >= PURE_MIN_COUNT and not 0.05 < chosen.mean() < 0.95:
            pure += len(chosen)
    return pure / len(values)


def leaks(
    columns: Columns,
    y: npt.NDArray[np.int8],
    train: npt.NDArray[np.intp],
    valid: npt.NDArray[np.intp],
) -> list[dict[str, Any]]:
    """Fields that give the outcome away, with the figures that say so."""
    found = []
    for name, values in columns.items():
        auc = _single_field_auc(values, y, train, valid)
        pure = _pure_share(values[train], y[train])
        if (auc is not None and auc >= LEAK_AUC) or pure >= LEAK_PURE_SHARE:
            found.append({"field": name, "auc": round(auc or 0.5, 3), "pure_share": round(pure, 3)})
    return sorted(found, key=lambda leak: -leak["auc"])


def calibration(
    y: npt.NDArray[np.int8], p: npt.NDArray[np.float64], bins: int = 10
) -> list[dict[str, float]]:
    """Predicted against observed conversion, by tenths of the leads ordered by prediction."""
    order = np.argsort(p, kind="stable")
    return [
        {
            "predicted": round(float(p[part].mean()), 4),
            "observed": round(float(y[part].mean()), 4),
            "leads": len(part),
        }
        for part in np.array_split(order, bins)
        if len(part)
    ]


def lift(y: npt.NDArray[np.int8], p: npt.NDArray[np.float64]) -> list[dict[str, float]]:
    """Conversion of each tenth of the leads, best first, against the average (1.0)."""
    overall = float(y.mean()) or 1.0
    order = np.argsort(-p, kind="stable")
    return [
        {
            "decile": k + 1,
            "rate": round(float(y[part].mean()), 4),
            "lift": round(float(y[part].mean()) / overall, 2),
        }
        for k, part in enumerate(np.array_split(order, 10))
        if len(part)
    ]


def _figures(y: npt.NDArray[np.int8], p: npt.NDArray[np.float64]) -> dict[str, Any]:
    both = len(set(y.tolist())) == 2
    return {
        "auc": round(float(roc_auc_score(y, p)), 4) if both else None,
        "calibration": calibration(y, p),
        "lift": lift(y, p),
        "leads": len(y),
        "converted": int(y.sum()),
    }


def _rule_scores(lead_ids: npt.NDArray[np.int64], database: str) -> npt.NDArray[np.float64] | None:
    """The rule model's ranking of these leads: profile + engagement as they were when Sales
    took them up (stored on that transition), else as they are now."""
    lead, transition = Lead._meta.db_table, StageTransition._meta.db_table
    taken = ", ".join(f"'{s}'" for s in TAKEN_UP)
    at_take_up = (
        f"SELECT t.profile_score + t.engagement_score FROM {transition} t "
        f"WHERE t.lead_id = l.id AND t.to_stage IN ({taken}) AND t.profile_score IS NOT NULL "
        "ORDER BY t.occurred_at LIMIT 1"
    )
    with connections[database].cursor() as cursor:
        cursor.execute(
            f"SELECT l.id, COALESCE(({at_take_up}), l.profile_score + l.engagement_score) "
            f"FROM {lead} l ORDER BY l.id"
        )
        rows = dict(cursor.fetchall())
    scores = np.array([rows.get(int(i)) for i in lead_ids], dtype=object)
    if all(s is None for s in scores):
        return None
    return np.array([np.nan if s is None else float(s) for s in scores])


def _factors(fitted: Fitted, matrix: Any) -> list[dict[str, Any]]:
    """The model's strongest weights, with how many training leads each applies to."""
    support = np.asarray(matrix.sum(axis=0)).ravel()
    order = np.argsort(-np.abs(fitted.weights))
    factors = []
    for column in order:
        if support[column] < 20:
            continue
        name, value = fitted.space.label(int(column))
        factors.append(
            {
                "field": name,
                "value": value,
                "weight": round(float(fitted.weights[column]), 3),
                "leads": int(support[column]),
            }
        )
        if len(factors) == 15:
            break
    return factors


def train(
    model: PredictiveModel, *, declared_after_contact: Sequence[str] = (), database: str = "default"
) -> PredictiveModel:
    """Fit, measure and store `model` (its `config` and `target` already set)."""
    began = time.perf_counter()
    config = model.config or {}
    include = set(config.get("include", []))
    exclude = sorted(set(config.get("exclude", [])) | (set(declared_after_contact) - include))
    order_by = config.get("order_by", "arrived_at")
    ids, y_all = labels(model.target, database)
    converted, lost = int(y_all.sum()), int(len(y_all) - y_all.sum())
    report: dict[str, Any] = {
        "converted": converted,
        "lost": lost,
        "declared_after_contact": sorted(set(declared_after_contact) - include),
    }
    if converted < MIN_EACH or lost < MIN_EACH:
        model.status = TrainingStatus.INSUFFICIENT
        model.message = _(
            "Not enough history to learn from: %(converted)s converted and %(lost)s lost leads; "
            "at least %(min)s of each are needed. Leads are not given a probability until then."
        ) % {"converted": converted, "lost": lost, "min": MIN_EACH}
        return _finish(model, report, began)
    frame = lead_frame(
        stages=[*positive_stages(model.target), *(s.value for s in ASIDE)],
        exclude=exclude,
        order_by=order_by,
        labelled=True,
        database=database,
    )
    keep = np.isin(frame.lead_ids, ids)
    y = y_all[np.searchsorted(ids, frame.lead_ids[keep])]
    columns = {name: values[keep] for name, values in frame.columns.items()}
    order = np.lexsort((frame.lead_ids[keep], frame.order[keep]))
    cut = int(len(order) * (1 - float(config.get("validation_share", VALIDATION_SHARE))))
    train_rows, valid_rows = order[:cut], order[cut:]
    flagged = [
        leak for leak in leaks(columns, y, train_rows, valid_rows) if leak["field"] not in include
    ]
    for leak in flagged:
        columns.pop(leak["field"], None)
    report["leaks"] = flagged
    space = FeatureSpace.fit({n: v[train_rows] for n, v in columns.items()})
    matrix = space.transform(columns)
    regression = LogisticRegression(C=REGULARISATION, max_iter=3000)
    regression.fit(matrix[train_rows], y[train_rows])
    fitted = Fitted(
        space=space,
        intercept=float(regression.intercept_[0]),
        weights=regression.coef_[0].astype(np.float64),
        exclude=[*exclude, *(leak["field"] for leak in flagged)],
        order_by=order_by,
    )
    p_valid = bounded(regression.predict_proba(matrix[valid_rows])[:, 1])
    report["fields"] = sorted(columns)
    report["train"] = {"leads": len(train_rows), "converted": int(y[train_rows].sum())}
    report["validation"] = _figures(y[valid_rows], p_valid)
    report["factors"] = _factors(fitted, matrix[train_rows])
    rule = _rule_scores(frame.lead_ids[keep][valid_rows], database)
    if rule is not None and not np.isnan(rule).all():
        scored = ~np.isnan(rule)
        report["rule"] = {
            **_figures(y[valid_rows][scored], rule[scored] / 200.0),
            "scored_share": round(float(scored.mean()), 3),
        }
    else:
        report["rule"] = None
    model.parameters = fitted.as_data()
    model.status = TrainingStatus.READY
    model.message = ""
    return _finish(model, report, began)


def _finish(model: PredictiveModel, report: dict[str, Any], began: float) -> PredictiveModel:
    model.report = report
    model.finished_at = timezone.now()
    model.seconds = round(time.perf_counter() - began, 2)
    model.save()
    return model


def fitted_of(model: PredictiveModel) -> Fitted:
    return Fitted.from_data(model.parameters or {})
