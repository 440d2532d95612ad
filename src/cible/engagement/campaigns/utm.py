"""UTM parameters: how a link names the campaign a visit came from. Pure: no database.

Analytics tools match UTM values as typed, so a value with a space or an accent ends up split
across reports ("Salon 2026" vs "salon-2026"). Values are therefore kept to ASCII letters,
digits and `- _ .`, and the tagged link is built here once for the page, the API and tests.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.utils.translation import gettext as _

from cible.core.normalisers import NormalisationError

UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")
# Analytics tools need these three to attribute a visit to a campaign.
REQUIRED_FOR_LINK = ("utm_source", "utm_medium", "utm_campaign")
MAX_LENGTH = 100
_ALLOWED = re.compile(r"[A-Za-z0-9._-]+")


def utm_value(raw: object, *, field: str) -> str:
    """A UTM value as stored ("" when blank); refuses what analytics tools would mangle."""
    if raw is None:
        return ""
    text = str(raw).strip()
    if not text:
        return ""
    if len(text) > MAX_LENGTH:
        raise NormalisationError(
            field, _("is too long (at most %(max)s characters)") % {"max": MAX_LENGTH}
        )
    if not _ALLOWED.fullmatch(text):
        raise NormalisationError(
            field,
            _("“%(value)s” may only hold letters, digits, - _ and . (no spaces or accents)")
            % {"value": text[:60]},
        )
    return text


def landing_url(raw: object, *, field: str = "url") -> str:
    """A landing page address: http or https, with a host, no spaces."""
    text = str(raw or "").strip()
    if not text:
        raise NormalisationError(field, _("is required"))
    if len(text) > 2000:
        raise NormalisationError(
            field, _("is too long (at most %(max)s characters)") % {"max": 2000}
        )
    if any(c.isspace() for c in text):
        raise NormalisationError(
            field,
            _("“%(value)s” is not a web address: it contains spaces") % {"value": text[:60]},
        )
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
    except ValueError:
        host, parts = "", None
    if parts is None or parts.scheme.lower() not in ("http", "https") or "." not in host:
        raise NormalisationError(
            field,
            _("“%(value)s” is not a web address (for example https://www.example.com/offer)")
            % {"value": str(raw)[:60]},
        )
    return text


def tagged_url(url: str, utm: Mapping[str, str]) -> str:
    """`url` with the non-blank UTM values set, replacing any UTM already in it and keeping its
    other parameters and its #fragment."""
    parts = urlsplit(url)
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in utm]
    tags = [(name, utm[name]) for name in UTM_FIELDS if utm.get(name)]
    return urlunsplit(parts._replace(query=urlencode(kept + tags)))


def missing_for_link(utm: Mapping[str, str]) -> list[str]:
    """The UTM fields an analytics tool needs that are still blank."""
    return [name for name in REQUIRED_FOR_LINK if not utm.get(name)]
