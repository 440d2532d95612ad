"""Pure statistics of segment performance: Wilson intervals of win rates and the flags they raise.

No database access. A cell (a segment, or a segment of axis A × a segment of axis B) is flagged
when its win rate differs from the overall win rate by more than chance would explain:
under-performing when the upper bound of its 95 % Wilson score interval lies below the overall
rate, over-performing when the lower bound lies above it, and only with at least `min_deals`
closed deals (seed 002: "if you lose 100 % of the deals in a segment…" — with three deals that
is bad luck, with fourteen it is a finding).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from django.utils.formats import number_format
from django.utils.translation import gettext as _

Z_95 = 1.959963984540054  # the 97.5th percentile of the standard normal distribution
MIN_DEALS = 10


@dataclass(frozen=True)
class Interval:
    low: float
    high: float


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> Interval | None:
    """The Wilson score interval of `successes` out of `trials` (None without trials).

    Unlike the normal approximation it stays inside [0, 1] and is not degenerate at 0 % or
    100 % — exactly the cells worth flagging."""
    if trials <= 0:
        return None
    if not 0 <= successes <= trials:
        raise ValueError(f"{successes} successes out of {trials} trials")
    p = successes / trials
    z2 = z * z
    denominator = 1 + z2 / trials
    centre = (p + z2 / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / denominator
    # At 0 % and 100 % the bound is exactly 0 or 1; floating point would leave a 1e-17 residue.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return Interval(low, high)


def rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


class FlagKind(StrEnum):
    UNDER = "under"
    OVER = "over"


@dataclass(frozen=True)
class Flag:
    """A win rate that differs from the overall rate beyond chance, with the numbers behind it."""

    kind: FlagKind
    won: int
    closed: int
    rate: float
    interval: Interval
    overall_rate: float

    @property
    def gap(self) -> float:
        """How far the interval stays from the overall rate: the strength of the finding."""
        if self.kind == FlagKind.UNDER:
            return self.overall_rate - self.interval.high
        return self.interval.low - self.overall_rate

    @property
    def sentence(self) -> str:
        """ "Win rate 0 % (0 of 14 deals) — 95 % interval 0–22 %, well below the overall 31 %"."""
        values = {
            "rate": percent(self.rate),
            "won": number_format(self.won, use_l10n=True, force_grouping=True),
            "closed": number_format(self.closed, use_l10n=True, force_grouping=True),
            "low": number_format(round(self.interval.low * 100), use_l10n=True),
            "high": percent(self.interval.high),
            "overall": percent(self.overall_rate),
        }
        if self.kind == FlagKind.UNDER:
            return (
                _(
                    "Win rate %(rate)s (%(won)s of %(closed)s deals) — 95 %% interval "
                    "%(low)s–%(high)s, well below the overall %(overall)s"
                )
                % values
            )
        return (
            _(
                "Win rate %(rate)s (%(won)s of %(closed)s deals) — 95 %% interval "
                "%(low)s–%(high)s, well above the overall %(overall)s"
            )
            % values
        )


def percent(share: float) -> str:
    """0.3125 → "31 %" (localised; the translation decides the space before the sign)."""
    return _("%(value)s %%") % {"value": number_format(round(share * 100), use_l10n=True)}


def win_rate_flag(
    *, won: int, closed: int, overall_rate: float | None, min_deals: int = MIN_DEALS
) -> Flag | None:
    """The flag of a cell with `won` deals out of `closed`, against `overall_rate` — or None
    when the cell has fewer than `min_deals` closed deals or its interval contains the overall
    rate."""
    if overall_rate is None or closed < max(min_deals, 1):
        return None
    interval = wilson_interval(won, closed)
    assert interval is not None  # closed ≥ 1
    if interval.high < overall_rate:
        kind = FlagKind.UNDER
    elif interval.low > overall_rate:
        kind = FlagKind.OVER
    else:
        return None
    return Flag(kind, won, closed, won / closed, interval, overall_rate)
