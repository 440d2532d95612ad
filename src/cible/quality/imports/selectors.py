"""Reads of the import framework. A run is visible to the person who uploaded it and to
administrators; a user without a role sees none."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.db.models import Max, QuerySet
from django.utils.translation import gettext as _

from cible.core import access
from cible.core.errors import NotFound
from cible.core.values import is_id
from cible.quality.imports import registry
from cible.quality.imports.models import ImportRejection, ImportRun


def run_list(user: Any) -> QuerySet[ImportRun]:
    runs = ImportRun.objects.select_related("created_by").order_by("-created_at", "-id")
    if access.role_of(user) is None:
        return runs.none()
    if access.is_admin(user):
        return runs
    return runs.filter(created_by=user)


def get_run(user: Any, pk: int | str | uuid.UUID) -> ImportRun:
    """The run by id or uuid; NotFound when it does not exist or is not the user's."""
    runs = run_list(user)
    try:
        if isinstance(pk, uuid.UUID):
            run = runs.filter(uuid=pk).first()
        elif is_id(pk):
            run = runs.filter(pk=int(pk)).first()
        else:
            run = runs.filter(uuid=uuid.UUID(str(pk))).first()
    except (ValueError, OverflowError):
        run = None
    if run is None:
        raise NotFound(_("Not found, or not visible to you."))
    return run


def rejections(
    run: ImportRun, *, dry_run: bool, limit: int | None = 100
) -> QuerySet[ImportRejection]:
    rows = ImportRejection.objects.filter(run=run, dry_run=dry_run).select_related("run")
    rows = rows.order_by("row")
    return rows[:limit] if limit is not None else rows


def sources(user: Any, *, limit: int = 50) -> list[str]:
    """Sources the user imported from before, most recent first (offered on the upload form)."""
    names = (
        run_list(user)
        .values("source")
        .annotate(last=Max("created_at"))
        .order_by("-last")
        .values_list("source", flat=True)
    )
    return list(names[:limit])


def samples(run: ImportRun, *, limit: int = 3) -> dict[str, list[str]]:
    """A few values of each column, read at upload, to help choose its field."""
    return {column: list(values)[:limit] for column, values in (run.samples or {}).items()}


@dataclass(frozen=True)
class SuggestionOrigin:
    kind: str  # "memory", "preset" or "headers"
    name: str  # the preset's name
    label: str

    def __str__(self) -> str:
        return self.label


def suggestion_origin(run: ImportRun) -> SuggestionOrigin:
    """Where the suggested mapping came from, said to the user."""
    kind, _sep, name = (run.suggested_from or "headers").partition(":")
    if kind == "memory":
        label = _("Mapping remembered from the last import from “%(source)s”.") % {
            "source": run.source
        }
    elif kind == "preset":
        entity = registry.get(run.entity)
        preset = next((p for p in entity.presets if p.name == name), None) if entity else None
        label = _("Recognised as an export from %(preset)s.") % {
            "preset": preset.label if preset else name
        }
    else:
        label = _("Suggested from the column names.")
    return SuggestionOrigin(kind, name, str(label))


def changes(run: ImportRun) -> dict[str, dict[str, Any]]:
    """Per field, how many values the normalisers rewrote, with one example; most first."""
    samples_ = run.change_samples or {}
    result = {}
    for name, count in sorted((run.changes or {}).items(), key=lambda item: (-item[1], item[0])):
        before, after = [*(samples_.get(name) or []), "", ""][:2]
        result[name] = {"count": int(count), "before": before, "after": after}
    return result
