"""The public side of web forms: no login, posted from other websites.

- `GET /f/<key>/`: the form's page, in French or English (`?lang=` or the browser's language),
  with the UTM parameters of its address carried in hidden fields;
- `POST /f/<key>/submit`: what the page and the embedded snippet post (HTML answer);
- `GET|POST|OPTIONS /f/<key>.json`: the definition and a fresh token, and submissions as JSON,
  with CORS granted only to the form's allowed websites.

CSRF cannot protect a form posted from another site: the signed start time, the honeypot and
the rate limit (`guard`) do. Each view parses the request and calls `services.submit`.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_noop
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cible.engagement.capture import fields, guard, selectors, services
from cible.engagement.capture.models import WebForm

logger = logging.getLogger(__name__)


def _form(key: str) -> WebForm:
    form = selectors.form_by_key(key=key)
    if form is None:
        raise Http404("no such form")
    return form


def _language(request: HttpRequest, posted: Any = "") -> str:
    """`?lang=`, a posted `lang`, else the browser's language; French by default."""
    asked = str(request.GET.get("lang") or posted or "").lower()[:2]
    if asked in fields.LANGUAGES:
        return asked
    preferred = translation.get_language_from_request(request)[:2]
    return preferred if preferred in fields.LANGUAGES else "fr"


def _sender(request: HttpRequest) -> str:
    # The direct peer: behind a proxy, settings' trusted proxy handling sets REMOTE_ADDR.
    return str(request.META.get("REMOTE_ADDR") or "unknown")


def _page_url(request: HttpRequest, data: dict[str, Any]) -> str:
    page = data.get("page_url") if isinstance(data.get("page_url"), str) else ""
    return str(page or request.headers.get("Referer") or "")[:500]


def page_context(
    form: WebForm,
    language: str,
    *,
    token: str,
    utm: dict[str, str],
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    action: str = "",
) -> dict[str, Any]:
    """What `capture/_form.html` shows: the public page, the builder's preview and the snippet
    share it, so the three cannot drift apart."""
    return {
        "form": form,
        "language": language,
        "title": (form.title_en if language == "en" else form.title_fr)
        or form.title_fr
        or form.title_en
        or form.name,
        "rows": [
            {
                "field": f,
                "value": (values or {}).get(f.key) or "",
                "error": (errors or {}).get(f.key),
            }
            for f in fields.form_fields(form.fields, language)
        ],
        "function_choices": fields.function_choices(),
        "consent_text": services.consent_text(form, language),
        "token": token,
        "utm": utm,
        "values": values or {},
        "errors": errors or {},
        "action": action or reverse("capture_public:submit", args=[form.key]),
        "honeypot": fields.HONEYPOT,
        "token_name": fields.TOKEN,
        "utm_keys": fields.UTM_KEYS,
        "languages": fields.LANGUAGES,
        "consent_checked": fields.consent_given((values or {}).get(fields.CONSENT)),
        "consent_error": (errors or {}).get(fields.CONSENT),
    }


UNAVAILABLE = gettext_noop(
    "Your message was kept but could not be processed right now; we will get back to you."
)


def _submit(
    request: HttpRequest, form: WebForm, data: dict[str, Any], utm: dict[str, Any], language: str
) -> services.SubmitResult | None:
    """`services.submit`, with a last net: should it fail unexpectedly (a database gone away),
    what was sent is still stored, and the visitor told so instead of seeing an error page."""
    try:
        return services.submit(
            form=form,
            data=data,
            utm=utm,
            sender=_sender(request),
            page_url=_page_url(request, data),
            language=language,
        )
    except Exception as error:
        logger.exception("Web form %s: submission failed", form.pk)
        try:
            services.submission_keep(
                form=form,
                data=data,
                sender=_sender(request),
                page_url=_page_url(request, data),
                reason=f"could not be processed: {type(error).__name__}",
            )
        except Exception:
            logger.exception("Web form %s: the failed submission could not be stored", form.pk)
        return None


@require_GET
def form_page(request: HttpRequest, key: str) -> HttpResponse:
    form = _form(key)
    language = _language(request)
    with translation.override(language):
        context = page_context(
            form,
            language,
            token=guard.issue_token(form.key),
            utm=fields.clean_utm(request.GET),
        )
        return render(request, "capture/public.html", context)


@csrf_exempt
@require_POST
def form_submit(request: HttpRequest, key: str) -> HttpResponse:
    """The HTML post: a thank-you page (or the form's redirect), or the form again with the
    problems next to the fields. A robot sees the thank-you page too."""
    form = _form(key)
    try:
        data: dict[str, Any] = {k: request.POST.get(k) for k in request.POST}
    except RequestDataTooBig:
        return _too_big_html(request, form, _language(request))
    language = _language(request, data.get("lang"))
    with translation.override(language):
        result = _submit(request, form, data, data, language)
        if result is None:
            context = page_context(form, language, token=guard.issue_token(form.key), utm={})
            context["problem"] = translation.gettext(UNAVAILABLE)
            return render(request, "capture/public.html", context, status=503)
        if result.status == 200:
            if form.redirect_url and result.accepted:
                return HttpResponseRedirect(form.redirect_url)
            return render(
                request,
                "capture/thanks.html",
                {
                    "form": form,
                    "message": result.message,
                    "language": language,
                    "content_url": form.content_url if result.accepted else "",
                },
            )
        # Keep the visitor's start time while they correct a field; a stale page gets a new one.
        token = data.get(fields.TOKEN)
        check = guard.check_token(token, form.key)
        if check.robot or check.expired:
            token = guard.issue_token(form.key)
        context = page_context(
            form,
            language,
            token=str(token),
            utm=fields.clean_utm(data),
            values=data,
            errors={e.field: e.message for e in result.errors},
        )
        context["problem"] = result.message
        return render(request, "capture/public.html", context, status=result.status)


