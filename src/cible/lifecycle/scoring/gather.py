"""The facts rule scoring reads, pulled in bulk into arrays (`engine.LeadFacts`).

One query per kind of fact, whatever the number of leads: the leads themselves (BANT and source
coded to small integers in SQL), the organisations' fit to the model's ICP, the contacts matching
each persona, the organisations in each segment, and the behaviour — every interaction decayed
and summed per lead and kind by the database, so ten million interactions come back as a few
million sums rather than ten million rows.

A lead's behaviour is its contact's interactions; a lead without a contact (an account-level
lead) counts its organisation's interactions that name no contact.

For a few leads (a rescore after an interaction) persona and segment facts are asked of the
database for those rows only; for many, whole member lists are read once and intersected in
numpy. Both give the same facts (tests hold them equal).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import connections

from cible.core import bulk
from cible.core.idsets import ids_of
from cible.lifecycle.leads.models import FINAL, Lead
from cible.lifecycle.scoring.definition import BANT_CHOICES, Rules
from cible.lifecycle.scoring.engine import GRADES, SOURCES, UNKNOWN, LeadFacts, Stored
from cible.lifecycle.scoring.models import LeadScore
from cible.people.models import Contact
from cible.segments import rules as rule_language
from cible.segments.axes import bitsets
from cible.segments.axes.models import Membership
from cible.segments.profiles.models import FitScore, Persona
from cible.segments.profiles.refresh import matching_ids

# Up to this many leads, persona and segment facts are asked for those leads only.
FEW = 5_000


def _case(column: str, choices: Sequence[str]) -> str:
    """SQL coding a text column to its index in `choices` (UNKNOWN otherwise)."""
    whens = " ".join(f"WHEN '{value}' THEN {index}" for index, value in enumerate(choices))
    return f"CASE {column} {whens} ELSE {UNKNOWN} END"


def _lead_rows(
    database: str, lead_ids: Sequence[int] | None, model: tuple[int, int] | None
) -> npt.NDArray[np.int64]:
    """Per live lead: [id, contact, organisation, source, budget, authority, need, timing,
    stored profile, stored engagement, stored grade, stored by `model` (id, version)]."""
    lead, stored = Lead._meta.db_table, LeadScore._meta.db_table
    model_id, version = model or (0, 0)
    columns = ", ".join(
        [
            "l.id",
            "COALESCE(l.contact_id, 0)",
            "COALESCE(l.organisation_id, 0)",
            _case("l.source", SOURCES),
            *(_case(f"l.{name}", choices) for name, choices in BANT_CHOICES.items()),
            "COALESCE(l.profile_score, -1)",
            "COALESCE(l.engagement_score, -1)",
            _case("l.grade", GRADES),
            f"CASE WHEN s.model_id = {int(model_id)} AND s.model_version = {int(version)} "
            "THEN 1 ELSE 0 END",
        ]
    )
    final = ", ".join(f"'{stage}'" for stage in FINAL)
    sql = (
        f"SELECT {columns} FROM {lead} l LEFT JOIN {stored} s ON s.lead_id = l.id "
        f"WHERE l.stage NOT IN ({final})"
    )
    params: list[Any] = []
    if lead_ids is not None:
        sql += f" AND l.id IN ({', '.join(['%s'] * len(lead_ids))})" if lead_ids else " AND 0 = 1"
        params = list(lead_ids)
    sql += " ORDER BY l.id"
    return bulk.read_numbers(sql, params, columns=12, using=database).astype(np.int64)


def _positions(keys: npt.NDArray[np.int64], wanted: npt.NDArray[np.int64]) -> npt.NDArray[np.intp]:
    """For each of `wanted`, its index in `keys` (unsorted, unique), or -1 when absent."""
    order = np.argsort(keys, kind="stable")
    found = np.searchsorted(keys, wanted, sorter=order)
    found = np.minimum(found, len(keys) - 1) if len(keys) else found
    index = order[found] if len(keys) else np.full(len(wanted), -1)
    hit = (keys[index] == wanted) if len(keys) else np.zeros(len(wanted), dtype=bool)
    return np.where(hit, index, -1)


def _icp_fit(
    rules: Rules, organisations: npt.NDArray[np.int64], few: bool
) -> npt.NDArray[np.float64]:
    fit = np.full(len(organisations), np.nan)
    if rules.icp is None or not rules.icp_weight:
        return fit
    scores = FitScore.objects.filter(profile_id=rules.icp)
    if few:
        scores = scores.filter(organisation_id__in=[int(o) for o in set(organisations) if o])
    rows = np.array(list(scores.values_list("organisation_id", "score")), dtype=np.int64)
    rows = rows.reshape(-1, 2)
    where = _positions(rows[:, 0], organisations)
    known = where >= 0
    fit[known] = rows[where[known], 1]
    return fit


def _personas(rules: Rules, contacts: npt.NDArray[np.int64], few: bool) -> npt.NDArray[np.bool_]:
    matched = np.zeros((len(contacts), len(rules.personas)), dtype=bool)
    if not rules.personas:
        return matched
    personas = Persona.objects.in_bulk([pk for pk, _points in rules.personas])
    filters, columns = [], []
    for column, (pk, _points) in enumerate(rules.personas):
        persona = personas.get(pk)
        if persona is None:
            continue  # deleted since the model was saved: worth nothing
        try:
            tree = rule_language.parse(persona.rule, level="contact", resolve=False)
            filters.append(rule_language.to_q(tree, correlated=few))
        except rule_language.RuleInvalid:
            continue
        columns.append(column)
    alive = Contact.objects.filter(anonymised_at__isnull=True)
    if few:
        base = alive.filter(pk__in=[int(c) for c in set(contacts) if c])
        found = [np.fromiter(ids, dtype=np.int64) for ids in matching_ids(base, filters)]
    else:
        found = [ids_of(alive.filter(q)) for q in filters]
    for column, ids in zip(columns, found, strict=True):
        matched[:, column] = np.isin(contacts, ids) & (contacts != 0)
    return matched


def _segments(
    rules: Rules, organisations: npt.NDArray[np.int64], few: bool
) -> npt.NDArray[np.bool_]:
    inside = np.zeros((len(organisations), len(rules.segments)), dtype=bool)
    if not rules.segments:
        return inside
    wanted = [pk for pk, _points in rules.segments]
    if few:
        pairs = Membership.objects.filter(
            segment_id__in=wanted, organisation_id__in=[int(o) for o in set(organisations) if o]
        ).values_list("segment_id", "organisation_id")
        members: dict[int, set[int]] = {}
        for segment, organisation in pairs:
            members.setdefault(segment, set()).add(organisation)
        for column, pk in enumerate(wanted):
            ids = np.fromiter(members.get(pk, ()), dtype=np.int64)
            inside[:, column] = np.isin(organisations, ids)
        return inside
    sets = bitsets.member_sets(wanted)
    for column, pk in enumerate(wanted):
        member = sets.get(pk)
        if member is not None:
            inside[:, column] = member.contains(organisations)
    return inside


def _decay_sql(vendor: str) -> str:
    """Σ 0.5^(age in days / half-life), an interaction in the future counting as now.
    PostgreSQL: exp() over float seconds — `EXTRACT` would compute in `numeric`, 30 % slower."""
    if vendor == "postgresql":
        return "SUM(exp(LEAST(date_part('epoch', occurred_at) - %s, 0) * %s))"
    return "SUM(pow(0.5, max(julianday(%s) - julianday(occurred_at), 0) / %s))"


def _decay_params(vendor: str, as_of: dt.datetime, half_life_days: float) -> list[Any]:
    if vendor == "postgresql":
        return [as_of.timestamp(), math.log(2) / (half_life_days * 86400)]
    return [as_of.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f"), half_life_days]


def _behaviour(
    rules: Rules,
    database: str,
    contacts: npt.NDArray[np.int64],
    organisations: npt.NDArray[np.int64],
    as_of: dt.datetime,
    few: bool,
) -> npt.NDArray[np.float64]:
    kinds = list(rules.kinds)
    decayed = np.zeros((len(contacts), len(kinds)))
    if not kinds or not len(contacts):
        return decayed
    connection = connections[database]
    from cible.engagement.interactions.models import Interaction

    table = Interaction._meta.db_table
    kind_code = _case("kind", kinds)
    kind_list = ", ".join(f"'{kind}'" for kind in kinds)
    decay = _decay_sql(connection.vendor)
    params_head = _decay_params(connection.vendor, as_of, rules.half_life_days)
    by_contact = contacts != 0
    for key, selector, mask in (
        ("contact_id", "contact_id IS NOT NULL", by_contact),
        ("organisation_id", "contact_id IS NULL AND organisation_id IS NOT NULL", ~by_contact),
    ):
        keys = np.where(mask, contacts if key == "contact_id" else organisations, 0)
        wanted = np.unique(keys[keys != 0])
        if not len(wanted):
            continue
        # SQLite: `+kind` keeps the kind index out of the plan, so the sums are read in order
        # from the covering (contact, kind, time) index with no sort.
        kind_column = "+kind" if connection.vendor == "sqlite" else "kind"
        sql = (
            f"SELECT {key}, {kind_code}, {decay} FROM {table} "
            f"WHERE {selector} AND {kind_column} IN ({kind_list})"
        )
        params: list[Any] = list(params_head)
        if few:
            sql += f" AND {key} IN ({', '.join(['%s'] * len(wanted))})"
            params += wanted.tolist()
        sql += f" GROUP BY {key}, kind"
        found = bulk.read_numbers(sql, params, columns=3, using=database)
        if not len(found):
            continue
        owners = found[:, 0].astype(np.int64)
        columns = found[:, 1].astype(np.int64)
        sums = found[:, 2]
        # Each owner (contact or organisation) belongs to at most one live lead row here.
        lead_row = _positions(np.where(mask, keys, -1), owners)
        keep = lead_row >= 0
        decayed[lead_row[keep], columns[keep]] = sums[keep]
    return decayed


def gather(
    rules: Rules,
    *,
    as_of: dt.datetime,
    lead_ids: Sequence[int] | None = None,
    model: tuple[int, int] | None = None,
    database: str = "default",
) -> LeadFacts:
    """The facts of the live leads (all of them, or those of `lead_ids`), ordered by id, with
    their stored scores (`Stored`; `current` when written by `model`, an (id, version) pair)."""
    rows = _lead_rows(database, lead_ids, model)
    few = lead_ids is not None and len(rows) <= FEW
    contacts, organisations = rows[:, 1], rows[:, 2]
    return LeadFacts(
        lead_ids=rows[:, 0].copy(),
        icp_fit=_icp_fit(rules, organisations, few),
        personas=_personas(rules, contacts, few),
        segments=_segments(rules, organisations, few),
        bant={name: rows[:, 4 + i].astype(np.int8) for i, name in enumerate(BANT_CHOICES)},
        source=rows[:, 3].astype(np.int8),
        decayed=_behaviour(rules, database, contacts, organisations, as_of, few),
        stored=Stored(
            profile=rows[:, 8].copy(),
            engagement=rows[:, 9].copy(),
            grade=rows[:, 10].copy(),
            current=rows[:, 11] == 1,
        ),
    )
