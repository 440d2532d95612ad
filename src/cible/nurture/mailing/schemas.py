"""Shapes of the mailing API: each endpoint has its own input and output."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema
from pydantic import Field

from cible.core.api_kit import ErrorItem, InputSchema, ListParams
from cible.nurture.mailing.models import EmailTemplate, OutboundMessage


class TemplateIn(InputSchema):
    name: str = Field(max_length=10_000)
    description: str = ""
    subject_fr: str = ""
    body_fr: str = ""
    subject_en: str = ""
    body_en: str = ""


class TemplatePatch(InputSchema):
    name: str | None = None
    description: str | None = None
    subject_fr: str | None = None
    body_fr: str | None = None
    subject_en: str | None = None
    body_en: str | None = None
    version: int | None = Field(None, description="The version you read; 409 if it changed.")


class TemplateOut(Schema):
    id: int
    name: str
    description: str
    subject_fr: str
    body_fr: str
    subject_en: str
    body_en: str
    languages: list[str]
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class TemplateList(Schema):
    items: list[TemplateOut]


class CheckIn(InputSchema):
    text: str = Field(max_length=200_000)


class CheckOut(Schema):
    errors: list[ErrorItem]


class PreviewIn(InputSchema):
    contact_id: int = Field(ge=1, le=2**63 - 1)
    language: str = Field("", description="fr or en; empty: the contact's language decides")


class PreviewOut(Schema):
    language: str
    subject: str
    text: str
    html: str
    missing_fields: list[str]
    errors: list[ErrorItem]


class MessageQuery(ListParams):
    status: str | None = None
    template: int | None = None


class MessageOut(Schema):
    id: int
    key: str
    origin: str
    contact_id: int
    template_id: int | None
    status: str
    language: str
    to_email: str
    subject: str
    message_id: str
    missing_fields: list[str]
    queued_at: dt.datetime
    not_before: dt.datetime | None
    sent_at: dt.datetime | None
    opened_at: dt.datetime | None
    clicked_at: dt.datetime | None
    bounced_at: dt.datetime | None
    attempts: int
    next_attempt_at: dt.datetime | None
    last_error: str
    suppressed_reason: str


class MessagePage(Schema):
    items: list[MessageOut]
    next_cursor: str | None
    count: int | None


class BounceIn(Schema):
    email: str = Field(max_length=254)
    status: str = Field(
        max_length=12, description="An enhanced status code: 5.1.1 (hard), 4.2.2 (soft)"
    )
    diagnostic: str = Field("", max_length=2000)
    message_id: str = Field("", max_length=255)


class BounceOut(Schema):
    recorded: bool
    kind: str


def template_out(template: EmailTemplate) -> dict[str, Any]:
    return {
        **{f: getattr(template, f) for f in TemplateOut.model_fields if f != "languages"},
        "languages": template.languages(),
    }


def message_out(message: OutboundMessage) -> dict[str, Any]:
    return {f: getattr(message, f) for f in MessageOut.model_fields}
