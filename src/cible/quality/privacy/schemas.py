"""API shapes of the privacy app. Channels, purposes and statuses are plain text here: the
services check them and answer 422 naming the field and the values allowed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema
from pydantic import Field

from cible.core.api_kit import InputSchema, Loose, LooseBool
from cible.quality.privacy.models import (
    ConsentEvent,
    PrivacyRequest,
    Purpose,
    RetentionRule,
)


class PurposeOut(Schema):
    id: int
    code: str
    name: str
    description: str
    requires_consent: bool
    is_active: bool


def purpose_out(p: Purpose) -> dict[str, Any]:
    return {
        "id": p.pk,
        "code": p.code,
        "name": p.name,
        "description": p.description,
        "requires_consent": p.requires_consent,
        "is_active": p.is_active,
    }


class ConsentIn(InputSchema):
    channel: str = Field(description="email, phone, sms or post.")
    purpose: str | None = Field(
        None, description="A purpose code (see /privacy/purposes); empty or 'all': every purpose."
    )
    status: str = Field(description="granted, withdrawn or refused.")
    source: str | None = Field(
        None, description="form, import, api, ui, email_unsubscribe or cli; default api."
    )
    occurred_at: Loose = Field(None, description="When the person said it (ISO 8601); default now.")
    proof_form: str | None = None
    proof_text: str | None = None
    proof_ip: str | None = None
    proof_email: str | None = None
    proof_reference: str | None = None
    import_run: Loose = None
    import_row: Loose = None
    note: str | None = None

    def proof(self) -> dict[str, Any]:
        return {
            "form": self.proof_form,
            "text": self.proof_text,
            "ip": self.proof_ip,
            "email": self.proof_email,
            "reference": self.proof_reference,
            "import_run": self.import_run,
            "import_row": self.import_row,
            "note": self.note,
        }


class ConsentEventOut(Schema):
    id: int
    contact: int
    channel: str
    purpose: str | None
    status: str
    source: str
    occurred_at: dt.datetime
    recorded_at: dt.datetime
    recorded_by: int | None
    proof_form: str
    proof_text: str
    proof_ip: str | None
    proof_email: str
    proof_reference: str
    import_run: int | None
    import_row: int | None
    api_token: str | None
    note: str


def event_out(e: ConsentEvent) -> dict[str, Any]:
    return {
        "id": e.pk,
        "contact": e.contact_id,
        "channel": e.channel,
        "purpose": e.purpose.code if e.purpose else None,
        "status": e.status,
        "source": e.source,
        "occurred_at": e.occurred_at,
        "recorded_at": e.recorded_at,
        "recorded_by": e.recorded_by_id,
        "proof_form": e.proof_form,
        "proof_text": e.proof_text,
        "proof_ip": e.proof_ip,
        "proof_email": e.proof_email,
        "proof_reference": e.proof_reference,
        "import_run": e.import_run,
        "import_row": e.import_row,
        "api_token": str(e.api_token) if e.api_token else None,
        "note": e.note,
    }


class CurrentConsentOut(Schema):
    channel: str
    purpose: str | None
    status: str
    since: dt.datetime
    event: int


def state_out(e: ConsentEvent) -> dict[str, Any]:
    """A current consent: the latest event of its channel and purpose."""
    return {
        "channel": e.channel,
        "purpose": e.purpose.code if e.purpose else None,
        "status": e.status,
        "since": e.occurred_at,
        "event": e.pk,
    }


class ConsentsOut(Schema):
    contact: int
    email_consent: str
    email_opt_out: bool
    phone_opt_out: bool
    anonymised: bool
    current: list[CurrentConsentOut]
    history: list[ConsentEventOut]


class MayContactOut(Schema):
    contact: int
    channel: str
    purpose: str
    allowed: bool
    reason: str


class EraseIn(InputSchema):
    reason: str = Field(description="Why the data is erased (kept after the erasure: no names).")


class RequestOut(Schema):
    id: int
    kind: str
    status: str
    contact: int | None
    rule: int | None
    rule_name: str
    actor: int | None
    channel: str
    reason: str
    dry_run: bool
    matched: int
    processed: int
    details: dict[str, Any]
    error: str
    created_at: dt.datetime
    finished_at: dt.datetime | None


def request_out(r: PrivacyRequest) -> dict[str, Any]:
    return {
        "id": r.pk,
        "kind": r.kind,
        "status": r.status,
        "contact": r.contact_ref,
        "rule": r.rule_id,
        "rule_name": r.rule_name,
        "actor": r.actor_id,
        "channel": r.channel,
        "reason": r.reason,
        "dry_run": r.dry_run,
        "matched": r.matched,
        "processed": r.processed,
        "details": r.details or {},
        "error": r.error,
        "created_at": r.created_at,
        "finished_at": r.finished_at,
    }


class RuleIn(InputSchema):
    name: str | None = None
    consent: str | None = Field(None, description="none_granted, withdrawn or any.")
    inactive_months: Loose = None
    exclude_customers: LooseBool = None
    is_active: LooseBool = None


class RuleOut(Schema):
    id: int
    name: str
    consent: str
    inactive_months: int
    exclude_customers: bool
    action: str
    is_active: bool


def rule_out(r: RetentionRule) -> dict[str, Any]:
    return {
        "id": r.pk,
        "name": r.name,
        "consent": r.consent,
        "inactive_months": r.inactive_months,
        "exclude_customers": r.exclude_customers,
        "action": r.action,
        "is_active": r.is_active,
    }


class DryRunOut(Schema):
    request: RequestOut
    sample: list[int] = Field(description="Ids of up to 20 of the contacts concerned.")
