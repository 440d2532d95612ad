"""Fixtures of the targets tests (the data itself is in `world.py`, shared with tests/api)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.segments.targets.world import Base, make_base


@pytest.fixture
def base(cast: Any) -> Base:
    return make_base(cast)
