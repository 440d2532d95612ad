"""REST endpoints of ideal customer profiles and fit scores (read-only: profiles are edited in
the UI). Scores are listed only for organisations the caller may see."""

from __future__ import annotations

from typing import Any

from django.core import signing
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Path, Query, Router

from cible.core import access
from cible.core.api_kit import ERRORS, Id, viewer
from cible.core.errors import FieldError, NotFound, ValidationFailed
from cible.people.models import Organisation
from cible.people.selectors import get_visible
from cible.segments import rules
from cible.segments.api.schemas import (
    FitScorePage,
    OrganisationFitOut,
    ProfileOut,
    ProfileQuery,
    ScoreQuery,
)
from cible.segments.profiles import selectors
from cible.segments.profiles.models import FitScore, IdealCustomerProfile
from cible.segments.profiles.scoring import FitExplanation

router = Router(tags=["ideal customer profiles"])


def _rule_text(rule: Any) -> str:
    try:
        return rules.describe(rules.parse(rule, level="organisation", resolve=False))
    except rules.RuleInvalid as error:
        return _("This rule can no longer be used: %(problem)s") % {"problem": error}


def profile_out(profile: IdealCustomerProfile) -> dict[str, Any]:
    return {
        "id": profile.pk,
        "version": profile.version,
        "code": profile.code,
        "name": profile.name,
        "purpose": profile.purpose,
        "description": profile.description,
        "is_active": profile.is_active,
        "scored_at": profile.scored_at,
        "criteria": [
            {
                "id": c.pk,
                "label": c.label,
                "weight": c.weight,
                "position": c.position,
                "rule": c.rule,
                "rule_text": _rule_text(c.rule),
            }
            for c in selectors.profile_criteria(profile=profile)
        ],
    }


def _profile(user: Any, pk: int) -> IdealCustomerProfile:
    found = selectors.profile_list(viewer=user).filter(pk=pk).first()
    if found is None:
        raise NotFound(_("No ideal customer profile #%(id)s.") % {"id": pk})
    return found


def _visible_scores(user: Any, profile: IdealCustomerProfile) -> QuerySet[FitScore]:
    """The profile's scores of organisations `user` may see (no join when they see them all)."""
    scores = FitScore.objects.filter(profile=profile)
    organisations = access.visible(user, Organisation.objects.all())
    if organisations.query.has_filters() or access.role_of(user) is None:
        scores = scores.filter(organisation__in=organisations.values("pk"))
    return scores


@router.get("/profiles", response={200: list[ProfileOut], **ERRORS})
def list_profiles(request: HttpRequest, params: Query[ProfileQuery]) -> Any:
    """Every ideal customer profile with its weighted criteria."""
    profiles = selectors.profile_list(viewer=viewer(request))
    if params.active is not None:
        profiles = profiles.filter(is_active=params.active)
    return [profile_out(p) for p in profiles.order_by("name", "id")]


@router.get("/profiles/{pk}", response={200: ProfileOut, **ERRORS})
def get_profile(request: HttpRequest, pk: Path[Id]) -> Any:
    return profile_out(_profile(viewer(request), pk))


def _score_out(score: FitScore) -> dict[str, Any]:
    return {
        "organisation": score.organisation_id,
        "organisation_name": score.organisation.display_name,
        "score": score.score,
        "matched": list(score.matched or []),
        "computed_at": score.computed_at,
    }


_SCORE_CURSOR = "cible.api.fit-scores"


def _score_page(
    scores: QuerySet[FitScore], *, cursor: str | None, limit: int, with_count: bool
) -> dict[str, Any]:
    """Keyset pages of scores, best first, ties by organisation id. (Fit scores are keyed by
    (organisation, profile), so `api_kit.paginate`, which pages by id, does not apply.)"""
    total = scores.count() if with_count else None
    page = scores.order_by("-score", "organisation_id")
    if cursor:
        try:
            score, organisation_id = signing.loads(cursor, salt=_SCORE_CURSOR)
            page = page.filter(
                Q(score__lt=int(score))
                | Q(score=int(score), organisation_id__gt=int(organisation_id))
            )
        except (signing.BadSignature, ValueError, TypeError):
            raise ValidationFailed(
                _("Invalid cursor."),
                errors=[FieldError("cursor", _("is not a cursor this API gave out"))],
            ) from None
    rows = list(page.select_related("organisation")[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = signing.dumps([last.score, last.organisation_id], salt=_SCORE_CURSOR)
    return {"items": [_score_out(r) for r in rows], "next_cursor": next_cursor, "count": total}


@router.get("/profiles/{pk}/scores", response={200: FitScorePage, **ERRORS})
def list_scores(request: HttpRequest, pk: Path[Id], params: Query[ScoreQuery]) -> Any:
    """The stored fit scores of organisations you may see, best first (cursor pagination)."""
    user = viewer(request)
    scores = _visible_scores(user, _profile(user, pk))
    if params.min_score is not None:
        scores = scores.filter(score__gte=params.min_score)
    if params.max_score is not None:
        scores = scores.filter(score__lte=params.max_score)
    return _score_page(scores, cursor=params.cursor, limit=params.limit, with_count=params.count)


def _fit_out(
    profile: IdealCustomerProfile, explanation: FitExplanation, stored: FitScore | None
) -> dict[str, Any]:
    return {
        "profile": {
            "id": profile.pk,
            "code": profile.code,
            "name": profile.name,
            "purpose": profile.purpose,
        },
        "score": explanation.score,
        "stored_score": stored.score if stored else None,
        "computed_at": stored.computed_at if stored else None,
        "text": explanation.describe(),
        "contributions": [
            {
                "criterion": c.criterion_id,
                "label": c.label,
                "weight": c.weight,
                "matched": c.matched,
                "points": c.points,
                "worth": round(c.worth, 2),
            }
            for c in explanation.contributions
        ],
    }


@router.get(
    "/organisations/{pk}/fit", response={200: OrganisationFitOut, **ERRORS}, tags=["organisations"]
)
def organisation_fit(request: HttpRequest, pk: Path[Id]) -> Any:
    """How the organisation fits each active profile, explained criterion by criterion (from
    the current record), beside the stored score."""
    user = viewer(request)
    organisation = get_visible(viewer=user, model=Organisation, pk=pk)
    stored = {
        s.profile_id: s for s in selectors.organisation_fits(viewer=user, organisation=organisation)
    }
    profiles = selectors.profile_list(viewer=user, active_only=True).order_by("name", "id")
    fits = [
        _fit_out(
            profile,
            selectors.fit_explanation(viewer=user, profile=profile, organisation=organisation),
            stored.get(profile.pk),
        )
        for profile in profiles
    ]
    return {"organisation": organisation.pk, "profiles": fits}
