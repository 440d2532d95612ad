"""Times in the clocks API's filters: any ISO 8601 offset is honoured, on every database."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import assert_error_shape
from tests.routing.sla.conftest import assign, new_lead, paris


def test_due_before_honours_an_offset_postgresql_would_refuse(
    cast: Any, policies: Any, api_for: Any, django_capture_on_commit_callbacks: Any
) -> None:
    lead = new_lead(cast, "Jeanne")
    with django_capture_on_commit_callbacks(execute=True):
        assign(lead, cast.sdr, cast.paris, at=paris(2026, 3, 10, 9, 0))  # first touch due 10:00 UTC
    sam = api_for(cast.manager)

    def due_first_touch(before: str) -> list[int]:
        answer = sam.get("/sla/clocks", due_before=before, handoff="first_touch")
        assert answer.status_code == 200, answer.content
        return [clock["lead"] for clock in answer.json()["items"]]

    assert due_first_touch("2026-03-09T14:00:00-20:06") == [lead.pk]  # 10:06 UTC
    assert due_first_touch("2026-03-09T13:50:00-20:06") == []  # 09:56 UTC
    assert due_first_touch("2026-03-10T10:01:00+00:00") == [lead.pk]
    refused = sam.get("/sla/clocks", due_before="0001-01-01T00:00:00+05:00")
    assert "due_before" in {e["field"] for e in assert_error_shape(refused, 422)["errors"]}
