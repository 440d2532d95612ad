"""Extension points higher apps plug into, so people never imports them (ARCHITECTURE.md layers).

`register_related_section` lets e.g. the pipeline show an organisation's opportunities on its
page: the provider returns a template name and its context, already filtered for the viewer.
`on` names the record page the section belongs to ("organisation" or "contact").
`register_duplicate_finder` lets the duplicates app warn, before an organisation or a contact is
created, that it looks like one already there (`check_duplicates`, called by the services).
`register_bulk_listener`, `register_stage_keeper` and `register_merge_keeper`: below, each with
why it exists.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from cible.core.errors import ConflictError

SectionProvider = Callable[[Any, Any], dict[str, Any] | None]
_sections: dict[str, list[SectionProvider]] = {}


def register_related_section(provider: SectionProvider, *, on: str = "organisation") -> None:
    providers = _sections.setdefault(on, [])
    if provider not in providers:
        providers.append(provider)


def related_sections(viewer: Any, record: Any) -> list[dict[str, Any]]:
    """The sections of `record`'s page, by its model name (organisation, contact)."""
    providers = _sections.get(record._meta.model_name, [])
    return [section for provider in providers if (section := provider(viewer, record))]


# --- duplicates: prevention on entry (SPEC C2) ----------------------------------------------------
# The quality layer registers a finder; people's create services ask it before saving, unless the
# caller says the person confirmed ("create anyway").


@dataclass(frozen=True)
class DuplicateCandidate:
    """An existing record the one being created looks like, as the finder describes it."""

    id: int
    label: str
    detail: str
    score: float
    phrases: tuple[str, ...]  # the evidence, in the active language
    url: str

    @property
    def percent(self) -> int:
        return round(self.score * 100)


DuplicateFinder = Callable[[str, Mapping[str, Any], Any], list[DuplicateCandidate]]
_finders: list[tuple[DuplicateFinder, str]] = []


def register_duplicate_finder(finder: DuplicateFinder, *, template: str) -> None:
    """`finder(entity, values, viewer)` returns the likely duplicates of a record about to be
    created ("organisation" or "contact", normalised values); `template` shows them in a form."""
    if all(known is not finder for known, _template in _finders):
        _finders.append((finder, template))


class DuplicateSuspected(ConflictError):
    """The record about to be created looks like one the user can see (HTTP 409). The form shows
    `panel`; the API answers `candidates`; `allow_duplicate` creates it anyway."""

    def __init__(self, candidates: list[DuplicateCandidate], template: str) -> None:
        names = ", ".join(f"{c.label} (#{c.id}, {c.percent} %)" for c in candidates[:3])
        super().__init__(
            _(
                "This looks like a record you already have: %(names)s. Send "
                "allow_duplicate=true to create it anyway."
            )
            % {"names": names}
        )
        self.candidates = candidates
        self.panel = {"template": template, "candidates": candidates}
        self.payload = {
            "candidates": [
                {
                    "id": c.id,
                    "label": c.label,
                    "detail": c.detail,
                    "score": round(c.score, 4),
                    "reasons": list(c.phrases),
                    "url": c.url,
                }
                for c in candidates
            ]
        }


def check_duplicates(entity: str, values: Mapping[str, Any], viewer: Any) -> None:
    """Raise DuplicateSuspected if a registered finder knows look-alikes of `values`."""
    for finder, template in _finders:
        found = finder(entity, values, viewer)
        if found:
            raise DuplicateSuspected(found, template)


# --- bulk writes: derived data kept current (SPEC C3) ------------------------------------------
# Bulk writers (imports) bypass model signals; they announce what they wrote once they are done,
# and the apps deriving data from organisations and contacts (segment membership, fit scores)
# bring it up to date.

BulkListener = Callable[..., None]
_bulk_listeners: list[BulkListener] = []


def register_bulk_listener(listener: BulkListener) -> None:
    """`listener(model=…, ids=…, actor=…, channel=…)`; `ids` None means "too many to list"."""
    if listener not in _bulk_listeners:
        _bulk_listeners.append(listener)


def records_bulk_written(
    *, model: type[Any], ids: set[int] | None, actor: Any, channel: str
) -> None:
    """Tell the listeners that rows of `model` (organisations, contacts) were written in bulk."""
    for listener in _bulk_listeners:
        listener(model=model, ids=ids, actor=actor, channel=channel)


# --- the lifecycle stage: kept by the leads once a person has one ---------------------------------
# A contact's `lifecycle_stage` mirrors their latest lead (lifecycle.leads); the lifecycle
# registers a keeper that says so, and an edit of the contact that would change the stage (form,
# API or import) is refused with that message — the lead is moved instead, with its reason and
# history.

# Contact ids → why each one's stage may not be set by hand, for those it may not be.
StageKeeper = Callable[[Collection[int]], dict[int, str]]
_stage_keepers: list[StageKeeper] = []


def register_stage_keeper(keeper: StageKeeper) -> None:
    if keeper not in _stage_keepers:
        _stage_keepers.append(keeper)


def stages_kept(contact_ids: Collection[int]) -> dict[int, str]:
    """Of `contact_ids`, those whose lifecycle stage may not be set by hand, and why."""
    kept: dict[int, str] = {}
    for keeper in _stage_keepers:
        for contact, message in keeper(contact_ids).items():
            kept.setdefault(contact, message)
    return kept


def stage_kept_by(contact: Any) -> str | None:
    """Why `contact`'s lifecycle stage may not be set by hand, if it may not."""
    return stages_kept([contact.pk]).get(contact.pk)


# --- merges: what an app hides from the generic move ---------------------------------------------
# Merging two records (quality.duplicates) repoints every row Django knows refers to the one that
# goes. An app whose rows are hidden from that move (segment memberships: derived by the million,
# a few placed by hand) carries over what matters itself: its keeper is called before the record
# goes, and what it returns (JSON data) is handed back to it if the merge is undone.


@dataclass(frozen=True)
class MergeKeeper:
    name: str
    # (entity, loser id, survivor id, actor, channel) → what to hand back on undo, or None.
    keep: Callable[[str, int, int, Any, str], Any]
    # (entity, loser id, survivor id, what `keep` returned, actor, channel)
    restore: Callable[[str, int, int, Any, Any, str], None]


_merge_keepers: dict[str, MergeKeeper] = {}


def register_merge_keeper(keeper: MergeKeeper) -> None:
    _merge_keepers[keeper.name] = keeper


def merge_kept(
    *, entity: str, loser_id: int, survivor_id: int, actor: Any, channel: str
) -> dict[str, Any]:
    """Each keeper's note of what it carried from the loser to the survivor, by keeper name."""
    notes = {}
    for name, keeper in _merge_keepers.items():
        note = keeper.keep(entity, loser_id, survivor_id, actor, channel)
        if note is not None:
            notes[name] = note
    return notes


def merge_restored(
    *,
    entity: str,
    loser_id: int,
    survivor_id: int,
    notes: Mapping[str, Any],
    actor: Any,
    channel: str,
) -> None:
    """The loser is back: each keeper undoes what it carried over."""
    for name, note in notes.items():
        keeper = _merge_keepers.get(name)
        if keeper is not None:
            keeper.restore(entity, loser_id, survivor_id, note, actor, channel)
