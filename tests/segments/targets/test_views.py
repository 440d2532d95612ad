"""The targets pages: the list, the editor and its live count, a target's page, export."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from cible.segments.targets import selectors
from cible.segments.targets.deadline import QueryTimedOut
from cible.segments.targets.models import Target
from cible.segments.targets.services import target_create
from tests.segments.targets.world import SALES_DIRECTORS, Base, seed_002_definition, segment

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english_pages(cast: Any) -> None:
    """Pages follow the user's profile language (French by default); these tests read English."""
    from cible.people.models import UserProfile

    UserProfile.objects.update(language="en")


def seed_002_ids() -> list[int]:
    return [i for ids in seed_002_definition()["segments"].values() for i in ids]


def editor_data(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Salesforce teams, Lille or Paris",
        "level": "organisation",
        "segments": [str(i) for i in seed_002_ids()],
        "organisation": "",
        "contact": "",
    }
    data.update(changes)
    return data


def saved(owner: Any, name: str = "Seed 002", organisation: Any = None, **data: Any) -> Target:
    definition = {**seed_002_definition(), "organisation": organisation}
    return target_create(
        actor=owner, channel="ui", data={"name": name, "definition": definition, **data}
    )


def count_of(response: Any) -> str:
    found = re.search(r'id="live-count-value" data-value="(\d+)"', response.content.decode())
    assert found, response.content.decode()
    return found.group(1)


# --- the live count -------------------------------------------------------------------------------


def test_the_live_count_follows_the_definition(client_for: Any, cast: Any, base: Base) -> None:
    client = client_for(cast.marketer)
    response = client.post("/targets/count/", editor_data())
    assert response.status_code == 200
    assert count_of(response) == "2"  # Nordis and Parisia
    assert "organisations you can see" in response.content.decode()
    contact_level = editor_data(level="contact", contact=json.dumps(SALES_DIRECTORS))
    response = client.post("/targets/count/", contact_level)
    assert count_of(response) == "2"  # Nora and Paul
    assert "contacts you can see" in response.content.decode()
    # The contact conditions only count for a contact target (the editor hides them otherwise).
    response = client.post("/targets/count/", editor_data(contact=json.dumps(SALES_DIRECTORS)))
    assert count_of(response) == "2"


def test_the_live_count_covers_only_what_the_viewer_may_see(
    client_for: Any, cast: Any, base: Base, team_private: Any
) -> None:
    response = client_for(cast.ae).post("/targets/count/", editor_data())
    assert count_of(response) == "1"  # Parisia belongs to the Lyon team


def test_an_empty_definition_counts_everything_and_says_so(
    client_for: Any, cast: Any, base: Base
) -> None:
    response = client_for(cast.admin).post("/targets/count/", editor_data(segments=[]))
    assert count_of(response) == "6"
    assert "Nothing chosen yet" in response.content.decode()


def test_an_incomplete_condition_is_named_instead_of_counted(
    client_for: Any, cast: Any, base: Base
) -> None:
    rule = {
        "match": "all",
        "conditions": [
            {"field": "city", "op": "equals", "value": "Lille"},
            {"field": "headcount", "op": "gt", "value": ""},
        ],
    }
    response = client_for(cast.admin).post(
        "/targets/count/", editor_data(organisation=json.dumps(rule))
    )
    html = response.content.decode()
    assert response.status_code == 200 and 'data-state="invalid"' in html
    assert "Organisation conditions — condition 2" in html


def test_a_slow_count_says_narrow_it_down(
    client_for: Any, cast: Any, base: Base, monkeypatch: Any
) -> None:
    """The database stops a count past its deadline (tested with the selectors); the page then
    says so rather than wait."""

    @contextlib.contextmanager
    def expired(milliseconds: int, **kwargs: Any) -> Iterator[None]:
        raise QueryTimedOut
        yield

    monkeypatch.setattr(selectors, "deadline", expired)
    response = client_for(cast.admin).post("/targets/count/", editor_data())
    html = response.content.decode()
    assert 'data-state="slow"' in html and "Too slow — narrow it down" in html


# --- saving ---------------------------------------------------------------------------------------


def test_a_target_is_built_saved_and_shown_with_its_members(
    client_for: Any, cast: Any, base: Base
) -> None:
    client = client_for(cast.ae)
    assert client.get("/targets/new/").status_code == 200
    data = editor_data(level="contact", contact=json.dumps(SALES_DIRECTORS), shared="on")
    response = client.post("/targets/new/", data)
    target = Target.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/targets/{target.pk}/"
    assert target.owner == cast.ae and target.shared and target.level == "contact"
    assert target.definition["contact"]["conditions"][0]["field"] == "function"
    page = client.get(f"/targets/{target.pk}/").content.decode()
    assert re.search(r'id="target-count">2<', page)
    assert "Installed CRM" in page and "Salesforce" in page
    assert "Paris / Île-de-France or Lille" in page or "Lille or Paris / Île-de-France" in page
    assert f'data-contact="{base.nora.pk}"' in page and f'data-contact="{base.paul.pk}"' in page
    assert f'data-contact="{base.nadia.pk}"' not in page


def test_editor_errors_are_shown_where_they_are(client_for: Any, cast: Any, base: Base) -> None:
    rule = {
        "match": "all",
        "conditions": [{"field": "sales_team_size", "op": "gt", "value": "many"}],
    }
    response = client_for(cast.ae).post(
        "/targets/new/", editor_data(name="", organisation=json.dumps(rule))
    )
    html = response.content.decode()
    assert response.status_code == 422
    assert re.search(r'field-error" data-field="name">This field is required', html)
    error = re.search(r'rule-error" data-key="0">([^<]*)<', html)
    assert error and "is a number" in error.group(1)
    assert not Target.objects.exists()


