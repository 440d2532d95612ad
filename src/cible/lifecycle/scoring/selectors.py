"""Reads of scoring models, their figures, runs and previews, through the viewer's access rights.

A model's rules are not secret (Sales should understand why a lead is hot), so every signed-in
user reads models; the figures count only the leads the viewer may see (`core.access`), each in
a fixed number of queries whatever the size of the base.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db.models import Case, Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery, When
from django.db.models import Value as V
from django.db.models.functions import Least
from django.utils import timezone
from django.utils.translation import gettext as _

from cible.core import access
from cible.core.errors import NotFound, ValidationFailed
from cible.engagement.interactions.models import InteractionKind
from cible.lifecycle.leads.models import FINAL, Authority, Budget, Lead, Need, Timing
from cible.lifecycle.scoring.definition import (
    BANT_CHOICES,
    ENGAGEMENT_DIGITS,
    PROFILE_LETTERS,
    Rules,
    parse,
)
from cible.lifecycle.scoring.engine import score
from cible.lifecycle.scoring.gather import gather
from cible.lifecycle.scoring.models import LeadScore, RescoringRun, RunStatus, ScoringModel
from cible.people.models import Source
from cible.segments.axes.models import Segment
from cible.segments.profiles.models import IdealCustomerProfile, Persona

BANT_VALUES: dict[str, Any] = {
    "budget": Budget,
    "authority": Authority,
    "need": Need,
    "timing": Timing,
}
RUNS_SHOWN = 10
BINS = 10  # histograms by band of 10 points; 100 joins the top band


def bant_title(name: str) -> str:
    titles = {
        "budget": _("Budget"),
        "authority": _("Authority"),
        "need": _("Need"),
        "timing": _("Timing"),
    }
    return titles[name]


def _not_found() -> NotFound:
    return NotFound(_("Not found, or not visible to you."))


# --- models -------------------------------------------------------------------------------------


def model_list(*, viewer: Any) -> list[ScoringModel]:
    """Every model, the active one first, each with its last run as `last_run` (two queries)."""
    if access.role_of(viewer) is None:
        return []
    latest = RescoringRun.objects.filter(model=OuterRef("pk")).order_by("-started_at", "-pk")
    models: list[ScoringModel] = list(
        ScoringModel.objects.annotate(last_run_id=Subquery(latest.values("pk")[:1])).order_by(
            "-is_active", "name", "pk"
        )
    )
    wanted = [m.last_run_id for m in models if m.last_run_id]  # type: ignore[attr-defined]
    runs = RescoringRun.objects.in_bulk(wanted) if wanted else {}
    for model in models:
        model.last_run = runs.get(model.last_run_id)  # type: ignore[attr-defined]
    return models


def model_get(*, viewer: Any, pk: Any) -> ScoringModel:
    if access.role_of(viewer) is None:
        raise _not_found()
    try:
        return ScoringModel.objects.get(pk=int(pk))
    except (ScoringModel.DoesNotExist, ValueError, TypeError, OverflowError):
        raise _not_found() from None


def active_model() -> ScoringModel | None:
    return ScoringModel.objects.filter(is_active=True).first()


def model_runs(*, model: ScoringModel, limit: int = RUNS_SHOWN) -> list[RescoringRun]:
    """The latest runs of `model`, newest first."""
    return list(model.runs.order_by("-started_at", "-pk")[:limit])


def runs_queryset(*, model: ScoringModel) -> QuerySet[RescoringRun]:
    return model.runs.order_by("-started_at", "-id")


def run_percent(run: RescoringRun) -> int:
    if run.status != RunStatus.RUNNING:
        return 100
    return int(100 * run.steps_done / run.steps_total) if run.steps_total else 0


# --- figures ------------------------------------------------------------------------------------


@dataclass
class Figures:
    """What a model's scores look like over the live leads the viewer may see."""

    live: int  # live leads the viewer may see
    scored: int  # … carrying this model's scores (any version)
    stale: int  # … carrying the scores of an older version of it
    others: int  # … carrying another model's scores
    matrix: list[list[int]]  # [profile letter][engagement digit], A–C × 1–3
    profile_bins: list[int]  # leads per band of 10 points: 0–9 … 90–100
    engagement_bins: list[int]

    @property
    def matrix_max(self) -> int:
        return max((max(row) for row in self.matrix), default=0)

    @property
    def current(self) -> int:
        return self.scored - self.stale


