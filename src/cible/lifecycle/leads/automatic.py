"""Moves nobody clicks: agreed definitions applied to many leads at once (after a rescoring), and
leads opened or woken by interactions (a form, a download, a demo request).

Set-based on purpose (ARCHITECTURE.md, Speed): a batch of 10,000 events or a rescoring of the
base costs a fixed number of queries per 10,000 leads, whatever their number inside it: one read
per stage, one UPDATE, one bulk insert of transitions, one UPDATE of the contacts' mirror.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import connections, router, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from cible.core import bulk
from cible.core.audit import Channel
from cible.engagement.campaigns.models import Campaign, CampaignType
from cible.engagement.interactions.models import Interaction, InteractionKind
from cible.engagement.interactions.signals import interactions_recorded
from cible.lifecycle.leads import criteria as rules
from cible.lifecycle.leads import moves, road
from cible.lifecycle.leads.models import FINAL, Lead, Stage, StageTransition, TransitionChannel
from cible.lifecycle.leads.signals import Move, send_on_commit
from cible.lifecycle.leads.transitions import CHUNK, agreed_rules, human
from cible.people.models import Contact, Source

TRANSITION_COLUMNS = [
    "lead_id",
    "from_stage",
    "to_stage",
    "occurred_at",
    "actor_id",
    "channel",
    "reason",
    "note",
    "definition_id",
    "profile_score",
    "engagement_score",
    "grade",
]

# Inbound kinds where a person raises a hand (seed 004 §3: campaigns answered, events attended,
# downloads). Opens and clicks are engagement for scoring, not interest enough for a lead.
INTEREST: dict[str, str] = {
    InteractionKind.FORM_SUBMISSION: Source.WEBSITE,
    InteractionKind.CONTENT_DOWNLOAD: Source.WEBSITE,
    InteractionKind.DEMO_REQUEST: Source.WEBSITE,
    InteractionKind.TRIAL_SIGNUP: Source.WEBSITE,
    InteractionKind.WEBINAR: Source.WEBINAR,
    InteractionKind.EVENT: Source.EVENT,
    InteractionKind.EMAIL_REPLIED: Source.OTHER,
}
# A campaign says more about where a lead came from than the kind of its first touch.
CAMPAIGN_SOURCE: dict[str, str] = {
    CampaignType.EVENT: Source.EVENT,
    CampaignType.WEBINAR: Source.WEBINAR,
    CampaignType.ADS: Source.ADVERTISING,
    CampaignType.SOCIAL: Source.SOCIAL,
    CampaignType.REFERRAL: Source.REFERRAL,
}


def _chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start : start + CHUNK])


def _insert_transitions(rows: list[tuple[Any, ...]]) -> None:
    if rows:
        bulk.bulk_insert(StageTransition, TRANSITION_COLUMNS, rows)
        road.mark((row[0], row[2], row[3]) for row in rows)
        send_on_commit([Move(row[0], row[1], row[2], row[5]) for row in rows])


def _mirror(contact_ids: Iterable[int | None], stage: str) -> None:
    """The moved leads are their contacts' live ones, hence their current ones."""
    ids = [pk for pk in set(contact_ids) if pk is not None]
    for chunk in _chunks(ids):
        Contact.objects.filter(pk__in=chunk).update(lifecycle_stage=stage)


def _move_rows(
    rows: Sequence[Mapping[str, Any]],
    *,
    from_stage: str,
    to_stage: str,
    actor: Any,
    channel: str,
    definition_id: int | None,
) -> int:
    """Move the leads of `rows` (read under lock) from `from_stage` to `to_stage`, in bulk."""
    if not rows:
        return 0
    now = timezone.now()
    ids = [row["id"] for row in rows]
    changes: dict[str, Any] = {
        "stage": to_stage,
        "stage_entered_at": now,
        "updated_at": now,
        "version": F("version") + 1,
    }
    if from_stage == Stage.RECYCLED:
        changes.update(recycle_reason="", requalify_on=None)
    Lead.objects.filter(pk__in=ids, stage=from_stage).update(**changes)
    actor_id = getattr(human(actor), "pk", None)
    _insert_transitions(
        [
            (
                row["id"],
                from_stage,
                to_stage,
                now,
                actor_id,
                channel,
                "",
                "",
                definition_id,
                row["profile_score"],
                row["engagement_score"],
                row["grade"],
            )
            for row in rows
        ]
    )
    _mirror((row["contact_id"] for row in rows), to_stage)
    return len(rows)


@transaction.atomic
def apply_definitions(*, leads: QuerySet[Lead] | Iterable[int], actor: Any = None) -> int:
    """Move every lead of `leads` (a queryset or ids) whose next stage's agreed criteria hold
    (moves.rule_target); returns how many moved. The scoring app calls it after rescoring.

    A queryset is filtered by the criteria in SQL as it is — after a whole-base rescore, only
    the few leads that qualify are read; ids are taken `CHUNK` at a time."""
    ruled, gates = agreed_rules()
    if not ruled:
        return 0
    if isinstance(leads, QuerySet):
        bases: Iterable[QuerySet[Lead]] = [leads]
    else:
        bases = (Lead.objects.filter(pk__in=chunk) for chunk in _chunks(list(leads)))
    moved = 0
    today = timezone.localdate()
    for base in bases:
        for from_stage in (*moves.QUALIFYING, Stage.RECYCLED):
            target = moves.rule_target(from_stage, set(ruled), gates)
            if target is None:
                continue
            definition = ruled[target]
            qs = base.filter(stage=from_stage).filter(rules.as_q(definition.criteria))
            if from_stage == Stage.RECYCLED:
                qs = qs.filter(Q(requalify_on__isnull=True) | Q(requalify_on__lte=today))
            rows = list(
                qs.select_for_update().values(
                    "id", "contact_id", "profile_score", "engagement_score", "grade"
                )
            )
            moved += _move_rows(
                rows,
                from_stage=from_stage,
                to_stage=target,
                actor=actor,
                channel=TransitionChannel.RULE,
                definition_id=definition.pk,
            )
    return moved


