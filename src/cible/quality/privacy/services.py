"""Writes of the privacy app: consents, purposes and retention rules.

Erasure lives in `erasure.py`, subject-access exports in `export.py`, retention runs in
`retention.py`; all of them go through the permissions of `permissions.py`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cible.core import normalisers as norm
from cible.core import values
from cible.core.audit import audit_context
from cible.core.concurrency import save_versioned
from cible.core.errors import FieldError, PermissionDenied, ValidationFailed
from cible.core.values import is_id
from cible.people.models import Contact
from cible.people.signals import send_email_opted_out_on_commit
from cible.quality.privacy import consents, permissions
from cible.quality.privacy.models import ConsentCondition, ConsentEvent, Purpose, RetentionRule

# Set while this app writes a contact's summary fields, so that the receiver that turns
# outside changes of those fields into consent events does not record our own writes twice.
_own_write: ContextVar[bool] = ContextVar("cible_privacy_write", default=False)
SUMMARY_FIELDS = ("email_consent", "email_opt_out", "phone_opt_out", "opted_out_at")


@contextlib.contextmanager
def own_write() -> Iterator[None]:
    token = _own_write.set(True)
    try:
        yield
    finally:
        _own_write.reset(token)


def in_own_write() -> bool:
    return _own_write.get()


# --- purposes -----------------------------------------------------------------------------------


def resolve_purpose(raw: Any, errors: list[FieldError], field: str = "purpose") -> Purpose | None:
    """A purpose by instance, id or code; blank or "all" means every purpose of the channel."""
    if isinstance(raw, Purpose):
        return raw
    text = str(raw if raw is not None else "").strip()
    if text == "" or text.lower() in ("all", "*"):
        return None
    purpose = None
    if is_id(text):
        purpose = Purpose.objects.filter(pk=int(text)).first()
    if purpose is None:
        purpose = Purpose.objects.filter(code__iexact=text).first()
    if purpose is None:
        codes = list(Purpose.objects.values_list("code", flat=True))
        errors.append(
            FieldError(
                field,
                _("unknown purpose “%(value)s”: use one of %(allowed)s, or “all”")
                % {"value": text[:60], "allowed": ", ".join(codes)},
            )
        )
    return purpose


def _text(raw: Any, field: str, limit: int, errors: list[FieldError]) -> str:
    text = str(raw or "").strip()
    if len(text) > limit:
        errors.append(
            FieldError(
                field,
                _("at most %(limit)s characters (got %(count)s)")
                % {
                    "limit": limit,
                    "count": len(text),
                },
            )
        )
    return text


def _ip(raw: Any, errors: list[FieldError]) -> str | None:
    text = str(raw or "").strip()
    if not text:
        return None
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        errors.append(
            FieldError("proof_ip", _("“%(value)s” is not an IP address") % {"value": text[:60]})
        )
        return None


def _moment(raw: Any, errors: list[FieldError]) -> dt.datetime:
    now = timezone.now()
    try:
        moment = values.moment(raw, field="occurred_at")
    except norm.NormalisationError as error:
        errors.append(FieldError("occurred_at", error.message))
        return now
    if moment is None:
        return now
    if moment > now + dt.timedelta(minutes=5):
        errors.append(FieldError("occurred_at", _("cannot be in the future")))
    return moment


def _whole(raw: Any, field: str, errors: list[FieldError]) -> int | None:
    try:
        return values.whole_number(raw, field=field, minimum=1, maximum=2**62)
    except norm.NormalisationError as error:
        errors.append(FieldError(field, error.message))
        return None


# --- consents -----------------------------------------------------------------------------------


@transaction.atomic
def consent_record(
    *,
    contact: Contact,
    actor: Any,
    channel: str,
    contact_channel: Any,
    purpose: Any,
    status: Any,
    source: Any = None,
    occurred_at: Any = None,
    proof: Mapping[str, Any] | None = None,
) -> ConsentEvent:
    """Record a grant, withdrawal or refusal with its proof, and bring the contact's summary
    fields in line. `purpose` None/"all": every purpose of the channel.

    `proof` may hold form, text, ip, email, reference, import_run, import_row, api_token, note.
    """
    if not permissions.may_record(actor, contact, channel):
        raise PermissionDenied(_("You may not record consents for this contact."))
    errors: list[FieldError] = []
    medium = consents.parse_channel(contact_channel, errors)
    chosen = resolve_purpose(purpose, errors)
    state = consents.parse_status(status, errors)
    origin = consents.parse_source(source, str(channel), errors)
    moment = _moment(occurred_at, errors)
    proof = dict(proof or {})
    unknown = sorted(set(proof) - PROOF_KEYS)
    if unknown:
        errors.append(FieldError(unknown[0], _("is not a proof field")))
    event = ConsentEvent(
        channel=medium or "",
        purpose=chosen,
        status=state or "",
        source=origin or "",
        occurred_at=moment,
        recorded_by=actor if getattr(actor, "pk", None) else None,
        proof_form=_text(proof.get("form"), "proof_form", 200, errors),
        proof_text=_text(proof.get("text"), "proof_text", 5000, errors),
        proof_ip=_ip(proof.get("ip"), errors),
        proof_reference=_text(proof.get("reference"), "proof_reference", 255, errors),
        import_run=_whole(proof.get("import_run"), "import_run", errors),
        import_row=_whole(proof.get("import_row"), "import_row", errors),
        api_token=proof.get("api_token"),
        note=_text(proof.get("note"), "note", 500, errors),
    )
    raw_email = proof.get("email")
    if raw_email not in (None, ""):
        try:
            event.proof_email = norm.email(str(raw_email)) or ""
        except norm.NormalisationError as error:
            errors.append(FieldError("proof_email", error.message))
    if chosen is not None and not chosen.is_active:
        errors.append(FieldError("purpose", _("this purpose is no longer in use")))
    locked = Contact.objects.select_for_update().get(pk=contact.pk)
    if locked.anonymised_at is not None:
        raise ValidationFailed(
            _("Contact #%(id)s was anonymised; no consent can be recorded for it any more.")
            % {"id": contact.pk}
        )
    if errors:
        raise ValidationFailed(errors=errors)
    event.contact = locked
    event.save()
    sync_summary(contact=locked, actor=actor, channel=channel)
    for name in (*SUMMARY_FIELDS, "version", "updated_at"):
        setattr(contact, name, getattr(locked, name))
    return event


PROOF_KEYS = frozenset(
    {"form", "text", "ip", "email", "reference", "import_run", "import_row", "api_token", "note"}
)


def state_views(contact_id: int) -> list[consents.StateView]:
    """The contact's current consents: the latest event per channel and purpose."""
    events = ConsentEvent.objects.filter(contact_id=contact_id).values_list(
        "channel", "purpose_id", "status", "occurred_at", "id"
    )
    return list(consents.latest(consents.StateView(*row) for row in events).values())


