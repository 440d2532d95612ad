"""Bodies over the size limit are refused whole, with a JSON 413 that names the limit."""

from __future__ import annotations

import json

import pytest
from django.conf import settings as django_settings

from cible.people.models import Organisation
from tests.api.conftest import assert_error_shape

pytestmark = pytest.mark.django_db


def _bulk_of_size(size: int) -> str:
    item = {"legal_name": "Org", "description": "x" * 5000}
    count = size // len(json.dumps(item)) + 1
    return json.dumps({"items": [item] * count})


def test_a_body_over_the_configured_limit_is_a_413(cast, api_for):
    limit = django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    body = _bulk_of_size(limit)
    assert len(body) > limit
    response = api_for(cast.ae).post("/organisations/bulk", body)
    error = assert_error_shape(response, 413)
    assert str(limit) in error["detail"]
    assert error["errors"][0]["field"] == "body"
    assert Organisation.objects.count() == 0


def test_the_limit_follows_the_setting(cast, api_for, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2_000
    client = api_for(cast.ae)
    small = client.post("/organisations", {"legal_name": "Acme"})
    assert small.status_code == 201
    large = client.post("/organisations", {"legal_name": "Acme", "description": "x" * 3_000})
    assert "2000" in assert_error_shape(large, 413)["detail"]
    assert Organisation.objects.count() == 1


def test_an_oversized_body_without_a_token_is_still_a_clean_401(cast, settings):
    from django.test import Client

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    response = Client().post(
        "/api/v1/organisations", data=json.dumps({"x": "y" * 500}), content_type="application/json"
    )
    assert_error_shape(response, 401)


def test_a_body_that_is_not_an_object_is_a_422(cast, api_for):
    body = assert_error_shape(api_for(cast.ae).post("/organisations", "[1, 2]"), 422)
    assert body["errors"]


def test_an_empty_body_is_a_422_naming_the_body(cast, api_for):
    body = assert_error_shape(api_for(cast.ae).post("/organisations/bulk", ""), 422)
    assert {e["field"] for e in body["errors"]} == {"body"}


def test_nul_characters_are_refused(cast, api_for):
    body = assert_error_shape(
        api_for(cast.ae).post("/organisations", {"legal_name": "A\x00B"}), 422
    )
    assert {e["field"] for e in body["errors"]} == {"legal_name"}


def test_an_out_of_range_id_is_a_422_not_a_crash(cast, api_for):
    assert_error_shape(api_for(cast.ae).get(f"/organisations/{2**70}"), 422)
    assert_error_shape(
        api_for(cast.ae).post("/organisations", {"legal_name": "A", "owner": 2**70}), 422
    )


def test_an_absurdly_large_number_is_a_422_not_a_crash(cast, api_for):
    client = api_for(cast.ae)
    assert_error_shape(
        client.post("/organisations", {"legal_name": "A", "annual_revenue": 1e30}), 422
    )
    assert_error_shape(client.get("/organisations", headcount_min="1e30"), 422)
    assert Organisation.objects.count() == 0
