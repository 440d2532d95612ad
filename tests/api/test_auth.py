"""Personal API tokens: every way a token can be wrong gets a 401 that says which."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client

from cible.core.models import ApiToken
from cible.core.services import api_token_create, api_token_revoke
from tests.api.conftest import BASE, ApiClient, assert_error_shape

pytestmark = pytest.mark.django_db

EN = {"Accept-Language": "en"}


def test_a_valid_token_reads_the_api_as_its_user(cast, api_for):
    response = api_for(cast.ae).get("/organisations")
    assert response.status_code == 200
    assert response.json() == {"items": [], "next_cursor": None, "count": None}


def test_the_token_is_stored_hashed(cast):
    token, key = api_token_create(user=cast.ae, name="CI")
    stored = ApiToken.objects.get(pk=token.pk)
    assert key not in (stored.key_hash, stored.prefix)
    assert stored.key_hash == ApiToken.hash_key(key)


def test_no_token_is_refused_with_how_to_send_one(cast):
    body = assert_error_shape(Client(headers=EN).get(f"{BASE}/organisations"), 401)
    assert "Bearer" in body["detail"]
    assert body["errors"][0]["field"] == "Authorization"


def test_no_token_on_a_write_is_a_401_not_a_csrf_failure(cast):
    response = Client(headers=EN).post(
        f"{BASE}/organisations", data="{}", content_type="application/json"
    )
    assert_error_shape(response, 401)


def test_an_unknown_token_is_named_unknown(cast):
    body = assert_error_shape(ApiClient("cib_not-a-real-token").get("/organisations"), 401)
    assert "not known" in body["detail"]


def test_a_malformed_header_is_named(cast):
    response = Client(headers=EN).get(
        f"{BASE}/organisations", headers={"Authorization": "Token abc", **EN}
    )
    body = assert_error_shape(response, 401)
    assert "Bearer" in body["detail"]


def test_a_revoked_token_is_named_revoked(cast):
    token, key = api_token_create(user=cast.ae, name="laptop")
    client = ApiClient(key)
    assert client.get("/organisations").status_code == 200
    api_token_revoke(user=cast.ae, token_id=token.pk)
    body = assert_error_shape(client.get("/organisations"), 401)
    assert "revoked" in body["detail"]


def test_an_expired_token_is_named_expired(cast):
    _token, key = api_token_create(user=cast.ae, name="short", days_valid=1)
    client = ApiClient(key)
    assert client.get("/organisations").status_code == 200
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=2)):
        body = assert_error_shape(client.get("/organisations"), 401)
    assert "expired" in body["detail"]


def test_a_token_of_a_disabled_account_is_refused(cast):
    _token, key = api_token_create(user=cast.ae, name="laptop")
    cast.ae.is_active = False
    cast.ae.save()
    body = assert_error_shape(ApiClient(key).get("/organisations"), 401)
    assert "disabled" in body["detail"]


def test_a_signed_in_browser_may_use_the_api(cast, client_for):
    assert client_for(cast.ae).get(f"{BASE}/organisations").status_code == 200


def test_schema_and_docs_are_served(cast):
    client = Client()
    schema = client.get(f"{BASE}/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {"/api/v1/organisations", "/api/v1/contacts/bulk", "/api/v1/opportunities/{pk}"} <= set(
        paths
    )
    assert client.get(f"{BASE}/docs").status_code == 200
