"""Business-hours arithmetic (core.calendars): weekends, French public holidays, DST, starts
outside opening hours, and the round trip add → measure as a property."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cible.core.calendars import (
    Calendar,
    CalendarInvalid,
    add_business_time,
    business_time_between,
    parse_hours,
)

PARIS = ZoneInfo("Europe/Paris")
OFFICE = Calendar()  # Mon–Fri, 09:00–12:30 / 14:00–18:00, French holidays
MOSELLE = Calendar(subdivision="57")
H = timedelta(hours=1)


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


@pytest.mark.parametrize(
    ("start", "duration", "due"),
    [
        # Inside the morning range: plain addition.
        (paris(2026, 3, 10, 9, 30), 2 * H, paris(2026, 3, 10, 11, 30)),
        # Crosses the lunch break: 12:00 + 1 h = 14:30.
        (paris(2026, 3, 10, 12, 0), H, paris(2026, 3, 10, 14, 30)),
        # Friday 17:00 + 2 h → Monday 10:00 (the weekend does not count).
        (paris(2026, 3, 13, 17, 0), 2 * H, paris(2026, 3, 16, 10, 0)),
        # A start at night counts from the next opening.
        (paris(2026, 3, 10, 22, 0), H, paris(2026, 3, 11, 10, 0)),
        # Thursday 30 April 17:00 + 2 h: 1 May is a holiday, then the weekend → Monday 4 May 10:00.
        (paris(2026, 4, 30, 17, 0), 2 * H, paris(2026, 5, 4, 10, 0)),
        # Ascension (Thursday 14 May 2026) is skipped.
        (paris(2026, 5, 13, 17, 0), 2 * H, paris(2026, 5, 15, 10, 0)),
        # 14 July (a Tuesday in 2026).
        (paris(2026, 7, 13, 18, 0), 30 * timedelta(minutes=1), paris(2026, 7, 15, 9, 30)),
        # A full working day is 7 h 30: Monday 9:00 + 7 h 30 = Monday 18:00, not Tuesday.
        (paris(2026, 3, 9, 9, 0), 7.5 * H, paris(2026, 3, 9, 18, 0)),
        # Zero duration returns the start, even outside hours.
        (paris(2026, 3, 14, 3, 0), timedelta(0), paris(2026, 3, 14, 3, 0)),
    ],
)
def test_add_business_time(start: datetime, duration: timedelta, due: datetime) -> None:
    assert add_business_time(OFFICE, start, duration) == due
    assert add_business_time(OFFICE, start, duration).tzinfo == UTC


def test_dst_changes_keep_wall_clock_opening_hours() -> None:
    # Clocks go forward on Sunday 29 March 2026: Monday still opens at 09:00 Paris time,
    # which is 07:00 UTC instead of 08:00 the Friday before.
    due = add_business_time(OFFICE, paris(2026, 3, 27, 17, 30), H)
    assert due == paris(2026, 3, 30, 9, 30)
    assert due.hour == 7  # UTC
    # And back on Sunday 25 October: Friday 18:00 UTC+2 to Monday 09:00 UTC+1 is closed time.
    assert business_time_between(
        OFFICE, paris(2026, 10, 23, 18, 0), paris(2026, 10, 26, 9, 0)
    ) == timedelta(0)


def test_dst_on_a_working_day_counts_real_elapsed_time() -> None:
    # A calendar open round the clock on Sundays: the night clocks go forward lasts 23 hours.
    always = Calendar(working_days=frozenset(range(1, 8)), hours=((time(0), time.max),), country="")
    day = business_time_between(always, paris(2026, 3, 29, 0, 0), paris(2026, 3, 30, 0, 0))
    assert timedelta(hours=22, minutes=59) < day < timedelta(hours=23, seconds=1)


def test_moselle_adds_good_friday_and_saint_stephen() -> None:
    thursday = paris(2026, 4, 2, 17, 0)  # Good Friday is 3 April 2026
    assert add_business_time(OFFICE, thursday, 2 * H) == paris(2026, 4, 3, 10, 0)
    # Easter Monday (6 April) is a holiday everywhere in France.
    assert add_business_time(MOSELLE, thursday, 2 * H) == paris(2026, 4, 7, 10, 0)


def test_between_is_signed_and_counts_only_open_time() -> None:
    a, b = paris(2026, 3, 13, 17, 0), paris(2026, 3, 16, 10, 0)  # Friday → Monday
    assert business_time_between(OFFICE, a, b) == 2 * H
    assert business_time_between(OFFICE, b, a) == -2 * H


def test_bad_calendars_say_what_is_wrong() -> None:
    with pytest.raises(CalendarInvalid, match="Unknown time zone"):
        Calendar(time_zone="Europe/Atlantis")
    with pytest.raises(CalendarInvalid, match="ends before it starts"):
        Calendar(hours=((time(18), time(9)),))
    with pytest.raises(CalendarInvalid, match="overlap"):
        Calendar(hours=((time(9), time(13)), (time(12), time(18))))
    with pytest.raises(CalendarInvalid, match="FR has no region 99") as bad_region:
        Calendar(subdivision="99")
    assert bad_region.value.part == "subdivision"
    with pytest.raises(CalendarInvalid, match="No public holidays known for country XX"):
        Calendar(country="XX")
    with pytest.raises(CalendarInvalid, match="not a range"):
        parse_hours("9h-12h")
    assert parse_hours("08:30-12:00, 13:30 – 17:00") == (
        (time(8, 30), time(12)),
        (time(13, 30), time(17)),
    )
    with pytest.raises(ValueError, match="aware"):
        add_business_time(OFFICE, datetime(2026, 3, 10, 9), H)


instants = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)


@settings(max_examples=300, deadline=None)
@given(start=instants, minutes=st.integers(min_value=0, max_value=60 * 200))
def test_adding_then_measuring_gives_back_the_duration(start: datetime, minutes: int) -> None:
    duration = timedelta(minutes=minutes)
    for calendar in (OFFICE, MOSELLE):
        due = add_business_time(calendar, start, duration)
        assert due >= start
        assert business_time_between(calendar, start, due) == duration


@settings(max_examples=200, deadline=None)
@given(a=instants, b=instants)
def test_measuring_then_adding_lands_no_later(a: datetime, b: datetime) -> None:
    a, b = min(a, b), max(a, b)
    worked = business_time_between(OFFICE, a, b)
    landed = add_business_time(OFFICE, a, worked)
    # Same working time; `b` may lie in closed time after `landed`, never before it.
    assert landed <= b
    assert business_time_between(OFFICE, landed, b) == timedelta(0)
