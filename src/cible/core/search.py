"""Global search: each app registers a provider; the search box asks all of them.

A provider receives the viewer and a classified query, and returns its hits already narrowed by
the access policy. Classifying once here means "01 23 45 67 89", "+33123456789" and
"0033 1 23 45 67 89" all find the same phone number, whichever app stores it.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cible.core import normalisers as norm


@dataclass(frozen=True)
class SearchQuery:
    text: str
    key: str  # normalisers.search_key of the text: for name prefixes
    email: str | None = None
    phone: str | None = None
    siren: str | None = None
    siret: str | None = None
    domain: str | None = None


@dataclass(frozen=True)
class Hit:
    kind: str
    label: str
    detail: str
    url: str


@dataclass
class SearchResults:
    query: SearchQuery
    groups: dict[str, list[Hit]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(len(hits) for hits in self.groups.values())


Provider = Callable[[Any, SearchQuery, int], list[Hit]]
_providers: dict[str, Provider] = {}


def register(kind: str, provider: Provider) -> None:
    _providers[kind] = provider


def classify(text: str) -> SearchQuery:
    text = " ".join(text.split())[:200]
    digits = re.sub(r"[\s.\-/()]", "", text)
    found: dict[str, Any] = {}
    if "@" in text:
        found["email"] = text.lower()
    if re.fullmatch(r"\d{9}", digits):
        found["siren"] = digits
    if re.fullmatch(r"\d{14}", digits):
        found["siret"] = digits
    if re.fullmatch(r"\+?\d{6,17}", digits):
        with contextlib.suppress(norm.NormalisationError):
            found["phone"] = norm.phone(text)
    if "@" not in text and "." in text and " " not in text and not digits.isdigit():
        with contextlib.suppress(norm.NormalisationError):
            found["domain"] = norm.domain(text)
    return SearchQuery(text=text, key=norm.search_key(text), **found)


def search(viewer: Any, text: str, limit: int = 10) -> SearchResults:
    query = classify(text)
    results = SearchResults(query=query)
    if not query.key and not query.email:
        return results
    for kind, provider in _providers.items():
        hits = provider(viewer, query, limit)
        if hits:
            results.groups[kind] = hits
    return results
