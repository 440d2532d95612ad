"""Records shared by the task tests: an account of the Paris team and its person."""

from __future__ import annotations

from typing import Any

import pytest

from cible.people.models import UserProfile
from tests import factories


@pytest.fixture
def acme(cast: Any) -> Any:
    return factories.organisation(cast.ae, legal_name="Acme", website="https://acme.example")


@pytest.fixture
def jeanne(cast: Any, acme: Any) -> Any:
    return factories.contact(
        cast.ae,
        first_name="Jeanne",
        last_name="Dupont",
        email="jeanne.dupont@acme.example",
        organisation=acme.pk,
    )


@pytest.fixture
def english_pages(cast: Any) -> None:
    """Pages follow each user's profile language; these tests read them in English."""
    UserProfile.objects.update(language="en")
