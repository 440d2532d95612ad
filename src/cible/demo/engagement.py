"""Demo step of engagement (issue 6): two years of campaigns, and the helpers the lead step uses
to write interactions and campaign members consistent with each other.

Campaigns are a fixed calendar (newsletters every month, webinars, trade shows, white papers,
advertising, a referral programme), dated back from `ctx.today`, made through the campaigns
services by the marketers (a few dozen rows). What grows with the size — interactions and
members — is written by `demo.lifecycle` through `core.bulk`: members are derived from the
interactions themselves (`MemberBook`), so a member's status is always what their interactions
prove (`interactions.kinds.MEMBER_STATUS`).

Campaigns differ in quality on purpose (`Planned.quality`): referrals and trade shows bring
leads that convert, a purchased-list mailing and some advertising bring leads that do not, so
the funnel by campaign has differences to show. Texts are in French, the demo's language.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from cible.core.audit import Channel
from cible.demo.generator import DemoContext, Step, register
from cible.engagement.campaigns import services as campaign_services
from cible.engagement.campaigns.models import (
    MEMBER_RANK,
    RESPONDED_FROM,
    Campaign,
    CampaignMember,
    CampaignStatus,
    MemberStatus,
)
from cible.engagement.interactions.kinds import MEMBER_STATUS
from cible.segments.targets.models import Target

MONTHS_FR = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
TARGET_CONQUEST = "PME et ETI sans CRM des secteurs cibles, à prospecter"
TARGET_SALESFORCE = "Salesforce, équipe commerciale 11–20 ou > 20, Lille ou Paris : les comptes"


@dataclass(frozen=True)
class Planned:
    """One campaign of the calendar: dates as days back from today (start, end)."""

    name: str
    type: str
    goal: str
    start: int
    end: int
    budget: int
    quality: float  # how well its leads convert, against 1.0
    medium: str
    source: str
    target: str = ""
    owner: str = "marketing"
    description: str = ""


def calendar() -> list[Planned]:
    """The campaigns of the last two years (and two planned ones), oldest first."""
    plans: list[Planned] = []
    for month in range(24, 0, -1):  # a newsletter on the 5th of each month, two days to read
        plans.append(
            Planned(
                f"Lettre Cible n° {25 - month}",
                "email",
                "awareness",
                month * 30 + 5,
                month * 30 + 3,
                400,
                0.9,
                "email",
                "newsletter",
                description="La lettre du mois : conseils de prospection, nouveautés, témoignages.",
            )
        )
    webinars = [
        ("Webinaire : passer du tableur au CRM en 30 jours", 700, 1.3, TARGET_CONQUEST),
        ("Webinaire : scorer ses leads sans se tromper", 610, 1.2, ""),
        ("Webinaire : aligner Marketing et Ventes sur le MQL", 520, 1.1, ""),
        (
            "Webinaire : migrer de Salesforce sans perdre son historique",
            430,
            0.8,
            TARGET_SALESFORCE,
        ),
        ("Webinaire : la prospection B2B en 2026", 340, 1.2, TARGET_CONQUEST),
        ("Webinaire : piloter son pipeline à la semaine", 250, 1.3, ""),
        ("Webinaire : RGPD et prospection, ce qui change", 160, 0.9, ""),
        ("Webinaire : tableaux de bord commerciaux", 70, 1.2, ""),
    ]
    for name, start, quality, target in webinars:
        plans.append(
            Planned(
                name,
                "webinar",
                "demand_generation",
                start,
                start - 21,
                2_500,
                quality,
                "webinar",
                "zoom",
                target,
                "marketing2",
            )
        )
    events = [
        ("Salon CRM Expo Paris", 680, 35_000, 1.5),
        ("Salon des Entrepreneurs Lyon", 560, 18_000, 1.3),
        ("Forum Vente & Relation Client Lille", 400, 15_000, 0.6),
        ("Salon CRM Expo Paris", 315, 38_000, 1.6),
        ("Salon des Entrepreneurs Lyon", 195, 19_000, 1.3),
        ("Rencontres Cible Marseille", 90, 9_000, 1.4),
    ]
    for name, start, budget, quality in events:
        year = "2025" if start > 330 else "2026"
        plans.append(
            Planned(
                f"{name} {year}",
                "event",
                "demand_generation",
                start,
                start - 2,
                budget,
                quality,
                "event",
                "salon",
                TARGET_CONQUEST,
            )
        )
    contents = [
        ("Livre blanc : le guide du premier CRM", 650, 1.0),
        ("Étude de cas : une PME industrielle double son pipeline", 480, 1.2),
        ("Livre blanc : 12 indicateurs pour piloter ses ventes", 300, 1.0),
        ("Modèle gratuit : plan de prospection sur 90 jours", 120, 0.8),
    ]
    for name, start, quality in contents:
        plans.append(
            Planned(
                name,
                "content",
                "demand_generation",
                start,
                start - 90,
                4_000,
                quality,
                "content",
                "site",
            )
        )
    ads = [
        ("LinkedIn Ads : dirigeants de PME", 600, 12_000, 0.7, "linkedin", "paid_social"),
        ("Google Ads : logiciel CRM PME", 450, 15_000, 0.8, "google", "cpc"),
        ("LinkedIn Ads : directeurs commerciaux", 240, 14_000, 0.9, "linkedin", "paid_social"),
        ("Google Ads : alternative à Salesforce", 100, 10_000, 0.5, "google", "cpc"),
    ]
    for name, start, budget, quality, source, medium in ads:
        plans.append(
            Planned(
                name,
                "ads",
                "demand_generation",
                start,
                start - 60,
                budget,
                quality,
                medium,
                source,
                TARGET_CONQUEST,
            )
        )
    plans.append(
        Planned(
            "Fichier acheté : PME Île-de-France",
            "email",
            "demand_generation",
            540,
            530,
            3_000,
            0.35,
            "email",
            "fichier",
        )
    )
    plans.append(
        Planned(
            "Publications LinkedIn : témoignages clients",
            "social",
            "brand",
            365,
            1,
            1_500,
            0.6,
            "social",
            "linkedin",
        )
    )
    plans.append(
        Planned(
            "Programme de parrainage clients",
            "referral",
            "demand_generation",
            720,
            1,
            10_000,
            1.8,
            "referral",
            "clients",
            owner="marketing2",
            description="Un mois offert au client qui recommande, et à son filleul.",
        )
    )
    plans.append(
        Planned(
            "Webinaire : nouveautés Cible",
            "webinar",
            "awareness",
            -20,
            -21,
            2_000,
            1.0,
            "webinar",
            "zoom",
        )
    )
    plans.append(
        Planned(
            "Salon CRM Expo Paris 2027",
            "event",
            "demand_generation",
            -60,
            -62,
            40_000,
            1.5,
            "event",
            "salon",
            TARGET_CONQUEST,
        )
    )
    return plans


def slug(text: str) -> str:
    from cible.demo.people import slug as people_slug

    return people_slug(text)[:100]


@dataclass
class CampaignInfo:
    id: int
    type: str
    starts: dt.datetime
    ends: dt.datetime
    quality: float
    owner_id: int | None


def create_campaigns(ctx: DemoContext) -> None:
    """The calendar, through the services (a few dozen campaigns; kept if already there)."""
    targets = dict(Target.objects.values_list("name", "pk"))
    existing = {c.name: c for c in Campaign.objects.all()}
    rng = ctx.rng_for("campaigns")
    made: list[CampaignInfo] = []
    created = 0
    for plan in calendar():
        starts = ctx.today - dt.timedelta(days=plan.start)
        ends = ctx.today - dt.timedelta(days=plan.end)
        if ends < ctx.today:
            status, spent = CampaignStatus.COMPLETED, rng.uniform(0.85, 1.1)
        elif starts <= ctx.today:
            status, spent = CampaignStatus.ACTIVE, (plan.start - 0) / max(plan.start - plan.end, 1)
        else:
            status, spent = CampaignStatus.PLANNED, 0.0
        owner = ctx.users[plan.owner]
        campaign = existing.get(plan.name)
        if campaign is None:
            created += 1
            campaign = campaign_services.campaign_create(
                actor=owner,
                channel=Channel.CLI,
                data={
                    "name": plan.name,
                    "type": plan.type,
                    "goal": plan.goal,
                    "status": status,
                    "description": plan.description,
                    "starts_on": starts,
                    "ends_on": ends,
                    "budget": Decimal(plan.budget),
                    "actual_cost": Decimal(round(plan.budget * min(spent, 1.1))),
                    "target": targets.get(plan.target) if plan.target else None,
                    "utm_source": plan.source,
                    "utm_medium": plan.medium,
                    "utm_campaign": slug(plan.name),
                },
            )
        made.append(
            CampaignInfo(
                campaign.pk,
                plan.type,
                dt.datetime.combine(starts, dt.time(9), tzinfo=dt.UTC),
                dt.datetime.combine(ends, dt.time(18), tzinfo=dt.UTC),
                plan.quality,
                owner.pk,
            )
        )
    ctx.shared["campaigns"] = made
    ctx.count("campaigns", created)


# --- helpers for the lead step ----------------------------------------------------------------


class CampaignBook:
    """The campaigns by type, to find the one running at a moment (or the latest before it)."""

    def __init__(self, campaigns: list[CampaignInfo]) -> None:
        self.by_type: dict[str, list[CampaignInfo]] = {}
        for info in sorted(campaigns, key=lambda c: (c.starts, c.id)):
            self.by_type.setdefault(info.type, []).append(info)
        self.starts = {t: [c.starts for c in cs] for t, cs in self.by_type.items()}
        self.by_id = {c.id: c for c in campaigns}

    def at(self, kind: str, moment: dt.datetime) -> CampaignInfo | None:
        """The campaign of `kind` started last on or before `moment`, if any."""
        found = self.by_type.get(kind)
        if not found:
            return None
        position = bisect_right(self.starts[kind], moment) - 1
        return found[position] if position >= 0 else None

    def newsletters(self, start: dt.datetime, end: dt.datetime) -> list[CampaignInfo]:
        return [
            c for c in self.by_type.get("email", []) if start <= c.starts <= end and c.quality > 0.5
        ]


class MemberBook:
    """Campaign members derived from interactions: the furthest status they prove."""

    def __init__(self) -> None:
        self.members: dict[tuple[int, int], list[Any]] = {}

    def saw(self, campaign_id: int, contact_id: int, kind: str, at: dt.datetime) -> None:
        status = MEMBER_STATUS.get(kind)
        if status is None:
            return
        key = (campaign_id, contact_id)
        rank = MEMBER_RANK[MemberStatus(status)]
        responded = at if rank >= MEMBER_RANK[RESPONDED_FROM] else None
        known = self.members.get(key)
        if known is None:
            self.members[key] = [status, rank, at, at, responded]
            return
        if at < known[2]:
            known[2] = at
        if rank > known[1]:
            known[0], known[1], known[3] = status, rank, at
        if responded is not None and (known[4] is None or responded < known[4]):
            known[4] = responded

    def rows(self) -> list[tuple]:
        return [
            (campaign, contact, status, added, changed, responded)
            for (campaign, contact), (status, _rank, added, changed, responded) in sorted(
                self.members.items()
            )
        ]


MEMBER_COLUMNS = [
    "campaign_id",
    "contact_id",
    "status",
    "added_at",
    "status_changed_at",
    "responded_at",
]
__all__ = ["MEMBER_COLUMNS", "CampaignBook", "CampaignMember", "MemberBook", "calendar"]

register(Step("campaigns", 90, create_campaigns, "two years of marketing campaigns"))
