"""Periods from query parameters: presets end today, custom ranges are checked."""

from __future__ import annotations

import datetime as dt

import pytest

from cible.core.errors import ValidationFailed
from cible.insights.performance.periods import Period, Preset, period_from_params

TODAY = dt.date(2026, 11, 26)


def test_presets_end_today() -> None:
    assert period_from_params({"period": "this_year"}, today=TODAY) == Period(
        dt.date(2026, 1, 1), TODAY, Preset.THIS_YEAR
    )
    assert period_from_params({"period": "last_12_months"}, today=TODAY) == Period(
        dt.date(2025, 11, 27), TODAY, Preset.LAST_12_MONTHS
    )
    last_two = period_from_params({"period": "last_2_years"}, today=TODAY)
    assert (last_two.start, last_two.end, last_two.days) == (dt.date(2024, 11, 27), TODAY, 730)


def test_default_is_the_last_12_months() -> None:
    assert period_from_params({}, today=TODAY).preset == Preset.LAST_12_MONTHS


def test_a_leap_day_goes_back_to_the_28th() -> None:
    period = Period.of(Preset.LAST_12_MONTHS, today=dt.date(2028, 2, 29))
    assert period.start == dt.date(2027, 3, 1)


def test_custom_range_and_its_params_round_trip() -> None:
    params = {"period": "custom", "start": "2025-01-01", "end": "2025-06-30"}
    period = period_from_params(params, today=TODAY)
    assert (period.start, period.end, period.preset) == (
        dt.date(2025, 1, 1),
        dt.date(2025, 6, 30),
        Preset.CUSTOM,
    )
    assert period_from_params(period.as_params(), today=TODAY) == period
    assert period.contains(dt.date(2025, 6, 30)) and not period.contains(dt.date(2025, 7, 1))
    preset = Period.of(Preset.THIS_YEAR, today=TODAY)
    assert period_from_params(preset.as_params(), today=TODAY) == preset


def test_dates_without_period_mean_custom() -> None:
    period = period_from_params({"start": "2025-01-01", "end": "2025-01-31"}, today=TODAY)
    assert period.preset == Preset.CUSTOM and period.days == 31


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"period": "forever"}, "period", "Unknown period “forever”"),
        ({"period": "custom", "end": "2025-01-01"}, "start", "Give a date"),
        ({"period": "custom", "start": "2025-13-01", "end": "2025-01-01"}, "start", "not a date"),
        ({"start": "2025-02-01", "end": "2025-01-01"}, "end", "comes before"),
        ({"start": "1900-01-01", "end": "2025-01-01"}, "end", "at most 20 years"),
    ],
)
def test_bad_params_name_the_parameter(params: dict[str, str], field: str, message: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        period_from_params(params, today=TODAY)
    assert caught.value.errors[0].field == field
    assert message in caught.value.errors[0].message
