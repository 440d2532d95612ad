"""When a wait step lets a contact go on (pure: no database, unit-tested alone).

Three kinds of wait (issue 7 §5):
- a delay: so many days/hours after the contact reached the step;
- until a date: a fixed moment (already past: go on at once);
- until a weekly window: the next moment inside e.g. "Tuesday 09:00–11:00 Europe/Paris". A window
  is judged against the time of the run, not of arrival: a worker that was down during the
  window waits for the next one rather than send outside it.

Times are aware datetimes; results are UTC.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

UTC = dt.UTC
WEEKDAYS = 7


def parse_clock(text: str) -> dt.time:
    """ "09:30" → time(9, 30); ValueError on anything else."""
    hours, _sep, minutes = str(text).strip().partition(":")
    if not hours.isdigit() or not minutes.isdigit() or len(minutes) != 2:
        raise ValueError(text)
    return dt.time(int(hours), int(minutes))


def delay_wake(entered: dt.datetime, *, days: int = 0, hours: int = 0) -> dt.datetime:
    return (entered + dt.timedelta(days=days, hours=hours)).astimezone(UTC)


def in_window(
    moment: dt.datetime, *, weekdays: set[int], start: dt.time, end: dt.time, tz: str
) -> bool:
    local = moment.astimezone(ZoneInfo(tz))
    return local.weekday() in weekdays and start <= local.time().replace(tzinfo=None) < end


def next_window_start(
    moment: dt.datetime, *, weekdays: set[int], start: dt.time, end: dt.time, tz: str
) -> dt.datetime:
    """`moment` itself when it lies in a window, else the start of the next window (UTC)."""
    if in_window(moment, weekdays=weekdays, start=start, end=end, tz=tz):
        return moment.astimezone(UTC)
    zone = ZoneInfo(tz)
    local = moment.astimezone(zone)
    for offset in range(WEEKDAYS + 1):
        day = local.date() + dt.timedelta(days=offset)
        if day.weekday() not in weekdays:
            continue
        # Built from the wall clock, so a daylight-saving change keeps "09:00" at nine.
        opening = dt.datetime.combine(day, start, tzinfo=zone)
        if opening > local:
            return opening.astimezone(UTC)
    raise ValueError("a window needs at least one weekday")


def wake_time(config: dict, *, entered: dt.datetime, now: dt.datetime) -> dt.datetime:
    """The moment a contact at a wait step with `config` (already checked) goes on."""
    mode = config.get("mode")
    if mode == "delay":
        return delay_wake(
            entered, days=int(config.get("days") or 0), hours=int(config.get("hours") or 0)
        )
    if mode == "until":
        return dt.datetime.fromisoformat(config["until"]).astimezone(UTC)
    if mode == "window":
        return next_window_start(
            now,
            weekdays={int(d) for d in config["weekdays"]},
            start=parse_clock(config["start"]),
            end=parse_clock(config["end"]),
            tz=config.get("tz") or "Europe/Paris",
        )
    raise ValueError(f"unknown wait mode {mode!r}")