def lead_figures(*, viewer: Any, model: ScoringModel) -> Figures:
    """The 3×3 grade matrix, the profile and engagement histograms and the stale count of the
    live leads the viewer may see: two queries, the second a grouped count of at most 1,800
    rows (3 states × 9 grades × 10 × 10 bands) whatever the number of leads."""
    leads = access.visible(viewer, Lead.objects.exclude(stage__in=FINAL))
    live = leads.count()
    state = Case(
        When(~Q(model_id=model.pk), then=V(2)),
        When(~Q(model_version=model.version), then=V(1)),
        default=V(0),
        output_field=IntegerField(),
    )
    # Integer columns divide as integers on SQLite and PostgreSQL alike.
    grouped = (
        LeadScore.objects.filter(lead__in=leads.values("pk"))
        .annotate(
            state=state,
            profile_bin=Least(F("lead__profile_score") / BINS, V(BINS - 1)),
            engagement_bin=Least(F("lead__engagement_score") / BINS, V(BINS - 1)),
        )
        .values_list("state", "lead__grade", "profile_bin", "engagement_bin")
        .annotate(n=Count("pk"))
        .order_by()
    )
    matrix = np.zeros((len(PROFILE_LETTERS), len(ENGAGEMENT_DIGITS)), dtype=np.int64)
    profile_bins = np.zeros(BINS, dtype=np.int64)
    engagement_bins = np.zeros(BINS, dtype=np.int64)
    counts = [0, 0, 0]
    for kind, grade, profile_bin, engagement_bin, n in grouped:
        counts[kind] += n
        if kind == 2:
            continue  # another model's figures say nothing of this one
        if len(grade or "") == 2 and grade[0] in PROFILE_LETTERS and grade[1] in ENGAGEMENT_DIGITS:
            matrix[PROFILE_LETTERS.index(grade[0]), ENGAGEMENT_DIGITS.index(grade[1])] += n
        if profile_bin is not None:
            profile_bins[int(profile_bin)] += n
        if engagement_bin is not None:
            engagement_bins[int(engagement_bin)] += n
    return Figures(
        live=live,
        scored=counts[0] + counts[1],
        stale=counts[1],
        others=counts[2],
        matrix=matrix.tolist(),
        profile_bins=profile_bins.tolist(),
        engagement_bins=engagement_bins.tolist(),
    )


def matrix_cells(figures: Figures) -> list[dict[str, Any]]:
    """The grade matrix as table rows, each cell shaded by its share of the fullest cell."""
    top = figures.matrix_max or 1
    return [
        {
            "letter": letter,
            "cells": [
                {
                    "grade": letter + digit,
                    "count": count,
                    "shade": round(0.08 + 0.82 * count / top, 2) if count else 0,
                    "dark": count / top > 0.55,
                }
                for digit, count in zip(ENGAGEMENT_DIGITS, row, strict=True)
            ],
        }
        for letter, row in zip(PROFILE_LETTERS, figures.matrix, strict=True)
    ]


def bin_labels() -> list[str]:
    return [f"{low}–{low + 9}" if low < 90 else "90–100" for low in range(0, 100, 10)]


# --- the rules in words -------------------------------------------------------------------------


@dataclass
class Line:
    text: str
    points: float | None = None
    note: str = ""


@dataclass
class Section:
    key: str
    title: str
    lines: list[Line] = field(default_factory=list)


@dataclass
class Names:
    """The names a definition refers to by id, read in three queries."""

    icp: dict[int, str]
    personas: dict[int, str]
    segments: dict[int, str]

    @classmethod
    def of(cls, rules: Rules) -> Names:
        icp = {}
        if rules.icp is not None:
            icp = dict(IdealCustomerProfile.objects.filter(pk=rules.icp).values_list("pk", "name"))
        personas = dict(
            Persona.objects.filter(pk__in=[pk for pk, _p in rules.personas]).values_list(
                "pk", "name"
            )
        )
        segments = {
            s.pk: f"{s.axis.display_name} · {s.display_name}"
            for s in Segment.objects.select_related("axis").filter(
                pk__in=[pk for pk, _p in rules.segments]
            )
        }
        return cls(icp=icp, personas=personas, segments=segments)

    def part(self, key: str, rules: Rules, lead: Lead | None = None) -> str:
        """A part of a score ("persona:3", "bant:budget" …) in words."""
        kind, _sep, ident = key.partition(":")
        gone = _("(deleted)")
        if kind == "icp":
            name = self.icp.get(rules.icp or 0, gone)
            return _("Fit to the ideal customer profile “%(name)s”") % {"name": name}
        if kind == "persona":
            name = self.personas.get(int(ident), gone)
            return _("Matches the persona “%(name)s”") % {"name": name}
        if kind == "segment":
            name = self.segments.get(int(ident), gone)
            return _("In the segment “%(name)s”") % {"name": name}
        if kind == "source":
            if lead is not None and lead.source:
                return _("Source: %(source)s") % {"source": Source(lead.source).label}
            return _("Source")
        if kind == "bant":
            if lead is not None and getattr(lead, ident):
                value = BANT_VALUES[ident](getattr(lead, ident)).label
                return f"{bant_title(ident)}: {value}"
            return bant_title(ident)
        return str(InteractionKind(ident).label)


def _rounded(points: float) -> float:
    return round(points, 1)