# --- interactions → leads -------------------------------------------------------------------------


def _insert_leads_ignoring_conflicts(leads: list[Lead]) -> None:
    """INSERT … ON CONFLICT DO NOTHING in one executemany: a lead opened meanwhile for the same
    contact (`lead_one_live_per_contact`) wins, and this batch simply skips that contact."""
    connection = connections[router.db_for_write(Lead) or "default"]
    fields = [f for f in Lead._meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(f.column)) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = (
        f"INSERT INTO {quote(Lead._meta.db_table)} ({columns}) VALUES ({placeholders}) "
        "ON CONFLICT DO NOTHING"
    )
    rows = [
        tuple(f.get_db_prep_save(f.pre_save(lead, True), connection) for f in fields)
        for lead in leads
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _first_touches(interactions: Iterable[Interaction]) -> dict[int, Interaction]:
    """Each contact's earliest interaction showing interest, in this batch."""
    first: dict[int, Interaction] = {}
    for item in interactions:
        if item.contact_id is None or item.kind not in INTEREST:
            continue
        known = first.get(item.contact_id)
        if known is None or item.occurred_at < known.occurred_at:
            first[item.contact_id] = item
    return first


@transaction.atomic
def leads_from_interactions(*, interactions: Sequence[Interaction]) -> dict[str, int]:
    """Open a Prospect lead for each contact who showed interest and has no live lead; wake a
    live Suspect lead to Prospect. Returns {"opened": n, "woken": m}."""
    first = _first_touches(interactions)
    opened = woken = 0
    for chunk in _chunks(sorted(first)):
        live = {
            row["contact_id"]: row
            for row in Lead.objects.filter(contact_id__in=chunk)
            .exclude(stage__in=[s.value for s in FINAL])
            .values("id", "contact_id", "stage", "profile_score", "engagement_score", "grade")
        }
        suspects = [row for row in live.values() if row["stage"] == Stage.SUSPECT]
        rows = list(
            Lead.objects.filter(pk__in=[row["id"] for row in suspects], stage=Stage.SUSPECT)
            .select_for_update()
            .values("id", "contact_id", "profile_score", "engagement_score", "grade")
        )
        woken += _move_rows(
            rows,
            from_stage=Stage.SUSPECT,
            to_stage=Stage.PROSPECT,
            actor=None,
            channel=TransitionChannel.JOB,
            definition_id=None,
        )
        opened += _open_for(
            [first[pk] for pk in chunk if pk not in live],
        )
    return {"opened": opened, "woken": woken}


def _open_for(touches: list[Interaction]) -> int:
    if not touches:
        return 0
    contact_ids = [t.contact_id for t in touches if t.contact_id is not None]
    organisations = dict(
        Contact.objects.filter(pk__in=contact_ids, anonymised_at__isnull=True).values_list(
            "pk", "organisation_id"
        )
    )
    campaign_ids = {t.campaign_id for t in touches if t.campaign_id is not None}
    campaign_types: dict[int | None, str] = dict(
        Campaign.objects.filter(pk__in=campaign_ids).values_list("pk", "type")
    )
    now = timezone.now()
    leads = [
        Lead(
            contact_id=t.contact_id,
            organisation_id=t.organisation_id or organisations[t.contact_id],
            stage=Stage.PROSPECT,
            stage_entered_at=now,
            arrived_at=t.occurred_at,
            source=CAMPAIGN_SOURCE.get(campaign_types.get(t.campaign_id, ""), INTEREST[t.kind]),
            source_detail=t.kind,
            campaign_id=t.campaign_id if t.campaign_id in campaign_types else None,
            created_at=now,
        )
        for t in touches
        if t.contact_id in organisations
    ]
    if not leads:
        return 0
    _insert_leads_ignoring_conflicts(leads)
    # Ours are the live leads of these contacts without a transition yet: one opened meanwhile
    # by `open_lead` wrote its transition in the same transaction as itself.
    created = list(
        Lead.objects.filter(contact_id__in=[lead.contact_id for lead in leads])
        .exclude(stage__in=[s.value for s in FINAL])
        .filter(transitions__isnull=True)
        .values_list("pk", "contact_id", "arrived_at")
    )
    _insert_transitions(
        [
            (pk, "", Stage.PROSPECT, now, None, TransitionChannel.JOB, "", "", None, None, None, "")
            for pk, _contact, _arrived in created
        ]
    )
    _mirror((contact for _pk, contact, _arrived in created), Stage.PROSPECT)
    if created:
        bulk.log_bulk(
            actor=None,
            channel=Channel.JOB,
            model=Lead,
            rows=len(created),
            summary=f"{len(created)} leads opened from interactions",
        )
    return len(created)


def _on_interactions(sender: Any, interactions: Sequence[Interaction], **kwargs: Any) -> None:
    leads_from_interactions(interactions=interactions)


def connect() -> None:
    interactions_recorded.connect(_on_interactions, dispatch_uid="leads.interactions")
