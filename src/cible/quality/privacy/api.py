"""REST endpoints of the privacy app, under /api/v1/privacy: consents, may-contact, the
subject-access export, erasure, retention rules and runs, and the journal."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Schema, Status

from cible.core.api_kit import ERRORS, WRITE_ERRORS, Id, viewer
from cible.core.audit import Channel
from cible.core.errors import NotFound, PermissionDenied
from cible.core.models import ApiToken
from cible.people.models import Contact
from cible.people.selectors import get_visible
from cible.quality.privacy import erasure, export, permissions, retention, selectors, services
from cible.quality.privacy.models import PrivacyRequest, RetentionRule
from cible.quality.privacy.schemas import (
    ConsentEventOut,
    ConsentIn,
    ConsentsOut,
    DryRunOut,
    EraseIn,
    MayContactOut,
    PurposeOut,
    RequestOut,
    RuleIn,
    RuleOut,
    event_out,
    purpose_out,
    request_out,
    rule_out,
    state_out,
)

router = Router(tags=["privacy"])


def _contact(request: HttpRequest, pk: int) -> Contact:
    return get_visible(viewer=viewer(request), model=Contact, pk=pk)  # type: ignore[no-any-return]


def _token(request: HttpRequest) -> ApiToken | None:
    """The personal token the call came with: it is part of a consent's proof."""
    scheme, _sep, key = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return None
    return ApiToken.objects.filter(key_hash=ApiToken.hash_key(key.strip())).first()


@router.get("/purposes", response={200: list[PurposeOut], **ERRORS})
def list_purposes(request: HttpRequest) -> Any:
    """The purposes a consent may name (by `code`)."""
    return [purpose_out(p) for p in selectors.purposes(viewer=viewer(request))]


@router.get("/contacts/{pk}/consents", response={200: ConsentsOut, **ERRORS})
def get_consents(request: HttpRequest, pk: Path[Id]) -> Any:
    """Current consents (the latest word per channel and purpose) and the whole history."""
    contact = _contact(request, pk)
    history = selectors.consent_history(viewer=viewer(request), contact=contact)
    current = selectors.current_consents(contact).values()
    return {
        "contact": contact.pk,
        "email_consent": contact.email_consent,
        "email_opt_out": contact.email_opt_out,
        "phone_opt_out": contact.phone_opt_out,
        "anonymised": contact.anonymised_at is not None,
        "current": [state_out(s) for s in current],
        "history": [event_out(e) for e in history],
    }


@router.post("/contacts/{pk}/consents", response={201: ConsentEventOut, **WRITE_ERRORS})
def record_consent(request: HttpRequest, pk: Path[Id], payload: ConsentIn) -> Any:
    """Record a grant, withdrawal or refusal with its proof; the token used is kept as proof."""
    contact = _contact(request, pk)
    proof = payload.proof()
    proof["api_token"] = _token(request)
    event = services.consent_record(
        contact=contact,
        actor=viewer(request),
        channel=Channel.API,
        contact_channel=payload.channel,
        purpose=payload.purpose,
        status=payload.status,
        source=payload.source,
        occurred_at=payload.occurred_at,
        proof=proof,
    )
    return Status(201, event_out(event))


class MayContactQuery(Schema):
    channel: str
    purpose: str


@router.get("/contacts/{pk}/may-contact", response={200: MayContactOut, **ERRORS})
def may_contact(request: HttpRequest, pk: Path[Id], params: Query[MayContactQuery]) -> Any:
    """Whether a send through `channel` for `purpose` is allowed, and why."""
    contact = _contact(request, pk)
    permission = selectors.contact_permission(contact, params.channel, params.purpose)
    return {
        "contact": contact.pk,
        "channel": params.channel,
        "purpose": params.purpose,
        "allowed": permission.allowed,
        "reason": permission.reason,
    }


