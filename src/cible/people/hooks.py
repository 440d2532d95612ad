"""Extension points higher apps plug into, so people never imports them (ARCHITECTURE.md layers).

`register_related_section` lets e.g. the pipeline show an organisation's opportunities on its
page: the provider returns a template name and its context, already filtered for the viewer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

SectionProvider = Callable[[Any, Any], dict[str, Any] | None]
_sections: list[SectionProvider] = []


def register_related_section(provider: SectionProvider) -> None:
    if provider not in _sections:
        _sections.append(provider)


def related_sections(viewer: Any, organisation: Any) -> list[dict[str, Any]]:
    return [section for provider in _sections if (section := provider(viewer, organisation))]
