"""The settings of each kind of step: cleaned when a step is saved, checked before a program runs.

`clean_config` refuses malformed values at once (a word where a number goes, an unknown choice, a
template or program that does not exist). A step may be saved unfinished while the program is a
draft: `unfinished` lists what is still missing (a send step without a template, a wait without
a duration …), and the program cannot be activated until the list is empty (validation.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cible.core import values
from cible.core.calendars import DAY_NAMES
from cible.core.errors import FieldError
from cible.core.normalisers import NormalisationError
from cible.engagement.tasks.models import TaskKind
from cible.lifecycle.leads.models import RecycleReason, Stage
from cible.nurture.mailing.models import EmailTemplate
from cible.nurture.programs import schedule
from cible.nurture.programs.models import NurtureProgram, StepKind
from cible.segments.axes.models import Segment

WAIT_MODES = (
    ("delay", gettext_lazy("for a while")),
    ("until", gettext_lazy("until a date")),
    ("window", gettext_lazy("until a weekly time window")),
)
CONDITIONS = (
    ("opened", gettext_lazy("opened an email of this program")),
    ("clicked", gettext_lazy("clicked in an email of this program")),
    ("replied", gettext_lazy("replied since enrolment")),
    ("visited", gettext_lazy("visited the website since enrolment")),
    ("score", gettext_lazy("lead score at least")),
    ("segment", gettext_lazy("organisation in a segment")),
)
SCORES = (
    ("engagement", gettext_lazy("engagement score")),
    ("profile", gettext_lazy("profile score")),
)
ASSIGNEES = (
    ("owner", gettext_lazy("the lead's or contact's owner")),
    ("user", gettext_lazy("a named person")),
)
# Where a program may move a lead: back onto the road, or aside (issue 7 §5, seed 004 §5).
STAGES = (Stage.PROSPECT, Stage.MQL, Stage.RECYCLED)
MAX_DAYS = 3650


class _Cleaner:
    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = raw
        self.errors: list[FieldError] = []

    def _try(self, parse: Callable[[], Any]) -> Any:
        try:
            return parse()
        except NormalisationError as error:
            self.errors.append(FieldError(error.field, error.message))
            return None

    def number(self, name: str, *, maximum: int = 2**31 - 1) -> int | None:
        return self._try(
            lambda: values.whole_number(self.raw.get(name), field=name, maximum=maximum)
        )

    def choice(self, name: str, choices: Any, default: str = "") -> str:
        found = self._try(lambda: values.choice(self.raw.get(name), field=name, choices=choices))
        return found or default

    def text(self, name: str, limit: int) -> str:
        text = str(self.raw.get(name) or "").strip()
        if "\x00" in text:
            self.errors.append(FieldError(name, _("must not contain NUL characters")))
            return ""
        if len(text) > limit:
            self.errors.append(FieldError(name, _("at most %(n)s characters") % {"n": limit}))
        return text[:limit]

    def reference(self, name: str, model: Any, what: str) -> int | None:
        pk = self.number(name)
        if pk is not None and not model.objects.filter(pk=pk).exists():
            self.errors.append(
                FieldError(name, _("no %(what)s #%(id)s") % {"what": what, "id": pk})
            )
            return None
        return pk


def _clean_wait(c: _Cleaner) -> dict[str, Any]:
    mode = c.choice("mode", WAIT_MODES, "delay")
    config: dict[str, Any] = {"mode": mode}
    if mode == "delay":
        config["days"] = c.number("days", maximum=MAX_DAYS) or 0
        config["hours"] = c.number("hours", maximum=24 * 31) or 0
    elif mode == "until":
        config["until"] = _clean_until(c)
    else:
        config.update(_clean_window(c))
    return config


def _clean_until(c: _Cleaner) -> str:
    raw = c.raw.get("until")
    moment = c._try(lambda: values.moment(raw, field="until")) if raw else None
    if moment is None:
        return ""
    if isinstance(raw, str) and "+" not in raw[10:] and not raw.endswith("Z"):
        # A date typed in a form is wall-clock time where the team works, not UTC.
        moment = moment.replace(tzinfo=ZoneInfo(settings.TIME_ZONE))
    return str(moment.astimezone(dt.UTC).isoformat())


def _clean_window(c: _Cleaner) -> dict[str, Any]:
    raw_days = c.raw.get("weekdays") or []
    if isinstance(raw_days, str | int):
        raw_days = [d for d in str(raw_days).replace(" ", "").split(",") if d]
    if not isinstance(raw_days, list | tuple):
        raw_days = [raw_days]
    days: list[int] = []
    for raw in raw_days:
        if values.is_id(raw) and int(raw) < 7:
            days.append(int(raw))
        else:
            c.errors.append(FieldError("weekdays", _("days are numbered 0 (Monday) to 6")))
            break
    window: dict[str, Any] = {"weekdays": sorted(set(days))}
    for name in ("start", "end"):
        text = str(c.raw.get(name) or "").strip()
        try:
            window[name] = schedule.parse_clock(text).strftime("%H:%M") if text else ""
        except ValueError:
            c.errors.append(
                FieldError(name, _("“%(value)s” is not a time (HH:MM)") % {"value": text[:20]})
            )
            window[name] = ""
    tz = str(c.raw.get("tz") or settings.TIME_ZONE).strip()
    try:
        if len(tz) > 64:
            raise ValueError(tz)
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        c.errors.append(FieldError("tz", _("“%(value)s” is not a time zone") % {"value": tz[:40]}))
        tz = settings.TIME_ZONE
    window["tz"] = tz
    if window["start"] and window["end"] and window["start"] >= window["end"]:
        c.errors.append(FieldError("end", _("must be after the start of the window")))
    return window


def _clean_task(c: _Cleaner) -> dict[str, Any]:
    return {
        "assign_to": c.choice("assign_to", ASSIGNEES, "owner"),
        "user": c.reference("user", get_user_model(), _("user")),
        "title": c.text("title", 200),
        "note": c.text("note", 2000),
        "kind": c.choice("kind", TaskKind.choices, TaskKind.FOLLOW_UP),
        "due_days": c.number("due_days", maximum=MAX_DAYS) or 0,
    }


def _clean_branch(c: _Cleaner) -> dict[str, Any]:
    condition = c.choice("condition", CONDITIONS, "opened")
    config: dict[str, Any] = {"condition": condition}
    if condition in ("opened", "clicked"):
        config["email_step"] = c.number("email_step")
    elif condition == "score":
        config["score"] = c.choice("score", SCORES, "engagement")
        config["threshold"] = c.number("threshold", maximum=100)
    elif condition == "segment":
        config["segment"] = c.reference("segment", Segment, _("segment"))
    return config


def _clean_stage(c: _Cleaner) -> dict[str, Any]:
    choices = [(s.value, s.label) for s in STAGES]
    stage = c.choice("stage", choices)
    config: dict[str, Any] = {"stage": stage, "note": c.text("note", 1000)}
    if stage == Stage.RECYCLED:
        config["reason"] = c.choice("reason", RecycleReason.choices, RecycleReason.NOT_READY)
        config["requalify_days"] = c.number("requalify_days", maximum=MAX_DAYS) or 90
    return config


CLEANERS: dict[str, Callable[[_Cleaner], dict[str, Any]]] = {
    StepKind.SEND_EMAIL: lambda c: {
        "template": c.reference("template", EmailTemplate, _("email template"))
    },
    StepKind.WAIT: _clean_wait,
    StepKind.CREATE_TASK: _clean_task,
    StepKind.BRANCH: _clean_branch,
    StepKind.CHANGE_STAGE: _clean_stage,
    StepKind.ENROL_PROGRAM: lambda c: {
        "program": c.reference("program", NurtureProgram, _("program"))
    },
    StepKind.EXIT: lambda c: {},
}


def clean_config(
    kind: str, raw: Mapping[str, Any] | None
) -> tuple[dict[str, Any], list[FieldError]]:
    """The settings of a `kind` step from `raw` (a form's or the API's), and what is malformed."""
    cleaner = _Cleaner(raw or {})
    config = CLEANERS[kind](cleaner)
    return config, cleaner.errors


# --- what a step still lacks before its program may run -----------------------------------------


def _template_problems(config: Mapping[str, Any]) -> list[str]:
    from cible.nurture.mailing import templating

    template = EmailTemplate.objects.filter(pk=config.get("template") or 0).first()
    if template is None:
        return [_("has no email template")]
    if not template.languages():
        return [_("uses template “%(name)s”, which is empty") % {"name": template.name}]
    problems = []
    for field in ("subject_fr", "body_fr", "subject_en", "body_en"):
        for error in templating.check(getattr(template, field), field=field):
            problems.append(
                _("uses template “%(name)s”, whose %(field)s has an error: %(error)s")
                % {"name": template.name, "field": field, "error": error.message}
            )
    return problems


def unfinished(
    kind: str, config: Mapping[str, Any], *, now: dt.datetime | None = None
) -> list[str]:
    """What a saved step still lacks, each as the end of a sentence naming the step."""
    if kind == StepKind.SEND_EMAIL:
        return _template_problems(config)
    if kind == StepKind.WAIT:
        mode = config.get("mode")
        if mode == "delay" and not (config.get("days") or config.get("hours")):
            return [_("waits for no time: give days or hours")]
        if mode == "until" and not config.get("until"):
            return [_("waits until no date: give one")]
        if mode == "window" and not (
            config.get("weekdays") and config.get("start") and config.get("end")
        ):
            return [_("waits for a window without days or hours: give both")]
        return []
    if kind == StepKind.CREATE_TASK:
        problems = []
        if not config.get("title"):
            problems.append(_("creates a task without a title"))
        if config.get("assign_to") == "user" and not config.get("user"):
            problems.append(_("assigns its task to nobody: choose a person"))
        return problems
    if kind == StepKind.BRANCH:
        condition = config.get("condition")
        if condition == "score" and config.get("threshold") is None:
            return [_("compares the score with no threshold")]
        if (
            condition == "segment"
            and not Segment.objects.filter(pk=config.get("segment") or 0).exists()
        ):
            return [_("has no segment to test")]
        return []
    if kind == StepKind.CHANGE_STAGE and not config.get("stage"):
        return [_("moves the lead to no stage")]
    if kind == StepKind.ENROL_PROGRAM:
        target = NurtureProgram.objects.filter(pk=config.get("program") or 0).first()
        if target is None:
            return [_("enrols into no program")]
        if target.status == "archived":
            return [_("enrols into “%(name)s”, which is archived") % {"name": target.name}]
    return []


def describe(kind: str, config: Mapping[str, Any], names: Mapping[str, Mapping[int, str]]) -> str:
    """One line saying what a step does, for the editor and the graph (`names` maps ids to
    names by kind: templates, programs, users, segments, steps)."""

    def name(group: str, pk: Any) -> str:
        return names.get(group, {}).get(int(pk), f"#{pk}") if pk else "—"

    if kind == StepKind.SEND_EMAIL:
        return _("Send “%(template)s”") % {"template": name("templates", config.get("template"))}
    if kind == StepKind.WAIT:
        mode = config.get("mode")
        if mode == "delay":
            return _("Wait %(days)s d %(hours)s h") % {
                "days": config.get("days") or 0,
                "hours": config.get("hours") or 0,
            }
        if mode == "until":
            moment = config.get("until")
            shown = (
                timezone.localtime(dt.datetime.fromisoformat(moment)).strftime("%Y-%m-%d %H:%M")
                if moment
                else "—"
            )
            return _("Wait until %(moment)s") % {"moment": shown}
        days = ", ".join(str(DAY_NAMES[d]) for d in config.get("weekdays") or [])
        return _("Wait for %(days)s %(start)s–%(end)s %(tz)s") % {
            "days": days or "—",
            "start": config.get("start") or "?",
            "end": config.get("end") or "?",
            "tz": config.get("tz") or "",
        }
    if kind == StepKind.CREATE_TASK:
        who = (
            name("users", config.get("user"))
            if config.get("assign_to") == "user"
            else _("the owner")
        )
        return _("Task for %(who)s: %(title)s") % {"who": who, "title": config.get("title") or "—"}
    if kind == StepKind.BRANCH:
        condition = config.get("condition")
        label = str(dict(CONDITIONS).get(str(condition), condition))
        if condition == "score":
            return _("If %(score)s ≥ %(threshold)s") % {
                "score": dict(SCORES).get(str(config.get("score")), ""),
                "threshold": config.get("threshold"),
            }
        if condition == "segment":
            return _("If in segment “%(segment)s”") % {
                "segment": name("segments", config.get("segment"))
            }
        if condition in ("opened", "clicked") and config.get("email_step"):
            return _("If %(condition)s (%(step)s)") % {
                "condition": label,
                "step": name("steps", config.get("email_step")),
            }
        return _("If %(condition)s") % {"condition": label}
    if kind == StepKind.CHANGE_STAGE:
        stage = config.get("stage")
        return _("Move the lead to %(stage)s") % {
            "stage": Stage(stage).label if stage in Stage.values else "—"
        }
    if kind == StepKind.ENROL_PROGRAM:
        return _("Enrol in “%(program)s”") % {"program": name("programs", config.get("program"))}
    return _("Exit the program")
