"""/api/v1/duplicates: the queue, a pair side by side, merge, undo, "not a duplicate", bulk
merge and detection; and prevention on POST /organisations and /contacts (409, then override)."""

from __future__ import annotations

import pytest

from cible.people.models import Contact, Organisation
from cible.quality.duplicates.models import BulkMergeRun, DuplicatePair, MergeRecord, PairStatus
from tests.api.conftest import assert_error_shape, fields_of

pytestmark = pytest.mark.django_db


def test_queue_lists_pairs_with_reasons_in_words(cast, twins, detected, api_for) -> None:
    api = api_for(cast.ae)
    body = api.get("/duplicates/pairs", entity="organisation", count="true").json()
    assert body["count"] == 1
    item = body["items"][0]
    assert item["id"] == detected.pk
    assert item["score"] > 0.99
    texts = [r["text"] for r in item["reasons"]]
    assert "same SIREN" in texts and "names 100 % alike" in texts


def test_pair_side_by_side(cast, twins, detected, api_for) -> None:
    body = api_for(cast.ae).get(f"/duplicates/pairs/{detected.pk}").json()
    assert body["default_survivor"] == twins.older.pk
    rows = {f["field"]: f for f in body["fields"]}
    assert rows["legal_name"]["a"] == "Dupont Conseil SAS"
    assert rows["legal_name"]["b"] == "DUPONT CONSEIL"
    assert rows["legal_name"]["differs"] is True
    assert rows["siren"]["differs"] is False
    assert rows["naf_code"]["default"] == "b"  # the only filled value
    assert body["versions"] == {str(twins.older.pk): 1, str(twins.newer.pk): 1}


def test_merge_then_undo(cast, twins, detected, api_for) -> None:
    api = api_for(cast.ae)
    response = api.post(
        f"/duplicates/pairs/{detected.pk}/merge",
        {"survivor": twins.newer.pk, "values": {"legal_name": "loser"}},
    )
    assert response.status_code == 200, response.content
    merged = response.json()
    assert (merged["survivor_id"], merged["loser_id"]) == (twins.newer.pk, twins.older.pk)
    assert merged["channel"] == "api" and merged["moved"] >= 1
    assert Organisation.objects.get(pk=twins.newer.pk).legal_name == "Dupont Conseil SAS"
    assert Contact.objects.get(pk=twins.older_contact.pk).organisation_id == twins.newer.pk
    again = api.post(f"/duplicates/pairs/{detected.pk}/merge", {})
    assert_error_shape(again, 404)  # the pair's loser is gone: not in the queue any more

    undone = api.post(f"/duplicates/merges/{merged['id']}/undo", {})
    assert undone.status_code == 200, undone.content
    assert undone.json()["undone_at"]
    assert Organisation.objects.filter(pk=twins.older.pk).exists()
    assert Contact.objects.get(pk=twins.older_contact.pk).organisation_id == twins.older.pk
    assert_error_shape(api.post(f"/duplicates/merges/{merged['id']}/undo", {}), 409)


def test_merge_with_stale_version_or_unknown_field_is_refused(
    cast, twins, detected, api_for
) -> None:
    api = api_for(cast.ae)
    stale = api.post(
        f"/duplicates/pairs/{detected.pk}/merge",
        {"versions": {str(twins.older.pk): 0}},
    )
    assert "changed by someone else" in assert_error_shape(stale, 409)["detail"]
    unknown = api.post(f"/duplicates/pairs/{detected.pk}/merge", {"values": {"colour": "loser"}})
    assert fields_of(assert_error_shape(unknown, 422)) == {"values.colour"}
    bad = api.post(f"/duplicates/pairs/{detected.pk}/merge", {"values": {"siren": "both"}})
    assert_error_shape(bad, 422)
    bad_survivor = api.post(f"/duplicates/pairs/{detected.pk}/merge", {"survivor": 999999})
    assert fields_of(assert_error_shape(bad_survivor, 422)) == {"survivor"}
    assert MergeRecord.objects.count() == 0


def test_not_a_duplicate(cast, twins, detected, api_for) -> None:
    api = api_for(cast.ae)
    response = api.post(f"/duplicates/pairs/{detected.pk}/not-duplicate", {})
    assert response.json()["status"] == "not_duplicate"
    assert api.get("/duplicates/pairs", count="true").json()["count"] == 0
    decided = api.get("/duplicates/pairs", status="not_duplicate").json()["items"]
    assert [p["id"] for p in decided] == [detected.pk]


