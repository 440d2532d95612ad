"""Reads of targets: which targets a viewer sees, and the records a target names, counted,
listed and exported — always through `core.access.visible`, except for `target_resolve` with no
viewer (a system job, which works on the whole base by design).

How a definition becomes a query (`organisation_filter`):
- the segments: OR within an axis, AND across axes, as one scan of the membership index of the
  smallest axis with the other axes as correlated EXISTS probes (`_segment_members`), then
  `id IN (that)`;
- the rule groups go through `rules.to_q`;
- a contact target keeps the contacts whose organisation passes the organisation part (and is
  visible to the viewer) and who pass the contact rule; anonymised contacts are never members
  (GDPR erasure leaves nobody to address).

A live count (`target_count`) takes the segments' part from the member sets held in memory
(`segments.axes.bitsets`: an intersection of bit sets) and tests the organisation conditions it
can on the columns held in memory (`columns.py`), then hands only the surviving organisations to
the database for the other conditions and the access rules (nothing at all, when none is left
and the viewer sees everything). It runs under a database-enforced time limit (`deadline.py`),
answering "too slow, narrow it down" rather than hold a worker.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import StreamingHttpResponse
from django.utils.translation import gettext as _

from cible.core import access, audit, csv_export
from cible.core.audit import Channel
from cible.core.errors import NotFound, PermissionDenied
from cible.core.idsets import InIds
from cible.core.roles import Role
from cible.core.values import is_id
from cible.people.models import Contact, Organisation
from cible.segments import rules
from cible.segments.axes import bitsets
from cible.segments.axes.bitsets import MemberSet
from cible.segments.axes.models import Membership, Segment
from cible.segments.targets import columns
from cible.segments.targets import definition as definitions
from cible.segments.targets.deadline import QueryTimedOut, deadline
from cible.segments.targets.definition import Definition
from cible.segments.targets.models import Target, TargetLevel

# A live count gives up after this long and says so, rather than keep a worker busy.
COUNT_TIMEOUT_MS = 1500
# Past this many organisations in a target's segments, a count hands the database the segments
# rather than the list of their members.
MAX_IDS_PASSED = 300_000


# --- targets themselves -------------------------------------------------------------------------


def target_list(*, viewer: Any) -> QuerySet[Target]:
    """The targets `viewer` sees: their own and the shared ones (all of them for an
    administrator), by name."""
    role = access.role_of(viewer)
    if role is None:
        return Target.objects.none()
    targets = Target.objects.select_related("owner")
    if role == Role.ADMIN:
        return targets.order_by("name", "id")
    return targets.filter(Q(owner=viewer) | Q(shared=True)).order_by("name", "id")


def target_get(*, viewer: Any, pk: Any) -> Target:
    """One target `viewer` sees, or NotFound (the same answer for a target that exists but is
    somebody else's private one)."""
    found = target_list(viewer=viewer).filter(pk=pk).first() if is_id(pk) else None
    if found is None:
        raise NotFound(_("No target #%(id)s, or it is not shared with you.") % {"id": pk})
    return found


def may_change(viewer: Any, target: Target) -> bool:
    """Only the owner of a target, or an administrator, changes or deletes it."""
    role = access.role_of(viewer)
    if role is None:
        return False
    return role == Role.ADMIN or (target.owner_id is not None and target.owner_id == viewer.pk)


def target_definition(target: Target) -> Definition:
    """The stored definition, read back (references that vanished since match nobody)."""
    return definitions.parse(target.definition, level=target.level, allow_empty=True, resolve=False)


# --- from a definition to records ---------------------------------------------------------------


def _in_segments(ids: tuple[int, ...]) -> Q:
    """`segment_id IN ids`, for a probe of one organisation's memberships.

    On SQLite the IN list is also bounded by its lowest and highest id: the (organisation,
    segment) index then answers with one seek and a short range rather than one seek per id
    (3× faster at a million organisations). PostgreSQL probes `= ANY` well by itself, and the
    redundant bounds only spoil its row estimates, so it gets the plain list."""
    if len(ids) == 1:
        return Q(segment_id=ids[0])
    if connection.vendor == "sqlite":
        return Q(segment_id__gte=min(ids), segment_id__lte=max(ids), segment_id__in=list(ids))
    return Q(segment_id__in=list(ids))


def _segment_members(
    segments: tuple[tuple[str, tuple[int, ...]], ...],
) -> tuple[QuerySet[Any], bool]:
    """The membership rows of the organisations in one of the segments of every axis, and
    whether an organisation may appear twice (in two segments of the driving axis, which only a
    non-exclusive axis allows).

    One scan of the axis with the fewest members (by the segments' stored counts) drives; the
    other axes are correlated EXISTS probes on the membership indexes, the most selective first.
    So the intersection is found inside the membership indexes, and only the organisations in it
    are read for the field conditions. (An `id IN (…)` list per axis would materialise every
    axis's members, the largest included: 3–10× slower.)
    """
    rows = Segment.objects.filter(pk__in={i for _code, ids in segments for i in ids})
    found = {
        pk: (size, exclusive)
        for pk, size, exclusive in rows.values_list("pk", "member_count", "axis__exclusive")
    }
    sizes = {pk: size for pk, (size, _exclusive) in found.items()}
    ordered = sorted(segments, key=lambda axis: sum(sizes.get(i, 0) for i in axis[1]))
    (_code, driver), *others = ordered
    members = Membership.objects.filter(segment_id__in=list(driver))
    for _code, ids in others:
        members = members.filter(
            Exists(
                Membership.objects.filter(
                    _in_segments(ids), organisation_id=OuterRef("organisation_id")
                )
            )
        )
    repeats = len(driver) > 1 and not all(found.get(i, (0, True))[1] for i in driver)
    return members, repeats


def _segments_filter(segments: tuple[tuple[str, tuple[int, ...]], ...]) -> Q:
    """Organisations in one of the segments of every axis: OR within an axis, AND across."""
    members, _repeats = _segment_members(segments)
    return Q(pk__in=members.values("organisation_id"))


def organisation_filter(definition: Definition, members: MemberSet | None = None) -> Q:
    """The organisation part of a definition (segments, then the organisation rule) as a filter
    on Organisation; `Q()` when it has none. `members`: its segments' part, already computed
    (`bitsets`), passed to the database as a set of ids."""
    q = Q()
    if members is not None:
        q &= Q(InIds("pk", members.ids()))
    elif definition.segments:
        q &= _segments_filter(definition.segments)
    if definition.organisation is not None:
        q &= rules.to_q(definition.organisation)
    return q


def _organisations(
    viewer: Any, definition: Definition, *, checked: bool, members: MemberSet | None = None
) -> QuerySet[Any]:
    organisations = Organisation.objects.filter(organisation_filter(definition, members))
    return access.visible(viewer, organisations) if checked else organisations


def _contacts(
    viewer: Any, definition: Definition, *, checked: bool, members: MemberSet | None = None
) -> QuerySet[Any]:
    contacts = Contact.objects.filter(anonymised_at__isnull=True)
    if not definition.organisation_part_empty:
        organisations = _organisations(viewer, definition, checked=checked, members=members)
        contacts = contacts.filter(organisation__in=organisations.values("pk"))
    if definition.contact is not None:
        contacts = contacts.filter(rules.to_q(definition.contact))
    return access.visible(viewer, contacts) if checked else contacts


def _records(
    viewer: Any, definition: Definition, *, checked: bool, members: MemberSet | None = None
) -> QuerySet[Any]:
    if definition.level == TargetLevel.CONTACT:
        return _contacts(viewer, definition, checked=checked, members=members)
    return _organisations(viewer, definition, checked=checked, members=members)


def _require_role(viewer: Any) -> None:
    if access.role_of(viewer) is None:
        raise PermissionDenied(
            _("Your account has no role in Cible yet: ask an administrator to give you one.")
        )


def _definition_of(
    target: Target | None, definition: Definition | Mapping[str, Any] | None, level: str
) -> Definition:
    if target is not None:
        return target_definition(target)
    if isinstance(definition, Definition):
        return definition
    return definitions.parse(definition or {}, level=level, allow_empty=True)


def target_queryset(
    *,
    viewer: Any,
    target: Target | None = None,
    definition: Definition | Mapping[str, Any] | None = None,
    level: str = TargetLevel.ORGANISATION,
) -> QuerySet[Any]:
    """The organisations (or contacts) of `target`, or of an unsaved `definition` at `level`,
    that `viewer` may see; unordered (see `target_members` for a list).

    Raises PermissionDenied for an account without a role and DefinitionInvalid for a bad
    definition."""
    _require_role(viewer)
    return _records(viewer, _definition_of(target, definition, level), checked=True)


def target_resolve(*, target: Target, viewer: Any = None) -> QuerySet[Any]:
    """The records `target` names, for the capabilities built on targets (campaigns, nurture,
    routing, reports).

    With a `viewer`, only what they may see. With `viewer=None` the caller is a system job
    acting for the organisation as a whole (a scheduled campaign, a routing rule): no access
    filter is applied, so never hand the result to a person without filtering it for them."""
    if viewer is None:
        return _records(None, target_definition(target), checked=False)
    return target_queryset(viewer=viewer, target=target)


def target_members(*, viewer: Any, target: Target) -> QuerySet[Any]:
    """The records of `target` the viewer sees, by name, ready for a list or a page."""
    members = target_queryset(viewer=viewer, target=target).order_by("name_key", "id")
    if target.level == TargetLevel.CONTACT:
        return members.select_related("organisation", "owner")
    return members.select_related("owner")


@dataclass(frozen=True)
class TargetCount:
    """A count, or the news that it took too long (`count` None): narrow the definition down."""

    count: int | None
    level: str
    milliseconds: float
    timeout_ms: int

    @property
    def finished(self) -> bool:
        return self.count is not None

    @property
    def message(self) -> str:
        if self.count is None:
            return _(
                "Still counting after %(seconds)s s: this combination is slow to count. Narrow "
                "it down (a segment or a condition on an indexed field) and it will be instant."
            ) % {"seconds": f"{self.timeout_ms / 1000:g}"}
        return ""


def target_count(
    *,
    viewer: Any,
    target: Target | None = None,
    definition: Definition | Mapping[str, Any] | None = None,
    level: str = TargetLevel.ORGANISATION,
    timeout_ms: int = COUNT_TIMEOUT_MS,
) -> TargetCount:
    """How many records of `target` (or of an unsaved `definition`) `viewer` may see, given up
    after `timeout_ms`: the database stops the query (`deadline`), so an abandoned count costs
    no more than that, and it writes nothing (no lock, no audit entry)."""
    _require_role(viewer)
    checked = _definition_of(target, definition, level)
    began = time.perf_counter()
    # Before the deadline's transaction, so that the sets and columns read are kept.
    members = _members(checked)
    narrowed, survivors = _narrowed(checked, members)
    try:
        with deadline(timeout_ms):
            count: int | None = _count(viewer, narrowed, survivors, whole=checked)
    except QueryTimedOut:
        count = None
    return TargetCount(
        count=count,
        level=checked.level,
        milliseconds=(time.perf_counter() - began) * 1000,
        timeout_ms=timeout_ms,
    )


def _members(definition: Definition) -> MemberSet | None:
    """The organisations in the definition's segments (OR within an axis, AND across), from
    the member sets held in memory; None when it names no segment."""
    if not definition.segments:
        return None
    return bitsets.organisations_in(ids for _code, ids in definition.segments)


def _narrowed(
    definition: Definition, members: MemberSet | None
) -> tuple[Definition, MemberSet | None]:
    """The definition with the organisation conditions the in-memory columns can test taken
    out, and the organisations that pass them among `members` (all, when None) — or the
    definition and `members` as they were, when the columns cannot help."""
    found = columns.narrow(definition.organisation, None if members is None else members.ids())
    if found is None:
        return definition, members
    survivors, rest = found
    narrowed = replace(definition, segments=(), organisation=rest)
    return narrowed, MemberSet.of(survivors)


def _count(
    viewer: Any, definition: Definition, members: MemberSet | None, *, whole: Definition
) -> int:
    """How many records of `definition` the viewer sees. The organisations already known to
    pass its segments (and the conditions tested in memory) are `members`; when nothing else
    narrows an organisation target and the viewer sees every organisation, that is the count
    (they all exist). Otherwise the database reads the records of those organisations only,
    for the other conditions and the access rules; past `MAX_IDS_PASSED` of them, it counts
    `whole`, the definition as given, by itself."""
    if members is not None and not members.bits.any():
        return 0
    sees_all = not access.visible(viewer, Organisation.objects.all()).query.has_filters()
    if (
        members is not None
        and definition.level == TargetLevel.ORGANISATION
        and definition.organisation is None
        and sees_all
    ):
        return len(members)
    if members is not None and len(members) > MAX_IDS_PASSED:
        # The index plan of `_segment_members` is then cheaper than a list of ids.
        return int(_records(viewer, whole, checked=True).count())
    return int(_records(viewer, definition, checked=True, members=members).count())


# --- export -------------------------------------------------------------------------------------


def _name(user: Any) -> str:
    if user is None:
        return ""
    return str(user.get_full_name() or user.get_username())


def _products(organisation: Organisation) -> str:
    return ", ".join(sorted(p.name for p in organisation.installed_products.all()))


def organisation_columns() -> list[csv_export.Column]:
    """The columns of an organisation target's export, headed in the active language."""
    columns: list[tuple[Any, Any]] = [
        (_("Id"), lambda o: o.pk),
        (_("Name"), lambda o: o.display_name),
        (_("Legal name"), lambda o: o.legal_name),
        (_("SIREN"), lambda o: o.siren),
        (_("Domain"), lambda o: o.domain),
        (_("Phone"), lambda o: o.phone),
        (_("Postal code"), lambda o: o.postal_code),
        (_("City"), lambda o: o.city),
        (_("Region"), lambda o: o.region_label),
        (_("Country"), lambda o: o.country),
        (_("NAF code"), lambda o: o.naf_code),
        (_("Size"), lambda o: o.size_short),
        (_("Headcount"), lambda o: o.headcount),
        (_("Sales team size"), lambda o: o.sales_team_size),
        (_("Installed products"), _products),
        (_("Status"), lambda o: o.get_status_display()),
        (_("Owner"), lambda o: _name(o.owner)),
    ]
    return [csv_export.Column(str(header), value) for header, value in columns]


def contact_columns() -> list[csv_export.Column]:
    """The columns of a contact target's export, headed in the active language."""
    columns: list[tuple[Any, Any]] = [
        (_("Id"), lambda c: c.pk),
        (_("First name"), lambda c: c.first_name),
        (_("Last name"), lambda c: c.last_name),
        (_("Job title"), lambda c: c.job_title),
        (_("Function"), lambda c: c.get_function_display()),
        (_("Seniority"), lambda c: c.get_seniority_display()),
        (_("Buying role"), lambda c: c.get_buying_role_display()),
        (_("Email"), lambda c: c.email),
        (_("Opted out of emails"), lambda c: _("yes") if c.email_opt_out else _("no")),
        (_("Phone"), lambda c: c.phone or c.mobile),
        (_("Organisation id"), lambda c: c.organisation_id),
        (_("Organisation"), lambda c: c.organisation.display_name if c.organisation else ""),
        (_("City"), lambda c: c.organisation.city if c.organisation else ""),
        (_("Owner"), lambda c: _name(c.owner)),
    ]
    return [csv_export.Column(str(header), value) for header, value in columns]


def target_export(
    *, viewer: Any, target: Target, channel: str = Channel.UI
) -> StreamingHttpResponse:
    """The records of `target` the viewer sees, as a streamed CSV (formula-safe), logged as an
    export: who took how many of which records, under which definition."""
    if not access.can(viewer, "export"):
        raise PermissionDenied(_("You may not export records."))
    members = target_members(viewer=viewer, target=target)
    if target.level == TargetLevel.CONTACT:
        model: type[Any] = Contact
        columns = contact_columns()
    else:
        model = Organisation
        columns = organisation_columns()
        members = members.prefetch_related("installed_products")
    audit.log_export(
        actor=viewer,
        channel=channel,
        model=model,
        rows=members.count(),
        query=f"target #{target.pk} “{target.name}”: "
        + definitions.describe_text(target_definition(target)),
    )
    return csv_export.response(f"target-{target.pk}", columns, members.iterator(chunk_size=2000))
