"""The background work: the nightly run scores every active profile, and only those."""

from __future__ import annotations

from typing import Any

import pytest

from cible.segments.profiles import tasks
from cible.segments.profiles.services import profile_update
from tests.segments.profiles.conftest import scores_by_name

pytestmark = pytest.mark.django_db


def test_the_nightly_run_scores_every_active_profile(base: Any, conquest: Any, cast: Any) -> None:
    tasks.nightly_rescore.call_local()

    conquest.refresh_from_db()
    assert conquest.scored_at is not None
    assert scores_by_name(conquest)["Acme"] == 83


def test_inactive_profiles_are_not_scored(base: Any, conquest: Any, cast: Any) -> None:
    profile_update(profile=conquest, actor=cast.admin, channel="ui", is_active=False)

    tasks.nightly_rescore.call_local()
    tasks.compute_profile(conquest.pk)

    assert not conquest.fit_scores.exists()