def sync_summary(*, contact: Contact, actor: Any, channel: str) -> bool:
    """Write the summary fields the contact's consents imply (locked row expected); audited as a
    change of the contact. Returns whether anything changed."""
    current = {name: getattr(contact, name) for name in SUMMARY_FIELDS}
    wanted = consents.summary(state_views(contact.pk), current)
    if wanted == current:
        return False
    for name, value in wanted.items():
        setattr(contact, name, value)
    with own_write(), audit_context(actor=actor, channel=channel):
        save_versioned(contact)
    if wanted["email_opt_out"] and not current["email_opt_out"]:
        send_email_opted_out_on_commit([contact.pk])
    return True


# --- purposes and retention rules ---------------------------------------------------------------


def _require_admin(actor: Any, channel: str) -> None:
    if not permissions.may_administer(actor, channel):
        raise PermissionDenied(_("Only administrators may manage privacy settings."))


@transaction.atomic
def purpose_save(
    *, actor: Any, channel: str, data: Mapping[str, Any], purpose: Purpose | None = None
) -> Purpose:
    """Create a purpose, or rename it and change whether it needs explicit consent."""
    _require_admin(actor, channel)
    errors: list[FieldError] = []
    name = _text(data.get("name"), "name", 100, errors)
    if not name:
        errors.append(FieldError("name", _("is required")))
    code = purpose.code if purpose else norm.search_key(str(data.get("code") or name))
    code = code.replace(" ", "_")[:40]
    if purpose is None and code and Purpose.objects.filter(code=code).exists():
        errors.append(
            FieldError("code", _("another purpose already has the code %(code)s") % {"code": code})
        )
    description = _text(data.get("description"), "description", 255, errors)
    flags = {}
    for field in ("requires_consent", "is_active"):
        try:
            flags[field] = values.boolean(data.get(field), field=field)
        except norm.NormalisationError as error:
            errors.append(FieldError(field, error.message))
    try:
        position = values.whole_number(data.get("position"), field="position", maximum=1000)
    except norm.NormalisationError as error:
        errors.append(FieldError("position", error.message))
        position = None
    if errors:
        raise ValidationFailed(errors=errors)
    purpose = purpose or Purpose(code=code)
    purpose.name, purpose.description = name, description
    purpose.requires_consent = bool(flags["requires_consent"])
    purpose.is_active = True if flags["is_active"] is None else flags["is_active"]
    purpose.position = position or 0
    with audit_context(actor=actor, channel=channel):
        purpose.save()
    return purpose


