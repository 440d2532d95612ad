"""Retention rules: which contacts have been kept long enough, a dry run that lists them, and
the run that anonymises them in the background (a Huey task, and every night for active rules).

"Activity" is the latest of the contact's last change, its last verification, and the dates of
every record related to it (found through `Contact._meta.related_objects`: consents today,
interactions and opportunities' contacts as later issues add them). The selection is one SQL
query with `NOT EXISTS` per relation, whatever the size of the base.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from auditlog.models import LogEntry
from dateutil.relativedelta import relativedelta
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import Exists, F, Max, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from cible.core.errors import PermissionDenied
from cible.people.models import Contact, LifecycleStage
from cible.quality.privacy import permissions
from cible.quality.privacy.erasure import anonymise
from cible.quality.privacy.models import (
    NEGATIVE_STATUSES,
    ConsentCondition,
    ConsentEvent,
    ConsentStatus,
    PrivacyRequest,
    RequestKind,
    RequestStatus,
    RetentionRule,
)
from cible.quality.privacy.personal_data import Relation, date_fields, relations

BATCH = 500
SAMPLE = 20


def cutoff_for(rule: RetentionRule, now: dt.datetime) -> dt.datetime:
    return now - relativedelta(months=rule.inactive_months)


def _activity_relations() -> list[Relation]:
    return relations(include_own=True)


def _newer(**same: Any) -> QuerySet[ConsentEvent]:
    """Events of the same contact and channel as the enclosing event, recorded as newer."""
    return ConsentEvent.objects.filter(
        contact=OuterRef("contact"), channel=OuterRef("channel"), **same
    ).filter(
        Q(occurred_at__gt=OuterRef("occurred_at"))
        | Q(occurred_at=OuterRef("occurred_at"), pk__gt=OuterRef("pk"))
    )


def current_words(statuses: Sequence[str]) -> QuerySet[ConsentEvent]:
    """A contact's events with one of `statuses` that are still the latest word for their
    purpose: no newer event of the same channel and purpose, nor a newer channel-wide one."""
    keyed = ConsentEvent.objects.annotate(key=Coalesce("purpose", Value(0)))
    same_key = _newer().annotate(key=Coalesce("purpose", Value(0))).filter(key=OuterRef("key"))
    return (
        keyed.filter(contact=OuterRef("pk"), status__in=list(statuses))
        .exclude(Exists(same_key))
        .exclude(Exists(_newer(purpose__isnull=True)))
    )


def _recent(relation: Relation, cutoff: dt.datetime) -> Exists:
    model = relation.model
    since = Q()
    for name in date_fields(model):
        field = model._meta.get_field(name)
        limit = cutoff if isinstance(field, models.DateTimeField) else cutoff.date()
        since |= Q(**{f"{name}__gte": limit})
    rows = model._default_manager.filter(**{relation.field: OuterRef("pk")})
    return Exists(rows.filter(since) if since else rows.none())


def candidates(rule: RetentionRule, *, now: dt.datetime | None = None) -> QuerySet[Contact]:
    """Contacts `rule` applies to at `now`: not anonymised, past the inactivity limit, in the
    consent situation the rule names, and (if the rule says so) not customers."""
    cutoff = cutoff_for(rule, now or timezone.now())
    qs = Contact.objects.filter(anonymised_at__isnull=True, updated_at__lt=cutoff).filter(
        Q(last_verified_at__isnull=True) | Q(last_verified_at__lt=cutoff)
    )
    if rule.exclude_customers:
        qs = qs.exclude(lifecycle_stage=LifecycleStage.CUSTOMER)
    if rule.consent == ConsentCondition.NONE_GRANTED:
        granted = current_words([ConsentStatus.GRANTED])
        qs = qs.exclude(email_consent="granted").exclude(Exists(granted))
    elif rule.consent == ConsentCondition.WITHDRAWN:
        negative = current_words(NEGATIVE_STATUSES)
        qs = qs.filter(
            Q(Exists(negative))
            | Q(email_opt_out=True)
            | Q(phone_opt_out=True)
            | Q(email_consent="withdrawn")
        )
    for relation in _activity_relations():
        qs = qs.exclude(_recent(relation, cutoff))
    return qs


def digest(ids: Sequence[int]) -> str:
    """A fingerprint of a set of contacts: a dry run and the run that follows it compare it."""
    return hashlib.sha256(",".join(map(str, sorted(ids))).encode()).hexdigest()[:16]


def last_activity(contact: Contact) -> dt.datetime | None:
    """The date `candidates` judges the contact by (for showing a sample, one at a time)."""
    moments: list[dt.datetime] = [contact.updated_at]
    if contact.last_verified_at:
        moments.append(contact.last_verified_at)
    for relation in _activity_relations():
        rows = relation.model._default_manager.filter(**{relation.field: contact.pk})
        for name in date_fields(relation.model):
            value = rows.aggregate(latest=Max(name))["latest"]
            if isinstance(value, dt.datetime):
                moments.append(value)
            elif isinstance(value, dt.date):
                moments.append(dt.datetime.combine(value, dt.time(), tzinfo=dt.UTC))
    return max(moments) if moments else None


@dataclass(frozen=True)
class SampleRow:
    contact: Contact
    last_activity: dt.datetime | None


def sample(request: PrivacyRequest) -> list[SampleRow]:
    """The contacts a dry run listed as examples, as they are now."""
    ids = list((request.details or {}).get("sample_ids", []))
    found = Contact.objects.select_related("organisation").in_bulk(ids)
    return [SampleRow(found[pk], last_activity(found[pk])) for pk in ids if pk in found]


def _require_admin(actor: Any, channel: str) -> None:
    if not permissions.may_administer(actor, channel):
        raise PermissionDenied(_("Only administrators may run retention rules."))


def _new_request(rule: RetentionRule, actor: Any, channel: str, *, dry_run: bool) -> PrivacyRequest:
    return PrivacyRequest.objects.create(
        kind=RequestKind.RETENTION,
        status=RequestStatus.PENDING,
        rule=rule,
        rule_name=rule.name,
        actor=actor if getattr(actor, "pk", None) else None,
        channel=str(channel),
        dry_run=dry_run,
    )


def retention_dry_run(
    *, rule: RetentionRule, actor: Any, channel: str, now: dt.datetime | None = None
) -> PrivacyRequest:
    """How many contacts, and which (a sample and a fingerprint of the whole set), a run of
    `rule` would anonymise now. Nothing is changed; the dry run is kept in the journal."""
    _require_admin(actor, channel)
    now = now or timezone.now()
    ids = list(candidates(rule, now=now).order_by("pk").values_list("pk", flat=True))
    request = _new_request(rule, actor, channel, dry_run=True)
    request.status = RequestStatus.DONE
    request.matched = len(ids)
    request.details = {
        "cutoff": cutoff_for(rule, now).isoformat(),
        "digest": digest(ids),
        "sample_ids": ids[:SAMPLE],
    }
    request.finished_at = timezone.now()
    request.save()
    _log_run(rule, request, actor=actor, channel=channel)
    return request


def retention_run_start(*, rule: RetentionRule, actor: Any, channel: str) -> PrivacyRequest:
    """Queue a run of `rule` in the background; the journal entry shows its progress."""
    _require_admin(actor, channel)
    request = _new_request(rule, actor, channel, dry_run=False)
    from cible.quality.privacy.tasks import retention_run_task

    retention_run_task(request.pk)
    request.refresh_from_db()
    return request


def retention_run(*, rule: RetentionRule, actor: Any, channel: str) -> PrivacyRequest:
    """Run `rule` now, in this process (the command line, the nightly sweep)."""
    _require_admin(actor, channel)
    request = _new_request(rule, actor, channel, dry_run=False)
    return retention_execute(request_id=request.pk)


def retention_execute(*, request_id: int, now: dt.datetime | None = None) -> PrivacyRequest:
    """Run a queued retention request: anonymise its rule's contacts in batches, each batch its
    own transaction. Idempotent: a second run (or a rerun after a crash) only finds the
    contacts still left, since anonymised ones never match again."""
    request = PrivacyRequest.objects.select_related("rule", "actor").get(pk=request_id)
    if request.is_finished or request.rule is None:
        return request
    rule, now = request.rule, now or timezone.now()
    ids = list(candidates(rule, now=now).order_by("pk").values_list("pk", flat=True))
    PrivacyRequest.objects.filter(pk=request.pk).update(
        status=RequestStatus.RUNNING,
        matched=len(ids),
        details={"cutoff": cutoff_for(rule, now).isoformat(), "digest": digest(ids)},
    )
    request.refresh_from_db()
    totals = {"contacts": 0, "audit_entries": 0, "consent_events": 0, "other_rows": 0}
    try:
        for start in range(0, len(ids), BATCH):
            with transaction.atomic():
                batch = ids[start : start + BATCH]
                # Still due? Someone may have worked the contact since the list was made.
                still = list(
                    candidates(rule, now=now).filter(pk__in=batch).values_list("pk", flat=True)
                )
                counts, _scrubber = anonymise(
                    still,
                    actor=request.actor,
                    channel=request.channel,
                    request=request,
                    thorough=False,
                )
                for key, value in counts.as_dict().items():
                    totals[key] += value
                PrivacyRequest.objects.filter(pk=request.pk).update(
                    processed=F("processed") + counts.contacts
                )
    except Exception as error:
        PrivacyRequest.objects.filter(pk=request.pk).update(
            status=RequestStatus.FAILED, error=str(error)[:2000], finished_at=timezone.now()
        )
        raise
    request.refresh_from_db()
    request.status = RequestStatus.DONE
    request.details = {**request.details, **totals}
    request.finished_at = timezone.now()
    request.save(update_fields=["status", "details", "finished_at"])
    _log_run(rule, request, actor=request.actor, channel=request.channel)
    return request


def retention_run_active(*, channel: str = "job") -> list[PrivacyRequest]:
    """The nightly sweep: every active rule, run as the system."""
    return [
        retention_run(rule=rule, actor=None, channel=channel)
        for rule in RetentionRule.objects.filter(is_active=True).order_by("pk")
    ]


def _log_run(rule: RetentionRule, request: PrivacyRequest, *, actor: Any, channel: str) -> None:
    """The rule's history shows each run and dry run with its counts (and nothing personal)."""
    what = "dry run" if request.dry_run else "run"
    LogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(RetentionRule),
        object_pk=str(rule.pk),
        object_id=rule.pk,
        object_repr=f"retention {what} #{request.pk} of rule #{rule.pk}",
        action=LogEntry.Action.ACCESS if request.dry_run else LogEntry.Action.UPDATE,
        changes={},
        actor=actor if getattr(actor, "pk", None) else None,
        additional_data={
            "channel": str(channel),
            "privacy": {
                "action": "retention_dry_run" if request.dry_run else "retention_run",
                "request": request.pk,
                "matched": request.matched,
                "anonymised": request.processed,
            },
        },
    )
