"""Prevention on entry: does a record about to be created look like one already there?

People's create services ask this through `people.hooks` (the finder is registered in
`DuplicatesConfig.ready`). The record's likely neighbours are fetched with a few indexed queries
(same SIREN, domain, phone, email, a name starting alike nearby), then keyed and scored by the
very code detection uses, on a frame of a few hundred rows at most.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from django.db.models import Model, Q, QuerySet
from django.urls import reverse

from cible.core import access
from cible.core import normalisers as norm
from cible.people.hooks import DuplicateCandidate
from cible.people.models import Organisation
from cible.quality.duplicates import keys, scoring
from cible.quality.duplicates.detect import DETECTORS, live_queryset
from cible.quality.duplicates.entities import ENTITIES
from cible.quality.duplicates.frames import read_frame
from cible.quality.duplicates.models import Entity


@dataclass(frozen=True)
class LookAlike:
    id: int
    label: str
    detail: str
    score: float
    reasons: list[dict[str, Any]]

    @property
    def percent(self) -> int:
        return round(self.score * 100)


CANDIDATE_LIMIT = 200


def _nearby(qs: QuerySet[Any], conditions: list[Q]) -> list[int]:
    ids: set[int] = set()
    for condition in conditions:
        ids.update(qs.filter(condition).values_list("pk", flat=True)[:CANDIDATE_LIMIT])
    return sorted(ids)


def _organisation_conditions(values: Mapping[str, Any]) -> list[Q]:
    conditions = []
    for name in ("siren", "domain", "phone"):
        if values.get(name) and not (name == "domain" and values[name] in keys.GENERIC_DOMAINS):
            conditions.append(Q(**{name: values[name]}))
    core = keys.organisation_name_key(values.get("legal_name"))
    typed = norm.search_key(values.get("legal_name") or "")
    # Names that start the same way (the stored key keeps legal forms and small words), nearby
    # when the place is known: at a million records, "dupo" alone matches thousands.
    postal = str(values.get("postal_code") or "").replace(" ", "")
    city = values.get("city") or ""
    near = Q(postal_code__startswith=postal[:2]) if len(postal) >= 2 else Q()
    if city:
        near = near | Q(city=city) if near else Q(city=city)
    for prefix in {core, typed} - {""}:
        conditions.append(Q(name_key__startswith=prefix))
    for prefix in {core[:4], typed[:4]} - {""}:
        conditions.append(Q(name_key__startswith=prefix) & near if near else Q(name_key=prefix))
    return conditions


def _contact_conditions(values: Mapping[str, Any]) -> list[Q]:
    conditions = []
    email = (values.get("email") or "").lower()
    if email:
        conditions.append(Q(email_key=email))
    for name in ("phone", "mobile"):
        if values.get(name):
            conditions.append(Q(phone=values[name]) | Q(mobile=values[name]))
    last = norm.search_key(values.get("last_name") or "")
    organisation = values.get("organisation")
    organisation_id = getattr(organisation, "pk", organisation)
    if last:
        condition = Q(name_key__startswith=last[:3])
        if organisation_id:
            conditions.append(condition & Q(organisation_id=organisation_id))
        full = norm.search_key(f"{values.get('last_name') or ''} {values.get('first_name') or ''}")
        conditions.append(Q(name_key=full))
    return conditions


def look_alikes(
    entity: str,
    values: Mapping[str, Any],
    *,
    viewer: Any,
    threshold: float = scoring.DEFAULT_THRESHOLD,
    limit: int = 5,
) -> list[LookAlike]:
    """Records `viewer` can see that `values` (a record not saved yet, normalised) would
    duplicate, best first. The same keys and scores as detection, on a handful of rows."""
    detector = DETECTORS[entity]
    conditions = (
        _organisation_conditions(values)
        if entity == Entity.ORGANISATION
        else _contact_conditions(values)
    )
    if not conditions:
        return []
    qs = access.visible(viewer, live_queryset(detector))
    ids = _nearby(qs, conditions)
    if not ids:
        return []
    row = {name: _column_value(name, values) for name in detector.columns}
    row["id"] = 0
    existing = read_frame(qs.filter(pk__in=ids), detector.columns)
    raw = pl.concat([pl.DataFrame([row], schema=dict(detector.columns)), existing])
    frame = detector.prepare(raw)
    others = np.arange(1, len(frame))
    scored = detector.score(frame, np.zeros(len(others), dtype=np.int64), others)
    order = np.argsort(-scored.score)
    found = []
    labels = _labels(detector.model, [int(frame["id"][int(others[k])]) for k in order[:limit]])
    for k in order[:limit]:
        if scored.score[k] < threshold:
            break
        record_id = int(frame["id"][int(others[k])])
        label, detail = labels.get(record_id, (str(record_id), ""))
        found.append(
            LookAlike(
                record_id,
                label,
                detail,
                float(scored.score[k]),
                detector.reasons(frame, scored, int(k)),
            )
        )
    return found


def _column_value(name: str, values: Mapping[str, Any]) -> Any:
    if name in ("parent_id", "organisation_id"):
        value = values.get(name.removesuffix("_id"))
        return getattr(value, "pk", value) if value not in ("", None) else None
    if name == "email_key":
        return (values.get("email") or "").lower()
    value = values.get(name)
    return "" if value is None else str(value)


def _labels(model: type[Model], ids: list[int]) -> dict[int, tuple[str, str]]:
    records = model._default_manager.in_bulk(ids)
    out = {}
    for pk, record in records.items():
        if isinstance(record, Organisation):
            detail = " · ".join(filter(None, [record.city, record.siren, record.domain]))
        else:
            detail = " · ".join(
                filter(None, [getattr(record, "email", ""), getattr(record, "job_title", "")])
            )
        out[pk] = (str(record), detail)
    return out


def find_look_alikes(
    entity: str, values: Mapping[str, Any], viewer: Any
) -> list[DuplicateCandidate]:
    """The finder registered with `people.hooks`: look-alikes as people's candidates."""
    if entity not in ENTITIES:
        return []
    detail = ENTITIES[entity].detail_url
    return [
        DuplicateCandidate(
            id=found.id,
            label=found.label,
            detail=found.detail,
            score=found.score,
            phrases=tuple(scoring.describe(r) for r in found.reasons if scoring.is_for(r)),
            url=reverse(detail, args=[found.id]),
        )
        for found in look_alikes(entity, values, viewer=viewer)
    ]
