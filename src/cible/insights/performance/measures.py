"""The measures of segment performance, and the catalogue a page or the API offers (pure).

One `Measures` holds the raw sums of a group of accounts (a segment, a cell of the cross-tab, a
total); every ratio is derived from them, so totals are sums of cells and a ratio is never
averaged. Definitions (SPEC C3, seed 002):

- accounts, contacts: the organisations of the group the viewer may see, and their contacts;
- open pipeline: the deals open today (not won nor lost), whatever the period, count and amount;
- won, lost: the deals closed (`closed_on`) within the period;
- win rate: won / (won + lost); share of deals lost: lost / (won + lost) — "we lose 100 % of the
  deals in this segment";
- revenue won: the sum of the won deals' amounts; average deal size: revenue won / won;
- sales cycle: the MEAN number of days from a won deal's creation (its UTC date) to its close —
  a mean, not a median, because it adds up across cells in one grouped query on SQLite and
  PostgreSQL alike;
- profit: None. Neither opportunities nor organisations carry a cost today, so profitability
  cannot be computed; the field is here for the day costs are recorded, not filled with guesses.

The amount of a deal is `Opportunity.annual_value`: the one-time amount plus twelve months of
the recurring amount, computed in SQL. Amounts are None for a viewer who may not see them.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from cible.insights.performance.stats import rate


class Family(StrEnum):
    """Which grouped query a measure needs: deals are cheap, counting every account and
    contact of a million-row base is not, so the cross-tab runs only the query its measure
    needs."""

    DEALS = "deals"
    ACCOUNTS = "accounts"
    CONTACTS = "contacts"


class Unit(StrEnum):
    COUNT = "count"
    PERCENT = "percent"
    MONEY = "money"
    DAYS = "days"


@dataclass(frozen=True)
class MeasureSpec:
    code: str
    label: Promise
    family: Family
    unit: Unit
    amount: bool = False  # hidden from viewers who may not see deal amounts


MEASURES: dict[str, MeasureSpec] = {
    spec.code: spec
    for spec in (
        MeasureSpec("win_rate", _("Win rate"), Family.DEALS, Unit.PERCENT),
        MeasureSpec("lost_share", _("Share of deals lost"), Family.DEALS, Unit.PERCENT),
        MeasureSpec("won", _("Deals won"), Family.DEALS, Unit.COUNT),
        MeasureSpec("lost", _("Deals lost"), Family.DEALS, Unit.COUNT),
        MeasureSpec("closed", _("Deals closed"), Family.DEALS, Unit.COUNT),
        MeasureSpec("revenue_won", _("Revenue won"), Family.DEALS, Unit.MONEY, amount=True),
        MeasureSpec("average_deal", _("Average deal size"), Family.DEALS, Unit.MONEY, amount=True),
        MeasureSpec("sales_cycle_days", _("Sales cycle (mean days)"), Family.DEALS, Unit.DAYS),
        MeasureSpec("open_deals", _("Open deals"), Family.DEALS, Unit.COUNT),
        MeasureSpec("open_amount", _("Open pipeline"), Family.DEALS, Unit.MONEY, amount=True),
        MeasureSpec("accounts", _("Accounts"), Family.ACCOUNTS, Unit.COUNT),
        MeasureSpec("contacts", _("Contacts"), Family.CONTACTS, Unit.COUNT),
    )
}
DEFAULT_MEASURE = "win_rate"


def _add(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    if a is None or b is None:
        return None
    return a + b


def _add_count(a: int | None, b: int | None) -> int | None:
    return None if a is None or b is None else a + b


@dataclass(frozen=True)
class Measures:
    """Raw sums of one group; None means "not computed" for counts and "not shown" for
    amounts."""

    accounts: int | None = None
    contacts: int | None = None
    open_deals: int = 0
    open_amount: Decimal | None = None
    won: int = 0
    lost: int = 0
    revenue_won: Decimal | None = None
    cycle_days: int = 0  # total days over the won deals, for the mean
    profit: Decimal | None = None  # no cost is recorded anywhere yet: see the module docstring

    def __add__(self, other: Measures) -> Measures:
        return Measures(
            accounts=_add_count(self.accounts, other.accounts),
            contacts=_add_count(self.contacts, other.contacts),
            open_deals=self.open_deals + other.open_deals,
            open_amount=_add(self.open_amount, other.open_amount),
            won=self.won + other.won,
            lost=self.lost + other.lost,
            revenue_won=_add(self.revenue_won, other.revenue_won),
            cycle_days=self.cycle_days + other.cycle_days,
            profit=_add(self.profit, other.profit),
        )

    @classmethod
    def zero(cls, *, amounts: bool, accounts: bool, contacts: bool) -> Measures:
        """An empty group: zeros for what was computed, None for what was not."""
        nothing = Decimal("0.00") if amounts else None
        return cls(
            accounts=0 if accounts else None,
            contacts=0 if contacts else None,
            open_amount=nothing,
            revenue_won=nothing,
        )

    @property
    def closed(self) -> int:
        return self.won + self.lost

    @property
    def win_rate(self) -> float | None:
        return rate(self.won, self.closed)

    @property
    def lost_share(self) -> float | None:
        return rate(self.lost, self.closed)

    @property
    def average_deal(self) -> Decimal | None:
        if self.revenue_won is None or not self.won:
            return None
        return (self.revenue_won / self.won).quantize(Decimal("0.01"))

    @property
    def sales_cycle_days(self) -> float | None:
        return round(self.cycle_days / self.won, 1) if self.won else None

    @property
    def is_empty(self) -> bool:
        return not (self.accounts or self.contacts or self.open_deals or self.closed)

    def value(self, measure: str) -> int | float | Decimal | None:
        """The value of the measure named `measure` (a key of MEASURES, or "profit")."""
        if measure not in MEASURES and measure != "profit":
            raise KeyError(measure)
        value: int | float | Decimal | None = getattr(self, measure)
        return value