def test_a_target_needs_something_in_it(client_for: Any, cast: Any, base: Base) -> None:
    response = client_for(cast.ae).post("/targets/new/", editor_data(segments=[]))
    assert response.status_code == 422
    assert "a target needs at least one segment or one condition" in response.content.decode()


def test_editing_comes_back_with_the_definition_and_detects_a_conflict(
    client_for: Any, cast: Any, base: Base
) -> None:
    target = saved(
        cast.ae,
        organisation={
            "match": "all",
            "conditions": [{"field": "city", "op": "equals", "value": "Lille"}],
        },
    )
    client = client_for(cast.ae)
    form = client.get(f"/targets/{target.pk}/edit/").content.decode()
    for i in seed_002_ids():
        assert re.search(rf'value="{i}" id="segment-{i}" autocomplete="off" checked', form)
    assert 'value="Lille"' in form
    data = editor_data(name="Renamed", version=target.version)
    assert client.post(f"/targets/{target.pk}/edit/", data).status_code == 302
    target.refresh_from_db()
    assert target.name == "Renamed" and target.definition["organisation"] is None
    response = client.post(f"/targets/{target.pk}/edit/", data)  # the old version again
    assert response.status_code == 409 and "Reload the latest version" in response.content.decode()


# --- the list, permissions ------------------------------------------------------------------------


def test_the_list_shows_mine_and_the_shared_ones(client_for: Any, cast: Any, base: Base) -> None:
    mine = saved(cast.ae, "Mine")
    shared = saved(cast.outsider, "Shared by Olivier", shared=True)
    private = saved(cast.outsider, "Olivier's own")
    html = client_for(cast.ae).get("/targets/").content.decode()
    assert f'data-target="{mine.pk}"' in html and f'data-target="{shared.pk}"' in html
    assert f'data-target="{private.pk}"' not in html
    count = client_for(cast.ae).get(f"/targets/{shared.pk}/count/").content.decode()
    assert 'data-value="2"' in count


def test_someone_elses_private_target_is_not_found(client_for: Any, cast: Any, base: Base) -> None:
    private = saved(cast.outsider, "Olivier's own")
    client = client_for(cast.ae)
    for url in ("/", "/edit/", "/export.csv", "/count/"):
        assert client.get(f"/targets/{private.pk}{url}").status_code == 404
    assert client.post(f"/targets/{private.pk}/delete/").status_code == 404
    assert client.post(f"/targets/{private.pk}/duplicate/").status_code == 404


def test_a_shared_target_is_duplicated_not_changed_by_others(
    client_for: Any, cast: Any, base: Base
) -> None:
    shared = saved(cast.outsider, "Shared", shared=True)
    client = client_for(cast.ae)
    page = client.get(f"/targets/{shared.pk}/").content.decode()
    assert 'id="target-edit"' not in page and 'id="target-duplicate"' in page
    assert client.get(f"/targets/{shared.pk}/edit/").status_code == 403
    assert client.post(f"/targets/{shared.pk}/delete/").status_code == 403
    response = client.post(f"/targets/{shared.pk}/duplicate/")
    copy = Target.objects.get(owner=cast.ae)
    assert response.status_code == 302 and response["Location"] == f"/targets/{copy.pk}/edit/"
    assert copy.name == "Copy of Shared" and not copy.shared
    assert client.post(f"/targets/{copy.pk}/delete/").status_code == 302
    assert not Target.objects.filter(pk=copy.pk).exists()


def test_export_lists_what_the_viewer_sees(
    client_for: Any, cast: Any, base: Base, team_private: Any
) -> None:
    target = saved(cast.ae, shared=True)
    response = client_for(cast.ae).get(f"/targets/{target.pk}/export.csv")
    assert response.status_code == 200
    lines = b"".join(response.streaming_content).decode("utf-8-sig").strip().splitlines()
    assert lines[0].startswith("Id,Name,Legal name")
    assert [line.split(",")[1] for line in lines[1:]] == ["Nordis"]
    lines = (
        b"".join(client_for(cast.admin).get(f"/targets/{target.pk}/export.csv").streaming_content)
        .decode("utf-8-sig")
        .strip()
        .splitlines()
    )
    assert sorted(line.split(",")[1] for line in lines[1:]) == ["Nordis", "Parisia"]


def test_segment_chips_show_counts_per_axis(client_for: Any, cast: Any, base: Base) -> None:
    html = client_for(cast.admin).get("/targets/new/").content.decode()
    lille = segment("geography", "lille")
    chip = re.search(
        rf'for="segment-{lille}" data-segment="lille">Lille <span class="count">(\d+)<', html
    )
    assert chip and chip.group(1) == "3"  # Nordis, Petit Lille, Roubaix
    assert 'hx-sync="this:replace"' in html and "change delay:300ms" in html


def test_pages_take_a_fixed_number_of_queries(
    client_for: Any, cast: Any, base: Base, django_assert_max_num_queries: Any
) -> None:
    for i in range(5):
        saved(
            cast.ae,
            f"Target {i}",
            organisation={
                "match": "all",
                "conditions": [{"field": "city", "op": "equals", "value": "Lille"}],
            },
        )
    client = client_for(cast.ae)
    client.get("/targets/")  # warm the session
    # Each page includes the navbar's bell: 2 queries (unread count, latest).
    with django_assert_max_num_queries(8):
        html = client.get("/targets/").content.decode()
    assert html.count("Installed CRM: Salesforce;") == 5
    assert "Organisations: City is “Lille”" in html
    with django_assert_max_num_queries(10):
        client.get("/targets/new/")