def test_bulk_merge_dry_run_then_in_the_background(cast, twins, detected, api_for) -> None:
    api = api_for(cast.admin)
    preview = api.post("/duplicates/bulk-merge", {"threshold": "97 %", "dry_run": True})
    assert preview.json() == {"entity": "organisation", "threshold": 0.97, "count": 1}
    started = api.post("/duplicates/bulk-merge", {"entity": "organisation", "threshold": 0.97})
    assert started.status_code == 202
    run = api.get(f"/duplicates/bulk-merge/{started.json()['id']}").json()
    assert (run["status"], run["merged"], run["total"]) == ("done", 1, 1)  # tasks run inline
    assert DuplicatePair.objects.get(pk=detected.pk).status == PairStatus.MERGED
    assert BulkMergeRun.objects.get().channel == "api"
    low = api.post("/duplicates/bulk-merge", {"threshold": 0.2})
    assert fields_of(assert_error_shape(low, 422)) == {"threshold"}


def test_detection_in_the_background(cast, twins, api_for) -> None:
    response = api_for(cast.ae).post("/duplicates/detections", {"entity": "organisation"})
    assert response.status_code == 202
    run = api_for(cast.ae).get(f"/duplicates/detections/{response.json()['id']}").json()
    assert (run["status"], run["pairs"]) == ("done", 1)


def test_pairs_of_records_hidden_from_the_viewer_are_absent(
    cast, team_private, twins, detected, api_for
) -> None:
    assert api_for(cast.ae).get("/duplicates/pairs", count="true").json()["count"] == 1
    outsider = api_for(cast.outsider)
    assert outsider.get("/duplicates/pairs", count="true").json()["count"] == 0
    assert_error_shape(outsider.get(f"/duplicates/pairs/{detected.pk}"), 404)
    assert_error_shape(outsider.post(f"/duplicates/pairs/{detected.pk}/merge", {}), 404)
    marketer = api_for(cast.marketer)  # sees every account, may change none of these
    assert marketer.get("/duplicates/pairs", count="true").json()["count"] == 1
    assert_error_shape(marketer.post(f"/duplicates/pairs/{detected.pk}/merge", {}), 403)
    assert (
        marketer.post("/duplicates/bulk-merge", {"threshold": 0.9, "dry_run": True}).json()["count"]
        == 0
    )
    assert Organisation.objects.filter(pk=twins.newer.pk).exists()


# --- prevention on entry ------------------------------------------------------------------------


def test_creating_a_look_alike_organisation_answers_409_with_candidates(
    cast, twins, api_for
) -> None:
    api = api_for(cast.ae)
    payload = {"legal_name": "Dupont Conseil", "siren": "732829320", "city": "Paris"}
    refused = api.post("/organisations", payload)
    body = assert_error_shape(refused, 409)
    ids = [c["id"] for c in body["candidates"]]
    assert twins.older.pk in ids and twins.newer.pk in ids
    assert "same SIREN" in body["candidates"][0]["reasons"]
    assert body["candidates"][0]["url"].startswith("/organisations/")
    assert "allow_duplicate" in body["detail"]
    before = Organisation.objects.count()
    created = api.post("/organisations", {**payload, "allow_duplicate": True})
    assert created.status_code == 201
    assert Organisation.objects.count() == before + 1


def test_creating_a_new_organisation_is_not_held_up(cast, twins, api_for) -> None:
    response = api_for(cast.ae).post(
        "/organisations", {"legal_name": "Zèbre Informatique", "city": "Nice"}
    )
    assert response.status_code == 201


def test_creating_a_look_alike_contact_answers_409(cast, twins, api_for) -> None:
    api = api_for(cast.ae)
    payload = {
        "first_name": "Jean",
        "last_name": "Martin",
        "email": "JEAN.MARTIN@dupont-conseil.fr",
    }
    body = assert_error_shape(api.post("/contacts", payload), 409)
    assert body["candidates"][0]["id"] == twins.older_contact.pk
    assert api.post("/contacts", {**payload, "allow_duplicate": True}).status_code == 201


def test_prevention_does_not_reveal_records_the_creator_cannot_see(
    cast, team_private, twins, api_for
) -> None:
    payload = {"legal_name": "Dupont Conseil", "siren": "732829320", "city": "Paris"}
    assert api_for(cast.outsider).post("/organisations", payload).status_code == 201


def test_bad_queue_parameters_are_named(cast, api_for) -> None:
    api = api_for(cast.ae)
    assert fields_of(assert_error_shape(api.get("/duplicates/pairs", entity="company"), 422)) == {
        "entity"
    }
    assert fields_of(assert_error_shape(api.get("/duplicates/pairs", min_score=3), 422)) == {
        "min_score"
    }
    assert fields_of(assert_error_shape(api.get("/duplicates/pairs", cursor="junk"), 422)) == {
        "cursor"
    }
    assert_error_shape(api.get("/duplicates/pairs/999999"), 404)
    assert_error_shape(api.post("/duplicates/merges/999999/undo", {}), 404)
