"""A program's shape and its waits, without a database (graph.py, schedule.py)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from cible.nurture.programs import graph, schedule
from cible.nurture.programs.graph import Node

PARIS = ZoneInfo("Europe/Paris")


def messages(nodes: list[Node], entry: int | None = 1, program: int = 9) -> list[str]:
    return [p.message for p in graph.check(nodes, entry=entry, program_id=program)]


def test_a_sound_program_has_no_problem_and_depths_follow_the_longest_path() -> None:
    nodes = [
        Node(1, "send_email", "“Guide”", next=2),
        Node(2, "branch", "“Opened?”", yes=3, no=4),
        Node(3, "create_task", "“Call”", next=4),
        Node(4, "exit", "“End”"),
    ]
    assert messages(nodes) == []
    assert graph.depths({n.id: n for n in nodes}, 1) == {1: 0, 2: 1, 3: 2, 4: 3}


def test_each_problem_names_its_step() -> None:
    nodes = [
        Node(1, "send_email", "“Guide”", next=2),
        Node(2, "wait", "“Three days”", next=3),
        Node(3, "branch", "“Opened?”", yes=1),  # back to the start, and no "no" side
        Node(4, "enrol_program", "“Again”", config={"program": 9}),  # unreachable, and itself
    ]
    assert messages(nodes) == [
        "“Opened?” leads back to “Guide”: an endless loop.",
        "“Opened?” has no step for its “no” answer.",
        "“Again” cannot be reached from the first step.",
        "“Again” enrols contacts into this same program.",
    ]
    assert messages([], entry=None) == ["The program has no steps yet."]
    assert messages([Node(1, "exit", "“End”")], entry=None) == ["Choose the program's first step."]


def test_waits_by_delay_date_and_weekly_window_across_daylight_saving() -> None:
    entered = dt.datetime(2026, 3, 27, 10, 0, tzinfo=dt.UTC)
    assert schedule.wake_time(
        {"mode": "delay", "days": 2, "hours": 3}, entered=entered, now=entered
    ) == dt.datetime(2026, 3, 29, 13, 0, tzinfo=dt.UTC)
    until = {"mode": "until", "until": "2026-04-01T07:30:00+00:00"}
    assert schedule.wake_time(until, entered=entered, now=entered) == dt.datetime(
        2026, 4, 1, 7, 30, tzinfo=dt.UTC
    )
    tuesday = {
        "mode": "window",
        "weekdays": [1],
        "start": "09:00",
        "end": "11:00",
        "tz": "Europe/Paris",
    }
    # Friday 27 March (winter time) → Tuesday 31 March at 09:00 summer time, i.e. 07:00 UTC.
    wake = schedule.wake_time(tuesday, entered=entered, now=entered)
    assert wake == dt.datetime(2026, 3, 31, 7, 0, tzinfo=dt.UTC)
    assert wake.astimezone(PARIS).hour == 9
    inside = dt.datetime(2026, 3, 31, 10, 30, tzinfo=PARIS)
    assert schedule.wake_time(tuesday, entered=entered, now=inside) == inside.astimezone(dt.UTC)
    after = dt.datetime(2026, 3, 31, 11, 0, tzinfo=PARIS)  # the window closed: next Tuesday
    assert schedule.wake_time(tuesday, entered=entered, now=after).date() == dt.date(2026, 4, 7)
