"""What makes a record stale or incomplete (SPEC C2; seed 004 §1: "up to 20 % of the data goes
stale every year").

Pure: no database access. Every rule exists twice, as a `Q` for set-based counts and lists and
as a Python predicate over one record's values, and `tests/quality/freshness/test_rules.py`
proves the two agree. The rules are evaluated "as of" a day: `as_of` is today for the current
figures, or a past day to rebuild that day's snapshot (what was created, verified and bounced
by the end of it counts; what happened later does not).
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import F, Q, TextChoices
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

ORGANISATION = "organisation"
CONTACT = "contact"
CLOSED_STATUS = "closed"  # people.OrganisationStatus.CLOSED (kept literal: this module is pure)
# The condition nothing matches (every reason switched off); callers test `is NOTHING`.
NOTHING = Q(pk__in=[])


def any_of(conditions: Iterable[Q]) -> Q:
    listed = list(conditions)
    return functools.reduce(operator.or_, listed) if listed else NOTHING


class Entity(TextChoices):
    ORGANISATION = ORGANISATION, _("Organisations")
    CONTACT = CONTACT, _("Contacts")


class Reason(TextChoices):
    AGE = "age", _("Not verified for too long")
    NEVER = "never", _("Never verified")
    BOUNCED = "bounced", _("Email bounced")
    LEFT = "left", _("Has left the organisation")
    CLOSED = "closed", _("Organisation closed")


REASONS_OF: dict[str, tuple[str, ...]] = {
    ORGANISATION: (Reason.AGE, Reason.NEVER, Reason.CLOSED),
    CONTACT: (Reason.AGE, Reason.NEVER, Reason.BOUNCED, Reason.LEFT, Reason.CLOSED),
}


@dataclass(frozen=True)
class Rules:
    """The administrator's settings (`FreshnessPolicy`), as plain values."""

    organisation_max_age_days: int = 365
    contact_max_age_days: int = 365
    never_verified_grace_days: int = 90
    email_bounced: bool = True
    contact_left: bool = True
    organisation_closed: bool = True

    def max_age_days(self, entity: str) -> int:
        return (
            self.organisation_max_age_days if entity == ORGANISATION else self.contact_max_age_days
        )

    def active_reasons(self, entity: str) -> tuple[str, ...]:
        toggles = {
            Reason.BOUNCED: self.email_bounced,
            Reason.LEFT: self.contact_left,
            Reason.CLOSED: self.organisation_closed,
        }
        return tuple(str(r) for r in REASONS_OF[entity] if toggles.get(Reason(r), True))


@dataclass(frozen=True)
class Moments:
    """The instants a day's evaluation compares against, in the current time zone."""

    horizon: dt.datetime  # the end of `as_of`: later creations, checks and bounces do not count
    age_cutoff: dt.datetime  # verified before this: too long ago
    never_cutoff: dt.datetime  # created before this and never verified: stale


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def horizon(as_of: dt.date) -> dt.datetime:
    """The end of `as_of` (the start of the next day), in the current time zone."""
    return _start_of(as_of + dt.timedelta(days=1))


def moments(rules: Rules, entity: str, as_of: dt.date) -> Moments:
    return Moments(
        horizon=horizon(as_of),
        age_cutoff=_start_of(as_of - dt.timedelta(days=rules.max_age_days(entity))),
        never_cutoff=_start_of(as_of - dt.timedelta(days=rules.never_verified_grace_days)),
    )


# --- staleness ---------------------------------------------------------------------------------


