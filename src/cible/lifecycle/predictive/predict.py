"""Giving live leads their probability with the active predictive model, and saying why.

In bulk after a training (every live lead: one read, one transform, one write), and for a few
leads whenever they change or receive interactions — so a lead reopened after a disqualification
is scored again at once, never left with a probability from its past life. A lead that leaves the
road keeps no probability: it has an outcome instead.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from django.db import connections, transaction
from django.utils import timezone

from cible.lifecycle.leads.models import FINAL, Lead, Stage
from cible.lifecycle.predictive.features import lead_frame
from cible.lifecycle.predictive.models import PredictiveModel, TrainingStatus
from cible.lifecycle.predictive.training import Fitted, fitted_of

LIVE = [s.value for s in Stage if s not in FINAL]
_temporary = itertools.count()


def active() -> PredictiveModel | None:
    return PredictiveModel.objects.filter(is_active=True, status=TrainingStatus.READY).first()


def _write(ids: Sequence[int], probabilities: Sequence[float | None], database: str) -> None:
    connection = connections[database]
    table = Lead._meta.db_table
    now = timezone.now()
    if connection.vendor == "postgresql":
        staging = f"lead_predictions_{next(_temporary)}"
        with connection.cursor() as wrapper:
            wrapper.execute(f"CREATE TEMPORARY TABLE {staging} (id bigint, p float8)")
            with wrapper.cursor.copy(f"COPY {staging} FROM STDIN") as copy:
                for row in zip(ids, probabilities, strict=True):
                    copy.write_row(row)
            wrapper.execute(
                f"UPDATE {table} AS t SET predicted_probability = s.p, predicted_at = %s "
                f"FROM {staging} AS s WHERE t.id = s.id",
                [now],
            )
            wrapper.execute(f"DROP TABLE {staging}")
        return
    stamp = now.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET predicted_probability = %s, predicted_at = %s WHERE id = %s",
            list(zip(probabilities, itertools.repeat(stamp), ids, strict=False)),
        )


def predict_all(*, model: PredictiveModel | None = None, database: str = "default") -> int:
    """Probabilities for every live lead; those of leads that are over are cleared."""
    model = model or active()
    with transaction.atomic(using=database):
        Lead.objects.using(database).filter(stage__in=FINAL).exclude(
            predicted_probability=None
        ).update(predicted_probability=None, predicted_at=None)
    if model is None:
        return 0
    fitted = fitted_of(model)
    frame = lead_frame(
        stages=LIVE, exclude=fitted.exclude, order_by=fitted.order_by, database=database
    )
    if not len(frame.lead_ids):
        return 0
    p = fitted.probabilities(_complete(fitted, frame.columns, len(frame.lead_ids)))
    with transaction.atomic(using=database):
        _write(frame.lead_ids.tolist(), p.tolist(), database)
    return len(frame.lead_ids)


def predict_leads(lead_ids: Sequence[int], *, database: str = "default") -> None:
    """Probabilities for a few leads now (live ones; the others are cleared)."""
    ids = sorted({int(i) for i in lead_ids})
    model = active()
    if not ids:
        return
    over = list(
        Lead.objects.using(database)
        .filter(pk__in=ids, stage__in=FINAL)
        .values_list("pk", flat=True)
    )
    with transaction.atomic(using=database):
        if over:
            _write(over, [None] * len(over), database)
        if model is None:
            return
        fitted = fitted_of(model)
        frame = lead_frame(
            lead_ids=[i for i in ids if i not in set(over)],
            stages=LIVE,
            exclude=fitted.exclude,
            order_by=fitted.order_by,
            database=database,
        )
        if len(frame.lead_ids):
            p = fitted.probabilities(_complete(fitted, frame.columns, len(frame.lead_ids)))
            _write(frame.lead_ids.tolist(), p.tolist(), database)


def _complete(
    fitted: Fitted, columns: dict[str, npt.NDArray[np.generic]], rows: int
) -> dict[str, npt.NDArray[np.generic]]:
    """The model's fields, missing ones (nobody has them among these leads) as empty."""
    full = {}
    for feature in fitted.space.features:
        if feature.name in columns:
            full[feature.name] = columns[feature.name]
        elif feature.kind == "number":
            full[feature.name] = np.full(rows, np.nan)
        else:
            full[feature.name] = np.full(rows, None, dtype=object)
    return full


@dataclass
class Factor:
    field: str
    value: str
    weight: float  # log-odds


@dataclass
class Prediction:
    model: PredictiveModel
    probability: float
    baseline: float  # the probability of a lead with every field at its reference
    factors: list[Factor]  # by strength, strongest first


def explain(lead: Lead) -> Prediction | None:
    """Why the active model gives `lead` its probability: one weight per field, adding up (with
    the intercept) to its log-odds."""
    model = active()
    if model is None or not lead.is_live:
        return None
    fitted = fitted_of(model)
    frame = lead_frame(lead_ids=[lead.pk], exclude=fitted.exclude, order_by=fitted.order_by)
    columns = _complete(fitted, frame.columns, 1)
    matrix = fitted.space.transform(columns)
    active_columns = matrix.indices
    factors = [
        Factor(*fitted.space.label(int(c)), weight=round(float(fitted.weights[c]), 3))
        for c in active_columns
    ]
    factors.sort(key=lambda f: -abs(f.weight))
    probability = float(fitted.probabilities(columns)[0])
    baseline = float(1 / (1 + np.exp(-fitted.intercept)))
    return Prediction(model=model, probability=probability, baseline=baseline, factors=factors)
