"""Each lead's first entry into each road stage, kept on the lead by every move (leads.road):
what the funnel reads instead of the transitions, so it must always agree with them."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.db import connection

from cible.lifecycle.leads import road, services
from cible.lifecycle.leads.models import Lead
from tests.lifecycle.conftest import scored

JUNE = dt.datetime(2026, 6, 1, 9, 30, tzinfo=dt.UTC)


def entries(lead: Lead) -> dict[str, int | None]:
    lead.refresh_from_db()
    return {stage: getattr(lead, column) for stage, column in road.COLUMNS.items()}


def from_transitions() -> dict[int, dict[str, int | None]]:
    """The columns as the migration computes them from the stored transitions."""
    table, moves = (connection.ops.quote_name(t) for t in ("leads_lead", "leads_stagetransition"))
    columns = {column: None for column in road.COLUMNS.values()}
    Lead.objects.update(**columns)
    with connection.cursor() as cursor:
        for sql in road.backfill_sql(connection.vendor, table, moves):
            cursor.execute(sql)
    return {lead.pk: entries(lead) for lead in Lead.objects.all()}


def test_moves_keep_the_first_entry_of_each_stage(cast, lead):
    hour = road.hour_of(JUNE)
    with time_machine.travel(JUNE, tick=False):
        services.move(lead=lead, to_stage="mql", actor=cast.marketer, channel="ui")
    with time_machine.travel(JUNE + dt.timedelta(days=2), tick=False):
        services.reject(lead=lead, actor=cast.ae, reason="no project this year")
    with time_machine.travel(JUNE + dt.timedelta(days=40), tick=False):
        services.move(lead=lead, to_stage="mql", actor=cast.marketer, channel="ui", note="back")
        services.accept(lead=lead, actor=cast.sdr)
    first = entries(lead)
    # Back at MQL forty days later: the first entry stays the June one.
    assert first["mql"] == hour
    assert first["sal"] == hour + 40 * 24
    assert first["prospect"] == road.hour_of(lead.arrived_at)  # opened there (today)
    assert (first["suspect"], first["sql"], first["customer"]) == (None, None, None)
    kept = {lead.pk: first}
    assert from_transitions() == kept


def test_rule_moves_and_imports_of_history_mark_in_bulk(cast, dupont, agreed):
    lead = services.open_lead(
        contact=dupont, source="website", stage="prospect", actor=cast.ae, channel="ui"
    )
    scored(lead, 90, 90, "A1")
    services.apply_rules_to(lead=lead, actor=None, channel="job")
    lead.refresh_from_db()
    assert lead.stage != "prospect"  # the agreed MQL definition moved it
    live = {
        pk: entries(Lead.objects.get(pk=pk)) for pk in Lead.objects.values_list("pk", flat=True)
    }
    assert live[lead.pk][lead.stage] is not None
    assert from_transitions() == live


def test_entries_are_hours_since_2000_and_earlier_times_win():
    assert road.hour_of(dt.datetime(2000, 1, 1, 1, 59, tzinfo=dt.UTC)) == 1
    assert road.hour_of(dt.datetime(1999, 5, 1, tzinfo=dt.UTC)) == 0