@transaction.atomic
def retention_rule_save(
    *, actor: Any, channel: str, data: Mapping[str, Any], rule: RetentionRule | None = None
) -> RetentionRule:
    """Create or change a retention rule; every field is checked, nothing is half-saved."""
    _require_admin(actor, channel)
    errors: list[FieldError] = []
    source = {**_rule_values(rule), **data} if rule else dict(data)
    name = _text(source.get("name"), "name", 150, errors)
    if not name:
        errors.append(FieldError("name", _("is required")))
    try:
        consent = values.choice(
            source.get("consent") or ConsentCondition.NONE_GRANTED,
            field="consent",
            choices=ConsentCondition.choices,
        )
    except norm.NormalisationError as error:
        errors.append(FieldError("consent", error.message))
        consent = ""
    try:
        months = values.whole_number(
            source.get("inactive_months"), field="inactive_months", minimum=1, maximum=600
        )
    except norm.NormalisationError as error:
        errors.append(FieldError("inactive_months", error.message))
        months = None
    if months is None and not any(e.field == "inactive_months" for e in errors):
        errors.append(FieldError("inactive_months", _("is required")))
    flags: dict[str, bool | None] = {}
    for field in ("exclude_customers", "is_active"):
        try:
            flags[field] = values.boolean(source.get(field), field=field)
        except norm.NormalisationError as error:
            errors.append(FieldError(field, error.message))
    if errors:
        raise ValidationFailed(errors=errors)
    rule = rule or RetentionRule(created_by=actor if getattr(actor, "pk", None) else None)
    rule.name, rule.consent, rule.inactive_months = name, consent, months or 36
    rule.exclude_customers = flags["exclude_customers"] is not False
    rule.is_active = bool(flags["is_active"])
    with audit_context(actor=actor, channel=channel):
        rule.save()
    return rule


def _rule_values(rule: RetentionRule) -> dict[str, Any]:
    return {
        "name": rule.name,
        "consent": rule.consent,
        "inactive_months": rule.inactive_months,
        "exclude_customers": rule.exclude_customers,
        "is_active": rule.is_active,
    }


@transaction.atomic
def retention_rule_delete(*, actor: Any, channel: str, rule: RetentionRule) -> None:
    _require_admin(actor, channel)
    with audit_context(actor=actor, channel=channel):
        rule.delete()
