"""The life of each demo lead, planned in Python: its road through the stages (with times, actors,
reasons and the scores of the moment) and the interactions that go with it. `demo.lifecycle`
writes what these plans give, in bulk.

Times follow one rule: a move planned after `ctx.now` has not happened yet, so the lead is
still open at the stage before it, which gives open leads at every stage today.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from random import Random

from cible.demo.engagement import CampaignBook, CampaignInfo
from cible.demo.generator import DemoContext
from cible.demo.people import Weighted
from cible.lifecycle.leads import road

DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)
LEAD_COLUMNS = [
    "id",
    "created_at",
    "updated_at",
    "contact_id",
    "organisation_id",
    "stage",
    "stage_entered_at",
    "arrived_at",
    "source",
    "source_detail",
    "campaign_id",
    "owner_id",
    "budget",
    "authority",
    "need",
    "timing",
    "recycle_reason",
    "requalify_on",
    "disqualify_reason",
    *road.COLUMNS.values(),
]
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
# How well each source's leads convert, when no campaign says better.
SOURCE_QUALITY = {
    "website": 1.0,
    "inbound_call": 1.4,
    "partner": 1.3,
    "referral": 1.8,
    "outbound": 0.7,
    "purchased_list": 0.45,
    "advertising": 0.8,
    "social": 0.7,
    "webinar": 1.2,
    "event": 1.3,
    "other": 0.8,
}
SOURCE_CAMPAIGN = {
    "webinar": "webinar",
    "event": "event",
    "advertising": "ads",
    "social": "social",
    "referral": "referral",
}
FIRST_TOUCH = {
    "website": "form_submission",
    "inbound_call": "call",
    "partner": "meeting",
    "referral": "form_submission",
    "outbound": "call",
    "purchased_list": "email_sent",
    "advertising": "form_submission",
    "social": "web_visit",
    "webinar": "webinar",
    "event": "event",
    "other": "email_replied",
}
COLD = ("outbound", "purchased_list")  # leads that arrive as Suspects
SENIORITY = {"executive": 1.3, "director": 1.2, "manager": 1.0, "staff": 0.7}
DEAL_SOURCES = Weighted(
    [
        ("website", 25),
        ("webinar", 14),
        ("event", 14),
        ("referral", 10),
        ("outbound", 15),
        ("inbound_call", 8),
        ("partner", 5),
        ("advertising", 5),
        ("purchased_list", 2),
        ("social", 2),
    ]
)
OTHER_SOURCES = Weighted(
    [
        ("website", 25),
        ("webinar", 12),
        ("event", 10),
        ("referral", 4),
        ("outbound", 15),
        ("inbound_call", 4),
        ("partner", 2),
        ("advertising", 12),
        ("purchased_list", 9),
        ("social", 5),
        ("other", 2),
    ]
)
PROSPECT_EXITS = Weighted(
    [
        (("disqualified", "not_target"), 12),
        (("disqualified", "not_a_buyer"), 6),
        (("disqualified", "no_need"), 8),
        (("disqualified", "competitor"), 2),
        (("disqualified", "bad_data"), 3),
        (("recycled", "not_ready"), 10),
        (("open", ""), 110),
    ]
)
MQL_EXITS = Weighted(
    [
        (("recycled", "rejected_by_sales"), 55),
        (("disqualified", "not_target"), 15),
        (("recycled", "no_answer"), 30),
    ]
)
SAL_EXITS = Weighted(
    [
        (("recycled", "no_answer"), 20),
        (("recycled", "not_ready"), 20),
        (("recycled", "no_budget_yet"), 15),
        (("disqualified", "no_need"), 25),
        (("disqualified", "no_budget"), 20),
    ]
)
SQL_EXITS = Weighted(
    [
        (("recycled", "no_budget_yet"), 40),
        (("recycled", "other"), 15),
        (("disqualified", "lost"), 30),
        (("disqualified", "no_budget"), 15),
    ]
)
FULL_BANT = ("approved", "decision_maker", "critical", "within_quarter")


@dataclass(slots=True)
class Account:
    id: int
    group: str
    fit: float  # the pipeline's win probability: how good an account this is
    owner_id: int | None
    created: dt.datetime


@dataclass(slots=True)
class Person:
    id: int
    org: int
    created: dt.datetime
    seniority: str
    role: str
    bounced: dt.datetime | None
    no_email: bool


@dataclass(slots=True)
class LeadPlan:
    id: int
    contact_id: int | None
    org_id: int
    person: Person | None
    source: str
    campaign: CampaignInfo | None
    owner_id: int | None
    quality: float
    arrived: dt.datetime
    road: list[tuple[str, dt.datetime]] = field(default_factory=list)  # (stage, entered)
    transitions: list[tuple] = field(default_factory=list)
    bant: tuple[str, str, str, str] = ("", "", "", "")
    recycle_reason: str = ""
    requalify_on: dt.date | None = None
    disqualify_reason: str = ""
    deal: tuple[dt.datetime, dt.datetime | None, str, int | None] | None = None
    burst_extra: int = 0

    @property
    def stage(self) -> str:
        return self.road[-1][0]

    @property
    def final(self) -> bool:
        return self.stage in ("customer", "disqualified")

    def row(self) -> tuple:
        entered = self.road[-1][1]
        return (
            self.id,
            self.arrived,
            entered,
            self.contact_id,
            self.org_id,
            self.stage,
            entered,
            self.arrived,
            self.source,
            FIRST_TOUCH[self.source],
            self.campaign.id if self.campaign else None,
            self.owner_id,
            *self.bant,
            self.recycle_reason,
            self.requalify_on,
            self.disqualify_reason,
            *self.first_entries(),
        )

    def first_entries(self) -> list[int | None]:
        """The hour of the first entry into each road stage (leads.road), from the plan."""
        first: dict[str, int] = {}
        for stage, entered in self.road:
            first.setdefault(stage, road.hour_of(entered))
        return [first.get(stage) for stage in road.COLUMNS]


def _grade(profile: int, engagement: int) -> str:
    letter = "A" if profile >= 70 else ("B" if profile >= 40 else "C")
    return letter + ("1" if engagement >= 60 else ("2" if engagement >= 30 else "3"))


class Planner:
    def __init__(
        self,
        ctx: DemoContext,
        rng: Random,
        book: CampaignBook,
        accounts: dict[int, Account],
    ) -> None:
        self.ctx, self.rng, self.book, self.accounts = ctx, rng, book, accounts
        self.now = ctx.now
        users = ctx.users
        self.sdr = {
            g: users["sdr.sud"].pk if g in ("paca", "other", "europe") else users["sdr"].pk
            for g in ("paris", "lyon", "lille", "paca", "other", "europe")
        }
        self.ir = users["ir"].pk
        self.marketers = [users["marketing"].pk, users["marketing2"].pk]
        self.purchased = next((c for c in book.by_type.get("email", []) if c.quality < 0.5), None)
        definitions = ctx.shared.get("definitions", {})
        self.mql_versions: list[tuple[dt.datetime, int]] = definitions.get("mql", [])
        self.sql_definition: int | None = definitions.get("sql")

    # --- choosing ----------------------------------------------------------------------------

    def _campaign(self, source: str, at: dt.datetime) -> CampaignInfo | None:
        if source == "purchased_list":
            return self.purchased if self.purchased and self.purchased.starts <= at else None
        if source == "website" and self.rng.random() < 0.5:
            return self.book.at("content", at)
        kind = SOURCE_CAMPAIGN.get(source)
        return self.book.at(kind, at) if kind else None

    def _quality(
        self, source: str, campaign: CampaignInfo | None, account: Account, person: Person | None
    ) -> float:
        base = campaign.quality if campaign else SOURCE_QUALITY[source]
        fit = (max(account.fit, 0.02) / 0.3) ** 0.5
        return base * fit * SENIORITY.get(person.seniority if person else "", 1.0)

    def _mql_definition(self, at: dt.datetime) -> int | None:
        chosen = None
        for since, pk in self.mql_versions:
            if since <= at:
                chosen = pk
        return chosen

    # --- the road ----------------------------------------------------------------------------

    def _move(
        self,
        plan: LeadPlan,
        to: str,
        at: dt.datetime,
        actor: int | None,
        channel: str,
        reason: str = "",
        definition: int | None = None,
    ) -> bool:
        """Record a move if it happened by now; False (and nothing recorded) otherwise."""
        if at >= self.now:
            return False
        step = len(plan.road)
        profile = min(100, int(25 + 40 * min(plan.quality, 1.5) / 1.5 + 4 * step))
        engagement = min(100, int(15 + 10 * step + self.rng.randint(0, 20)))
        if to == "mql":
            engagement = max(engagement, 40 + self.rng.randint(0, 25))
        previous = plan.road[-1][0] if plan.road else ""
        plan.transitions.append(
            (
                plan.id,
                previous,
                to,
                at,
                actor,
                channel,
                reason,
                "",
                definition,
                profile,
                engagement,
                _grade(profile, engagement),
            )
        )
        plan.road.append((to, at))
        return True

    def _arrive(self, plan: LeadPlan) -> None:
        cold = plan.source in COLD
        channel = (
            "import"
            if plan.source == "purchased_list"
            else (
                "ui"
                if plan.source in ("outbound", "referral", "partner", "inbound_call")
                else "job"
            )
        )
        actor = self.sdr[self.accounts[plan.org_id].group] if plan.source == "outbound" else None
        plan.road.append(("suspect" if cold else "prospect", plan.arrived))
        profile = min(100, int(25 + 40 * min(plan.quality, 1.5) / 1.5))
        plan.transitions.append(
            (
                plan.id,
                "",
                plan.road[0][0],
                plan.arrived,
                actor,
                channel,
                "",
                "",
                None,
                profile,
                10,
                _grade(profile, 10),
            )
        )

    def _leave(
        self, plan: LeadPlan, exit_: tuple[str, str], at: dt.datetime, actor: int | None
    ) -> None:
        kind, reason = exit_
        if kind == "open" or not self._move(plan, kind, at, actor, "ui", reason):
            return
        if kind == "recycled":
            plan.recycle_reason = reason
            plan.requalify_on = (at + self.rng.randint(60, 200) * DAY).date()
        else:
            plan.disqualify_reason = reason

    def _start(
        self,
        lead_id: int,
        person: Person | None,
        account: Account,
        source: str,
        arrived: dt.datetime,
        owner: int | None,
    ) -> LeadPlan:
        campaign = self._campaign(source, arrived)
        if campaign is None and source in SOURCE_CAMPAIGN and source != "social":
            source = "website"
        plan = LeadPlan(
            id=lead_id,
            contact_id=person.id if person else None,
            org_id=account.id,
            person=person,
            source=source,
            campaign=campaign,
            owner_id=owner,
            quality=self._quality(source, campaign, account, person),
            arrived=arrived,
        )
        self._arrive(plan)
        return plan

    def deal_lead(
        self,
        lead_id: int,
        person: Person | None,
        account: Account,
        owner: int,
        created: dt.datetime,
        closed_on: dt.date | None,
        stage: str,
    ) -> LeadPlan:
        """The lead a deal came from: the whole road up to the deal's outcome."""
        rng = self.rng
        span = rng.randint(25, 150) * DAY
        earliest = max(account.created, person.created if person else account.created)
        arrived = max(created - span, earliest + HOUR)
        if arrived >= created - 6 * HOUR:
            arrived = created - 6 * HOUR
        plan = self._start(lead_id, person, account, DEAL_SOURCES.pick(rng), arrived, owner)
        won = stage == "won"
        plan.burst_extra = rng.randint(1, 2) if won and rng.random() < 0.5 else 0
        span = created - plan.arrived
        sdr = self.sdr[account.group]
        marks = sorted(rng.uniform(0.1, 0.95) for _ in range(4))
        at = [plan.arrived + span * m for m in marks]
        if plan.stage == "suspect":
            self._move(plan, "prospect", at[0], sdr, "ui")
        self._mql(plan, at[1])
        self._move(plan, "sal", at[2], sdr, "ui")
        self._move(plan, "sql", at[3], sdr, "ui", definition=self.sql_definition)
        plan.bant = (
            FULL_BANT
            if rng.random() < 0.4
            else (
                rng.choice(("planned", "approved")),
                rng.choice(("decision_maker", "influencer")),
                rng.choice(("identified", "critical")),
                rng.choice(("within_quarter", "within_half")),
            )
        )
        self._move(plan, "opportunity", created, owner, "ui")
        closed = dt.datetime.combine(closed_on, dt.time(17), tzinfo=dt.UTC) if closed_on else None
        plan.deal = (created, closed, stage, owner)
        if closed is not None and closed > created:
            if won:
                self._move(plan, "customer", closed, owner, "ui")
            elif self._move(plan, "recycled", closed, owner, "ui", "opportunity_lost"):
                plan.recycle_reason = "opportunity_lost"
                plan.requalify_on = (closed + rng.randint(120, 270) * DAY).date()
        return plan

    def _mql(self, plan: LeadPlan, at: dt.datetime) -> bool:
        definition = self._mql_definition(at)
        if definition is not None and plan.quality >= 0.55:
            return self._move(plan, "mql", at, None, "rule", definition=definition)
        return self._move(plan, "mql", at, self.rng.choice(self.marketers), "ui")

    def other_lead(self, lead_id: int, person: Person, account: Account) -> LeadPlan:
        """A lead that never became a deal: how far it went depends on its quality."""
        rng = self.rng
        age = int(728 * rng.random() ** 0.8) + 1
        arrived = max(self.now - age * DAY + rng.randint(8, 18) * HOUR, person.created + HOUR)
        arrived = min(arrived, self.now - HOUR)
        source = OTHER_SOURCES.pick(rng)
        group = account.group
        owner = self.sdr[group] if source in COLD else self.ir
        plan = self._start(lead_id, person, account, source, arrived, owner)
        q = plan.quality
        at = plan.arrived
        if plan.stage == "suspect":
            at += rng.randint(3, 60) * DAY
            if rng.random() > 0.5:
                self._leave(
                    plan,
                    ("disqualified", "bad_data") if rng.random() < 0.3 else ("open", ""),
                    at,
                    self.sdr[group],
                )
                return plan
            if not self._move(plan, "prospect", at, self.sdr[group], "ui"):
                return plan
        at += rng.randint(7, 90) * DAY
        if rng.random() > min(0.8, 0.47 * q):
            self._leave(plan, PROSPECT_EXITS.pick(rng), at, owner)
            return plan
        if not self._mql(plan, at):
            return plan
        at += rng.randint(1, 10) * DAY + rng.randint(1, 8) * HOUR
        if rng.random() > min(0.9, 0.6 * q**0.5):
            self._leave(plan, MQL_EXITS.pick(rng), at, self.sdr[group])
            return plan
        if not self._move(plan, "sal", at, self.sdr[group], "ui"):
            return plan
        plan.bant = (
            rng.choice(("", "none", "planned")),
            rng.choice(("influencer", "")),
            rng.choice(("latent", "identified")),
            "",
        )
        at += rng.randint(5, 30) * DAY
        if rng.random() > min(0.45, 0.12 * q):
            self._leave(plan, SAL_EXITS.pick(rng), at, self.sdr[group])
            return plan
        plan.bant = ("planned", "influencer", "identified", "within_half")
        if not self._move(plan, "sql", at, self.sdr[group], "ui", definition=self.sql_definition):
            return plan
        self._leave(
            plan,
            SQL_EXITS.pick(rng),
            at + rng.randint(10, 45) * DAY,
            account.owner_id or self.sdr[group],
        )
        return plan
