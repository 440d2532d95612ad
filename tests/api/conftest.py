"""An API client per member of the cast, authenticated with a real personal token."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from cible.core.services import api_token_create

BASE = "/api/v1"


class ApiClient:
    """Django's test client speaking JSON to /api/v1 with a bearer token."""

    def __init__(self, key: str | None) -> None:
        self.client = Client(headers={"Accept-Language": "en"})  # messages asserted in English
        self.headers = {"Authorization": f"Bearer {key}"} if key else {}

    def _call(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        call = getattr(self.client, method)
        kwargs: dict[str, Any] = {"headers": self.headers}
        if body is not None:
            kwargs.update(
                data=body if isinstance(body, str | bytes) else json.dumps(body),
                content_type="application/json",
            )
        elif params:
            kwargs["data"] = params
        return call(BASE + path, **kwargs)

    def get(self, path: str, **params: Any) -> Any:
        return self._call("get", path, **params)

    def post(self, path: str, body: Any) -> Any:
        return self._call("post", path, body)

    def patch(self, path: str, body: Any) -> Any:
        return self._call("patch", path, body)

    def delete(self, path: str) -> Any:
        return self._call("delete", path)


@pytest.fixture
def api_for(db: Any):  # type: ignore[no-untyped-def]
    def make(user: Any) -> ApiClient:
        _token, key = api_token_create(user=user, name="tests")
        return ApiClient(key)

    return make


def assert_error_shape(response: Any, status: int) -> dict[str, Any]:
    """Every error answers {"detail": str, "errors": [{"field", "message"}]}."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    assert isinstance(body["errors"], list)
    for error in body["errors"]:
        assert set(error) == {"field", "message"}
    return body


def fields_of(body: dict[str, Any]) -> set[str]:
    return {e["field"] for e in body["errors"]}
