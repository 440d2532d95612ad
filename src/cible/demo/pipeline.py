"""Demo step of the pipeline app: two years of opportunities whose outcome depends on the segment.

The win probability of a closed deal is a product of effects along seed 002's axes (geography,
size, sales-team size, installed CRM, target sector), so a later segment analysis has true
differences to find. The strongest one is absolute: Salesforce-equipped accounts in Lille
(FR-HDF) with 11–20 salespeople lose every deal. `win_probability()` is the ground truth.

Only some organisations are worked (the size's `opportunity_share`, weighted by a propensity);
the accounts of the strong segment always are, so that the pattern is visible at every size.
Afterwards, organisations with a won deal become customers (with a tier), others with a deal
become prospects, and their contacts' lifecycle stages follow.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from django.db import transaction

from cible.core.audit import Channel
from cible.core.bulk import bulk_insert, log_bulk, reset_sequences
from cible.core.normalisers import search_key
from cible.demo import reference as ref
from cible.demo.generator import DemoContext, Step, register
from cible.demo.people import Weighted
from cible.people.models import Contact, Organisation
from cible.pipeline.models import DEFAULT_PROBABILITY, OPEN_STAGES, Opportunity, Stage

OPPORTUNITY_COLUMNS = [
    "id",
    "created_at",
    "updated_at",
    "name",
    "name_key",
    "organisation_id",
    "owner_id",
    "type",
    "one_time_amount",
    "recurring_amount",
    "currency",
    "stage",
    "probability",
    "expected_close_date",
    "closed_on",
    "lost_reason",
    "lost_reason_detail",
]
COMPETITOR_COLUMNS = ["opportunity_id", "competitorproduct_id"]
CompetitorLink = Opportunity.competitors.through

# --- the ground truth of the dataset ------------------------------------------------------------

REGION_GROUP = {code: group for group, code in ref.GROUP_REGION.items()}
BASE_WIN = 0.30
GROUP_EFFECT = {
    "paca": 1.6,
    "paris": 1.0,
    "lyon": 1.15,
    "lille": 0.9,
    "other": 0.85,
    "europe": 0.55,
}
SIZE_EFFECT = {"tpe": 0.75, "pme": 1.2, "eti": 0.9, "ge": 0.5, "": 1.0}
TEAM_EFFECT = {"0-3": 0.85, "4-10": 1.25, "11-20": 1.0, "21+": 0.7, "": 1.0}
CRM_EFFECT = {
    None: 1.3,  # spreadsheets: the easiest first CRM
    "SugarCRM": 1.25,
    "Sage CRM": 1.1,
    "Sellsy": 1.1,
    "Pipedrive": 1.0,
    "Zoho CRM": 1.0,
    "HubSpot": 0.8,
    "Microsoft Dynamics 365": 0.7,
    "Salesforce": 0.6,
}
TARGET_SECTOR_EFFECT = 1.4


def region_group(region: str, country: str) -> str:
    if country and country != "FR":
        return "europe"
    return REGION_GROUP.get(region, "other")


def team_band(sales_team_size: int | None) -> str:
    """Seed 002's bands: fewer than 4, 4 to 10, 11 to 20, more than 20."""
    if sales_team_size is None:
        return ""
    if sales_team_size <= 3:
        return "0-3"
    if sales_team_size <= 10:
        return "4-10"
    return "11-20" if sales_team_size <= 20 else "21+"


def is_doomed(group: str, crm: str | None, band: str) -> bool:
    """The segment that loses every deal: Salesforce, 11–20 salespeople, Lille."""
    return group == "lille" and crm == "Salesforce" and band == "11-20"


def win_probability(
    *, group: str, size_class: str, band: str, crm: str | None, division: str
) -> float:
    if is_doomed(group, crm, band):
        return 0.0
    p = BASE_WIN * GROUP_EFFECT[group] * SIZE_EFFECT.get(size_class, 1.0) * TEAM_EFFECT[band]
    p *= CRM_EFFECT.get(crm, 1.0)
    if division in ref.TARGET_DIVISIONS:
        p *= TARGET_SECTOR_EFFECT
    return min(p, 0.85)


# --- generation -----------------------------------------------------------------------------


def _organisations(ctx: DemoContext) -> Iterable[tuple]:
    ids = ctx.org_ids
    return (
        Organisation.objects.filter(id__gte=ids.start, id__lt=ids.stop)
        .order_by("id")
        .values_list(
            "id",
            "legal_name",
            "trade_name",
            "region",
            "country",
            "size_class",
            "sales_team_size",
            "naf_division",
            "owner_id",
            "created_at",
        )
        .iterator(chunk_size=10_000)
    )


