"""Declarative list filters and sorting, shared by list pages, CSV exports and the API.

An app describes each filterable field once (`Filter`) and each sortable column once; the same
query string then gives the same rows on the page, in the export and through the API.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from cible.core import values
from cible.core.errors import FieldError
from cible.core.normalisers import NormalisationError, search_key

FilterKind = Literal[
    "prefix", "contains", "exact", "choice", "number", "date", "boolean", "reference"
]


@dataclass(frozen=True)
class Filter:
    """One filterable field. `param` is the query-string name, `path` the ORM lookup path
    (for exact matches, "a|b" matches either column)."""

    param: str
    label: Any
    kind: FilterKind
    path: str = ""
    choices: Callable[[], Sequence[tuple[Any, Any]]] | None = None
    normalise: Callable[[str], Any] | None = None
    # Usable in links and the API (?organisation=42) but not offered in the filter panel.
    hidden: bool = False

    @property
    def lookup(self) -> str:
        return self.path or self.param

    def params(self) -> tuple[str, ...]:
        if self.kind in ("number", "date"):
            return (f"{self.param}_min", f"{self.param}_max")
        return (self.param,)


@dataclass(frozen=True)
class Sort:
    param: str
    label: Any
    fields: tuple[str, ...]


@dataclass
class ListQuery:
    """A parsed query string: the active filters, the sort, and any value that made no sense."""

    filters: dict[str, Any] = field(default_factory=dict)
    sort: str = ""
    errors: list[FieldError] = field(default_factory=list)

    def as_text(self) -> str:
        parts = [f"{k}={v}" for k, v in self.filters.items()]
        if self.sort:
            parts.append(f"sort={self.sort}")
        return "&".join(parts)


def _parse_one(spec: Filter, param: str, raw: str) -> Any:
    if spec.kind == "number":
        return values.amount(raw, field=param, max_digits=18) if raw else None
    if spec.kind == "date":
        return values.date(raw, field=param)
    if spec.kind == "boolean":
        return values.boolean(raw, field=param)
    if spec.kind == "choice" and spec.choices is not None:
        return values.choice(raw, field=param, choices=spec.choices())
    if spec.kind == "reference":
        if raw == "none":
            return "none"
        return values.whole_number(raw, field=param, maximum=2**62)
    if spec.normalise is not None:
        return spec.normalise(raw)
    return raw.strip()[:200]


def parse(params: Mapping[str, Any], filters: Sequence[Filter], sorts: Sequence[Sort]) -> ListQuery:
    query = ListQuery()
    for spec in filters:
        for param in spec.params():
            raw = params.get(param)
            if raw in (None, ""):
                continue
            try:
                value = _parse_one(spec, param, str(raw))
            except NormalisationError as error:
                query.errors.append(FieldError(param, error.message))
                continue
            except ValueError as error:  # e.g. NaceCodeInvalid from a filter's own parser
                query.errors.append(FieldError(param, str(error)))
                continue
            if value not in (None, ""):
                query.filters[param] = value
    sort = str(params.get("sort") or "")
    if sort and sort.lstrip("-") in {s.param for s in sorts}:
        query.sort = sort
    elif sort:
        query.errors.append(
            FieldError("sort", _("cannot sort by “%(sort)s”") % {"sort": sort[:40]})
        )
    return query


def apply(
    qs: QuerySet[Any],
    query: ListQuery,
    filters: Sequence[Filter],
    sorts: Sequence[Sort],
    default_sort: str,
) -> QuerySet[Any]:
    by_param = {p: spec for spec in filters for p in spec.params()}
    for param, value in query.filters.items():
        spec = by_param[param]
        path = spec.lookup
        if spec.kind == "prefix":
            key = search_key(str(value))
            qs = qs.filter(**{f"{path}__gte": key, f"{path}__lt": key + "\uffff"}) if key else qs
        elif spec.kind == "contains":
            qs = qs.filter(**{f"{path}__icontains": value})
        elif spec.kind in ("number", "date"):
            op = "gte" if param.endswith("_min") else "lte"
            qs = qs.filter(**{f"{path}__{op}": value})
        elif spec.kind == "reference" and value == "none":
            qs = qs.filter(**{f"{path}__isnull": True})
        else:
            # "phone|mobile": the value may be in either column.
            condition = Q()
            for column in path.split("|"):
                condition |= Q(**{column: value})
            qs = qs.filter(condition)
    sort = query.sort or default_sort
    descending = sort.startswith("-")
    spec_sort = next(s for s in sorts if s.param == sort.lstrip("-"))
    order = [("-" if descending else "") + f for f in (*spec_sort.fields, "id")]
    return qs.order_by(*order)
