"""The REST API: one NinjaAPI under /api/v1/, assembled from each app's router.

Here live what every endpoint shares: authentication (a personal token sent as
`Authorization: Bearer <key>`, or the browser session for the docs page) and the one error
shape, `{"detail": str, "errors": [{"field": str, "message": str}]}`, whatever went wrong:
a domain error from a service, a body of the wrong shape, a body too large, bad JSON, a
missing or dead token. Nothing reaches the client as an HTML page or a bare 500.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import APIKeyCookie, HttpBearer

from cible.core.errors import CibleError, FieldError, TokenRefused
from cible.core.services import api_token_authenticate
from cible.core.values import is_id
from cible.engagement.campaigns.api import router as campaigns_router
from cible.engagement.interactions.api import router as interactions_router
from cible.engagement.tasks.api import router as tasks_router
from cible.insights.funnel.api import router as funnel_router
from cible.lifecycle.leads.api import router as leads_router
from cible.lifecycle.predictive.api import router as predictive_router
from cible.lifecycle.scoring.api import router as scoring_router
from cible.nurture.mailing.api import router as mailing_router
from cible.nurture.programs.api import router as programs_router
from cible.people.api import router as people_router
from cible.pipeline.api import router as pipeline_router
from cible.quality.duplicates.api import router as duplicates_router
from cible.quality.freshness.api import router as freshness_router
from cible.quality.imports.api import router as imports_router
from cible.quality.privacy.api import router as privacy_router
from cible.routing.assignment.api import router as routing_router
from cible.routing.sla.api import router as sla_router
from cible.segments.api import router as segments_router

logger = logging.getLogger(__name__)

# --- authentication -----------------------------------------------------------------------------


class BearerToken(HttpBearer):
    """A personal API token. A header that is present but wrong is refused with the reason,
    rather than falling through to a vague "unauthorized"."""

    def __call__(self, request: HttpRequest) -> Any:
        header = request.headers.get(self.header)
        if not header:
            return None
        scheme, _sep, key = header.strip().partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key:
            raise AuthenticationError(
                message=_("The Authorization header must read “Bearer <your API token>”.")
            )
        return self.authenticate(request, key)

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        try:
            return api_token_authenticate(token)
        except TokenRefused as refused:
            raise AuthenticationError(message=str(refused)) from None


class BrowserSession(APIKeyCookie):
    """The signed-in browser (docs page, "Try it out"), with Django's CSRF check on writes.

    Unlike ninja's `django_auth`, an anonymous request is not CSRF-checked: it simply is not
    authenticated by this scheme, so an API client without a token gets the 401 that says so.
    """

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        if not getattr(request, "user", None) or not request.user.is_authenticated:
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        return request.user if key and request.user.is_authenticated else None


api = NinjaAPI(
    title="Cible API",
    version="1",
    urls_namespace="api",
    auth=[BearerToken(), BrowserSession()],
    description=(
        "Organisations, contacts and opportunities. Authenticate with a personal API token "
        "(Settings → API tokens) sent as `Authorization: Bearer <token>`. Every error answers "
        '`{"detail": "...", "errors": [{"field": "...", "message": "..."}]}`; lists are paged '
        "with `cursor` and `limit`; writes of a changed record need its `version` (409 if stale)."
    ),
)

# --- the one error shape ------------------------------------------------------------------------


def error_response(
    request: HttpRequest,
    status: int,
    detail: str,
    errors: Iterable[FieldError] = (),
    **extra: Any,
) -> HttpResponse:
    body = {
        "detail": detail,
        "errors": [{"field": e.field, "message": e.message} for e in errors],
        **extra,
    }
    return api.create_response(request, body, status=status)


def _summary(errors: list[FieldError]) -> str:
    parts = [f"{e.field}: {e.message}" if e.field else e.message for e in errors[:5]]
    more = len(errors) - 5
    text = "; ".join(parts) + (f" (+{more})" if more > 0 else "")
    return text[:1000]


def _on_cible_error(request: HttpRequest, exc: CibleError) -> HttpResponse:
    errors = list(exc.errors)
    extra: dict[str, Any] = {}
    item_errors = getattr(exc, "item_errors", None)
    if item_errors is not None:
        extra["items"] = [
            {"index": index, "errors": [{"field": e.field, "message": e.message} for e in errs]}
            for index, errs in item_errors
        ]
    extra.update(getattr(exc, "payload", None) or {})  # e.g. the `candidates` of a 409 duplicate
    return error_response(request, exc.status_code, str(exc) or _summary(errors), errors, **extra)


# Segments pydantic adds to a location to name a union member or a validator, not a field.
_TECHNICAL = re.compile(r"^(str|int|float|bool|none|decimal|date|datetime|[a-z-]+\[.*\])$")


def _field_and_message(source: str, loc: tuple[Any, ...], error: Mapping[str, Any]) -> FieldError:
    path = [p for p in loc[1:] if not (isinstance(p, str) and _TECHNICAL.match(p))]
    if source == "body" and path:
        path = path[1:]  # the name of the view's body parameter, meaningless to the client
    field = ".".join(str(p) for p in path) or source
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "extra_forbidden":
        message = _("is not a field that can be set")
    elif kind == "missing":
        message = _("is required")
    elif kind == "too_long" and field == "items":
        message = _("at most %(max)s records per call (got %(count)s); split the batch") % {
            "max": ctx.get("max_length"),
            "count": ctx.get("actual_length"),
        }
    else:
        message = str(error.get("msg", _("is not valid")))
        message = message.removeprefix("Value error, ")
    return FieldError(field, message)


def _on_validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    messages: dict[str, list[str]] = {}
    for error in exc.errors:
        loc = tuple(error.get("loc") or ("body",))
        field_error = _field_and_message(str(loc[0]), loc, error)
        known = messages.setdefault(field_error.field, [])
        if field_error.message not in known:  # a union gives one message per member type
            known.append(field_error.message)
    errors = [FieldError(field, " or ".join(texts)) for field, texts in messages.items()]
    by_item: dict[int, list[dict[str, str]]] = {}
    for field_error in errors:
        parts = field_error.field.split(".", 2)
        if len(parts) >= 2 and parts[0] == "items" and is_id(parts[1]):
            by_item.setdefault(int(parts[1]), []).append(
                {"field": parts[2] if len(parts) > 2 else "", "message": field_error.message}
            )
    extra: dict[str, Any] = {}
    if by_item:
        extra["items"] = [{"index": i, "errors": errs} for i, errs in sorted(by_item.items())]
    detail = _("The request is not valid: %(problems)s") % {"problems": _summary(errors)}
    return error_response(request, 422, detail, errors, **extra)


def _on_authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    message = exc.message
    if message == "Unauthorized":  # no scheme recognised anything: nothing was sent
        message = _(
            "Authentication required: send your API token as “Authorization: Bearer "
            "<token>” (create one under Settings → API tokens)."
        )
    response = error_response(request, 401, message, [FieldError("Authorization", message)])
    response["WWW-Authenticate"] = 'Bearer realm="cible"'
    return response


def _on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400 and str(exc).startswith("Cannot parse request body"):
        message = _("The request body is not valid JSON.")
        return error_response(request, 400, message, [FieldError("body", _("is not valid JSON"))])
    return error_response(request, exc.status_code, str(exc), [FieldError("", str(exc))])


def _on_not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    message = _("Not found, or not visible to you.")
    return error_response(request, 404, message, [FieldError("", message)])


def _on_too_big(request: HttpRequest, exc: Exception) -> HttpResponse:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    message = _(
        "The request body is larger than the limit of %(limit)s bytes; send fewer records per call."
    ) % {"limit": limit}
    return error_response(request, 413, message, [FieldError("body", message)])


def _on_django_validation_error(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    if hasattr(exc, "error_dict"):
        errors = [FieldError(name, str(m)) for name, msgs in exc.message_dict.items() for m in msgs]
    else:
        errors = [FieldError("", str(m)) for m in exc.messages]
    return error_response(request, 422, _summary(errors), errors)


def _on_database_refusal(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.warning("API write refused by the database: %s", exc)
    message = _(
        "The database refused this change (it conflicts with stored data); nothing was written."
    )
    status = 409 if isinstance(exc, IntegrityError) else 422
    return error_response(request, status, message, [FieldError("", message)])


def _on_arithmetic_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    # A number too large for the decimal context (say "1e30" as an amount) should be refused
    # by its normaliser with the field's name; until each one does, it is still a 422.
    logger.warning("Number out of range in an API request: %r", exc)
    message = _("A number in the request is too large to be stored; nothing was written.")
    return error_response(request, 422, message, [FieldError("", message)])


def _on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("Unexpected error in the API: %s %s", request.method, request.path)
    message = _("An unexpected error occurred; it has been logged.")
    return error_response(request, 500, message, [FieldError("", message)])


# The most specific class wins (ninja looks handlers up along the exception's MRO).
EXCEPTION_HANDLERS: dict[type[Exception], Any] = {
    CibleError: _on_cible_error,
    NinjaValidationError: _on_validation_error,
    AuthenticationError: _on_authentication_error,
    HttpError: _on_http_error,
    Http404: _on_not_found,
    RequestDataTooBig: _on_too_big,
    DjangoValidationError: _on_django_validation_error,
    IntegrityError: _on_database_refusal,
    DataError: _on_database_refusal,
    ArithmeticError: _on_arithmetic_error,
    Exception: _on_unexpected,
}
for exception_class, handler in EXCEPTION_HANDLERS.items():
    api.add_exception_handler(exception_class, handler)

# --- the routers --------------------------------------------------------------------------------

api.add_router("", people_router)
api.add_router("", pipeline_router)
api.add_router("/duplicates", duplicates_router)
api.add_router("", imports_router)
api.add_router("/privacy", privacy_router)
api.add_router("/quality", freshness_router)
api.add_router("", segments_router)
api.add_router("", campaigns_router)
api.add_router("", interactions_router)
api.add_router("", leads_router)
api.add_router("", scoring_router)
api.add_router("", funnel_router)
api.add_router("", predictive_router)
api.add_router("", tasks_router)
api.add_router("", mailing_router)
api.add_router("", programs_router)
api.add_router("", routing_router)
api.add_router("", sla_router)
