"""A parsed rule → a `Q` for `Organisation` or `Contact` querysets.

Every condition is written so that it is TRUE or FALSE for every row, never NULL: a negated
operator is the exact complement of its positive twin, missing values included, which is what
`evaluate.matches` does in Python. Conditions on to-many relations are semi-joins
(`id IN (SELECT organisation_id …)`), which SQLite and PostgreSQL both run as one pass over the
related table rather than one probe per organisation; `correlated=True` writes them as `EXISTS`
instead, which is faster when the outer query is already narrowed to a few ids (an incremental
refresh).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Exists, F, Model, OuterRef, Q, QuerySet, TextField, Value
from django.db.models.functions import Coalesce, Left, StrIndex
from django.db.models.lookups import Exact, GreaterThan, In

from cible.segments.rules import timeframe
from cible.segments.rules.fields import RuleField, resolver_for
from cible.segments.rules.fold import Fold, fold
from cible.segments.rules.operators import NEGATIONS
from cible.segments.rules.tree import Condition, Group


def _level_model(level: str) -> type[Model]:
    from cible.people.models import Contact, Organisation

    return Organisation if level == "organisation" else Contact


def to_q(group: Group, *, correlated: bool = False) -> Q:
    """The rule as a filter on the level's model (`Organisation` or `Contact`)."""
    return _Compiler(correlated).group(group)


class _Compiler:
    def __init__(self, correlated: bool) -> None:
        self.correlated = correlated

    def group(self, group: Group) -> Q:
        parts = [
            self.group(node) if isinstance(node, Group) else self.condition(node)
            for node in group.conditions
        ]
        combined = parts[0]
        for part in parts[1:]:
            combined = combined & part if group.match == "all" else combined | part
        return combined

    def condition(self, condition: Condition) -> Q:
        f = condition.field
        if f.kind == "segment":
            return self.segment(condition)
        if f.relation == "organisation":
            # "has an organisation such that": false for a contact without one.
            inner = replace_level(condition)
            return Q(organisation__in=self.organisations(inner))
        if f.kind == "list":
            return self.list_condition(condition)
        if f.many:
            return self.many(condition)
        return self.scalar(f.lookup, condition)

    # --- relations ----------------------------------------------------------------------------

    def organisations(self, condition: Condition) -> QuerySet[Any]:
        model = _level_model("organisation")
        return model._default_manager.filter(self.condition(condition)).values("pk")

    def related(self, f: RuleField) -> tuple[type[Model], str, str]:
        return relation_path(f)

    def subquery(self, f: RuleField, inner: Q) -> Q:
        """Rows of the level's model having a related row that passes `inner`."""
        related, back, _rest = self.related(f)
        rows = related._default_manager.filter(inner).filter(**{f"{back}__isnull": False})
        if self.correlated:
            return Q(Exists(rows.filter(**{back: OuterRef("pk")})))
        return Q(pk__in=rows.values(back))

    def many(self, condition: Condition) -> Q:
        """At least one related row passes the condition (negated operators included)."""
        _related, _back, lookup = self.related(condition.field)
        return self.subquery(condition.field, self.scalar(lookup, condition))

    def list_condition(self, condition: Condition) -> Q:
        f, op = condition.field, condition.op
        _related, _back, lookup = self.related(f)
        if op in ("is_empty", "is_not_empty"):
            anything = self.subquery(f, Q())
            return ~anything if op == "is_empty" else anything
        values = [fold(str(v)) for v in condition.value]  # type: ignore[union-attr]
        wanted = Q(In(Fold(Coalesce(F(lookup), Value(""), output_field=TextField())), values))
        target = _many_to_many_target(f)
        if target is not None:
            # Fold the few listed rows (products) once, not once per organisation using one.
            name, model, rest = target
            wanted = Q(In(Fold(Coalesce(F(rest), Value(""), output_field=TextField())), values))
            found = self.subquery(f, Q(**{f"{name}__in": model._default_manager.filter(wanted)}))
        else:
            found = self.subquery(f, wanted)
        return found if op == "any_of" else ~found

    def segment(self, condition: Condition) -> Q:
        resolver = resolver_for("segment")
        if resolver is None:
            raise LookupError("no resolver registered for the segment pseudo-field")
        ids = [int(v) for v in condition.value]  # type: ignore[union-attr, arg-type]
        if condition.field.level == "organisation":
            return resolver.q(condition.op, ids, "pk")
        organisations = _level_model("organisation")._default_manager.filter(
            resolver.q(condition.op, ids, "pk")
        )
        return Q(organisation__in=organisations.values("pk"))

    # --- one column ---------------------------------------------------------------------------

    def scalar(self, lookup: str, condition: Condition) -> Q:
        f, op, value = condition.field, condition.op, condition.value
        if op in NEGATIONS:
            return ~self.scalar(lookup, Condition(f, NEGATIONS[op], value))
        kind = f.kind
        if kind == "text":
            return self.text(lookup, f, op, value)
        if op == "is_empty":
            empty = Q(**{f"{lookup}__isnull": True})
            return empty | Q(**{lookup: ""}) if kind == "choice" else empty
        if kind == "boolean":
            return Q(**{lookup: op == "is_true"})
        if kind in ("choice", "reference"):
            return Q(**{f"{lookup}__in": list(value)})  # type: ignore[arg-type]
        if kind == "number":
            return self.number(lookup, op, value)
        if kind in ("date", "datetime"):
            return self.moment(lookup, kind, op, value)
        raise AssertionError(f"{kind} {op}")

    def text(self, lookup: str, f: RuleField, op: str, value: Any) -> Q:
        column: Any = Coalesce(F(lookup), Value(""), output_field=TextField())
        if op == "is_empty":
            return Q(Exact(column, ""))
        if f.mode == "fold":
            column = Fold(column)
            value = tuple(fold(v) for v in value) if isinstance(value, tuple) else fold(value)
        if op == "equals":
            return Q(Exact(column, value))
        if op == "in":
            return Q(In(column, list(value)))
        if op == "contains":
            return Q(GreaterThan(StrIndex(column, Value(value)), 0))
        if op == "starts_with":
            return Q(Exact(Left(column, len(value)), value))
        raise AssertionError(op)

    def number(self, lookup: str, op: str, value: Any) -> Q:
        if op == "equals":
            return Q(**{lookup: value})
        if op == "between":
            low, high = value
            return Q(**{f"{lookup}__gte": low, f"{lookup}__lte": high})
        return Q(**{f"{lookup}__{op}": value})

    def moment(self, lookup: str, kind: str, op: str, value: Any) -> Q:
        """Dates compare by day; datetimes by the bounds of days in the current time zone."""
        if op == "between":
            low, high = value
            start, end = timeframe.day_start(kind, low), timeframe.day_start(kind, _next(high))
        elif op == "before":
            start, end = None, timeframe.day_start(kind, value)
        elif op == "after":
            start, end = timeframe.day_start(kind, _next(value)), None
        elif op == "in_last_days":
            start, end = timeframe.last_days(kind, value)
        else:
            raise AssertionError(op)
        q = Q()
        if start is not None:
            q &= Q(**{f"{lookup}__gte": start})
        if end is not None:
            q &= Q(**{f"{lookup}__lt": end})
        return q


