"""Reads of the profiles app, each for a viewer: fit scores count and list only organisations
(and persona matches only contacts) that `core.access.visible` lets the viewer see.

Profiles and personas themselves are shared configuration: every signed-in user reads them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, QuerySet
from django.utils.translation import gettext as _

from cible.core import access
from cible.core.errors import NotFound
from cible.people.models import Contact, Organisation
from cible.segments import rules
from cible.segments.profiles.models import (
    FitScore,
    IdealCustomerProfile,
    Persona,
    ProfileCriterion,
    ScoringRun,
)
from cible.segments.profiles.refresh import compile_criteria, matching_ids
from cible.segments.profiles.scoring import FitExplanation, explain

BAND_WIDTH = 10


# --- profiles ------------------------------------------------------------------------------------


def profile_list(*, viewer: Any, active_only: bool = False) -> QuerySet[IdealCustomerProfile]:
    if access.role_of(viewer) is None:
        return IdealCustomerProfile.objects.none()
    # Explicit: an aggregate's GROUP BY does not carry Meta.ordering on every database.
    profiles = IdealCustomerProfile.objects.annotate(criteria_count=Count("criteria"))
    profiles = profiles.order_by("name", "pk")
    return profiles.filter(is_active=True) if active_only else profiles


def profile_get(*, viewer: Any, code: str) -> IdealCustomerProfile:
    found = profile_list(viewer=viewer).filter(code=code).first()
    if found is None:
        raise NotFound(_("No ideal customer profile “%(code)s”.") % {"code": code})
    return found


def profile_criteria(*, profile: IdealCustomerProfile) -> list[ProfileCriterion]:
    return list(profile.criteria.order_by("position", "id"))


def latest_run(*, profile: IdealCustomerProfile) -> ScoringRun | None:
    """The last full computation of `profile` (running, done or failed), for progress pages."""
    return ScoringRun.objects.filter(profile=profile).order_by("-started_at", "-id").first()


def _visible_scores(viewer: Any, profile: IdealCustomerProfile) -> QuerySet[FitScore]:
    """The profile's scores of organisations `viewer` may see.

    When the access policy lets the viewer see every organisation, `visible` adds no filter
    and neither do we: histograms then read the (profile, score, organisation) index alone,
    without a join.
    """
    organisations = access.visible(viewer, Organisation.objects.all())
    scores = FitScore.objects.filter(profile=profile)
    if access.role_of(viewer) is None:
        return scores.none()
    if organisations.query.has_filters():
        scores = scores.filter(organisation__in=organisations.values("pk"))
    return scores


def top_fits(*, viewer: Any, profile: IdealCustomerProfile, limit: int = 20) -> list[FitScore]:
    """The best-fitting organisations the viewer may see, best first (ties: oldest record)."""
    limit = max(0, min(int(limit), 1000))
    return list(
        _visible_scores(viewer, profile)
        .select_related("organisation")
        .order_by("-score", "organisation_id")[:limit]
    )


@dataclass(frozen=True)
class Band:
    """A bar of the fit histogram: organisations scoring from `low` to `high` inclusive."""

    low: int
    high: int
    count: int

    @property
    def label(self) -> str:
        return f"{self.low}–{self.high}"


def fit_distribution(*, viewer: Any, profile: IdealCustomerProfile) -> list[Band]:
    """Visible organisations per 10-point band of fit (0–9 … 90–100: 100 joins the last band)."""
    counts = [0] * (100 // BAND_WIDTH)
    rows = _visible_scores(viewer, profile).values_list("score").annotate(n=Count("*"))
    for score, n in rows.order_by():
        counts[min(score // BAND_WIDTH, len(counts) - 1)] += n
    last = len(counts) - 1
    return [
        Band(
            low=i * BAND_WIDTH, high=100 if i == last else i * BAND_WIDTH + BAND_WIDTH - 1, count=n
        )
        for i, n in enumerate(counts)
    ]


def fit_score_of(
    *, viewer: Any, profile: IdealCustomerProfile, organisation: Organisation
) -> FitScore | None:
    """The stored score of one organisation (None if not computed yet or not visible)."""
    if not access.can(viewer, "view", organisation):
        return None
    return FitScore.objects.filter(profile=profile, organisation=organisation).first()


def fit_explanation(
    *, viewer: Any, profile: IdealCustomerProfile, organisation: Organisation
) -> FitExplanation:
    """Why `organisation` fits `profile`: each criterion met or not and its points, evaluated
    now against the current record (the stored score may lag behind a pending recomputation)."""
    if not access.can(viewer, "view", organisation):
        raise NotFound(_("No such organisation."))
    compiled = compile_criteria(profile_criteria(profile=profile), correlated=True)
    found = matching_ids(Organisation.objects.filter(pk=organisation.pk), compiled.filters)
    met = {c.id for c, ids in zip(compiled.criteria, found, strict=True) if organisation.pk in ids}
    return explain(compiled.criteria, met)


def organisation_fits(*, viewer: Any, organisation: Organisation) -> list[FitScore]:
    """The stored fit of one organisation to every active profile (for its page)."""
    if not access.can(viewer, "view", organisation):
        return []
    return list(
        FitScore.objects.filter(organisation=organisation, profile__is_active=True)
        .select_related("profile")
        .order_by("profile__name", "profile_id")
    )


# --- personas ------------------------------------------------------------------------------------


def persona_list(*, viewer: Any) -> QuerySet[Persona]:
    if access.role_of(viewer) is None:
        return Persona.objects.none()
    return Persona.objects.all()


def _persona_filter(persona: Persona, *, correlated: bool = False) -> Any:
    return rules.to_q(
        rules.parse(persona.rule, level="contact", resolve=False), correlated=correlated
    )


def persona_contacts(*, viewer: Any, persona: Persona) -> QuerySet[Contact]:
    """The contacts `viewer` may see that match `persona` (anonymised contacts excluded: GDPR
    erasure leaves nobody to address)."""
    contacts = Contact.objects.filter(anonymised_at__isnull=True).filter(_persona_filter(persona))
    return access.visible(viewer, contacts)


def contact_personas(contact: Contact) -> list[Persona]:
    """Which personas `contact` matches, in the personas' order: one query for all of them."""
    if contact.anonymised_at is not None:
        return []
    personas, filters = [], []
    for persona in Persona.objects.all():
        try:
            filters.append(_persona_filter(persona, correlated=True))
        except rules.RuleInvalid:  # a field a higher app no longer registers: matches nobody
            continue
        personas.append(persona)
    found = matching_ids(Contact.objects.filter(pk=contact.pk), filters)
    return [p for p, ids in zip(personas, found, strict=True) if contact.pk in ids]
