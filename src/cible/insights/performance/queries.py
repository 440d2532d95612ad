"""The grouped SQL behind segment performance: one query per family of measures, never one per
segment or per cell.

The rows a viewer may see come from an ORM queryset (`core.access.visible`: the access rules
stay in one place); around it, one explicit grouped statement joins each axis's memberships on
the (axis, organisation) index. A LEFT JOIN keeps the organisations in no segment of the axis
(NULL: "unsegmented") and gives a row per segment on a non-exclusive axis:

    deals:    SELECT ma.segment_id, mb.segment_id,
                     SUM(open), SUM(amount if open), SUM(won), SUM(lost), SUM(amount if won),
                     SUM(closed_on - created_at::date if won)
              FROM (SELECT organisation_id, stage, one_time + 12 × recurring AS amount, … AS days
                    FROM pipeline_opportunity
                    WHERE (stage NOT IN (won, lost) OR closed_on BETWEEN start AND end)
                      AND <access to deals [and to their organisations]>) r
              LEFT JOIN segments_membership ma ON ma.organisation_id = r.organisation_id
                                              AND ma.axis_id = A
              LEFT JOIN segments_membership mb ON … AND mb.axis_id = B
              GROUP BY ma.segment_id, mb.segment_id

The deals query reads the deals of the period (about 100,000 over two years at a million
organisations), not the organisations. Accounts and contacts per group are not joined in SQL
(a join per organisation: 5–7 s at a million): they come from the segments' member sets held
in memory (`segments.axes.bitsets`), intersected with the ids of the organisations the viewer
may see (`account_groups`).
On SQLite the joins are index lookups per row; on PostgreSQL the planner may hash-join.
"""

import itertools
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import connection
from django.db.models import BigIntegerField, Case, Func, IntegerField, Q, QuerySet, Value, When
from django.db.models import F as Field
from django.db.models.functions import Cast, Coalesce, Round

from cible.core import access
from cible.core.idsets import ids_of
from cible.insights.performance.measures import Measures
from cible.insights.performance.periods import Period
from cible.people.models import Contact, Organisation
from cible.pipeline.models import Opportunity, Stage
from cible.segments.axes import bitsets
from cible.segments.axes.bitsets import MemberSet
from cible.segments.axes.models import Axis

# A group's key: the segment id on axis A and on axis B (None: in no segment of that axis).
Key = tuple[int | None, int | None]
Mask = npt.NDArray[np.bool_]
CENT = Decimal("0.01")


class DaysBetween(Func):
    """Whole days from the UTC date of a datetime to a date: `end - start::date`.

    Written with Func's template and joiner: "(END - CAST((START AT TIME ZONE 'UTC') AS date))"
    on PostgreSQL, "CAST(julianday(END) - julianday(date(START)) AS INTEGER)" on SQLite (which
    stores datetimes in UTC as text; julianday() of two dates differs by whole days)."""

    arity = 2
    output_field = IntegerField()
    template = "(%(expressions)s AT TIME ZONE 'UTC') AS date))"
    arg_joiner = " - CAST(("

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template="CAST(julianday(%(expressions)s)) AS INTEGER)",
            arg_joiner=") - julianday(date(",
            **extra_context,
        )


def _money(cents: Any) -> Decimal:
    """A sum of amounts counted in cents, in euros."""
    return (Decimal(int(cents)) / 100).quantize(CENT)


def visible_deals(viewer: Any) -> QuerySet[Opportunity]:
    """The deals the viewer may see, at organisations the viewer may see."""
    deals = access.visible(viewer, Opportunity.objects.all())
    organisations = access.visible(viewer, Organisation.objects.all())
    if organisations.query.has_filters():
        # Only when the policy narrows the accounts: otherwise the filter would cost a
        # million-row subquery to keep every row.
        deals = deals.filter(organisation__in=organisations.values("pk"))
    return deals


# A deal's outcome, as read for the arithmetic.
_OPEN, _WON, _LOST = 0, 1, 2


@dataclass(frozen=True)
class _Deals:
    """The deals of a period as columns: organisation, outcome, amount in cents, cycle days."""

    organisation: npt.NDArray[np.int64]
    outcome: npt.NDArray[np.int64]
    cents: npt.NDArray[np.int64]
    days: npt.NDArray[np.int64]


def _deals(viewer: Any, period: Period) -> _Deals:
    """The deals open today and those closed in `period` the viewer may see, in one read."""
    deals = (
        visible_deals(viewer)
        # Open deals, and deals closed in the period (a closed deal always has its date).
        # Written "not closed OR closed_on in range" rather than "open stages OR …" so that
        # SQLite reads the table once instead of merging two index ranges (2× slower here).
        .filter(
            ~Q(stage__in=[Stage.WON, Stage.LOST]) | Q(closed_on__range=(period.start, period.end))
        )
        .order_by()
        .annotate(
            outcome=Case(
                When(stage=Stage.WON, then=Value(_WON)),
                When(stage=Stage.LOST, then=Value(_LOST)),
                default=Value(_OPEN),
            ),
            # Opportunity.annual_value in cents: one-time amount plus twelve months of
            # recurring; whole numbers, so that sums are exact.
            cents=Cast(
                Round((Field("one_time_amount") + Value(12) * Field("recurring_amount")) * 100),
                BigIntegerField(),
            ),
            days=Coalesce(DaysBetween("closed_on", "created_at"), Value(0)),
        )
        .values_list("organisation_id", "outcome", "cents", "days")
    )
    sql, params = deals.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    table = np.array(rows, dtype=np.int64).reshape(-1, 4)
    return _Deals(*(np.ascontiguousarray(table[:, i]) for i in range(4)))


