"""The period a performance figure covers: presets and a custom range, parsed from query params.

Pure: `today` is passed in, so the same parameters mean the same dates in a test, a page and
the API. Both ends are inclusive dates; a deal belongs to the period when it closed within it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cible.core.errors import FieldError, ValidationFailed

MAX_DAYS = 366 * 20  # a longer range is a typo, not an analysis


class Preset(StrEnum):
    THIS_YEAR = "this_year"
    LAST_12_MONTHS = "last_12_months"
    LAST_2_YEARS = "last_2_years"
    CUSTOM = "custom"


PRESET_LABELS = {
    Preset.THIS_YEAR: gettext_lazy("This year"),
    Preset.LAST_12_MONTHS: gettext_lazy("Last 12 months"),
    Preset.LAST_2_YEARS: gettext_lazy("Last 2 years"),
    Preset.CUSTOM: gettext_lazy("Custom dates"),
}
DEFAULT_PRESET = Preset.LAST_12_MONTHS


def _years_back(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date
    preset: Preset = Preset.CUSTOM

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ValueError(f"period starts {self.start} after it ends {self.end}")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def label(self) -> str:
        return str(PRESET_LABELS[self.preset])

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end

    def as_params(self) -> dict[str, str]:
        """The query parameters that give this period back through `period_from_params`."""
        if self.preset != Preset.CUSTOM:
            return {"period": self.preset.value}
        return {
            "period": Preset.CUSTOM.value,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
        }

    @classmethod
    def of(cls, preset: Preset, *, today: dt.date) -> Period:
        """A preset period ending today."""
        if preset == Preset.THIS_YEAR:
            return cls(dt.date(today.year, 1, 1), today, preset)
        if preset == Preset.LAST_12_MONTHS:
            return cls(_years_back(today, 1) + dt.timedelta(days=1), today, preset)
        if preset == Preset.LAST_2_YEARS:
            return cls(_years_back(today, 2) + dt.timedelta(days=1), today, preset)
        raise ValueError("a custom period needs its dates")


def _date(params: Mapping[str, Any], name: str, errors: list[FieldError]) -> dt.date | None:
    raw = str(params.get(name) or "").strip()
    if not raw:
        errors.append(FieldError(name, _("Give a date (YYYY-MM-DD).")))
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        errors.append(
            FieldError(name, _("“%(value)s” is not a date (YYYY-MM-DD).") % {"value": raw[:40]})
        )
        return None


def period_from_params(params: Mapping[str, Any], *, today: dt.date) -> Period:
    """`?period=this_year|last_12_months|last_2_years` or `?period=custom&start=…&end=…`
    (also accepted: `start`/`end` without `period`). Default: the last 12 months.
    Raises ValidationFailed naming the parameter at fault."""
    raw = str(params.get("period") or "").strip()
    if not raw:
        raw = Preset.CUSTOM.value if params.get("start") or params.get("end") else DEFAULT_PRESET
    try:
        preset = Preset(raw)
    except ValueError:
        choices = ", ".join(p.value for p in Preset)
        raise ValidationFailed(
            errors=[
                FieldError(
                    "period",
                    _("Unknown period “%(value)s”; choose one of %(choices)s.")
                    % {"value": raw[:40], "choices": choices},
                )
            ]
        ) from None
    if preset != Preset.CUSTOM:
        return Period.of(preset, today=today)
    errors: list[FieldError] = []
    start, end = _date(params, "start", errors), _date(params, "end", errors)
    if start is not None and end is not None:
        if start > end:
            errors.append(FieldError("end", _("The end date comes before the start date.")))
        elif (end - start).days >= MAX_DAYS:
            errors.append(FieldError("end", _("A period may cover at most 20 years.")))
    if errors:
        raise ValidationFailed(errors=errors)
    assert start is not None and end is not None
    return Period(start, end, Preset.CUSTOM)
