"""Reads of leads, transitions and stage definitions, through the viewer's access rights.

A lead is an "account" record owned by its `owner` (core.access): shared, or private to the
owner's team, like the contact it belongs to.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from cible.core import access, listing
from cible.core.listing import Filter, ListQuery, Sort
from cible.core.normalisers import search_key
from cible.engagement.campaigns.models import Campaign
from cible.lifecycle.leads import criteria as rules
from cible.lifecycle.leads import moves
from cible.lifecycle.leads.models import (
    FINAL,
    RANK,
    ROAD,
    DefinitionApproval,
    DefinitionStatus,
    DisqualifyReason,
    Lead,
    RecycleReason,
    Stage,
    StageDefinition,
    StageTransition,
)
from cible.lifecycle.leads.transitions import CHUNK, agreed_rules
from cible.people.models import Source
from cible.people.selectors import user_choices

TAB_STAGES = (*ROAD, Stage.RECYCLED, Stage.DISQUALIFIED)


def campaign_choices() -> list[tuple[Any, str]]:
    return list(Campaign.objects.order_by("-starts_on", "name").values_list("pk", "name")[:500])


LEAD_FILTERS: tuple[Filter, ...] = (
    Filter("stage", _("Stage"), "choice", choices=lambda: Stage.choices),
    Filter("owner", _("Owner"), "reference", choices=user_choices),
    Filter("source", _("Source"), "choice", choices=lambda: Source.choices),
    Filter("campaign", _("Campaign"), "reference", choices=campaign_choices),
    Filter("grade", _("Grade"), "exact", normalise=lambda raw: raw.strip().upper()[:2]),
    Filter("arrived", _("Arrived"), "date", path="arrived_at__date"),
    Filter("contact", _("Contact id"), "reference", hidden=True),
    Filter("organisation", _("Organisation id"), "reference", hidden=True),
)
LEAD_SORTS: tuple[Sort, ...] = (
    Sort("arrived", _("Arrived"), ("arrived_at",)),
    Sort("since", _("In this stage since"), ("stage_entered_at",)),
    Sort("profile", _("Profile score"), ("profile_score",)),
    Sort("engagement", _("Engagement score"), ("engagement_score",)),
)


def _search(qs: QuerySet[Lead], text: str) -> QuerySet[Lead]:
    """Leads whose contact or organisation name starts with `text` (accents and case ignored)."""
    key = search_key(text)
    if not key:
        return qs
    end = key + "\uffff"
    return qs.filter(
        Q(contact__name_key__gte=key, contact__name_key__lt=end)
        | Q(organisation__name_key__gte=key, organisation__name_key__lt=end)
    )


def _filtered(
    viewer: Any, params: Mapping[str, Any], filters: tuple[Filter, ...]
) -> tuple[QuerySet[Lead], ListQuery]:
    query = listing.parse(params, filters, LEAD_SORTS)
    qs = access.visible(viewer, Lead.objects.all())
    qs = listing.apply(qs, query, filters, LEAD_SORTS, default_sort="-arrived")
    return _search(qs, str(params.get("q") or "")[:100]), query


def lead_list(*, viewer: Any, params: Mapping[str, Any]) -> tuple[QuerySet[Lead], ListQuery]:
    """The visible leads matching the filters, search (`q`) and sort of `params`."""
    qs, query = _filtered(viewer, params, LEAD_FILTERS)
    return qs.select_related("contact", "organisation", "owner", "campaign"), query


def stage_counts(*, viewer: Any, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Leads per stage under every filter but the stage itself (the tabs), in one query."""
    others = tuple(f for f in LEAD_FILTERS if f.param != "stage")
    qs, _query = _filtered(viewer, params, others)
    counts = dict(qs.order_by().values_list("stage").annotate(n=Count("id")))
    return [{"stage": s.value, "label": s.label, "count": counts.get(s, 0)} for s in TAB_STAGES]


def lead_get(*, viewer: Any, pk: Any) -> Lead:
    from cible.people.selectors import get_visible

    lead: Lead = get_visible(viewer=viewer, model=Lead, pk=pk)
    return lead


def lead_transitions(*, lead: Lead) -> QuerySet[StageTransition]:
    """The lead's moves, oldest first, with who made them and the definition applied."""
    return lead.transitions.select_related("actor", "definition").order_by("occurred_at", "id")


def contact_leads(*, viewer: Any, contact: Any) -> QuerySet[Lead]:
    return (
        access.visible(viewer, contact.leads.all())
        .select_related("owner", "campaign")
        .order_by("-arrived_at", "-id")
    )


