"""Demo step of the lifecycle (issue 6): leads, their stage history and their interactions, over
two years, consistent with the opportunities the pipeline step drew.

- Every opportunity comes from a lead (`Opportunity.lead`) that went Suspect/Prospect → MQL →
  SAL → SQL → Opportunity at the deal's creation → Customer (won) or Recycled, reason
  "opportunity lost" (lost) at its close; an open deal's lead is still at Opportunity.
- Many more leads never became one (six per deal): disqualified with a reason,
  recycled with a re-qualification date, or still open at every stage today. How far a lead
  goes depends on its source and campaign (`engagement.Planned.quality`), its account's fit
  (`pipeline.win_probability`) and its contact's seniority, so funnels by source and campaign
  differ, and a predictive model has something true to learn.
- Interactions follow each lead's life (first touch, nurturing, a burst before MQL, calls by
  SDRs, meetings by AEs, product usage for customers): about ten per lead, more for those that
  went far. Campaign members are derived from them (`engagement.MemberBook`).

Roads draw from `ctx.rng_for("leads")`, interactions from their own stream; rows are built in
Python (`lifecycle_plan`, `lifecycle_touches`) and written by `core.bulk`, in chunks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from random import Random

from django.db import connection, transaction

from cible.core.audit import Channel
from cible.core.bulk import bulk_insert, log_bulk, reset_sequences
from cible.demo.engagement import MEMBER_COLUMNS, CampaignBook, MemberBook
from cible.demo.generator import DemoContext, Step, register
from cible.demo.lifecycle_plan import (
    LEAD_COLUMNS,
    TRANSITION_COLUMNS,
    Account,
    LeadPlan,
    Person,
    Planner,
)
from cible.demo.lifecycle_touches import Touches
from cible.engagement.campaigns.models import CampaignMember
from cible.engagement.interactions.models import Interaction
from cible.lifecycle.leads.models import Lead, StageTransition
from cible.lifecycle.leads.transitions import mirror_contact_stage
from cible.people.models import Contact, Organisation
from cible.pipeline.models import Opportunity

INTERACTION_COLUMNS = [
    "kind",
    "occurred_at",
    "contact_id",
    "organisation_id",
    "campaign_id",
    "owner_id",
    "outcome",
    "subject",
    "duration_seconds",
    "channel",
    "source",
    "properties",
    "created_at",
]
LEADS_PER_DEAL = 6.0  # leads that never became a deal, per deal


def _accounts(ctx: DemoContext) -> dict[int, Account]:
    from cible.demo.pipeline import _installed_crms, region_group, team_band, win_probability

    names = {pk: name for name, pk in ctx.products.items()}
    crms = {org: names[product] for org, product in _installed_crms(ctx).items()}
    ids = ctx.org_ids
    accounts = {}
    for pk, region, country, size, team, division, owner, created in (
        Organisation.objects.filter(id__gte=ids.start, id__lt=ids.stop)
        .order_by("id")
        .values_list(
            "id",
            "region",
            "country",
            "size_class",
            "sales_team_size",
            "naf_division",
            "owner_id",
            "created_at",
        )
        .iterator(chunk_size=20_000)
    ):
        group = region_group(region, country)
        fit = win_probability(
            group=group,
            size_class=size,
            band=team_band(team),
            crm=crms.get(pk),
            division=division,
        )
        accounts[pk] = Account(pk, group, fit, owner, created)
    return accounts


def _people(
    ctx: DemoContext, deal_orgs: set[int], share: float, rng: Random
) -> tuple[dict[int, list[Person]], list[Person]]:
    """One pass over the contacts: every contact of the accounts with a deal (by account), and
    a random `share` of the others, enough for the leads that never became a deal. Only those
    are kept in memory, so the 1m size (3,000,000 contacts) stays light."""
    ids = ctx.contact_ids
    by_org: dict[int, list[Person]] = {}
    others: list[Person] = []
    for pk, org, created, seniority, role, bounced, opted_out, email in (
        Contact.objects.filter(
            id__gte=ids.start,
            id__lt=ids.stop,
            anonymised_at__isnull=True,
            organisation__isnull=False,
        )
        .order_by("id")
        .values_list(
            "id",
            "organisation_id",
            "created_at",
            "seniority",
            "buying_role",
            "email_bounced_at",
            "email_opt_out",
            "email",
        )
        .iterator(chunk_size=20_000)
    ):
        drawn = rng.random() < share
        if org in deal_orgs:
            person = Person(pk, org, created, seniority, role, bounced, opted_out or not email)
            by_org.setdefault(org, []).append(person)
            if drawn:
                others.append(person)
        elif drawn:
            others.append(
                Person(pk, org, created, seniority, role, bounced, opted_out or not email)
            )
    return by_org, others


def _deals(ctx: DemoContext) -> list[tuple]:
    ids = ctx.shared.get("opportunity_ids", range(0))
    return list(
        Opportunity.objects.filter(id__gte=ids.start, id__lt=ids.stop)
        .order_by("id")
        .values_list("id", "organisation_id", "owner_id", "created_at", "closed_on", "stage")
    )


def _link_deals(pairs: list[tuple[int, int]]) -> None:
    """Opportunity.lead for each deal, in one statement per batch."""
    table = Opportunity._meta.db_table
    with connection.cursor() as cursor:
        for start in range(0, len(pairs), 10_000):
            cursor.executemany(
                f"UPDATE {table} SET lead_id = %s WHERE id = %s", pairs[start : start + 10_000]
            )


def create_leads(ctx: DemoContext) -> None:
    rng = ctx.rng_for("leads")
    accounts = _accounts(ctx)
    deals = _deals(ctx)
    wanted = int(len(deals) * LEADS_PER_DEAL)
    contacts = max(1, len(ctx.contact_ids))
    share = min(1.0, 1.3 * wanted / contacts) if deals else 1.0
    people, others = _people(ctx, {deal[1] for deal in deals}, share, rng)
    book = CampaignBook(ctx.shared.get("campaigns", []))
    planner = Planner(ctx, rng, book, accounts)
    touches = Touches(ctx, book, planner.sdr, accounts)
    writer = Writer(ctx, touches)
    next_id = first_id = (
        Lead.objects.order_by("-id").values_list("id", flat=True).first() or 0
    ) + 1
    used: set[int] = set()
    links: list[tuple[int, int]] = []
    with transaction.atomic():
        # 1. the deals' leads, one contact per deal where one is free and known early enough
        for deal_id, org, owner, created, closed_on, stage in deals:
            person = _free_person(people.get(org, []), used, created - dt.timedelta(days=30), rng)
            plan = planner.deal_lead(
                next_id, person, accounts[org], owner, created, closed_on, stage
            )
            next_id += 1
            links.append((plan.id, deal_id))
            writer.add(plan)
        # 2. leads that never became a deal, on contacts without one
        rng.shuffle(others)
        made = 0
        for person in others:
            if made == wanted:
                break
            if person.id in used:
                continue
            writer.add(planner.other_lead(next_id, person, accounts[person.org]))
            next_id += 1
            made += 1
        writer.flush()
        _link_deals(links)
        members = bulk_insert(CampaignMember, MEMBER_COLUMNS, writer.members.rows())
        reset_sequences(Lead)
        mirror_contact_stage(writer.contacts)
    leads = next_id - first_id
    ctx.progress(
        f"  leads {leads:,}, transitions {writer.transitions:,}, "
        f"interactions {writer.interactions:,}, campaign members {members:,}"
    )
    ctx.count("leads", leads)
    ctx.count("stage transitions", writer.transitions)
    ctx.count("interactions", writer.interactions)
    ctx.count("campaign members", members)
    ctx.shared["lead_ids"] = range(first_id, next_id)
    ctx.shared.setdefault("bulk_models", []).extend(
        [Lead, StageTransition, Interaction, CampaignMember]
    )
    for model, rows in ((Lead, leads), (Interaction, writer.interactions)):
        log_bulk(actor=None, channel=Channel.CLI, model=model, rows=rows)


def _free_person(
    candidates: list[Person], used: set[int], before: dt.datetime, rng: Random
) -> Person | None:
    """A contact of the account with no lead yet, known before `before`: often the buyer."""
    fitting = [p for p in candidates if p.id not in used and p.created < before]
    if not fitting:
        return None
    deciders = [p for p in fitting if p.role in ("decision_maker", "economic_buyer")]
    person = rng.choice(deciders if deciders and rng.random() < 0.4 else fitting)
    used.add(person.id)
    return person


class Writer:
    """Plans written by chunks (leads, then their transitions, then their interactions), so that
    memory stays flat at any size; campaign members are gathered from the interactions."""

    CHUNK = 20_000

    def __init__(self, ctx: DemoContext, touches: Touches) -> None:
        self.ctx, self.touches = ctx, touches
        self.plans: list[LeadPlan] = []
        self.members = MemberBook()
        self.contacts: list[int] = []
        self.transitions = self.interactions = 0

    def add(self, plan: LeadPlan) -> None:
        self.plans.append(plan)
        if len(self.plans) == self.CHUNK:
            self.flush()

    def flush(self) -> None:
        plans, self.plans = self.plans, []
        if not plans:
            return
        members, touches = self.members, self.touches

        def interaction_rows() -> Iterator[tuple]:
            for plan in plans:
                for row in touches(plan):
                    if row[4] is not None and row[2] is not None:
                        members.saw(row[4], row[2], row[0], row[1])
                    yield row

        bulk_insert(Lead, LEAD_COLUMNS, (plan.row() for plan in plans))
        self.transitions += bulk_insert(
            StageTransition, TRANSITION_COLUMNS, (t for plan in plans for t in plan.transitions)
        )
        self.interactions += bulk_insert(Interaction, INTERACTION_COLUMNS, interaction_rows())
        self.contacts.extend(p.contact_id for p in plans if p.contact_id is not None)
        self.ctx.progress(f"  leads written, interactions {self.interactions:>12,}")


register(Step("leads", 100, create_leads, "leads, their stage history and their interactions"))
