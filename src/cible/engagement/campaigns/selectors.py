"""Reads of campaigns and their members, always through `core.access`.

Campaigns are "account" records (`Campaign.access_kind`). Their members are contacts, and a
viewer only ever sees, and counts, the members whose contact they may see: the figures of one
campaign may differ from one person to the next under a team-private policy, and that is the
point. Leads come from the apps above through `hooks.campaign_results`, read once per page.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from itertools import islice
from typing import Any

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.db.models.query import ModelIterable
from django.http import StreamingHttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cible.core import access, audit, csv_export, listing
from cible.core.audit import Channel
from cible.core.errors import NotFound, PermissionDenied
from cible.core.listing import Filter, ListQuery, Sort
from cible.core.normalisers import search_key
from cible.core.values import is_id
from cible.engagement.campaigns import hooks
from cible.engagement.campaigns.models import (
    MEMBER_RANK,
    RESPONDED_FROM,
    Campaign,
    CampaignGoal,
    CampaignMember,
    CampaignStatus,
    CampaignType,
    MemberStatus,
)
from cible.people.models import Consent, Contact
from cible.people.selectors import user_choices
from cible.segments.targets.models import Target, TargetLevel
from cible.segments.targets.selectors import target_resolve

RESPONDED = [s for s in MemberStatus if MEMBER_RANK[s] >= MEMBER_RANK[RESPONDED_FROM]]
# Campaigns sent by email: contacts who opted out of emails, or have no address, stay out.
EMAILED_TYPES = (CampaignType.EMAIL,)


# --- who may be counted ------------------------------------------------------------------------


def visible_contacts(viewer: Any) -> QuerySet[Contact]:
    return access.visible(viewer, Contact.objects.all())


def visible_members(viewer: Any, members: QuerySet[CampaignMember]) -> QuerySet[CampaignMember]:
    """`members` narrowed to those whose contact `viewer` may see."""
    contacts = visible_contacts(viewer)
    if contacts.query.has_filters():
        return members.filter(contact__in=contacts.values("pk"))
    return members


def opted_out_q(prefix: str = "") -> Q:
    """Contacts who said no to emails (either flag the privacy work keeps)."""
    return Q(**{f"{prefix}email_opt_out": True}) | Q(
        **{f"{prefix}email_consent": Consent.WITHDRAWN}
    )


# --- the list ------------------------------------------------------------------------------------

CAMPAIGN_FILTERS: tuple[Filter, ...] = (
    Filter("name", gettext_lazy("Name contains"), "contains"),
    Filter("type", gettext_lazy("Type"), "choice", choices=lambda: CampaignType.choices),
    Filter("goal", gettext_lazy("Goal"), "choice", choices=lambda: CampaignGoal.choices),
    Filter("status", gettext_lazy("Status"), "choice", choices=lambda: CampaignStatus.choices),
    # Campaigns running at some point of the period (not only those starting in it).
    Filter("period", gettext_lazy("Running during"), "date"),
    Filter("owner", gettext_lazy("Owner"), "reference", choices=user_choices),
    Filter("target", gettext_lazy("Target id"), "reference", hidden=True),
)
CAMPAIGN_SORTS: tuple[Sort, ...] = (
    Sort("name", gettext_lazy("Name"), ("name",)),
    Sort("start", gettext_lazy("Start"), ("starts_on",)),
    Sort("end", gettext_lazy("End"), ("ends_on",)),
    Sort("budget", gettext_lazy("Budget"), ("budget",)),
    Sort("cost", gettext_lazy("Actual cost"), ("actual_cost",)),
    Sort("members", gettext_lazy("Members"), ("member_count",)),
    Sort("responses", gettext_lazy("Responses"), ("response_count",)),
    Sort("created", gettext_lazy("Created"), ("created_at",)),
)


def filters_for(viewer: Any) -> tuple[Filter, ...]:
    return CAMPAIGN_FILTERS


def _ratio(part: Decimal | int | None, whole: Decimal | int | None) -> Decimal | None:
    if part is None or not whole:
        return None
    return Decimal(part) / Decimal(whole)


def attach_results(viewer: Any, campaigns: Sequence[Campaign]) -> None:
    """Set `lead_count`, `cost_per_lead` and `response_rate` on each campaign, asking the apps
    above for the whole batch at once. `lead_count` is None when no app reports leads.
    (`leads` itself is the lifecycle's reverse relation.)"""
    known = hooks.has_providers()
    results = hooks.campaign_results(viewer, [c.pk for c in campaigns]) if known else {}
    for campaign in campaigns:
        leads = results.get(campaign.pk, {}).get("leads", 0) if known else None
        campaign.lead_count = leads  # type: ignore[attr-defined]
        campaign.cost_per_lead = _ratio(campaign.actual_cost, leads)  # type: ignore[attr-defined]
        campaign.response_rate = _ratio(  # type: ignore[attr-defined]
            getattr(campaign, "response_count", None), getattr(campaign, "member_count", None)
        )


class CampaignQuerySet(QuerySet[Campaign]):
    """Campaigns that carry their results from the apps above once fetched, read for all the
    rows of a page (or of an export chunk) in one call, like a prefetch."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._results_viewer: Any = None

    def with_results(self, viewer: Any) -> CampaignQuerySet:
        clone = self._chain()  # type: ignore[attr-defined]
        clone._results_viewer = viewer
        return clone  # type: ignore[no-any-return]

    def _clone(self) -> CampaignQuerySet:
        clone = super()._clone()  # type: ignore[misc]
        clone._results_viewer = self._results_viewer
        return clone  # type: ignore[no-any-return]

    def _fetch_all(self) -> None:
        fresh = self._result_cache is None
        super()._fetch_all()
        if fresh and self._results_viewer is not None and self._iterable_class is ModelIterable:
            attach_results(self._results_viewer, self._result_cache)  # type: ignore[arg-type]

    def iterator(self, chunk_size: int | None = None) -> Iterator[Campaign]:  # type: ignore[override]
        rows = super().iterator(chunk_size=chunk_size)
        if self._results_viewer is None:
            yield from rows
            return
        while chunk := list(islice(rows, chunk_size or 2000)):
            attach_results(self._results_viewer, chunk)
            yield from chunk


def _member_counts(viewer: Any, statuses: Sequence[str] | None = None) -> Subquery:
    members = visible_members(viewer, CampaignMember.objects.filter(campaign=OuterRef("pk")))
    if statuses is not None:
        members = members.filter(status__in=list(statuses))
    counted = members.order_by().values("campaign").annotate(n=Count("pk")).values("n")
    return Subquery(counted, output_field=IntegerField())


def with_figures(viewer: Any, qs: QuerySet[Campaign]) -> QuerySet[Campaign]:
    """Members and responses the viewer may see, as `member_count` and `response_count`."""
    return qs.annotate(
        member_count=Coalesce(_member_counts(viewer), Value(0)),
        response_count=Coalesce(_member_counts(viewer, RESPONDED), Value(0)),
    )


def _running_during(qs: QuerySet[Campaign], start: Any, end: Any) -> QuerySet[Campaign]:
    if start is not None:
        qs = qs.filter(Q(ends_on__isnull=True) | Q(ends_on__gte=start))
    if end is not None:
        qs = qs.filter(Q(starts_on__isnull=True) | Q(starts_on__lte=end))
    return qs


def campaign_list(
    *, viewer: Any, params: Mapping[str, Any]
) -> tuple[QuerySet[Campaign], ListQuery]:
    """The campaigns `viewer` sees, filtered and sorted as the list page and the API ask, each
    with its figures (members, responses, leads, cost per lead) in a fixed number of queries."""
    query = listing.parse(params, CAMPAIGN_FILTERS, CAMPAIGN_SORTS)
    plain = {k: v for k, v in query.filters.items() if not k.startswith("period_")}
    qs = access.visible(viewer, CampaignQuerySet(Campaign).all())
    qs = _running_during(qs, query.filters.get("period_min"), query.filters.get("period_max"))
    qs = with_figures(viewer, qs)
    qs = listing.apply(
        qs, replace(query, filters=plain), CAMPAIGN_FILTERS, CAMPAIGN_SORTS, default_sort="-start"
    )
    return qs.select_related("owner", "target").with_results(viewer), query  # type: ignore[attr-defined]


def campaign_get(*, viewer: Any, pk: Any) -> Campaign:
    """One campaign the viewer sees, with its figures, or NotFound."""
    found = None
    if is_id(pk):
        qs = with_figures(viewer, access.visible(viewer, Campaign.objects.all()))
        found = qs.select_related("owner", "target").filter(pk=pk).first()
    if found is None:
        raise NotFound(_("Not found, or not visible to you."))
    attach_results(viewer, [found])
    return found


# --- one campaign's figures -------------------------------------------------------------------


@dataclass(frozen=True)
class FunnelStep:
    status: str
    label: str
    count: int  # members who reached at least this status
    share: Decimal | None  # of all members


@dataclass(frozen=True)
class KindCount:
    kind: str
    label: str
    count: int


@dataclass(frozen=True)
class CampaignFigures:
    members: int
    funnel: list[FunnelStep]
    by_status: dict[str, int]
    responses: int
    response_rate: Decimal | None
    budget: Decimal
    actual_cost: Decimal
    budget_used: Decimal | None  # actual cost / budget
    leads: int | None  # None: no app reports leads
    cost_per_lead: Decimal | None
    cost_per_response: Decimal | None
    interactions: list[KindCount]
    interaction_total: int


def _funnel(by_status: Mapping[str, int], members: int) -> list[FunnelStep]:
    steps = []
    reached = members
    for status in MemberStatus:
        steps.append(FunnelStep(status, str(status.label), reached, _ratio(reached, members)))
        reached -= by_status.get(status, 0)
    return steps


def _interactions(viewer: Any, campaign: Campaign) -> list[KindCount]:
    """Interactions per kind. The interactions app sits above this one (import-linter), so they
    are read through the reverse relation its foreign key gives, not by importing the model."""
    related = campaign.interactions.all()  # type: ignore[attr-defined]
    kinds = dict(related.model._meta.get_field("kind").choices or [])
    rows = access.visible(viewer, related).order_by().values("kind").annotate(n=Count("pk"))
    counts = {row["kind"]: row["n"] for row in rows}
    return [
        KindCount(kind, str(kinds.get(kind, kind)), counts[kind])
        for kind in sorted(counts, key=lambda k: (-counts[k], k))
    ]


def campaign_figures(*, viewer: Any, campaign: Campaign) -> CampaignFigures:
    """Everything the campaign page shows about results, counted over what the viewer sees."""
    members_qs = visible_members(viewer, campaign.members.all())
    rows = members_qs.order_by().values("status").annotate(n=Count("pk"))
    by_status = {row["status"]: row["n"] for row in rows}
    members = sum(by_status.values())
    responses = sum(by_status.get(s, 0) for s in RESPONDED)
    if not hasattr(campaign, "lead_count"):
        attach_results(viewer, [campaign])
    leads = campaign.lead_count  # type: ignore[attr-defined]
    interactions = _interactions(viewer, campaign)
    return CampaignFigures(
        members=members,
        funnel=_funnel(by_status, members),
        by_status=by_status,
        responses=responses,
        response_rate=_ratio(responses, members),
        budget=campaign.budget,
        actual_cost=campaign.actual_cost,
        budget_used=_ratio(campaign.actual_cost, campaign.budget),
        leads=leads,
        cost_per_lead=_ratio(campaign.actual_cost, leads),
        cost_per_response=_ratio(campaign.actual_cost, responses),
        interactions=interactions,
        interaction_total=sum(k.count for k in interactions),
    )


# --- members ------------------------------------------------------------------------------------


def member_list(
    *, viewer: Any, campaign: Campaign, status: str = "", search: str = ""
) -> QuerySet[CampaignMember]:
    """The members whose contact the viewer sees, by name; `status` one status, `search` the
    start of a first or last name, or of an email address."""
    qs = visible_members(viewer, campaign.members.all())
    if status:
        qs = qs.filter(status=status)
    key = search_key(search)
    if key:
        text = search.strip().lower()
        qs = qs.filter(
            Q(contact__name_key__startswith=key)
            | Q(contact__name_key__contains=" " + key)
            | Q(contact__email_key__startswith=text)
        )
    return qs.select_related("contact", "contact__organisation").order_by(
        "contact__name_key", "contact_id"
    )


def contact_memberships(*, viewer: Any, contact: Contact) -> QuerySet[CampaignMember]:
    """The campaigns the viewer sees that `contact` is a member of, latest first."""
    campaigns = access.visible(viewer, Campaign.objects.all())
    return (
        contact.campaigns.filter(campaign__in=campaigns.values("pk"))  # type: ignore[attr-defined]
        .select_related("campaign")
        .order_by("-added_at", "-id")
    )


def member_columns() -> list[csv_export.Column]:
    """Columns of a members export, headed in the active language."""
    columns: list[tuple[Any, Any]] = [
        (_("Contact id"), lambda m: m.contact_id),
        (_("First name"), lambda m: m.contact.first_name),
        (_("Last name"), lambda m: m.contact.last_name),
        (_("Email"), lambda m: m.contact.email),
        (_("Opted out of emails"), lambda m: _("yes") if m.contact.email_opt_out else _("no")),
        (
            _("Organisation"),
            lambda m: m.contact.organisation.display_name if m.contact.organisation else "",
        ),
        (_("Status"), lambda m: m.get_status_display()),
        (_("Added"), lambda m: m.added_at.isoformat()),
        (_("First response"), lambda m: m.responded_at.isoformat() if m.responded_at else ""),
    ]
    return [csv_export.Column(str(header), value) for header, value in columns]


def member_export(
    *,
    viewer: Any,
    campaign: Campaign,
    status: str = "",
    search: str = "",
    channel: str = Channel.UI,
) -> StreamingHttpResponse:
    """The members the viewer sees, as a streamed, formula-safe CSV, logged as an export."""
    if not access.can(viewer, "export"):
        raise PermissionDenied(_("You may not export records."))
    members = member_list(viewer=viewer, campaign=campaign, status=status, search=search)
    described = f"campaign #{campaign.pk} “{campaign.name}”"
    if status:
        described += f", status={status}"
    if search:
        described += f", search={search[:100]}"
    audit.log_export(
        actor=viewer,
        channel=channel,
        model=CampaignMember,
        rows=members.count(),
        query=described,
    )
    return csv_export.response(
        f"campaign-{campaign.pk}-members", member_columns(), members.iterator(chunk_size=2000)
    )


# --- adding from a target ---------------------------------------------------------------------


def target_contacts(*, viewer: Any, target: Target) -> QuerySet[Contact]:
    """The contacts a target names for a campaign, among those the viewer sees: the target's
    own contacts, or the contacts of its organisations."""
    records = target_resolve(target=target, viewer=viewer)
    if target.level == TargetLevel.CONTACT:
        return records
    contacts = Contact.objects.filter(
        organisation__in=records.values("pk"), anonymised_at__isnull=True
    )
    return access.visible(viewer, contacts)


@dataclass(frozen=True)
class MemberSplit:
    """What adding a target's contacts to a campaign would do (or did)."""

    named: int  # contacts of the target the viewer sees
    already_members: int
    opted_out: int  # email campaigns only
    no_email: int  # email campaigns only

    @property
    def to_add(self) -> int:
        return self.named - self.already_members - self.opted_out - self.no_email


def _is_member(campaign: Campaign) -> Exists:
    return Exists(CampaignMember.objects.filter(campaign=campaign, contact=OuterRef("pk")))


def split_contacts(*, campaign: Campaign, contacts: QuerySet[Contact]) -> MemberSplit:
    """Count, in one query, who of `contacts` would be added and who skipped, and why."""
    member = Q(is_member=True)
    counts: dict[str, Any] = {"named": Count("pk"), "already": Count("pk", filter=member)}
    if campaign.type in EMAILED_TYPES:
        # (An always-false filter such as pk__in=[] would make Django skip the whole query.)
        counts["opted"] = Count("pk", filter=~member & opted_out_q())
        counts["blank"] = Count("pk", filter=~member & ~opted_out_q() & Q(email=""))
    figures = contacts.annotate(is_member=_is_member(campaign)).aggregate(**counts)
    return MemberSplit(
        figures["named"], figures["already"], figures.get("opted", 0), figures.get("blank", 0)
    )


def addable(*, campaign: Campaign, contacts: QuerySet[Contact]) -> QuerySet[Contact]:
    """`contacts` who are not members yet and may receive the campaign."""
    qs = contacts.exclude(_is_member(campaign))
    if campaign.type in EMAILED_TYPES:
        qs = qs.exclude(opted_out_q()).exclude(email="")
    return qs


def target_preview(*, viewer: Any, campaign: Campaign, target: Target) -> MemberSplit:
    return split_contacts(campaign=campaign, contacts=target_contacts(viewer=viewer, target=target))