def _many_to_many_target(f: RuleField) -> tuple[str, type[Model], str] | None:
    """For a field through a many-to-many: (the through model's key to the listed model, the
    listed model, the lookup on it); None otherwise."""
    relation: Any = _level_model(f.level)._meta.get_field(f.relation)
    if not relation.many_to_many:
        return None
    rest = f.lookup.removeprefix(f"{f.relation}__")
    return relation.m2m_reverse_field_name(), relation.related_model, rest


def relation_path(f: RuleField) -> tuple[type[Model], str, str]:
    """For a field reached through a to-many relation: (the related model — the through model
    of a many-to-many —, its column pointing back to the level's row, the lookup on it)."""
    model = _level_model(f.level)
    relation: Any = model._meta.get_field(f.relation)
    rest = f.lookup.removeprefix(f"{f.relation}__")
    if relation.many_to_many:
        through = relation.remote_field.through
        source = relation.m2m_field_name()
        target = relation.m2m_reverse_field_name()
        return through, f"{source}_id", f"{target}__{rest}"
    return relation.related_model, relation.field.attname, rest


def _next(day: dt.date) -> dt.date:
    return day + dt.timedelta(days=1)


def replace_level(condition: Condition) -> Condition:
    """A contact's `organisation.X` condition as the organisation's own `X` condition."""
    from cible.segments.rules.fields import field_for

    name = condition.field.name.removeprefix("organisation.")
    own = field_for("organisation", name)
    assert own is not None, name
    return Condition(field=own, op=condition.op, value=condition.value)
