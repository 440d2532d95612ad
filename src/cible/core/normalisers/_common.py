"""Shared plumbing: NormalisationError, the gettext shims and the clean/echo/fold helpers."""

from __future__ import annotations

import unicodedata

from django.conf import settings
from django.utils.translation import get_language
from django.utils.translation import gettext as django_gettext

ECHO_LIMIT = 60


class NormalisationError(ValueError):
    """A raw value could not be normalised.

    ``field`` names the field (as given by the caller), ``message`` is a human
    sentence naming the problem and the bad value; ``str(err)`` is the message.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"NormalisationError(field={self.field!r}, message={self.message!r})"


def gettext_noop(message: str) -> str:
    """Marks ``message`` for makemessages without translating it (``_`` does, when it is
    used). Django's own gettext_noop reads the settings: not at import time."""
    return message


def _(message: str) -> str:
    """``message`` in the active language, at call time; English (unchanged) when Django's
    settings are not configured."""
    return django_gettext(message) if settings.configured else message


def _speaks_english() -> bool:
    """True when messages come out in English (the source language)."""
    if not settings.configured:
        return True
    return (get_language() or "en").lower().startswith("en")


# Invisible format characters that only ever get in the way in a CRM field:
# zero-width space, soft hyphen, word joiner, byte order mark and bidirectional
# marks/embeddings/isolates. ZWJ/ZWNJ are kept (they carry meaning in some
# scripts and in emoji).
_INVISIBLE = frozenset(
    "\u00ad\u200b\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff"
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def _as_text(raw: object) -> str:
    if isinstance(raw, str):
        return raw
    if isinstance(raw, bytes):
        return raw.decode("utf-8", errors="replace")
    return str(raw)


def _clean(text: str) -> str:
    """Strip, remove control/invisible characters, NFC, collapse whitespace."""
    kept = []
    for char in text:
        if char.isspace():
            kept.append(" ")
            continue
        if char in _INVISIBLE:
            continue
        category = unicodedata.category(char)
        if category in ("Cc", "Cs"):
            continue
        kept.append(char)
    return " ".join(unicodedata.normalize("NFC", "".join(kept)).split())


def _echo(value: object) -> str:
    """The bad value as shown back in an error message, at most 60 characters."""
    text = " ".join(_as_text(value).split()) if value is not None else ""
    if len(text) > ECHO_LIMIT:
        return text[: ECHO_LIMIT - 1] + "\N{HORIZONTAL ELLIPSIS}"
    return text


def _fail(field: str, raw: object, message: str, **params: object) -> NormalisationError:
    """The error for ``raw``: ``message`` is a translated sentence naming the bad value as
    ``%(value)s`` (filled with its shortened form) and any other ``params`` by name."""
    return NormalisationError(field, message % {"value": _echo(raw), **params})


def _fold(text: str) -> str:
    """Lowercase, accents removed, anything but letters and digits turned into spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    chars = []
    for char in decomposed:
        category = unicodedata.category(char)
        if category == "Mn":
            continue
        chars.append(char if category[0] in "LN" or category == "Mc" else " ")
    return " ".join("".join(chars).split())
