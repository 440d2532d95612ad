"""Day boundaries shared by the SQL and the Python side of date conditions.

Rules name days ("before 2026-01-01", "in the last 30 days"). A date field compares with the day
itself; a datetime field with the first instant of that day in the current time zone (Europe/
Paris by default), so "created before 2026-01-01" means before midnight in Paris, whether the
database is asked or the record is tested in Python. "In the last N days" runs from the start of
the day N days ago to the end of today.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone


def day_start(kind: str, day: dt.date) -> dt.date | dt.datetime:
    if kind == "date":
        return day
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def today() -> dt.date:
    return timezone.localdate()


def last_days(kind: str, days: int) -> tuple[dt.date | dt.datetime, dt.date | dt.datetime]:
    """[start, end) of "in the last `days` days", today included."""
    current = today()
    return (
        day_start(kind, current - dt.timedelta(days=days)),
        day_start(kind, current + dt.timedelta(days=1)),
    )