def _deal_parts(
    sets: dict[int, MemberSet], organisations: npt.NDArray[np.int64]
) -> list[tuple[int | None, Mask]]:
    """For each segment of an axis (`sets`: its members), which deals belong to one of its
    members; then, as None, the deals of organisations in none of them."""
    size = int(organisations.max()) + 1 if len(organisations) else 0
    anywhere = np.zeros(len(organisations), dtype=bool)
    parts: list[tuple[int | None, Mask]] = []
    for segment_id, members in sets.items():
        flags = np.zeros(size, dtype=bool)
        known = np.unpackbits(members.bits)[:size].astype(bool)
        flags[: len(known)] = known
        inside = flags[organisations]
        anywhere |= inside
        parts.append((segment_id, inside))
    return [*parts, (None, ~anywhere)]


def deal_groups(
    *,
    viewer: Any,
    axes: tuple[Axis, ...],
    period: Period,
    amounts: bool,
    sets: dict[int, dict[int, MemberSet]],
) -> dict[Key, Measures]:
    """Open pipeline, deals won and lost in `period`, revenue and cycle, per group of `axes`
    (zero, one or two axes): the deals read once, then grouped in memory by the member sets of
    the axes' segments (`bitsets`) — an organisation in two segments of a non-exclusive axis
    counts its deals in both, as a join would."""
    deals = _deals(viewer, period)
    is_open, is_won, is_lost = (deals.outcome == o for o in (_OPEN, _WON, _LOST))
    groups: dict[Key, Measures] = {}
    every = np.ones(len(deals.outcome), dtype=bool)
    for parts in itertools.product(
        *(_deal_parts(sets[axis.pk], deals.organisation) for axis in axes)
    ):
        chosen = every
        for _segment_id, inside in parts:
            chosen = chosen & inside
        if axes and not chosen.any():
            continue
        keys = [segment_id for segment_id, _inside in parts] + [None] * (2 - len(parts))
        groups[(keys[0], keys[1])] = Measures(
            open_deals=int(np.count_nonzero(chosen & is_open)),
            won=int(np.count_nonzero(chosen & is_won)),
            lost=int(np.count_nonzero(chosen & is_lost)),
            cycle_days=int(deals.days[chosen & is_won].sum()),
            open_amount=_money(deals.cents[chosen & is_open].sum()) if amounts else None,
            revenue_won=_money(deals.cents[chosen & is_won].sum()) if amounts else None,
        )
    return groups


def account_groups(
    *,
    viewer: Any,
    axes: tuple[Axis, ...],
    contacts: bool,
    sets: dict[int, dict[int, MemberSet]],
) -> dict[Key, tuple[int, int | None]]:
    """Accounts (and their contacts when asked) the viewer may see, per group of `axes`.

    From the segments' member sets held in memory (`bitsets`): a cell is the intersection of
    the visible organisations with one segment (or "in none of the axis's segments") of each
    axis, and its contacts the sum of the contacts per organisation over it. Only the ids of
    the visible organisations (and contacts) come from the database, in one aggregated read
    each: at a million organisations, 0.3 s where the grouped join took 5 s."""
    visible = MemberSet.of(ids_of(access.visible(viewer, Organisation.objects.all())))
    per_organisation = None
    if contacts:
        employed = Contact.objects.filter(organisation__isnull=False)
        per_organisation = np.bincount(ids_of(access.visible(viewer, employed), "organisation_id"))
    cells: dict[Key, tuple[int, int | None]] = {}
    for parts in itertools.product(*(_parts(sets[axis.pk], visible) for axis in axes)):
        cell = visible
        for _segment_id, members in parts:
            cell = cell & members
        accounts = len(cell)
        if accounts:
            keys = [segment_id for segment_id, _members in parts] + [None] * (2 - len(parts))
            people = cell.weighted(per_organisation) if per_organisation is not None else None
            cells[(keys[0], keys[1])] = (accounts, people)
    return cells


def _parts(sets: dict[int, MemberSet], visible: MemberSet) -> list[tuple[int | None, MemberSet]]:
    """An axis's segments (`sets`: their members) and, as None, the visible organisations in
    none of them."""
    anywhere = bitsets.EMPTY
    for members in sets.values():
        anywhere = anywhere | members
    return [*sets.items(), (None, visible - anywhere)]


def groups(
    *,
    viewer: Any,
    axes: tuple[Axis, ...],
    period: Period,
    amounts: bool,
    accounts: bool,
    contacts: bool,
) -> dict[Key, Measures]:
    """The measures of every non-empty group of `axes`: the deals query, plus the accounts
    query when `accounts` or `contacts` is asked."""
    sets = bitsets.sets_by_axis(axis.pk for axis in axes) if axes else {}
    merged: dict[Key, Measures] = dict(
        deal_groups(viewer=viewer, axes=axes, period=period, amounts=amounts, sets=sets)
    )
    if not (accounts or contacts):
        return merged
    counted = account_groups(viewer=viewer, axes=axes, contacts=contacts, sets=sets)
    empty = Measures.zero(amounts=amounts, accounts=False, contacts=False)
    for key in merged.keys() | counted.keys():
        deals = merged.get(key, empty)
        n_accounts, n_contacts = counted.get(key, (0, 0 if contacts else None))
        merged[key] = Measures(
            accounts=n_accounts,
            contacts=n_contacts,
            open_deals=deals.open_deals,
            open_amount=deals.open_amount,
            won=deals.won,
            lost=deals.lost,
            revenue_won=deals.revenue_won,
            cycle_days=deals.cycle_days,
        )
    return merged
