"""The public links of every email, reached without logging in: the open pixel, tracked
clicks and the unsubscribe page (RFC 8058 one-click POST included).

Tokens are signed (`tokens`); a forged, altered or expired one gets a clear 400 page, an unknown
message a 404 — never a 500, and a click never redirects anywhere but to the link that was in
the message. A test send is not tracked: its unsubscribe link carries no token at all and says so.
"""

from __future__ import annotations

import base64

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_safe

from cible.core.errors import CibleError
from cible.nurture.mailing import services, tokens
from cible.nurture.mailing.models import OutboundMessage

# A transparent 1×1 GIF: what the open pixel answers, whatever happens.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


def _problem(request: HttpRequest, status: int, title: str, text: str) -> HttpResponse:
    context = {"title": title, "text": text}
    return render(request, "mailing/public_problem.html", context, status=status)


def _forged(request: HttpRequest) -> HttpResponse:
    return _problem(
        request,
        400,
        _("This link is not valid"),
        _("The link was altered, cut short or is too old. Use the link of a recent email."),
    )


def _unknown(request: HttpRequest) -> HttpResponse:
    return _problem(
        request, 404, _("Message not found"), _("This email no longer exists in our records.")
    )


def _client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


@never_cache
@require_GET
def open_view(request: HttpRequest, token: str) -> HttpResponse:
    """The pixel: records the first open; always answers the image (mail clients show errors)."""
    try:
        message_id = tokens.read_open(token)
    except tokens.TokenInvalid:
        return HttpResponse(PIXEL, content_type="image/gif", status=400)
    message = OutboundMessage.objects.filter(pk=message_id).first()
    if message is not None:
        services.message_opened(message=message)
    return HttpResponse(PIXEL, content_type="image/gif")


@never_cache
@require_GET
def click_view(request: HttpRequest, token: str) -> HttpResponse:
    try:
        message_id, index = tokens.read_click(token)
    except tokens.TokenInvalid:
        return _forged(request)
    message = OutboundMessage.objects.filter(pk=message_id).first()
    if message is None:
        return _unknown(request)
    try:
        url = services.message_clicked(message=message, index=index)
    except CibleError:
        return _unknown(request)
    return HttpResponseRedirect(url)


@csrf_exempt  # RFC 8058: mail providers POST the one-click request without any session
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe_view(request: HttpRequest, token: str) -> HttpResponse:
    """GET: a page in the contact's language with one button; POST: unsubscribe (also the
    one-click request of `List-Unsubscribe-Post`)."""
    try:
        message_id = tokens.read_unsubscribe(token)
    except tokens.TokenInvalid:
        return _forged(request)
    message = OutboundMessage.objects.select_related("contact").filter(pk=message_id).first()
    if message is None:
        return _unknown(request)
    language = message.language or (message.contact.language or "fr")[:2]
    with translation.override(language if language in ("fr", "en") else "fr"):
        done = False
        if request.method == "POST":
            one_click = request.POST.get("List-Unsubscribe") == "One-Click"
            services.unsubscribe(message=message, ip=_client_ip(request), one_click=one_click)
            done = True
        context = {
            "email": message.to_email or message.contact.email,
            "done": done or message.contact.email_opt_out,
            "token": token,
            "language": language,
        }
        return render(request, "mailing/unsubscribe.html", context)


@never_cache
@require_safe
def unsubscribe_test_view(request: HttpRequest) -> HttpResponse:
    """The unsubscribe link of a test send (`send_test` builds it without a token): nobody to
    unsubscribe, so say so, in the viewer's language (their profile, else their browser's)."""
    return render(request, "mailing/unsubscribe_test.html")
