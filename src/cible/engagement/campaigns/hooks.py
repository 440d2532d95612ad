"""Figures about campaigns that apps above provide (ARCHITECTURE.md: no upward imports).

The lifecycle knows which leads a campaign produced; the campaign page and list show them, with
the cost per lead, through the provider it registers here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

# provider(viewer, campaign_ids) -> {campaign_id: {"leads": int, ...}} counted over what the
# viewer may see; a campaign with nothing to report may be left out.
ResultsProvider = Callable[[Any, Iterable[int]], dict[int, dict[str, int]]]
_providers: list[ResultsProvider] = []


def register_campaign_results(provider: ResultsProvider) -> None:
    if provider not in _providers:
        _providers.append(provider)


def campaign_results(viewer: Any, campaign_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """Every provider's figures merged per campaign (missing campaigns: empty dicts)."""
    ids = list(campaign_ids)
    merged: dict[int, dict[str, int]] = {pk: {} for pk in ids}
    for provider in _providers:
        for pk, figures in provider(viewer, ids).items():
            merged.setdefault(pk, {}).update(figures)
    return merged


def has_providers() -> bool:
    """Whether any app reports results: without one, leads are unknown rather than zero."""
    return bool(_providers)
