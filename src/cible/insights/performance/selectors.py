"""Segment performance per segment of an axis and for the cross of two axes (SPEC C3, seed 002),
always over the records the viewer may see (`core.access.visible` on organisations, contacts
and deals), with deal amounts only for viewers allowed to see them.

Totals are exact for any axes: when the other axis is exclusive (each organisation in at most
one of its segments, seed 002's axes) a row's cells partition the row and the total is their
sum; otherwise the total comes from a grouped query of its own, since an organisation in two
segments would be counted twice by a sum.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext as _

from cible.core import access
from cible.core.errors import FieldError, PermissionDenied, ValidationFailed
from cible.insights.performance import queries
from cible.insights.performance.measures import (
    DEFAULT_MEASURE,
    MEASURES,
    Family,
    Measures,
    MeasureSpec,
)
from cible.insights.performance.periods import Period
from cible.insights.performance.queries import Key
from cible.insights.performance.stats import MIN_DEALS, Flag, FlagKind, win_rate_flag
from cible.people.models import Organisation
from cible.segments.axes.models import Axis, Membership, Segment

ALL_CODE = "*"  # the code of the header of a total ("all the segments of the other axis")


@dataclass(frozen=True)
class SegmentRef:
    """A segment as a row or column header. `id` None is either the "unsegmented" group (the
    organisations in no segment of the axis) or, with code ALL_CODE, the header of a total."""

    id: int | None
    code: str
    name: str

    @property
    def unsegmented(self) -> bool:
        return self.id is None and self.code != ALL_CODE

    @property
    def is_total(self) -> bool:
        return self.code == ALL_CODE


def _segment_refs(axis: Axis) -> list[SegmentRef]:
    segments = Segment.objects.filter(axis=axis).order_by("position", "pk")
    refs = [SegmentRef(s.pk, s.code, s.display_name) for s in segments.only("pk", "code", "name")]
    return [*refs, SegmentRef(None, "", _("Unsegmented"))]


def _sum(measures: Iterable[Measures], start: Measures) -> Measures:
    total = start
    for m in measures:
        total = total + m
    return total


def _by_finding(item: SegmentPerformance | Cell) -> tuple[bool, float]:
    flag = item.flag
    assert flag is not None
    return flag.kind != FlagKind.UNDER, -flag.gap


def _flag(measures: Measures, overall: Measures, min_deals: int) -> Flag | None:
    return win_rate_flag(
        won=measures.won, closed=measures.closed, overall_rate=overall.win_rate, min_deals=min_deals
    )


# --- one axis --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SegmentPerformance:
    segment: SegmentRef
    measures: Measures
    flag: Flag | None


@dataclass(frozen=True)
class AxisPerformance:
    axis: Axis
    period: Period
    rows: tuple[SegmentPerformance, ...]  # the axis's segments in order, then "unsegmented"
    total: Measures  # every account the viewer may see
    amounts_visible: bool
    min_deals: int

    @property
    def overall_win_rate(self) -> float | None:
        return self.total.win_rate

    @property
    def flagged(self) -> list[SegmentPerformance]:
        """Flagged segments: under-performers first (seed 002: "we lose 100 % of the deals in
        this segment"), the strongest finding first within each kind."""
        return sorted((row for row in self.rows if row.flag is not None), key=_by_finding)


def segment_performance(
    *, viewer: Any, axis: Axis, period: Period, min_deals: int = MIN_DEALS
) -> AxisPerformance:
    """Every measure for each segment of `axis` and for the accounts in none of them.

    Two grouped queries (deals; accounts with their contacts) — plus the same two without
    grouping for the total when the axis is not exclusive."""
    amounts = access.amounts_visible(viewer)

    def grouped(*axes: Axis) -> dict[Key, Measures]:
        return queries.groups(
            viewer=viewer, axes=axes, period=period, amounts=amounts, accounts=True, contacts=True
        )

    found = grouped(axis)
    empty = Measures.zero(amounts=amounts, accounts=True, contacts=True)
    refs = _segment_refs(axis)
    per_segment = [found.get((ref.id, None), empty) for ref in refs]
    # The segments of an exclusive axis (and "unsegmented") partition the accounts.
    total = _sum(per_segment, empty) if axis.exclusive else grouped().get((None, None), empty)
    rows = tuple(
        SegmentPerformance(ref, m, _flag(m, total, min_deals))
        for ref, m in zip(refs, per_segment, strict=True)
    )
    return AxisPerformance(axis, period, rows, total, amounts, min_deals)


# --- two axes --------------------------------------------------------------------------------


def measure_choices(viewer: Any) -> list[MeasureSpec]:
    """The measures the viewer may chart (amounts only for those who may see them)."""
    amounts = access.amounts_visible(viewer)
    return [spec for spec in MEASURES.values() if amounts or not spec.amount]


def measure_for(viewer: Any, code: str | None) -> MeasureSpec:
    """The measure named `code` (default: the win rate); ValidationFailed when unknown,
    PermissionDenied when it is an amount the viewer may not see."""
    spec = MEASURES.get(code or DEFAULT_MEASURE)
    if spec is None:
        choices = ", ".join(MEASURES)
        raise ValidationFailed(
            errors=[
                FieldError(
                    "measure",
                    _("Unknown measure “%(value)s”; choose one of %(choices)s.")
                    % {"value": str(code)[:40], "choices": choices},
                )
            ]
        )
    if spec.amount and not access.amounts_visible(viewer):
        raise PermissionDenied(_("You may not see deal amounts."))
    return spec


@dataclass(frozen=True)
class Cell:
    row: SegmentRef  # a segment of axis A
    column: SegmentRef  # a segment of axis B
    measures: Measures
    flag: Flag | None


@dataclass(frozen=True)
class CrossTab:
    axis_a: Axis
    axis_b: Axis
    period: Period
    measure: MeasureSpec
    rows: tuple[SegmentRef, ...]  # axis A's segments, then "unsegmented" when not empty
    columns: tuple[SegmentRef, ...]  # axis B's, likewise
    cells: tuple[tuple[Cell, ...], ...]  # cells[i][j]: rows[i] × columns[j]
    row_totals: tuple[Cell, ...]  # each row's segment, all of axis B (column: "all")
    column_totals: tuple[Cell, ...]
    total: Measures
    amounts_visible: bool
    min_deals: int

    @property
    def overall_win_rate(self) -> float | None:
        return self.total.win_rate

    def cell(self, row_id: int | None, column_id: int | None) -> Cell:
        for row, cells in zip(self.rows, self.cells, strict=True):
            if row.id == row_id:
                for cell in cells:
                    if cell.column.id == column_id:
                        return cell
        raise KeyError((row_id, column_id))

    @property
    def flagged(self) -> list[Cell]:
        """Flagged cells: under-performers first, the strongest finding (the interval farthest
        from the overall rate) first within each kind."""
        found = (cell for cells in self.cells for cell in cells if cell.flag is not None)
        return sorted(found, key=_by_finding)


def crosstab(
    *,
    viewer: Any,
    axis_a: Axis,
    axis_b: Axis,
    period: Period,
    measure: str | None = None,
    min_deals: int = MIN_DEALS,
) -> CrossTab:
    """Axis A × axis B: the measures of every cell, row, column and of the whole, and the
    win-rate flags of cells with at least `min_deals` closed deals.

    One grouped query over the deals of the period (joined to both axes' memberships), plus
    one over the accounts when `measure` counts accounts or contacts — whatever the number of
    cells. Totals add no query for exclusive axes (see the module docstring)."""
    if axis_a.pk == axis_b.pk:
        raise ValidationFailed(errors=[FieldError("axis_b", _("Choose two different axes."))])
    spec = measure_for(viewer, measure)
    amounts = access.amounts_visible(viewer)
    accounts = spec.family in (Family.ACCOUNTS, Family.CONTACTS)
    contacts = spec.family == Family.CONTACTS

    def grouped(*axes: Axis) -> dict[Key, Measures]:
        return queries.groups(
            viewer=viewer,
            axes=axes,
            period=period,
            amounts=amounts,
            accounts=accounts,
            contacts=contacts,
        )

    found = grouped(axis_a, axis_b)
    empty = Measures.zero(amounts=amounts, accounts=accounts, contacts=contacts)

    def measures(key: Key) -> Measures:
        return found.get(key, empty)

    rows, columns = _segment_refs(axis_a), _segment_refs(axis_b)
    grid = [[measures((r.id, c.id)) for c in columns] for r in rows]
    if axis_b.exclusive:
        row_sums = [_sum(line, empty) for line in grid]
    else:
        by_a = grouped(axis_a)
        row_sums = [by_a.get((r.id, None), empty) for r in rows]
    if axis_a.exclusive:
        column_sums = [_sum((line[j] for line in grid), empty) for j in range(len(columns))]
    else:
        by_b = grouped(axis_b)
        column_sums = [by_b.get((c.id, None), empty) for c in columns]
    if axis_a.exclusive:
        total = _sum(row_sums, empty)
    elif axis_b.exclusive:
        total = _sum(column_sums, empty)
    else:
        total = grouped().get((None, None), empty)

    everything = SegmentRef(None, ALL_CODE, _("All"))
    # "Unsegmented" is shown only when some account of the viewer falls there.
    keep_rows = [i for i, r in enumerate(rows) if r.id is not None or not row_sums[i].is_empty]
    keep_columns = [
        j for j, c in enumerate(columns) if c.id is not None or not column_sums[j].is_empty
    ]
    cells = tuple(
        tuple(
            Cell(rows[i], columns[j], grid[i][j], _flag(grid[i][j], total, min_deals))
            for j in keep_columns
        )
        for i in keep_rows
    )
    return CrossTab(
        axis_a=axis_a,
        axis_b=axis_b,
        period=period,
        measure=spec,
        rows=tuple(rows[i] for i in keep_rows),
        columns=tuple(columns[j] for j in keep_columns),
        cells=cells,
        row_totals=tuple(
            Cell(rows[i], everything, row_sums[i], _flag(row_sums[i], total, min_deals))
            for i in keep_rows
        ),
        column_totals=tuple(
            Cell(everything, columns[j], column_sums[j], _flag(column_sums[j], total, min_deals))
            for j in keep_columns
        ),
        total=total,
        amounts_visible=amounts,
        min_deals=min_deals,
    )


# --- the accounts of a cell ------------------------------------------------------------------


def crosstab_accounts(
    *,
    viewer: Any,
    axis_a: Axis,
    segment_a: Segment | None,
    axis_b: Axis | None = None,
    segment_b: Segment | None = None,
) -> QuerySet[Organisation]:
    """The organisations of a cell (or of one segment, without axis B) the viewer may see, by
    name. A segment None means the cell's "unsegmented" side: in no segment of that axis."""
    organisations = access.visible(viewer, Organisation.objects.all())
    pairs = [(axis_a, segment_a, "segment_a")]
    if axis_b is not None:
        pairs.append((axis_b, segment_b, "segment_b"))
    for axis, segment, field in pairs:
        if segment is None:
            others = Membership.objects.filter(axis=axis, organisation=OuterRef("pk"))
            organisations = organisations.filter(~Exists(others))
            continue
        if segment.axis_id != axis.pk:
            raise ValidationFailed(
                errors=[
                    FieldError(
                        field,
                        _("Segment “%(segment)s” is not on axis “%(axis)s”.")
                        % {"segment": segment.name, "axis": axis.name},
                    )
                ]
            )
        members = Membership.objects.filter(segment=segment, organisation=OuterRef("pk"))
        organisations = organisations.filter(Exists(members))
    return organisations.order_by("name_key", "pk")
