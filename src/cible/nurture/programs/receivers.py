"""What the incubator does when leads move (`leads_moved`, sent after the move committed):

- leads entering a stage a running program enrols from (e.g. Recycled: "Sales → Marketing to
  start nurturing", seed 004 §4) are enrolled, with their lead;
- contacts whose lead became an MQL (or went further) leave the programs that exit on it at
  once, without waiting for the next advance;
- likewise contacts who replied or whose email bounced (`interactions_recorded`), or who opted
  out of email (`email_opted_out`), even in the middle of a week's wait.

Both are set-based over the whole list of moves, each in its own transaction.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Collection, Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from cible.core.audit import Channel
from cible.core.errors import CibleError
from cible.core.idsets import InIds
from cible.engagement.interactions.models import Interaction, InteractionKind
from cible.engagement.interactions.signals import interactions_recorded
from cible.lifecycle.leads.models import Lead
from cible.lifecycle.leads.signals import Move, leads_moved
from cible.nurture.programs import exits, services
from cible.nurture.programs.models import (
    Enrolment,
    EnrolmentSource,
    EnrolmentStatus,
    ExitReason,
    NurtureProgram,
    ProgramStatus,
)
from cible.people.signals import email_opted_out

logger = logging.getLogger(__name__)


def enrol_by_stage(moves: Sequence[Move]) -> int:
    by_stage: dict[str, list[int]] = defaultdict(list)
    for move in moves:
        by_stage[move.to_stage].append(move.lead_id)
    programs = NurtureProgram.objects.filter(
        enrol_on_stage__in=list(by_stage), status__in=services.RUNNING
    )
    total = 0
    for program in programs:
        lead_ids = by_stage[program.enrol_on_stage]
        contact_ids = Lead.objects.filter(pk__in=lead_ids, contact__isnull=False).values_list(
            "contact_id", flat=True
        )
        try:
            total += services.enrol(
                program=program,
                contact_ids=list(contact_ids),
                source=EnrolmentSource.STAGE,
                actor=None,
                channel=Channel.JOB,
                lead_ids=lead_ids,
            )
        except CibleError:
            logger.exception("nurture: stage enrolment into program %s failed", program.pk)
    return total


@transaction.atomic
def exit_ready(moves: Sequence[Move]) -> int:
    lead_ids = [m.lead_id for m in moves if m.to_stage in exits.READY]
    if not lead_ids:
        return 0
    contacts = Lead.objects.filter(pk__in=lead_ids).values("contact_id")
    ids = Enrolment.objects.filter(
        status=EnrolmentStatus.ACTIVE,
        contact_id__in=contacts,
        program__exit_on_mql=True,
        program__status__in=(ProgramStatus.ACTIVE, ProgramStatus.PAUSED),
    ).values_list("pk", flat=True)
    return exits.exit_enrolments(dict.fromkeys(ids, ExitReason.MQL), now=timezone.now())


def _on_leads_moved(sender: Any, moves: Sequence[Move], **kwargs: Any) -> None:
    exit_ready(moves)
    enrol_by_stage(moves)


# Interactions that end a nurture at once for the programs that exit on them.
ENDING = (InteractionKind.EMAIL_REPLIED, InteractionKind.EMAIL_BOUNCED)


def exit_on_interactions(interactions: Sequence[Interaction]) -> int:
    return exit_due({i.contact_id for i in interactions if i.kind in ENDING and i.contact_id})


@transaction.atomic
def exit_due(contact_ids: Collection[int]) -> int:
    """The contacts' active enrolments leave the programs whose exit conditions they now meet
    (opt-out, bounce, reply, MQL, custom target: the engine's own checks), at once."""
    if not contact_ids:
        return 0
    active = list(
        Enrolment.objects.filter(
            InIds("contact_id", sorted(contact_ids)),
            status=EnrolmentStatus.ACTIVE,
            program__status__in=(ProgramStatus.ACTIVE, ProgramStatus.PAUSED),
        ).values_list("pk", "program_id")
    )
    ids, program_ids = [pk for pk, _p in active], {p for _pk, p in active}
    programs = NurtureProgram.objects.in_bulk(program_ids)
    return exits.exit_enrolments(exits.due_exits(ids, programs), now=timezone.now())


def _on_interactions(sender: Any, interactions: Sequence[Interaction], **kwargs: Any) -> None:
    exit_on_interactions(interactions)


def _on_email_opted_out(sender: Any, contact_ids: Sequence[int], **kwargs: Any) -> None:
    exit_due(set(contact_ids))


def connect() -> None:
    leads_moved.connect(_on_leads_moved, dispatch_uid="nurture-leads-moved")
    interactions_recorded.connect(_on_interactions, dispatch_uid="nurture-interactions")
    email_opted_out.connect(_on_email_opted_out, dispatch_uid="nurture-email-opted-out")