def campaign_lead_counts(viewer: Any, campaign_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """Leads each campaign produced, among those the viewer may see (campaign results hook)."""
    ids = list(campaign_ids)
    rows = (
        access.visible(viewer, Lead.objects.filter(campaign_id__in=ids))
        .order_by()
        .values_list("campaign_id")
        .annotate(n=Count("id"))
    )
    return {pk: {"leads": n} for pk, n in rows}


# --- stage definitions ----------------------------------------------------------------------------


@dataclass
class StageDefinitions:
    """One stage's definitions: the agreed version, drafts waiting, and every version."""

    stage: str
    label: Any
    agreed: StageDefinition | None = None
    drafts: list[StageDefinition] = field(default_factory=list)
    versions: list[StageDefinition] = field(default_factory=list)


def definitions_overview() -> list[StageDefinitions]:
    """Every definable stage with its versions (newest first) and their approvals, 2 queries."""
    approvals = Prefetch(
        "approvals",
        queryset=DefinitionApproval.objects.select_related("approver").order_by("approved_at"),
    )
    by_stage = {str(s): StageDefinitions(stage=s, label=Stage(s).label) for s in moves.DEFINABLE}
    for definition in (
        StageDefinition.objects.select_related("written_by")
        .prefetch_related(approvals)
        .order_by("stage", "-version")
    ):
        entry = by_stage.get(definition.stage)
        if entry is None:
            continue
        entry.versions.append(definition)
        if definition.status == DefinitionStatus.AGREED:
            entry.agreed = definition
        elif definition.status == DefinitionStatus.DRAFT:
            entry.drafts.append(definition)
    return list(by_stage.values())


def text_diff(older: str, newer: str) -> list[tuple[str, str]]:
    """Word by word: ("same"|"added"|"removed", text) runs, for showing a version's changes."""
    before, after = older.split(), newer.split()
    runs: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            runs.append(("same", " ".join(before[a1:a2])))
            continue
        if a2 > a1:
            runs.append(("removed", " ".join(before[a1:a2])))
        if b2 > b1:
            runs.append(("added", " ".join(after[b1:b2])))
    return runs


def describe_criteria(definition: StageDefinition) -> list[str]:
    return rules.describe(definition.criteria)


def definitions_page() -> list[dict[str, Any]]:
    """`definitions_overview`, each version with its rule in words and its text's changes
    against the version before it."""
    stages = []
    for entry in definitions_overview():
        versions = []
        ordered = entry.versions  # newest first
        for index, definition in enumerate(ordered):
            older = ordered[index + 1] if index + 1 < len(ordered) else None
            versions.append(
                {
                    "definition": definition,
                    "criteria": rules.describe(definition.criteria),
                    "approvals": list(definition.approvals.all()),
                    "diff": text_diff(older.text, definition.text) if older else None,
                }
            )
        stages.append(
            {
                "stage": entry.stage,
                "label": entry.label,
                "agreed": next((v for v in versions if v["definition"] is entry.agreed), None),
                "drafts": [v for v in versions if v["definition"] in entry.drafts],
                "versions": versions,
            }
        )
    return stages


# --- one lead's page ------------------------------------------------------------------------------


def lead_road(lead: Lead) -> list[dict[str, Any]]:
    """The road drawn on the lead's page: each stage done, current or ahead. A lead off the road
    shows how far it had gone before leaving it."""
    if lead.stage in ROAD:
        reached = RANK[Stage(lead.stage)]
    else:
        stages = set(lead.transitions.values_list("to_stage", flat=True))
        ranks = [RANK[Stage(s)] for s in stages if s in RANK]
        reached = max(ranks, default=-1)
    steps = []
    for stage in ROAD:
        rank = RANK[stage]
        if stage == lead.stage:
            state = "current"
        elif rank <= reached:
            state = "done"
        else:
            state = "ahead"
        steps.append({"stage": stage.value, "label": stage.label, "state": state})
    return steps


def next_rule(lead: Lead) -> dict[str, Any] | None:
    """The agreed definition that would move the lead next, and what the lead still lacks."""
    ruled, gates = agreed_rules()
    target = moves.rule_target(lead.stage, set(ruled), gates)
    if target is None:
        return None
    definition = ruled[target]
    return {
        "definition": definition,
        "missing": rules.missing(definition.criteria, lead),
        "criteria": rules.describe(definition.criteria),
    }


def move_choices(lead: Lead) -> dict[str, Any]:
    """The hand moves the page offers from where the lead stands."""
    targets = moves.allowed_targets(lead.stage)
    aside = (Stage.RECYCLED, Stage.DISQUALIFIED)
    return {
        "forward": [(s, Stage(s).label) for s in targets if s not in aside],
        "recycle": Stage.RECYCLED in targets,
        "disqualify": Stage.DISQUALIFIED in targets,
        "reopen": lead.stage == Stage.DISQUALIFIED,
    }


def reason_label(code: str) -> str:
    labels = {**dict(RecycleReason.choices), **dict(DisqualifyReason.choices)}
    return str(labels.get(code, code))


def lead_history(lead: Lead) -> list[StageTransition]:
    """`lead_transitions` with each reason code in words (`reason_label`), for the page."""
    history = list(lead_transitions(lead=lead))
    for transition in history:
        transition.reason_label = reason_label(transition.reason)  # type: ignore[attr-defined]
    return history


def stage_keeper(contact_ids: Collection[int]) -> dict[int, str]:
    """A contact's stage follows their lead: the live one, or else the latest
    (people.hooks.register_stage_keeper). Why, for each of `contact_ids` that has a lead."""
    ids = list(contact_ids)
    live: dict[int, int] = {}
    latest: dict[int, int] = {}
    for start in range(0, len(ids), CHUNK):
        leads = (
            Lead.objects.filter(contact_id__in=ids[start : start + CHUNK])
            .order_by("contact_id", "-arrived_at", "-pk")
            .values_list("contact_id", "pk", "stage")
        )
        for contact, lead, stage in leads:
            latest.setdefault(contact, lead)
            if stage not in FINAL:  # one at most (lead_one_live_per_contact)
                live[contact] = lead
    message = _(
        "This contact's lifecycle stage follows their lead #%(lead)s: move the lead instead "
        "(with its reason, in its history)."
    )
    return {contact: message % {"lead": lead} for contact, lead in (latest | live).items()}
