"""The review queue, the side-by-side comparison, the merge and its undo, bulk merge, and the
warning a create form shows before saving a look-alike."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from cible.people.models import Contact, Organisation
from cible.quality.duplicates.models import BulkMergeRun, DuplicatePair, MergeRecord, PairStatus

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english_pages(cast) -> None:
    """These pages are read in English here (the cast's profiles default to French)."""
    from cible.people.models import UserProfile

    UserProfile.objects.filter(user__in=[cast.ae, cast.ae2, cast.admin]).update(language="en")


def test_queue_shows_open_pairs_with_their_reasons(cast, twins, detected, client_for) -> None:
    page = client_for(cast.ae).get(reverse("duplicates:queue")).content.decode()
    assert f'data-pair="{detected.pk}"' in page
    assert "Dupont Conseil SAS" in page and "DUPONT CONSEIL" in page
    assert "same SIREN" in page
    assert reverse("duplicates:pair", args=[detected.pk]) in page


def test_queue_filters(cast, twins, detected, client_for) -> None:
    client = client_for(cast.ae)
    url = reverse("duplicates:queue")
    assert f'data-pair="{detected.pk}"' in client.get(url, {"band": "high"}).content.decode()
    assert (
        f'data-pair="{detected.pk}"' not in client.get(url, {"band": "possible"}).content.decode()
    )
    assert f'data-pair="{detected.pk}"' in client.get(url, {"owner": cast.ae2.pk}).content.decode()
    assert (
        f'data-pair="{detected.pk}"' not in client.get(url, {"owner": cast.sdr.pk}).content.decode()
    )
    assert "No pairs to show" in client.get(url, {"entity": "contact"}).content.decode()
    bad = client.get(url, {"band": "huge", "owner": "x"})
    assert bad.status_code == 200 and "must be a user id" in bad.content.decode()


def test_outsider_does_not_see_the_pair(cast, team_private, twins, detected, client_for) -> None:
    client = client_for(cast.outsider)
    assert (
        f'data-pair="{detected.pk}"' not in client.get(reverse("duplicates:queue")).content.decode()
    )
    assert client.get(reverse("duplicates:pair", args=[detected.pk])).status_code == 404
    assert client.post(reverse("duplicates:pair_merge", args=[detected.pk])).status_code == 404


def test_comparison_highlights_differences_and_preselects_values(
    cast, twins, detected, client_for
) -> None:
    page = client_for(cast.ae).get(reverse("duplicates:pair", args=[detected.pk])).content.decode()
    assert re.search(r'class="table-warning" data-field="legal_name" data-differs="1"', page)
    assert 'data-field="siren" data-differs="0"' in page
    # the empty NAF code of A loses to B's
    assert re.search(r'name="choice_naf_code" value="b" id="choice-naf_code-b" checked', page)
    assert re.search(r'name="survivor" value="a" id="survivor-a" checked', page)
    assert "Contacts" in page or "contacts" in page


def test_merge_from_the_form_then_undo(cast, twins, detected, client_for) -> None:
    client = client_for(cast.ae)
    response = client.post(
        reverse("duplicates:pair_merge", args=[detected.pk]),
        {
            "survivor": "a",
            "choice_legal_name": "a",
            "choice_naf_code": "b",
            "version_a": twins.older.version,
            "version_b": twins.newer.version,
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("people:organisation_detail", args=[twins.older.pk])
    survivor = Organisation.objects.get(pk=twins.older.pk)
    assert (survivor.legal_name, survivor.naf_code) == ("Dupont Conseil SAS", "70.22Z")
    assert Contact.objects.get(pk=twins.newer_contact.pk).organisation_id == survivor.pk
    merged = MergeRecord.objects.get()
    assert merged.channel == "ui"
    detail = client.get(response["Location"]).content.decode()
    assert "Paul Durand" in detail  # the loser's contact, now on the survivor
    assert reverse("duplicates:merge", args=[merged.pk]) in detail  # the message and the section
    merge_page = client.get(reverse("duplicates:merge", args=[merged.pk])).content.decode()
    assert "DUPONT CONSEIL" in merge_page and 'id="undo"' in merge_page
    assert "1 × contacts" in merge_page
    undone = client.post(reverse("duplicates:merge_undo", args=[merged.pk]))
    assert undone["Location"] == reverse("people:organisation_detail", args=[twins.newer.pk])
    assert Organisation.objects.filter(pk=twins.newer.pk).exists()


def test_merge_of_a_changed_record_shows_the_conflict(cast, twins, detected, client_for) -> None:
    response = client_for(cast.ae).post(
        reverse("duplicates:pair_merge", args=[detected.pk]),
        {"survivor": "a", "version_a": 0, "version_b": twins.newer.version},
    )
    assert response.status_code == 409
    assert "changed by someone else" in response.content.decode()
    assert Organisation.objects.filter(pk=twins.newer.pk).exists()


def test_not_a_duplicate_from_the_page(cast, twins, detected, client_for) -> None:
    client = client_for(cast.ae)
    response = client.post(reverse("duplicates:pair_not_duplicate", args=[detected.pk]))
    assert response.status_code == 302
    assert DuplicatePair.objects.get(pk=detected.pk).status == PairStatus.NOT_DUPLICATE
    client.post(reverse("duplicates:pair_reopen", args=[detected.pk]))
    assert DuplicatePair.objects.get(pk=detected.pk).status == PairStatus.OPEN


def test_bulk_preview_and_bulk_merge(cast, twins, detected, client_for) -> None:
    client = client_for(cast.admin)
    preview = client.get(
        reverse("duplicates:bulk_preview"), {"entity": "organisation", "threshold": "0.97"}
    )
    assert 'data-count="1"' in preview.content.decode()
    bad = client.get(reverse("duplicates:bulk_preview"), {"threshold": "abc"})
    assert "between 0.5 and 1" in bad.content.decode()
    response = client.post(
        reverse("duplicates:bulk_merge"), {"entity": "organisation", "threshold": "0.97"}
    )
    run = BulkMergeRun.objects.get()
    assert response["Location"] == reverse("duplicates:bulk_run", args=[run.pk])
    page = client.get(response["Location"]).content.decode()
    assert 'data-status="done"' in page and (run.merged, run.channel) == (1, "ui")


def test_detection_from_the_page(cast, twins, client_for) -> None:
    client = client_for(cast.ae)
    client.post(reverse("duplicates:detect"), {"entity": "organisation"})
    assert DuplicatePair.objects.filter(entity="organisation").count() == 1
    status = client.get(reverse("duplicates:detection_status", args=["organisation"]))
    assert 'id="detection-done"' in status.content.decode()


def test_create_form_warns_about_a_look_alike_then_creates_anyway(cast, twins, client_for) -> None:
    client = client_for(cast.ae)
    data = {"legal_name": "Dupont Conseil", "siren": "732 829 320", "city": "Paris"}
    before = Organisation.objects.count()
    warned = client.post(reverse("people:organisation_create"), data)
    page = warned.content.decode()
    assert warned.status_code == 409
    assert 'id="duplicate-warning"' in page and 'name="allow_duplicate"' in page
    assert reverse("people:organisation_detail", args=[twins.older.pk]) in page
    assert "same SIREN" in page
    assert 'value="Dupont Conseil"' in page  # what was typed is kept
    assert Organisation.objects.count() == before
    created = client.post(reverse("people:organisation_create"), {**data, "allow_duplicate": "1"})
    assert created.status_code == 302
    assert Organisation.objects.count() == before + 1


def test_contact_form_warns_too(cast, twins, client_for) -> None:
    response = client_for(cast.ae).post(
        reverse("people:contact_create"),
        {"first_name": "Jean", "last_name": "Martin", "email": "jean.martin@dupont-conseil.fr"},
    )
    assert response.status_code == 409
    assert (
        reverse("people:contact_detail", args=[twins.older_contact.pk]) in response.content.decode()
    )


def test_record_page_lists_its_look_alikes(cast, twins, detected, client_for) -> None:
    page = (
        client_for(cast.ae)
        .get(reverse("people:organisation_detail", args=[twins.older.pk]))
        .content.decode()
    )
    assert 'id="record-duplicates"' in page
    assert reverse("duplicates:pair", args=[detected.pk]) in page


def test_a_tampered_merge_form_is_refused_without_writing(
    cast, twins, detected, client_for
) -> None:
    response = client_for(cast.ae).post(
        reverse("duplicates:pair_merge", args=[detected.pk]),
        {"survivor": "c", "choice_legal_name": "z"},
    )
    assert response.status_code == 422
    assert Organisation.objects.filter(pk=twins.newer.pk).exists()
    assert not MergeRecord.objects.exists()
