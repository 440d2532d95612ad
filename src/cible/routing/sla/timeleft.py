"""Time left before a due time, as a person reads it: "in 2 h 10", "late by 35 min". Pure."""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext as _


def duration_text(seconds: float) -> str:
    """35 min, 2 h 10, 3 d 4 h (rounded down to the minute; under a minute reads "0 min")."""
    minutes = int(abs(seconds) // 60)
    if minutes < 60:
        return _("%(minutes)d min") % {"minutes": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        if minutes == 0:
            return _("%(hours)d h") % {"hours": hours}
        return _("%(hours)d h %(minutes)02d") % {"hours": hours, "minutes": minutes}
    days, hours = divmod(hours, 24)
    if hours == 0:
        return _("%(days)d d") % {"days": days}
    return _("%(days)d d %(hours)d h") % {"days": days, "hours": hours}


def time_left(due: datetime, now: datetime) -> str:
    seconds = (due - now).total_seconds()
    if seconds >= 0:
        return _("in %(duration)s") % {"duration": duration_text(seconds)}
    return _("late by %(duration)s") % {"duration": duration_text(seconds)}
