"""Demo step of data freshness: the base ages as real ones do (seed 004 §1: "up to 20 % of the
data goes stale every year"), then the quality figures and a few weeks of their history.

- Verification: two records in three that were never checked get a check at some moment of
  their life, so that verification ages spread from yesterday to three years ago. Not at the
  1m size: rewriting two million rows and their index takes about a minute there, so the
  organisation step's dates stay (a third of the records checked within the last 400 days).
- Bounces: about 3 % of contacts' emails bounced at some moment of their life (before or after
  their last check, so that some count as stale and some were fixed since).
- Closed organisations: about 1.5 % of suspects ceased trading.
- (Contacts who left their organisation come from the organisation step.)
- The figures: computed, then a snapshot per week over the last weeks, rebuilt from the records
  as they stood on each day (`freshness.rules`: "as of" a day), and one for today. A past day
  costs one pass over the base (about 15 s at 1m), so the 1m size gets one week of history.

Every draw is a function of the record's id and the seed, computed by the database in one
UPDATE per table, so that the 1M size takes seconds rather than a pass through Python.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.utils import timezone

from cible.core.audit import Channel, audit_context
from cible.demo.generator import DemoContext, Step, register
from cible.people.models import Contact, Organisation
from cible.quality.freshness import services, tally
from cible.quality.freshness.models import QualitySnapshot, QualityTally

VERIFIED_PER_MILLE = 667  # of the never-verified records
BOUNCED_PER_MILLE = 30
CLOSED_PER_MILLE = 15
WEEKS_OF_HISTORY = {"tiny": 6, "small": 8, "medium": 8, "1m": 1}
AGE_VERIFICATIONS = {"tiny", "small", "medium"}


def _draw(salt: int, seed: int, first_id: int) -> str:
    """A per-mille draw from the row's position in this run (ids may start anywhere). The
    modulo is written `%%`: the statement goes through the drivers' parameter formatting."""
    return f"(((id - {first_id}) * {salt} + {seed % 1000}) %% 1000)"


def _rows_of_run(ids: range) -> str:
    return f"id >= {ids.start} AND id < {ids.stop}"


def _moment_in_life(fraction: str, now: dt.datetime) -> tuple[str, list[Any]]:
    """SQL for a moment between the row's creation and `now`, `fraction` (0–999) of the way."""
    if connection.vendor == "postgresql":
        return f"created_at + ({fraction})::float8 / 1000 * (%s - created_at)", [now]
    return (
        f"datetime(julianday(created_at) + ({fraction}) / 1000.0"
        " * (julianday(%s) - julianday(created_at)))",
        [now.strftime("%Y-%m-%d %H:%M:%S")],
    )


def _update(sql: str, params: list[Any]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)


def _log(model: type[Any], rows: int, what: str) -> None:
    with audit_context(actor=None, channel=Channel.CLI):
        LogEntry.objects.create(
            content_type=ContentType.objects.get_for_model(model),
            object_pk="",
            object_repr=f"bulk update of {rows} {model._meta.verbose_name_plural} ({what})",
            action=LogEntry.Action.UPDATE,
            changes={},
            additional_data={"bulk": {"rows": rows, "demo": what}},
        )


def age_the_base(ctx: DemoContext) -> dict[str, int]:
    """Verification dates, bounces and closures on the rows this run wrote."""
    seed = ctx.seed
    now = ctx.now - dt.timedelta(hours=1)
    runs = {Organisation: ctx.org_ids, Contact: ctx.contact_ids}
    counts: dict[str, int] = {}
    with transaction.atomic():
        for model, salt in ((Organisation, 7919), (Contact, 6151)):
            ids = runs[model]
            if ctx.size.name not in AGE_VERIFICATIONS:
                counts[f"{model._meta.model_name} verified"] = 0
                continue
            moment, params = _moment_in_life(_draw(salt * 3, seed, ids.start), now)
            counts[f"{model._meta.model_name} verified"] = _update(
                f"UPDATE {model._meta.db_table} SET last_verified_at = {moment} "
                f"WHERE {_rows_of_run(ids)} AND last_verified_at IS NULL "
                f"AND {_draw(salt, seed, ids.start)} < {VERIFIED_PER_MILLE}",
                params,
            )
        contacts, organisations = ctx.contact_ids, ctx.org_ids
        moment, params = _moment_in_life(_draw(3571, seed, contacts.start), now)
        counts["contact bounced"] = _update(
            f"UPDATE {Contact._meta.db_table} SET email_bounced_at = {moment} "
            f"WHERE {_rows_of_run(contacts)} AND email <> '' "
            f"AND {_draw(2393, seed, contacts.start)} < {BOUNCED_PER_MILLE}",
            params,
        )
        counts["organisation closed"] = _update(
            f"UPDATE {Organisation._meta.db_table} SET status = 'closed' "
            f"WHERE {_rows_of_run(organisations)} AND status = 'suspect' "
            f"AND {_draw(4813, seed, organisations.start)} < {CLOSED_PER_MILLE}",
            [],
        )
        for model, label, what in (
            (Organisation, "organisation verified", "verification dates"),
            (Contact, "contact verified", "verification dates"),
            (Contact, "contact bounced", "bounced emails"),
            (Organisation, "organisation closed", "closed organisations"),
        ):
            if counts[label]:
                _log(model, counts[label], what)
    return counts


def create_freshness(ctx: DemoContext) -> None:
    counts = age_the_base(ctx)
    ctx.progress(
        "  freshness: "
        + ", ".join(f"{n:,} {label}" for label, n in counts.items())
        + "; computing the quality figures"
    )
    tally.tally_refresh()
    # Snapshots are of real days: a dataset generated "as of" a later day (tests) gets none
    # beyond today.
    today = min(ctx.today, timezone.localdate())
    weeks = WEEKS_OF_HISTORY.get(ctx.size.name, 4)
    for week in range(weeks, 0, -1):
        services.snapshot_take(day=today - dt.timedelta(weeks=week))
    services.snapshot_take()
    ctx.count("quality tally slices", QualityTally.objects.count())
    ctx.count("quality snapshots", QualitySnapshot.objects.count())
    ctx.shared.setdefault("bulk_models", []).extend([Organisation, Contact])


register(
    Step(
        "freshness",
        70,
        create_freshness,
        "verification dates, bounces, closed organisations, quality figures and their history",
    )
)