def reason_conditions(
    rules: Rules, entity: str, as_of: dt.date, closed_organisations: Any = None
) -> dict[str, Q]:
    """One condition per active reason: the records of `entity` stale for that reason.

    `closed_organisations` (the ids of closed organisations, as a subquery) lets a contact's
    condition avoid a join: over a slice of contacts, PostgreSQL would otherwise hash-join the
    whole organisation table each time."""
    m = moments(rules, entity, as_of)
    verified = Q(last_verified_at__lt=m.horizon)
    conditions = {
        Reason.AGE: Q(last_verified_at__lt=m.age_cutoff),
        Reason.NEVER: ~verified & Q(created_at__lt=m.never_cutoff),
        # A bounce counts until someone checks the person again after it.
        Reason.BOUNCED: Q(email_bounced_at__lt=m.horizon)
        & ~Q(last_verified_at__gte=F("email_bounced_at"), last_verified_at__lt=m.horizon),
        Reason.LEFT: Q(has_left=True),
        Reason.CLOSED: Q(status=CLOSED_STATUS)
        if entity == ORGANISATION
        else Q(organisation__status=CLOSED_STATUS)
        if closed_organisations is None
        else Q(organisation_id__in=closed_organisations),
    }
    return {str(r): conditions[Reason(r)] for r in rules.active_reasons(entity)}


def stale_condition(
    rules: Rules, entity: str, as_of: dt.date, closed_organisations: Any = None
) -> Q:
    """Records stale for at least one reason (NOTHING when every reason is off)."""
    return any_of(reason_conditions(rules, entity, as_of, closed_organisations).values())


def reasons_of(rules: Rules, entity: str, as_of: dt.date, record: Mapping[str, Any]) -> list[str]:
    """The reasons one record is stale, from its values (`organisation_status` for a contact's
    organisation); the Python twin of `reason_conditions`."""
    m = moments(rules, entity, as_of)
    verified_at = record.get("last_verified_at")
    verified = verified_at is not None and verified_at < m.horizon
    bounced_at = record.get("email_bounced_at")
    tests: dict[str, Callable[[], bool]] = {
        Reason.AGE: lambda: verified_at is not None and verified_at < m.age_cutoff,
        Reason.NEVER: lambda: not verified and record["created_at"] < m.never_cutoff,
        Reason.BOUNCED: lambda: (
            bounced_at is not None
            and bounced_at < m.horizon
            and not (verified and verified_at >= bounced_at)
        ),
        Reason.LEFT: lambda: bool(record.get("has_left")),
        Reason.CLOSED: lambda: (
            (record.get("status") if entity == ORGANISATION else record.get("organisation_status"))
            == CLOSED_STATUS
        ),
    }
    return [str(r) for r in rules.active_reasons(entity) if tests[Reason(r)]()]


# --- completeness ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldRule:
    """A field whose fill rate the dashboard shows. `applies` narrows the records it is expected
    on (a SIREN only for French organisations); `key` fields make a record "incomplete" when
    missing."""

    name: str
    label: Any
    filled: Q
    is_filled: Callable[[Mapping[str, Any]], bool]
    applies: Q | None = None
    does_apply: Callable[[Mapping[str, Any]], bool] | None = None
    key: bool = True


def _text(name: str) -> tuple[Q, Callable[[Mapping[str, Any]], bool]]:
    return ~Q(**{name: ""}), lambda r: bool(r.get(name))


def _set(name: str) -> tuple[Q, Callable[[Mapping[str, Any]], bool]]:
    return Q(**{f"{name}__isnull": False}), lambda r: r.get(name) is not None


def _rule(name: str, label: Any, test: tuple[Q, Callable[..., bool]], **kw: Any) -> FieldRule:
    return FieldRule(name, label, test[0], test[1], **kw)