@router.get(
    "/contacts/{pk}/export",
    response={200: None, **ERRORS},
    openapi_extra={
        "responses": {
            "200": {
                "description": "A zip of JSON and CSV files with a README.",
                "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def export_contact(request: HttpRequest, pk: Path[Id]) -> HttpResponse:
    """Everything held about the person (administrators and the contact's owner); audited."""
    contact = _contact(request, pk)
    result = export.contact_export(contact=contact, actor=viewer(request), channel=Channel.API)
    response = HttpResponse(result.content, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{result.filename}"'
    return response


@router.post("/contacts/{pk}/erase", response={200: RequestOut, **WRITE_ERRORS})
def erase_contact(request: HttpRequest, pk: Path[Id], payload: EraseIn) -> Any:
    """Anonymise the person (administrators); 422 if already anonymised."""
    contact = _contact(request, pk)
    done = erasure.contact_erase(
        contact=contact, actor=viewer(request), channel=Channel.API, reason=payload.reason
    )
    return request_out(done)


# --- retention ----------------------------------------------------------------------------------


def _rule(request: HttpRequest, pk: int) -> RetentionRule:
    if not permissions.may_administer(viewer(request)):
        raise PermissionDenied(_("Only administrators may manage retention rules."))
    rule = RetentionRule.objects.filter(pk=pk).first()
    if rule is None:
        raise NotFound(_("Not found, or not visible to you."))
    return rule


@router.get("/retention-rules", response={200: list[RuleOut], **ERRORS})
def list_rules(request: HttpRequest) -> Any:
    return [rule_out(r) for r in selectors.retention_rules(viewer=viewer(request))]


@router.post("/retention-rules", response={201: RuleOut, **WRITE_ERRORS})
def create_rule(request: HttpRequest, payload: RuleIn) -> Any:
    rule = services.retention_rule_save(
        actor=viewer(request), channel=Channel.API, data=payload.data()
    )
    return Status(201, rule_out(rule))


@router.patch("/retention-rules/{pk}", response={200: RuleOut, **WRITE_ERRORS})
def update_rule(request: HttpRequest, pk: Path[Id], payload: RuleIn) -> Any:
    rule = services.retention_rule_save(
        actor=viewer(request), channel=Channel.API, data=payload.data(), rule=_rule(request, pk)
    )
    return rule_out(rule)


@router.post("/retention-rules/{pk}/dry-run", response={200: DryRunOut, **WRITE_ERRORS})
def dry_run_rule(request: HttpRequest, pk: Path[Id]) -> Any:
    """How many contacts, and which, a run would anonymise now; nothing is changed."""
    done = retention.retention_dry_run(
        rule=_rule(request, pk), actor=viewer(request), channel=Channel.API
    )
    return {"request": request_out(done), "sample": done.details.get("sample_ids", [])}


@router.post("/retention-rules/{pk}/run", response={202: RequestOut, **WRITE_ERRORS})
def run_rule(request: HttpRequest, pk: Path[Id]) -> Any:
    """Start a run in the background; follow it at /privacy/requests/{id}."""
    started = retention.retention_run_start(
        rule=_rule(request, pk), actor=viewer(request), channel=Channel.API
    )
    return Status(202, request_out(started))


@router.get("/requests", response={200: list[RequestOut], **ERRORS})
def list_requests(request: HttpRequest) -> Any:
    """The journal: exports, erasures and retention runs, newest first (administrators)."""
    return [request_out(r) for r in selectors.recent_requests(viewer=viewer(request), limit=200)]


@router.get("/requests/{pk}", response={200: RequestOut, **ERRORS})
def get_request(request: HttpRequest, pk: Path[Id]) -> Any:
    if not permissions.may_administer(viewer(request)):
        raise PermissionDenied(_("Only administrators may see the privacy journal."))
    item = PrivacyRequest.objects.filter(pk=pk).first()
    if item is None:
        raise NotFound(_("Not found, or not visible to you."))
    return request_out(item)
