"""`GET /api/v1/funnel`: the same figures as the page, as JSON, with a real personal token."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from cible.core.services import api_token_create
from tests.insights.funnel.conftest import YEAR_2025, Road, make_lead


def api_get(user: Any, **params: str) -> Any:
    _token, key = api_token_create(user=user, name="tests")
    client = Client(headers={"Accept-Language": "en", "Authorization": f"Bearer {key}"})
    return client.get("/api/v1/funnel", data=params)


def test_funnel_as_json(cast: Any, road: Road) -> None:
    response = api_get(cast.admin, **YEAR_2025)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["leads"] == 5
    assert body["customers"] == 1
    assert body["period_start"] == "2025-01-01"
    assert [s["reached"] for s in body["stages"]] == [5, 4, 3, 2, 1, 1, 1]
    suspect = body["stages"][0]
    assert suspect["to_next"] == pytest.approx(0.8)
    assert suspect["median_days_to_next"] == pytest.approx(2)
    assert suspect["p75_days_to_next"] == pytest.approx(3)
    assert (suspect["timed_to_next"], suspect["skipped_to_next"]) == (3, 1)
    assert suspect["reasons"] == [{"code": "no_need", "label": "No need", "count": 1}]
    assert body["stages"][-1]["median_days_to_next"] is None
    assert {g["key"]: g["reached"][0] for g in body["groups"]} == {"website": 3, "event": 2}


def test_filters_and_access(cast: Any, road: Road, team_private: Any) -> None:
    make_lead(owner=cast.outsider, source="event", path=[("suspect", 0)])
    assert api_get(cast.admin, source="event", **YEAR_2025).json()["leads"] == 3
    assert api_get(cast.ae, source="event", **YEAR_2025).json()["leads"] == 2
    assert api_get(cast.outsider, **YEAR_2025).json()["leads"] == 1
    assert api_get(cast.admin, mode="activity", **YEAR_2025).json()["leads"] == 7


def test_bad_filters_answer_422_naming_them(cast: Any) -> None:
    response = api_get(cast.admin, period="fortnight", source="tv", owner="999999")
    assert response.status_code == 422
    body = response.json()
    assert {e["field"] for e in body["errors"]} == {"period", "source", "owner"}
    assert all(e["message"] for e in body["errors"])


def test_needs_a_token(db: Any) -> None:
    assert Client().get("/api/v1/funnel").status_code == 401
