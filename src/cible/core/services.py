"""Writes of the kernel: API tokens and the access policy."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from cible.core import access
from cible.core.audit import audit_context
from cible.core.errors import FieldError, PermissionDenied, TokenRefused, ValidationFailed
from cible.core.models import AccessPolicy, ApiToken, Visibility


def api_token_create(
    *, user: Any, name: str, days_valid: int | None = None
) -> tuple[ApiToken, str]:
    """Create a token; returns it with its key, which is never retrievable again."""
    name = " ".join((name or "").split())[:100]
    if not name:
        raise ValidationFailed(errors=[FieldError("name", _("is required"))])
    if days_valid is not None and not 1 <= days_valid <= 3650:
        raise ValidationFailed(
            errors=[FieldError("days_valid", _("must be between 1 and 3650 days"))]
        )
    key = ApiToken.new_key()
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=key[:10],
        key_hash=ApiToken.hash_key(key),
        expires_at=timezone.now() + dt.timedelta(days=days_valid) if days_valid else None,
    )
    return token, key


def api_token_revoke(*, user: Any, token_id: int) -> None:
    updated = ApiToken.objects.filter(pk=token_id, user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if not updated:
        raise ValidationFailed(errors=[FieldError("token", _("no active token with this id"))])


def api_token_authenticate(key: str) -> Any:
    """The user behind an active token key; raises `TokenRefused` saying why otherwise."""
    token = None
    if key and len(key) <= 200:
        token = (
            ApiToken.objects.select_related("user", "user__profile")
            .filter(key_hash=ApiToken.hash_key(key))
            .first()
        )
    if token is None:
        raise TokenRefused(_("This API token is not known: check that it was copied whole."))
    if token.revoked_at is not None:
        raise TokenRefused(
            _("This API token was revoked on %(date)s; create a new one.")
            % {"date": date_format(timezone.localtime(token.revoked_at), "DATETIME_FORMAT")}
        )
    if token.expires_at is not None and token.expires_at <= timezone.now():
        raise TokenRefused(
            _("This API token expired on %(date)s; create a new one.")
            % {"date": date_format(timezone.localtime(token.expires_at), "DATETIME_FORMAT")}
        )
    if not token.user.is_active:
        raise TokenRefused(_("The account of this API token is disabled."))
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=5):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)  # not on every call
    return token.user


@transaction.atomic
def access_policy_update(
    *,
    actor: Any,
    channel: str,
    account_visibility: str,
    pipeline_visibility: str,
    marketing_sees_amounts: bool,
) -> AccessPolicy:
    if not access.can(actor, "administer"):
        raise PermissionDenied(_("Only administrators may change the access policy."))
    errors = [
        FieldError(name, _("must be one of: %(values)s") % {"values": ", ".join(Visibility.values)})
        for name, value in (
            ("account_visibility", account_visibility),
            ("pipeline_visibility", pipeline_visibility),
        )
        if value not in Visibility.values
    ]
    if errors:
        raise ValidationFailed(errors=errors)
    with audit_context(actor=actor, channel=channel):
        policy = AccessPolicy.current()
        policy.account_visibility = account_visibility
        policy.pipeline_visibility = pipeline_visibility
        policy.marketing_sees_amounts = marketing_sees_amounts
        policy.save()
    return policy
