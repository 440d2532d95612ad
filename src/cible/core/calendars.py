"""Business-hours arithmetic: when does a promise of N working hours fall due, and how much working
time lies between two instants. Pure functions, no database (STYLE.md).

Working time is counted in real elapsed time inside each opening range, computed on aware local
datetimes then compared in absolute time, so a day on which clocks go forward or back counts what
was actually worked. Public holidays come from the `holidays` library (country + subdivision, e.g.
FR and "57" for Moselle, which adds Good Friday and 26 December).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_lib
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# A promise longer than this many calendar days is a mistake, not a service level.
MAX_SPAN_DAYS = 3660
_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–]\s*(\d{1,2}):(\d{2})\s*$")

Hours = tuple[tuple[time, time], ...]

# The days of the week in the user's language, Monday first: index `date.weekday()` (0–6, how
# nurture waits and mail send windows store them) or ISO weekday − 1 (1–7, business calendars).
DAY_NAMES = (
    gettext_lazy("Monday"),
    gettext_lazy("Tuesday"),
    gettext_lazy("Wednesday"),
    gettext_lazy("Thursday"),
    gettext_lazy("Friday"),
    gettext_lazy("Saturday"),
    gettext_lazy("Sunday"),
)


class CalendarInvalid(ValueError):
    """A calendar that cannot be worked with; the message names the problem, `part` the field
    of `Calendar` at fault (time_zone, working_days, hours, country, subdivision)."""

    def __init__(self, message: str, part: str = "hours") -> None:
        super().__init__(message)
        self.part = part


@dataclass(frozen=True)
class Calendar:
    time_zone: str = "Europe/Paris"
    working_days: frozenset[int] = frozenset({1, 2, 3, 4, 5})  # ISO weekdays, Monday = 1
    hours: Hours = ((time(9), time(12, 30)), (time(14), time(18)))
    country: str = "FR"
    subdivision: str = ""
    zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            zone = ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise CalendarInvalid(
                _("Unknown time zone: %(zone)s") % {"zone": self.time_zone}, "time_zone"
            ) from exc
        object.__setattr__(self, "zone", zone)
        if not self.working_days or not self.working_days <= set(range(1, 8)):
            raise CalendarInvalid(
                _("Working days are digits 1 (Monday) to 7 (Sunday)."), "working_days"
            )
        if not self.hours:
            raise CalendarInvalid(_("At least one opening range is needed."))
        previous_end: time | None = None
        for start, end in self.hours:
            if end <= start:
                raise CalendarInvalid(
                    f"Opening range {start:%H:%M}-{end:%H:%M} ends before it starts."
                )
            if previous_end is not None and start < previous_end:
                raise CalendarInvalid("Opening ranges must be in order and must not overlap.")
            previous_end = end
        if self.country:
            _holidays(self.country, self.subdivision, 2000)  # raises on an unknown country

    def is_holiday(self, day: date) -> bool:
        return bool(self.country) and day in _holidays(self.country, self.subdivision, day.year)

    def is_working_day(self, day: date) -> bool:
        return day.isoweekday() in self.working_days and not self.is_holiday(day)


@lru_cache(maxsize=256)
def _holidays(country: str, subdivision: str, year: int) -> frozenset[date]:
    if country not in holidays_lib.list_supported_countries():
        raise CalendarInvalid(
            _("No public holidays known for country %(country)s.") % {"country": country}, "country"
        )
    try:
        found = holidays_lib.country_holidays(country, subdiv=subdivision or None, years=year)
    except NotImplementedError as exc:  # how `holidays` says it does not know the subdivision
        raise CalendarInvalid(
            _("%(country)s has no region %(region)s.")
            % {"country": country, "region": subdivision},
            "subdivision",
        ) from exc
    return frozenset(found.keys())


def parse_hours(text: str) -> Hours:
    """ "09:00-12:30, 14:00-18:00" → ((09:00, 12:30), (14:00, 18:00)); CalendarInvalid if wrong."""
    ranges: list[tuple[time, time]] = []
    for part in text.split(","):
        match = _RANGE.match(part)
        if not match:
            raise CalendarInvalid(
                _("“%(text)s” is not a range like 09:00-12:30.") % {"text": part.strip()}
            )
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
            raise CalendarInvalid(
                _("“%(text)s” is not a valid time range.") % {"text": part.strip()}
            )
        end = time.max if h2 == 24 else time(h2, m2)
        ranges.append((time(h1, m1), end))
    return tuple(ranges)


def parse_days(text: str) -> frozenset[int]:
    """ "12345" → {1, 2, 3, 4, 5} (ISO weekdays)."""
    if not text or not text.isdigit():
        raise CalendarInvalid(
            _("Working days are digits 1 (Monday) to 7 (Sunday)."), "working_days"
        )
    return frozenset(int(c) for c in text)


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("Business-time arithmetic needs aware datetimes.")
    return value


def _intervals(calendar: Calendar, start: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Working intervals (UTC, in order) from the local day of `start` onwards."""
    day = start.astimezone(calendar.zone).date()
    for _day in range(MAX_SPAN_DAYS):
        if calendar.is_working_day(day):
            for opens, closes in calendar.hours:
                # Wall-clock times resolved in the zone (fold 0 on an ambiguous hour).
                a = datetime.combine(day, opens, tzinfo=calendar.zone).astimezone(UTC)
                b = datetime.combine(day, closes, tzinfo=calendar.zone).astimezone(UTC)
                if b > a:
                    yield a, b
        day += timedelta(days=1)
    raise CalendarInvalid(_("No working time within %(days)d days.") % {"days": MAX_SPAN_DAYS})


def add_business_time(calendar: Calendar, start: datetime, duration: timedelta) -> datetime:
    """The instant at which `duration` of working time has elapsed after `start` (UTC).

    A start outside opening hours counts from the next opening; zero duration returns `start`.
    """
    start = _aware(start).astimezone(UTC)
    if duration < timedelta(0):
        raise ValueError("The duration must not be negative.")
    if duration == timedelta(0):
        return start
    remaining = duration
    for opens, closes in _intervals(calendar, start):
        if closes <= start:
            continue
        begin = max(opens, start)
        available = closes - begin
        if remaining <= available:
            return begin + remaining
        remaining -= available
    raise AssertionError("unreachable: _intervals raises first")  # pragma: no cover


def business_time_between(calendar: Calendar, a: datetime, b: datetime) -> timedelta:
    """Working time between `a` and `b`; negative when `b` is before `a`."""
    a = _aware(a).astimezone(UTC)
    b = _aware(b).astimezone(UTC)
    if b < a:
        return -business_time_between(calendar, b, a)
    total = timedelta(0)
    for opens, closes in _intervals(calendar, a):
        if opens >= b:
            break
        begin, end = max(opens, a), min(closes, b)
        if end > begin:
            total += end - begin
    return total


def add_time(
    calendar: Calendar | None, start: datetime, duration: timedelta, *, business: bool
) -> datetime:
    """`start + duration` in business hours of `calendar` or in plain clock hours."""
    if business and calendar is not None:
        return add_business_time(calendar, start, duration)
    return _aware(start).astimezone(UTC) + duration
