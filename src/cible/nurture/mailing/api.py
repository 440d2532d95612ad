"""REST endpoints of email: templates (CRUD, check, preview), the outbox, and the inbound
bounce webhook of a mail provider (authenticated by a shared secret, not a user token)."""

from __future__ import annotations

import hmac
import re
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Status

from cible.core.api_kit import ERRORS, WRITE_ERRORS, ErrorOut, Id, paginate, viewer
from cible.core.audit import Channel
from cible.core.errors import FieldError, TokenRefused, ValidationFailed
from cible.nurture.mailing import selectors, services, templating
from cible.nurture.mailing.models import MessageStatus
from cible.nurture.mailing.schemas import (
    BounceIn,
    BounceOut,
    CheckIn,
    CheckOut,
    MessageOut,
    MessagePage,
    MessageQuery,
    PreviewIn,
    PreviewOut,
    TemplateIn,
    TemplateList,
    TemplateOut,
    TemplatePatch,
    message_out,
    template_out,
)

router = Router(tags=["Email"])
_STATUS_CODE = re.compile(r"^[245]\.\d{1,3}\.\d{1,3}$")
SECRET_HEADER = "X-Cible-Webhook-Secret"  # noqa: S105 - a header name, not a secret


@router.get("/mail/templates", response={200: TemplateList, **ERRORS})
def list_templates(request: HttpRequest) -> Any:
    return {"items": [template_out(t) for t in selectors.template_list(viewer=viewer(request))]}


@router.post("/mail/templates", response={201: TemplateOut, **WRITE_ERRORS})
def create_template(request: HttpRequest, payload: TemplateIn) -> Any:
    """Refused with 422 for a syntax error or an unknown merge field, with the line."""
    template = services.template_create(
        actor=viewer(request), channel=Channel.API, data=payload.data()
    )
    return Status(201, template_out(template))


# Before the /{pk} routes: a path converter would take "check" for an id.
@router.post("/mail/templates/check", response={200: CheckOut, **ERRORS})
def check_template(request: HttpRequest, payload: CheckIn) -> Any:
    """Syntax errors (with their line) and unknown merge fields of a subject or body."""
    return {"errors": [e.__dict__ for e in templating.check(payload.text, field="text")]}


@router.get("/mail/templates/{pk}", response={200: TemplateOut, **ERRORS})
def get_template(request: HttpRequest, pk: Path[Id]) -> Any:
    return template_out(selectors.template_get(viewer=viewer(request), pk=pk))


@router.patch("/mail/templates/{pk}", response={200: TemplateOut, **WRITE_ERRORS})
def update_template(request: HttpRequest, pk: Path[Id], payload: TemplatePatch) -> Any:
    template = selectors.template_get(viewer=viewer(request), pk=pk)
    data = payload.data()
    version = data.pop("version", None)
    template = services.template_update(
        template=template,
        actor=viewer(request),
        channel=Channel.API,
        data={k: v for k, v in data.items() if v is not None},
        expected_version=version,
    )
    return template_out(template)


@router.delete("/mail/templates/{pk}", response={204: None, **WRITE_ERRORS})
def delete_template(request: HttpRequest, pk: Path[Id]) -> Any:
    template = selectors.template_get(viewer=viewer(request), pk=pk)
    services.template_delete(template=template, actor=viewer(request), channel=Channel.API)
    return Status(204, None)


@router.post("/mail/templates/{pk}/preview", response={200: PreviewOut, **ERRORS})
def preview_template(request: HttpRequest, pk: Path[Id], payload: PreviewIn) -> Any:
    """The saved template as a contact would receive it, with missing merge fields."""
    template = selectors.template_get(viewer=viewer(request), pk=pk)
    contact = selectors.contact_get(viewer=viewer(request), pk=payload.contact_id)
    values = {
        name: getattr(template, name) for name in ("subject_fr", "body_fr", "subject_en", "body_en")
    }
    if payload.language not in ("", "fr", "en"):
        raise ValidationFailed(errors=[FieldError("language", _("use fr or en"))])
    result = selectors.preview(
        viewer=viewer(request), values=values, contact=contact, language=payload.language
    )
    return {
        "language": result.language,
        "subject": result.subject,
        "text": result.text,
        "html": result.html,
        "missing_fields": result.missing,
        "errors": [e.__dict__ for e in result.errors],
    }


@router.get("/mail/messages", response={200: MessagePage, **ERRORS})
def list_messages(request: HttpRequest, params: Query[MessageQuery]) -> Any:
    if params.status and params.status not in MessageStatus.values:
        raise ValidationFailed(
            errors=[
                FieldError(
                    "status",
                    _("use one of: %(values)s") % {"values": ", ".join(MessageStatus.values)},
                )
            ]
        )
    qs = selectors.message_list(
        viewer=viewer(request), status=params.status or "", template=params.template
    )
    return paginate(
        qs.order_by("-id"),
        cursor=params.cursor,
        limit=params.limit,
        with_count=params.count,
        serialize=message_out,
    )


@router.get("/mail/messages/{pk}", response={200: MessageOut, **ERRORS})
def get_message(request: HttpRequest, pk: Path[Id]) -> Any:
    return message_out(selectors.message_get(viewer=viewer(request), pk=pk))


def _secret_ok(request: HttpRequest) -> bool:
    expected = str(getattr(settings, "MAIL_WEBHOOK_SECRET", "") or "")
    given = request.headers.get(SECRET_HEADER, "")
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


@router.post("/mail/bounces", auth=None, response={200: BounceOut, 401: ErrorOut, 422: ErrorOut})
def bounce_webhook(request: HttpRequest, payload: BounceIn) -> Any:
    """A provider reports a bounce. Send the shared secret (`MAIL_WEBHOOK_SECRET`) in the
    `X-Cible-Webhook-Secret` header. Idempotent: the same report twice records one bounce."""
    if not _secret_ok(request):
        raise TokenRefused(_("Missing or wrong %(header)s header.") % {"header": SECRET_HEADER})
    status = payload.status.strip()
    errors = []
    if not _STATUS_CODE.match(status):
        errors.append(
            FieldError("status", _("must be an enhanced status code such as 5.1.1 or 4.2.2"))
        )
    if "@" not in payload.email:
        errors.append(FieldError("email", _("is not an email address")))
    if errors:
        raise ValidationFailed(errors=errors)
    bounce = services.bounce_record(
        email_address=payload.email.strip().lower(),
        status=status,
        diagnostic=payload.diagnostic,
        message_id=payload.message_id.strip(),
        source="webhook",
    )
    kind = "hard" if status.startswith("5") else "soft"
    return {"recorded": bounce is not None, "kind": kind}