FIELDS: dict[str, tuple[FieldRule, ...]] = {
    ORGANISATION: (
        _rule(
            "siren",
            _("SIREN (French organisations)"),
            _text("siren"),
            applies=Q(country="FR"),
            does_apply=lambda r: r.get("country") == "FR",
        ),
        _rule("domain", _("Website / domain"), _text("domain")),
        _rule("phone", _("Switchboard phone"), _text("phone")),
        FieldRule(
            "address",
            _("Address (street, postal code, city)"),
            ~Q(street="") & ~Q(postal_code="") & ~Q(city=""),
            lambda r: bool(r.get("street") and r.get("postal_code") and r.get("city")),
        ),
        _rule("naf_code", _("NAF/NACE code"), _text("naf_code")),
        FieldRule(
            "headcount",
            _("Headcount"),
            Q(headcount__isnull=False) | ~Q(headcount_band=""),
            lambda r: r.get("headcount") is not None or bool(r.get("headcount_band")),
        ),
        _rule("annual_revenue", _("Annual revenue"), _set("annual_revenue"), key=False),
        _rule("sales_team_size", _("Sales team size"), _set("sales_team_size"), key=False),
        _rule("owner", _("Owner"), _set("owner_id")),
    ),
    CONTACT: (
        _rule("email", _("Email"), _text("email")),
        FieldRule(
            "phone",
            _("Phone or mobile"),
            ~Q(phone="") | ~Q(mobile=""),
            lambda r: bool(r.get("phone") or r.get("mobile")),
        ),
        _rule("job_title", _("Job title"), _text("job_title")),
        _rule("function", _("Function"), _text("function")),
        _rule("seniority", _("Seniority"), _text("seniority"), key=False),
        _rule("buying_role", _("Buying role"), _text("buying_role"), key=False),
        _rule("organisation", _("Organisation"), _set("organisation_id")),
        _rule("linkedin_url", _("LinkedIn profile"), _text("linkedin_url"), key=False),
        _rule("owner", _("Owner"), _set("owner_id")),
    ),
}


def incomplete_condition(entity: str) -> Q:
    """Records missing at least one key field that applies to them."""
    return any_of(
        (rule.applies & ~rule.filled) if rule.applies is not None else ~rule.filled
        for rule in FIELDS[entity]
        if rule.key
    )


def missing_fields(entity: str, record: Mapping[str, Any]) -> list[str]:
    """The key fields `record` lacks (the Python twin of `incomplete_condition`)."""
    return [
        rule.name
        for rule in FIELDS[entity]
        if rule.key
        and (rule.does_apply is None or rule.does_apply(record))
        and not rule.is_filled(record)
    ]


# --- the figures of one slice of the base ------------------------------------------------------

TOTAL = "total"
STALE = "stale"
INCOMPLETE = "incomplete"


def filled_key(field: str) -> str:
    return f"filled:{field}"


def expected_key(field: str) -> str:
    return f"expected:{field}"


def reason_key(reason: str) -> str:
    return f"stale:{reason}"


def count_conditions(
    rules: Rules, entity: str, as_of: dt.date, closed_organisations: Any = None
) -> dict[str, Q | None]:
    """Every figure the tally keeps, as a named condition (None: every record). One aggregate
    query computes them all in a single pass."""
    conditions: dict[str, Q | None] = {TOTAL: None}
    for rule in FIELDS[entity]:
        if rule.applies is not None:
            conditions[expected_key(rule.name)] = rule.applies
            conditions[filled_key(rule.name)] = rule.applies & rule.filled
        else:
            conditions[filled_key(rule.name)] = rule.filled
    reasons = reason_conditions(rules, entity, as_of, closed_organisations)
    for reason, condition in reasons.items():
        conditions[reason_key(reason)] = condition
    conditions[STALE] = any_of(reasons.values())
    conditions[INCOMPLETE] = incomplete_condition(entity)
    return conditions


def expected(entity: str, field: str, counts: Mapping[str, int]) -> int:
    """How many records a field is expected on, from summed counts."""
    rule = next(r for r in FIELDS[entity] if r.name == field)
    return counts.get(expected_key(field), 0) if rule.applies is not None else counts.get(TOTAL, 0)


def share(part: int, whole: int) -> float | None:
    return None if not whole else part / whole


def add_counts(into: dict[str, int], counts: Mapping[str, int]) -> dict[str, int]:
    for name, value in counts.items():
        into[name] = into.get(name, 0) + int(value)
    return into
