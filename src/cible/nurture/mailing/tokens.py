"""Signed tokens of the public links in emails: open pixel, clicks and unsubscribe.

Each kind has its own salt, so a token of one kind is worthless as another. A click token
carries the message and the *number* of the link in it, never the address: the redirect goes to
the address stored with the message, so a forged or altered token cannot send anyone elsewhere.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core import signing

# Old newsletters are opened and unsubscribed from years later: keep their links working.
MAX_AGE = dt.timedelta(days=3 * 365)

_OPEN = "cible.mailing.open"
_CLICK = "cible.mailing.click"
_UNSUBSCRIBE = "cible.mailing.unsubscribe"


class TokenInvalid(Exception):
    """A token that was forged, altered, truncated or is too old."""


def _signer(salt: str) -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=salt)


def _b36(number: int) -> str:
    return signing.b62_encode(number)


def _sign(salt: str, *numbers: int) -> str:
    return _signer(salt).sign("-".join(_b36(n) for n in numbers))


def _unsign(salt: str, token: str, count: int) -> list[int]:
    try:
        value = _signer(salt).unsign(token, max_age=MAX_AGE)
    except signing.BadSignature as error:  # SignatureExpired is a BadSignature
        raise TokenInvalid(str(error)) from None
    parts = value.split("-")
    if len(parts) != count:
        raise TokenInvalid("malformed token")
    try:
        return [signing.b62_decode(p) for p in parts]
    except (ValueError, KeyError, IndexError):
        raise TokenInvalid("malformed token") from None


def open_token(message_id: int) -> str:
    return _sign(_OPEN, message_id)


def click_token(message_id: int, index: int) -> str:
    return _sign(_CLICK, message_id, index)


def unsubscribe_token(message_id: int) -> str:
    return _sign(_UNSUBSCRIBE, message_id)


def read_open(token: str) -> int:
    return _unsign(_OPEN, token, 1)[0]


def read_click(token: str) -> tuple[int, int]:
    message_id, index = _unsign(_CLICK, token, 2)
    return message_id, index


def read_unsubscribe(token: str) -> int:
    return _unsign(_UNSUBSCRIBE, token, 1)[0]


def open_url(message_id: int) -> str:
    return f"{settings.SITE_URL}/m/o/{open_token(message_id)}.gif"


def click_url(message_id: int, index: int) -> str:
    return f"{settings.SITE_URL}/m/c/{click_token(message_id, index)}"


def unsubscribe_url(message_id: int) -> str:
    return f"{settings.SITE_URL}/m/u/{unsubscribe_token(message_id)}"