def _installed_crms(ctx: DemoContext) -> dict[int, int]:
    crm_ids = {ctx.products[name] for name in ref.CRM_NAMES}
    through = Organisation.installed_products.through
    ids = ctx.org_ids
    return dict(
        through.objects.filter(
            organisation_id__gte=ids.start,
            organisation_id__lt=ids.stop,
            competitorproduct_id__in=crm_ids,
        )
        .values_list("organisation_id", "competitorproduct_id")
        .iterator(chunk_size=50_000)
    )


class DealFactory:
    def __init__(self, ctx: DemoContext) -> None:
        self.ctx = ctx
        self.rng = ctx.rng_for("pipeline")
        self.product_names = {pk: name for name, pk in ctx.products.items()}
        self.lost_reasons = Weighted(ref.LOST_REASONS)
        self.competitor_reasons = Weighted(
            [("competitor", 55), ("product_fit", 20), ("price", 15), ("no_decision", 10)]
        )
        users = ctx.users
        self.ae_by_group = {
            "paris": [users["ae.paris"].pk, users["ae.paris2"].pk],
            "lyon": [users["ae.lyon"].pk],
            "lille": [users["ae.lille"].pk],
            "paca": [users["ae.paca"].pk],
            "other": [users["ae.paris2"].pk, users["ae.paca"].pk, users["ae.europe"].pk],
            "europe": [users["ae.europe"].pk],
        }
        self.aes = {u.pk for u in ctx.users_by_role.get("ae", [])}
        self.next_id = 0
        self.won: dict[int, Decimal] = {}  # organisation -> won monthly recurring revenue
        self.worked: set[int] = set()
        self.open_orgs: set[int] = set()

    def deals(
        self, org: tuple, crm: str | None, rows: list[tuple], competitors: list[tuple]
    ) -> None:
        rng = self.rng
        today = self.ctx.today
        (
            org_id,
            legal_name,
            trade_name,
            region,
            country,
            size_class,
            team,
            division,
            owner_id,
            org_created,
        ) = org
        group = region_group(region, country)
        band = team_band(team)
        doomed = is_doomed(group, crm, band)
        p_win = win_probability(
            group=group, size_class=size_class, band=band, crm=crm, division=division
        )
        display = trade_name or legal_name
        size = size_class or "pme"
        offer_key = ref.OFFER_BY_SIZE[size]
        offer, price, (setup_low, setup_high) = ref.OFFERS[offer_key]
        owner = owner_id if owner_id in self.aes else rng.choice(self.ae_by_group[group])
        count = 1 + (rng.random() < 0.3) + (rng.random() < 0.1)
        has_won = False
        max_age = min(730, (today - org_created.date()).days)  # no deal before the account
        if max_age < 5:
            return
        for number in range(count):
            low = min(300, max_age) if doomed and number == 0 else 5
            age = rng.randint(low, max_age)
            created_day = today - dt.timedelta(days=age)
            cycle_low, cycle_high = ref.SALES_CYCLE_DAYS[size]
            cycle = rng.randint(cycle_low, cycle_high)
            close_day = created_day + dt.timedelta(days=cycle)
            users = max(3, min(500, (team or 5) + rng.randint(0, 10)))
            recurring = Decimal(users * price)
            setup = Decimal(rng.randint(setup_low // 50, setup_high // 50) * 50)
            if has_won:
                kind = (
                    "upsell"
                    if rng.random() < 0.6
                    else ("cross_sell" if rng.random() < 0.6 else "renewal")
                )
                name = f"{display} — extension {users} utilisateurs"
                recurring = (recurring / 3).quantize(Decimal("1"))
                setup = Decimal(0)
            else:
                kind = "new_business"
                name = f"{display} — {offer} ({users} utilisateurs)"
                if crm:
                    name = f"{display} — migration {crm} vers {offer}"
            lost_reason = detail = ""
            closed_on = None
            if close_day < today:
                won = rng.random() < (p_win * (1.15 if has_won else 1.0))
                stage = "won" if won else "lost"
                closed_on = close_day
                expected = close_day
                if won:
                    has_won = True
                    self.won[org_id] = self.won.get(org_id, Decimal(0)) + recurring
                else:
                    reasons = (
                        self.competitor_reasons if crm and rng.random() < 0.6 else self.lost_reasons
                    )
                    lost_reason = reasons.pick(rng)
                    if rng.random() < 0.3:
                        detail = ref.LOST_DETAILS[lost_reason]
            else:
                progress = (today - created_day).days / cycle
                stage = OPEN_STAGES[min(len(OPEN_STAGES) - 1, int(progress * len(OPEN_STAGES)))]
                expected = close_day
                self.open_orgs.add(org_id)
            created = dt.datetime.combine(created_day, dt.time(9), tzinfo=dt.UTC) + dt.timedelta(
                minutes=rng.randint(0, 9 * 60)
            )
            created = max(created, org_created)
            updated = created
            if closed_on is not None:
                updated = max(created, dt.datetime.combine(closed_on, dt.time(17), tzinfo=dt.UTC))
            opp_id = self.next_id
            self.next_id += 1
            rows.append(
                (
                    opp_id,
                    created,
                    updated,
                    name[:255],
                    search_key(name)[:255],
                    org_id,
                    owner,
                    kind,
                    setup,
                    recurring,
                    "EUR",
                    stage,
                    DEFAULT_PROBABILITY[Stage(stage)],
                    expected,
                    closed_on,
                    lost_reason,
                    detail,
                )
            )
            if crm and rng.random() < 0.7:
                competitors.append((opp_id, self.ctx.products[crm]))
        self.worked.add(org_id)


def _propensity(group: str, doomed: bool, owned: bool) -> float:
    if doomed:
        return 1.0
    weight = 1.0 if owned else 0.4
    return weight * (0.6 if group == "europe" else 1.0)


def create_opportunities(ctx: DemoContext) -> None:
    factory = DealFactory(ctx)
    factory.next_id = (
        Opportunity.objects.order_by("-id").values_list("id", flat=True).first() or 0
    ) + 1
    first_id = factory.next_id
    crms = {org: factory.product_names[product] for org, product in _installed_crms(ctx).items()}
    share = ctx.size.opportunity_share / 0.85  # the mean propensity is about 0.85
    rng = ctx.rng_for("pipeline-selection")
    rows: list[tuple] = []
    competitors: list[tuple] = []
    written = competitors_written = 0
    with transaction.atomic():
        for org in _organisations(ctx):
            org_id, region, country, team, owner_id = org[0], org[3], org[4], org[6], org[8]
            crm = crms.get(org_id)
            group = region_group(region, country)
            doomed = is_doomed(group, crm, team_band(team))
            if rng.random() < share * _propensity(group, doomed, owner_id is not None) or doomed:
                factory.deals(org, crm, rows, competitors)
            if len(rows) >= 50_000:
                written += bulk_insert(Opportunity, OPPORTUNITY_COLUMNS, rows)
                competitors_written += bulk_insert(CompetitorLink, COMPETITOR_COLUMNS, competitors)
                rows, competitors = [], []
                ctx.progress(f"  opportunities {written:>10,}")
        written += bulk_insert(Opportunity, OPPORTUNITY_COLUMNS, rows)
        competitors_written += bulk_insert(CompetitorLink, COMPETITOR_COLUMNS, competitors)
        ctx.progress(f"  opportunities {written:>10,}")
        _follow_outcomes(ctx, factory)
    reset_sequences(Opportunity)
    ctx.count("opportunities", written)
    ctx.count("opportunity competitors", competitors_written)
    ctx.shared["opportunity_ids"] = range(first_id, factory.next_id)
    ctx.shared.setdefault("bulk_models", []).extend([Opportunity, CompetitorLink])
    log_bulk(actor=None, channel=Channel.CLI, model=Opportunity, rows=written)


def _chunks(ids: Iterable[int], size: int = 500) -> Iterable[list[int]]:
    chunk: list[int] = []
    for value in ids:
        chunk.append(value)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _follow_outcomes(ctx: DemoContext, factory: DealFactory) -> None:
    """Customers are exactly the accounts with a won deal; their tier follows what they pay."""
    tiers: dict[str, list[int]] = {"gold": [], "silver": [], "bronze": []}
    for org_id, monthly in sorted(factory.won.items()):
        tier = "gold" if monthly >= 5_000 else ("silver" if monthly >= 1_000 else "bronze")
        tiers[tier].append(org_id)
    for tier, ids in tiers.items():
        for chunk in _chunks(ids):
            Organisation.objects.filter(id__in=chunk).update(status="customer", tier=tier)
            Contact.objects.filter(organisation_id__in=chunk).update(lifecycle_stage="customer")
    prospects = sorted(factory.worked - factory.won.keys())
    for chunk in _chunks(prospects):
        Organisation.objects.filter(id__in=chunk, status="suspect").update(status="prospect")
    opened = sorted(factory.open_orgs - factory.won.keys())
    for chunk in _chunks(opened):
        Contact.objects.filter(organisation_id__in=chunk).update(lifecycle_stage="opportunity")
    ctx.shared["customers"] = len(factory.won)


register(Step("opportunities", 50, create_opportunities, "two years of opportunities"))
