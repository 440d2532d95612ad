"""Detection over the base stores likely pairs with their reasons, once each; a decision on a
pair is remembered whatever detection finds later."""

from __future__ import annotations

import pytest

from cible.quality.duplicates import merge
from cible.quality.duplicates.detect import run_detection
from cible.quality.duplicates.models import DetectionRun, DuplicatePair, PairStatus
from tests import factories

pytestmark = pytest.mark.django_db


def test_twins_are_found_with_their_reasons_and_the_namesake_is_not(twins, detected) -> None:
    assert detected.status == PairStatus.OPEN
    assert detected.score > 0.99
    codes = [r["code"] for r in detected.reasons]
    assert codes[:3] == ["same_siren", "name", "same_phone"]  # strongest first
    assert "same_city" in codes
    name = next(r for r in detected.reasons if r["code"] == "name")
    assert name["percent"] == 100  # "Dupont Conseil SAS" and "DUPONT CONSEIL"
    others = DuplicatePair.objects.exclude(pk=detected.pk).filter(score__gte=0.85)
    assert not others.exists()
    run = DetectionRun.objects.get()
    assert (run.status, run.records, run.pairs, run.new_pairs) == ("done", 4, 1, 1)
    assert run.channel == "job"


def test_detecting_again_does_not_repeat_pairs(twins, detected) -> None:
    run = run_detection(entity="organisation")
    assert DuplicatePair.objects.filter(entity="organisation").count() == 1
    assert (run.pairs, run.new_pairs) == (1, 0)
    assert DuplicatePair.objects.get().pk == detected.pk


def test_not_a_duplicate_is_remembered_across_detections(cast, twins, detected) -> None:
    merge.pair_mark_not_duplicate(pair=detected, actor=cast.ae, channel="ui")
    run_detection(entity="organisation")
    run_detection(entity="organisation")
    pair = DuplicatePair.objects.get(pk=detected.pk)
    assert pair.status == PairStatus.NOT_DUPLICATE
    assert pair.decided_by == cast.ae
    assert DuplicatePair.objects.filter(entity="organisation").count() == 1


def test_a_pair_no_longer_found_leaves_the_queue(cast, twins, detected) -> None:
    from cible.people.services import organisation_update

    for record in (twins.older, twins.newer):
        record.refresh_from_db()
    organisation_update(
        organisation=twins.newer,
        actor=cast.ae2,
        channel="ui",
        data={
            "legal_name": "Zèbre Informatique",
            "siren": "",
            "phone": "",
            "city": "Nice",
            "postal_code": "06000",
        },
    )
    run_detection(entity="organisation")
    assert not DuplicatePair.objects.filter(pk=detected.pk).exists()


def test_contacts_found_by_email_and_name(cast, twins) -> None:
    factories.contact(
        cast.ae2, first_name="J.", last_name="MARTIN", email="Jean.Martin@dupont-conseil.fr"
    )
    run = run_detection(entity="contact")
    pair = DuplicatePair.objects.get(entity="contact")
    assert pair.record_a == twins.older_contact.pk
    assert pair.reasons[0]["code"] == "same_email"
    assert run.records == 3


def test_an_empty_base_or_a_single_record_finds_nothing(cast) -> None:
    run = run_detection(entity="organisation")
    assert (run.status, run.records, run.pairs) == ("done", 0, 0)
    factories.organisation(cast.ae, legal_name="!!!")
    assert run_detection(entity="organisation").pairs == 0


def test_a_run_left_unfinished_by_a_dead_worker_does_not_block_the_next(cast, twins) -> None:
    import datetime as dt

    from django.utils import timezone

    from cible.quality.duplicates import services

    dead = DetectionRun.objects.create(
        entity="organisation",
        channel="job",
        status="running",
        created_at=timezone.now() - dt.timedelta(hours=2),
    )
    run = services.detection_start(entity="organisation", actor=cast.ae, channel="ui")
    assert run.pk != dead.pk and run.status == "done"
    dead.refresh_from_db()
    assert dead.status == "failed" and "Interrupted" in dead.error