def _too_big_html(request: HttpRequest, form: WebForm, language: str) -> HttpResponse:
    services.submission_keep(
        form=form, data={}, sender=_sender(request), page_url="", reason="body too large"
    )
    with translation.override(language):
        context = page_context(form, language, token=guard.issue_token(form.key), utm={})
        context["problem"] = translation.gettext("What you sent is far too long.")
        return render(request, "capture/public.html", context, status=413)


# --- JSON ---------------------------------------------------------------------------------------


def _allowed_origin(request: HttpRequest, form: WebForm) -> str | None:
    origin = request.headers.get("Origin")
    if not origin:
        return None
    normalised = fields.origin_of(origin)
    allowed = set(form.allowed_origins.split())
    return origin if normalised and normalised in allowed else None


def _cors(response: HttpResponse, origin: str | None) -> HttpResponse:
    response["Vary"] = "Origin"
    if origin:
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response["Access-Control-Allow-Headers"] = "Content-Type"
        response["Access-Control-Max-Age"] = "600"
    return response


def _json_error(
    status: int, message: str, field: str = "", origin: str | None = None, **extra: Any
) -> HttpResponse:
    body = {"detail": message, "errors": [{"field": field, "message": message}], **extra}
    return _cors(JsonResponse(body, status=status), origin)


def _definition(form: WebForm, language: str) -> dict[str, Any]:
    return {
        "key": form.key,
        "language": language,
        "accepting": form.is_active,
        "title": page_context(form, language, token="", utm={}, action="-")["title"],
        "fields": [
            {"field": f.key, "label": f.label, "required": f.required, "type": f.kind.input}
            for f in fields.form_fields(form.fields, language)
        ],
        "consent": {
            "text": services.consent_text(form, language),
            "required": form.consent_required,
        },
        "honeypot": fields.HONEYPOT,
        "token_field": fields.TOKEN,
        "token": guard.issue_token(form.key),
        "submit_url": request_path(form),
    }


def request_path(form: WebForm) -> str:
    return reverse("capture_public:json", args=[form.key])


@csrf_exempt
@require_http_methods(["GET", "POST", "OPTIONS"])
def form_json(request: HttpRequest, key: str) -> HttpResponse:
    form = _form(key)
    origin = _allowed_origin(request, form)
    foreign = bool(request.headers.get("Origin")) and origin is None
    if request.method == "OPTIONS":
        if foreign:
            return _json_error(403, "This website may not post to this form.", "Origin")
        return _cors(HttpResponse(status=204), origin)
    language = _language(request)
    with translation.override(language):
        if request.method == "GET":
            if foreign:
                return _json_error(
                    403, translation.gettext("This website may not post to this form."), "Origin"
                )
            return _cors(JsonResponse(_definition(form, language)), origin)
        return _json_submit(request, form, origin, foreign, language)


def _json_submit(
    request: HttpRequest, form: WebForm, origin: str | None, foreign: bool, language: str
) -> HttpResponse:
    _ = translation.gettext
    sender = _sender(request)
    try:
        body = request.body
    except RequestDataTooBig:
        services.submission_keep(
            form=form, data={}, sender=sender, page_url="", reason="body too large"
        )
        return _json_error(413, _("The request body is too large."), "body", origin)
    text = body[: fields.STORED_VALUE_MAX].decode("utf-8", errors="replace")
    if foreign:
        services.submission_keep(
            form=form,
            data={"body": text},
            sender=sender,
            page_url=request.headers.get("Origin", ""),
            reason=f"website not allowed: {request.headers.get('Origin', '')[:200]}",
        )
        return _json_error(403, _("This website may not post to this form."), "Origin")
    content_type = request.content_type or ""
    if content_type != "application/json":
        services.submission_keep(
            form=form,
            data={"body": text},
            sender=sender,
            page_url="",
            reason=f"content type {content_type[:100] or 'missing'} instead of application/json",
        )
        return _json_error(
            415,
            _("Send the form as JSON (Content-Type: application/json)."),
            "Content-Type",
            origin,
        )
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        services.submission_keep(
            form=form,
            data={"body": text},
            sender=sender,
            page_url="",
            reason="body is not valid JSON",
        )
        return _json_error(400, _("The request body is not valid JSON."), "body", origin)
    if not isinstance(data, dict):
        services.submission_keep(
            form=form,
            data={"body": text},
            sender=sender,
            page_url="",
            reason="body is not a JSON object",
        )
        return _json_error(
            422, _("The request body must be a JSON object of the form's fields."), "body", origin
        )
    nested = data.get("utm")
    utm: dict[str, Any] = nested if isinstance(nested, dict) else data
    result = _submit(request, form, data, utm, language)
    if result is None:
        return _json_error(503, _(UNAVAILABLE), "", origin)
    if result.status == 200:
        body_ok = {"status": "received", "detail": result.message}
        if result.accepted:
            body_ok.update(redirect_url=form.redirect_url, content_url=form.content_url)
        return _cors(JsonResponse(body_ok), origin)
    errors = [{"field": e.field, "message": e.message} for e in result.errors] or [
        {"field": "", "message": result.message}
    ]
    response = JsonResponse({"detail": result.message, "errors": errors}, status=result.status)
    if result.status == 429:
        response["Retry-After"] = str(guard.RATE_WINDOW_SECONDS)
    return _cors(response, origin)
