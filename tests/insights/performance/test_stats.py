"""Wilson intervals and the flags they raise, against values computed by hand."""

from __future__ import annotations

import pytest
from django.utils import translation

from cible.insights.performance.stats import (
    FlagKind,
    percent,
    rate,
    wilson_interval,
    win_rate_flag,
)


def test_wilson_interval_of_no_win_in_fourteen_deals() -> None:
    interval = wilson_interval(0, 14)
    assert interval is not None
    assert interval.low == 0.0
    assert interval.high == pytest.approx(0.21532, abs=1e-5)


def test_wilson_interval_of_seven_wins_in_ten() -> None:
    interval = wilson_interval(7, 10)
    assert interval is not None
    assert interval.low == pytest.approx(0.39677, abs=1e-5)
    assert interval.high == pytest.approx(0.89221, abs=1e-5)


def test_wilson_interval_of_all_won_is_symmetric_to_none_won() -> None:
    all_won, none_won = wilson_interval(20, 20), wilson_interval(0, 20)
    assert all_won is not None and none_won is not None
    assert all_won.high == 1.0
    assert all_won.low == pytest.approx(1 - none_won.high)


def test_wilson_interval_without_deals_is_none_and_impossible_counts_are_refused() -> None:
    assert wilson_interval(0, 0) is None
    with pytest.raises(ValueError):
        wilson_interval(5, 4)


def test_rate() -> None:
    assert rate(3, 4) == 0.75
    assert rate(0, 0) is None


def test_a_segment_losing_all_its_deals_is_flagged_with_the_numbers() -> None:
    flag = win_rate_flag(won=0, closed=14, overall_rate=0.31)
    assert flag is not None
    assert flag.kind == FlagKind.UNDER
    assert (flag.won, flag.closed, flag.rate, flag.overall_rate) == (0, 14, 0.0, 0.31)
    assert flag.interval.high == pytest.approx(0.2153, abs=1e-4)
    assert flag.sentence == (
        "Win rate 0 % (0 of 14 deals) — 95 % interval 0–22 %, well below the overall 31 %"
    )


def test_a_segment_winning_far_more_than_the_rest_is_flagged_over() -> None:
    flag = win_rate_flag(won=9, closed=10, overall_rate=0.3)
    assert flag is not None
    assert flag.kind == FlagKind.OVER
    assert flag.interval.low == pytest.approx(0.5958, abs=1e-4)
    assert "well above the overall 30 %" in flag.sentence


def test_no_flag_when_the_interval_contains_the_overall_rate() -> None:
    assert win_rate_flag(won=7, closed=10, overall_rate=0.5) is None


def test_no_flag_below_the_minimum_number_of_deals() -> None:
    assert win_rate_flag(won=0, closed=9, overall_rate=0.5) is None
    assert win_rate_flag(won=0, closed=9, overall_rate=0.5, min_deals=5) is not None
    assert win_rate_flag(won=0, closed=0, overall_rate=0.5, min_deals=0) is None


def test_no_flag_without_an_overall_rate() -> None:
    assert win_rate_flag(won=0, closed=30, overall_rate=None) is None


def test_percent_is_localised() -> None:
    assert percent(0.3125) == "31 %"
    with translation.override("fr"):
        assert percent(0.5).startswith("50")


def test_the_gap_measures_how_far_the_interval_stays_from_the_overall_rate() -> None:
    under = win_rate_flag(won=0, closed=14, overall_rate=0.31)
    over = win_rate_flag(won=9, closed=10, overall_rate=0.3)
    assert under is not None and over is not None
    assert under.gap == pytest.approx(0.31 - 0.21531, abs=1e-4)
    assert over.gap == pytest.approx(0.59584 - 0.3, abs=1e-4)