def describe(model: ScoringModel) -> list[Section]:
    """The rules of `model` in words, section by section, as a marketer wrote them."""
    rules = parse(model.definition)
    names = Names.of(rules)
    fit = Section("fit", _("Fit"))
    if rules.icp is not None and rules.icp_weight:
        fit.lines.append(
            Line(
                names.part("icp", rules),
                rules.icp_weight,
                _("the fit (0–100) × %(weight)s %%") % {"weight": _number(rules.icp_weight)},
            )
        )
    for pk, points in rules.personas:
        if points:
            fit.lines.append(Line(names.part(f"persona:{pk}", rules), _rounded(points)))
    for pk, points in rules.segments:
        if points:
            fit.lines.append(Line(names.part(f"segment:{pk}", rules), _rounded(points)))
    for value, points in rules.sources.items():
        fit.lines.append(Line(_("Source: %(source)s") % {"source": Source(value).label}, points))
    bant = Section("bant", _("BANT"))
    for name, values in rules.bant.items():
        for value, points in values.items():
            label = BANT_VALUES[name](value).label
            bant.lines.append(Line(f"{bant_title(name)}: {label}", _rounded(points)))
    behaviour = Section("behaviour", _("Behaviour"))
    for kind, rule in rules.kinds.items():
        behaviour.lines.append(
            Line(
                str(InteractionKind(kind).label),
                _rounded(rule.points),
                _("per interaction, at most %(cap)s in all") % {"cap": _number(rule.cap)},
            )
        )
    if rules.kinds:
        behaviour.lines.append(
            Line(
                _("Points halve every %(days)s days after the interaction.")
                % {"days": _number(rules.half_life_days)}
            )
        )
    grades = Section("grades", _("Grades"))
    a_from, b_from = rules.profile_bands
    one_from, two_from = rules.engagement_bands
    grades.lines.append(
        Line(
            _("Profile: A from %(a)s, B from %(b)s, C below.")
            % {"a": _number(a_from), "b": _number(b_from)}
        )
    )
    grades.lines.append(
        Line(
            _("Engagement: 1 from %(one)s, 2 from %(two)s, 3 below.")
            % {"one": _number(one_from), "two": _number(two_from)}
        )
    )
    return [fit, bant, behaviour, grades]


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


# --- trying rules on a lead ---------------------------------------------------------------------


@dataclass
class PreviewPart:
    group: str  # "profile" or "engagement"
    key: str
    label: str
    points: float


@dataclass
class Preview:
    lead: Lead
    profile: int
    engagement: int
    grade: str
    parts: list[PreviewPart]
    stored: tuple[int | None, int | None, str]  # what the lead carries now

    def group(self, name: str) -> list[PreviewPart]:
        return [p for p in self.parts if p.group == name]


def visible_lead(*, viewer: Any, pk: Any) -> Lead:
    """A lead the viewer may see, or NotFound (the same answer as for a missing one)."""
    try:
        return access.visible(viewer, Lead.objects.select_related("contact")).get(pk=int(pk))
    except (Lead.DoesNotExist, ValueError, TypeError, OverflowError):
        raise _not_found() from None


def preview(*, viewer: Any, lead_pk: Any, rules: Rules) -> Preview:
    """The scores `rules` would give one lead now, part by part; nothing is written."""
    lead = visible_lead(viewer=viewer, pk=lead_pk)
    if not lead.is_live:
        raise ValidationFailed(
            _("This lead is over (%(stage)s): only live leads are scored.")
            % {"stage": lead.get_stage_display()}
        )
    scores = score(gather(rules, as_of=timezone.now(), lead_ids=[lead.pk]), rules)
    names = Names.of(rules)
    profile_parts = {
        "icp",
        "source",
        *(f"persona:{pk}" for pk, _p in rules.personas),
        *(f"segment:{pk}" for pk, _p in rules.segments),
        *(f"bant:{name}" for name in BANT_CHOICES),
    }
    parts = [
        PreviewPart(
            "profile" if key in profile_parts else "engagement",
            key,
            names.part(key, rules, lead),
            points,
        )
        for key, points in scores.row(0).items()
    ]
    return Preview(
        lead=lead,
        profile=int(scores.profile[0]),
        engagement=int(scores.engagement[0]),
        grade=scores.grades[0],
        parts=parts,
        stored=(lead.profile_score, lead.engagement_score, lead.grade),
    )


def lead_lookup(*, viewer: Any, text: str, limit: int = 10) -> list[tuple[int, str, str]]:
    """Live leads the viewer may see whose contact or organisation name starts with `text`."""
    from cible.lifecycle.leads.selectors import lead_list

    qs, _query = lead_list(viewer=viewer, params={"q": text})
    rows = qs.exclude(stage__in=FINAL)[:limit]
    return [
        (lead.pk, str(lead), lead.organisation.display_name if lead.organisation else "")
        for lead in rows
    ]


# --- the editor ----------------------------------------------------------------------------------


@dataclass
class Catalogue:
    """What the editor offers points for: profiles, personas and segments (three queries)."""

    profiles: list[IdealCustomerProfile]
    personas: list[Persona]
    segments: list[Segment]

    @classmethod
    def load(cls) -> Catalogue:
        return cls(
            profiles=list(IdealCustomerProfile.objects.order_by("name", "pk")),
            personas=list(Persona.objects.order_by("position", "name", "pk")),
            segments=list(
                Segment.objects.select_related("axis").order_by(
                    "axis__position", "axis_id", "position", "pk"
                )
            ),
        )
