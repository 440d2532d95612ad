"""Counting and listing a target over six organisations in known segments (world.py)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection

from cible.core.errors import PermissionDenied
from cible.people.services import contact_update
from cible.segments.targets import selectors
from cible.segments.targets.deadline import QueryTimedOut, deadline
from cible.segments.targets.services import target_create
from tests.segments.targets.world import (
    SALES_DIRECTORS,
    Base,
    fresh,
    seed_002_definition,
    segment,
)


def names(records: Any) -> list[str]:
    return sorted(str(r.legal_name if hasattr(r, "legal_name") else r.last_name) for r in records)


def test_seed_002_target_finds_salesforce_teams_of_11_or_more_in_lille_or_paris(
    cast: Any, base: Base
) -> None:
    found = selectors.target_queryset(viewer=cast.admin, definition=seed_002_definition())
    assert names(found) == ["Nordis", "Parisia"]
    counted = selectors.target_count(viewer=cast.admin, definition=seed_002_definition())
    assert (counted.count, counted.finished, counted.message) == (2, True, "")


def test_segments_of_one_axis_are_or_ed_and_axes_and_ed(cast: Any, base: Base) -> None:
    lille, paris = segment("geography", "lille"), segment("geography", "paris")
    one_axis = {"segments": {"geography": [lille, paris]}}
    assert names(selectors.target_queryset(viewer=cast.admin, definition=one_axis)) == [
        "Hubert",
        "Nordis",
        "Parisia",
        "Petit Lille",
        "Roubaix Sage",
    ]
    two_axes = {"segments": {"geography": [lille], "sales-team": [segment("sales-team", "11-20")]}}
    assert names(selectors.target_queryset(viewer=cast.admin, definition=two_axes)) == [
        "Nordis",
        "Roubaix Sage",
    ]


def test_segments_and_field_conditions_combine(cast: Any, base: Base) -> None:
    definition = {
        "segments": {"geography": [segment("geography", "lille")]},
        "organisation": {
            "match": "all",
            "conditions": [
                {"field": "headcount", "op": "gte", "value": 10},
                {"field": "city", "op": "equals", "value": "lille"},
            ],
        },
    }
    assert names(selectors.target_queryset(viewer=cast.admin, definition=definition)) == ["Nordis"]


def test_contact_target_sales_directors_at_salesforce_companies_in_lille_or_paris(
    cast: Any, base: Base
) -> None:
    definition = {**seed_002_definition(), "contact": SALES_DIRECTORS}
    found = selectors.target_queryset(viewer=cast.admin, definition=definition, level="contact")
    # Nadia is a sales *manager* at Nordis; Pierre is in IT at Parisia; Lucie is in Lyon.
    assert names(found) == ["Nora", "Paul"]
    counted = selectors.target_count(viewer=cast.admin, definition=definition, level="contact")
    assert counted.count == 2 and counted.level == "contact"


def test_contact_target_without_organisation_part_reaches_every_matching_contact(
    cast: Any, base: Base
) -> None:
    found = selectors.target_queryset(
        viewer=cast.admin, definition={"contact": SALES_DIRECTORS}, level="contact"
    )
    assert names(found) == ["Lucie", "Nora", "Paul"]


def test_anonymised_contacts_are_never_members(cast: Any, base: Base) -> None:
    from django.utils import timezone

    type(base.paul).objects.filter(pk=base.paul.pk).update(anonymised_at=timezone.now())
    found = selectors.target_queryset(
        viewer=cast.admin, definition={"contact": SALES_DIRECTORS}, level="contact"
    )
    assert names(found) == ["Lucie", "Nora"]


def test_an_ae_never_counts_another_teams_private_records(
    cast: Any, base: Base, team_private: Any
) -> None:
    """Parisia and Paul belong to Olivier (AE Lyon): Alice (AE Paris) counts without them."""
    alice, olivier = fresh(cast.ae), fresh(cast.outsider)
    assert selectors.target_count(viewer=alice, definition=seed_002_definition()).count == 1
    assert names(selectors.target_queryset(viewer=alice, definition=seed_002_definition())) == [
        "Nordis"
    ]
    assert selectors.target_count(viewer=olivier, definition=seed_002_definition()).count == 1
    contacts = {**seed_002_definition(), "contact": SALES_DIRECTORS}
    assert names(selectors.target_queryset(viewer=alice, definition=contacts, level="contact")) == [
        "Nora"
    ]
    # Marketing works the whole base; the administrator sees everything.
    assert (
        selectors.target_count(
            viewer=fresh(cast.marketer), definition=contacts, level="contact"
        ).count
        == 2
    )
    assert (
        selectors.target_count(viewer=fresh(cast.admin), definition=contacts, level="contact").count
        == 2
    )


def test_a_contact_of_mine_at_a_private_organisation_is_not_counted_through_it(
    cast: Any, base: Base, team_private: Any
) -> None:
    """Alice owns a contact at Olivier's Parisia: the organisation part cannot be checked for
    her, so that contact is not in her contact target."""
    contact_update(
        contact=base.pierre,
        actor=cast.admin,
        channel="ui",
        data={"owner": cast.ae.pk, "function": "sales", "seniority": "director"},
    )
    contacts = {**seed_002_definition(), "contact": SALES_DIRECTORS}
    alice = fresh(cast.ae)
    assert names(selectors.target_queryset(viewer=alice, definition=contacts, level="contact")) == [
        "Nora"
    ]
    assert names(
        selectors.target_queryset(
            viewer=alice, definition={"contact": SALES_DIRECTORS}, level="contact"
        )
    ) == ["Lucie", "Nora", "Pierre"]


def test_resolve_for_a_system_job_ignores_access_and_for_a_person_applies_it(
    cast: Any, base: Base, team_private: Any
) -> None:
    target = target_create(
        actor=cast.ae,
        channel="ui",
        data={"name": "Seed 002", "definition": seed_002_definition()},
    )
    assert names(selectors.target_resolve(target=target)) == ["Nordis", "Parisia"]
    assert names(selectors.target_resolve(target=target, viewer=fresh(cast.ae))) == ["Nordis"]


def test_a_deleted_segment_in_a_stored_target_matches_nobody(cast: Any, base: Base) -> None:
    target = target_create(
        actor=cast.ae,
        channel="ui",
        data={"name": "Lille", "definition": {"segments": [segment("geography", "lille")]}},
    )
    target.definition = {
        "segments": {"geography": [999_999]},
        "organisation": None,
        "contact": None,
    }
    assert selectors.target_count(viewer=cast.admin, target=target).count == 0


def test_members_are_listed_by_name(cast: Any, base: Base) -> None:
    target = target_create(
        actor=cast.ae,
        channel="ui",
        data={"name": "Lille", "definition": {"segments": [segment("geography", "lille")]}},
    )
    members = selectors.target_members(viewer=cast.admin, target=target)
    assert [o.legal_name for o in members] == ["Nordis", "Petit Lille", "Roubaix Sage"]


def test_an_account_without_role_may_not_count(db: Any, base: Base, cast: Any) -> None:
    from django.contrib.auth import get_user_model

    nobody = get_user_model().objects.create_user(username="nobody", password="x" * 12)
    with pytest.raises(PermissionDenied):
        selectors.target_count(viewer=nobody, definition=seed_002_definition())


# --- the time limit ------------------------------------------------------------------------------

ENDLESS = (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50000000) "
    "SELECT COUNT(*) FROM n"
)


def test_a_query_past_its_deadline_is_stopped_and_the_connection_still_works(db: Any) -> None:
    with pytest.raises(QueryTimedOut), deadline(0), connection.cursor() as cursor:
        cursor.execute(ENDLESS)
        cursor.fetchone()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone()[0] == 1


def test_within_its_deadline_a_query_answers_and_the_limit_goes_away(db: Any) -> None:
    with deadline(60_000), connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM people_organisation")
        assert cursor.fetchone()[0] == 0
    if connection.vendor == "postgresql":  # SET LOCAL must not outlive the block
        with connection.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            assert cursor.fetchone()[0] == "0"


def test_a_count_that_times_out_says_so(
    cast: Any, base: Base, monkeypatch: pytest.MonkeyPatch
) -> None:
    @contextlib.contextmanager
    def expired(milliseconds: int) -> Iterator[None]:
        raise QueryTimedOut
        yield  # pragma: no cover

    monkeypatch.setattr(selectors, "deadline", expired)
    counted = selectors.target_count(viewer=cast.admin, definition=seed_002_definition())
    assert counted.count is None and not counted.finished
    assert "Still counting after 1.5 s" in counted.message


def test_an_organisation_in_two_segments_of_a_non_exclusive_axis_counts_once(
    cast: Any, base: Base
) -> None:
    from cible.segments.axes.services import axis_create, segment_add_members, segment_create

    axis = axis_create(
        actor=cast.marketer, channel="ui", data={"name": "Events", "exclusive": False}
    )
    fair, webinar = (
        segment_create(
            actor=cast.marketer, channel="ui", axis=axis, data={"name": name, "kind": "manual"}
        )
        for name in ("Trade fair", "Webinar")
    )
    for chosen, organisations in ((fair, [base.nordis, base.hubert]), (webinar, [base.nordis])):
        segment_add_members(
            segment=chosen,
            actor=cast.marketer,
            channel="ui",
            organisation_ids=[o.pk for o in organisations],
        )
    both = {"segments": {"events": [fair.pk, webinar.pk]}}
    assert selectors.target_count(viewer=cast.admin, definition=both).count == 2
    assert names(selectors.target_queryset(viewer=cast.admin, definition=both)) == [
        "Hubert",
        "Nordis",
    ]
    with_geography = {
        "segments": {"events": [fair.pk, webinar.pk], "geography": [segment("geography", "lille")]}
    }
    assert selectors.target_count(viewer=cast.admin, definition=with_geography).count == 1
