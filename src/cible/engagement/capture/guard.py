"""Keeping robots out of public forms without a CAPTCHA: a signed start time and a sender hash.

Public forms are posted from other websites, so Django's CSRF check cannot apply. Instead the
page (or the snippet's script) carries a token signed with the server's secret that says when
the form was shown and for which form: a robot that posts without it, replays one from another
form, or posts faster than a person can type is recognised. The sender is known only by a
keyed hash of their address and the form, enough to limit the rate, not enough to track anyone.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.core import signing
from django.utils.crypto import salted_hmac

SALT = "cible.capture.form-token"
MIN_FILL_SECONDS = 3
MAX_TOKEN_AGE_SECONDS = 24 * 3600
RATE_LIMIT = 5  # submissions per sender and form …
RATE_WINDOW_SECONDS = 10 * 60  # … in this window
REPLAY_WINDOW_SECONDS = 10  # the same data again this soon is a double click


def issue_token(form_key: str, *, now: float | None = None) -> str:
    """A token for a form shown now."""
    moment = int((time.time() if now is None else now) * 1000)
    return signing.dumps({"f": form_key, "t": moment}, salt=SALT, compress=True)


@dataclass(frozen=True)
class TokenCheck:
    """`robot`: the post did not come from our page (or came too fast); `expired`: a person
    who left the page open for more than a day, who should reload it."""

    robot: bool
    expired: bool
    reason: str
    elapsed: float | None = None


def check_token(token: object, form_key: str, *, now: float | None = None) -> TokenCheck:
    # Reasons are stored on the submission for Marketing to read, in English like log lines.
    if not isinstance(token, str) or not token:
        return TokenCheck(
            True, False, "no form token (the page was not loaded, or scripts are off)"
        )
    try:
        payload = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return TokenCheck(True, False, "forged form token")
    if not isinstance(payload, dict) or payload.get("f") != form_key:
        return TokenCheck(True, False, "form token of another form")
    try:
        elapsed = ((time.time() if now is None else now) * 1000 - int(payload["t"])) / 1000
    except (KeyError, TypeError, ValueError):
        return TokenCheck(True, False, "forged form token")
    if elapsed < MIN_FILL_SECONDS:
        return TokenCheck(True, False, f"filled in {max(elapsed, 0):.1f} s", elapsed)
    if elapsed > MAX_TOKEN_AGE_SECONDS:
        return TokenCheck(False, True, "form shown more than a day before it was sent", elapsed)
    return TokenCheck(False, False, "", elapsed)


def sender_hash(address: str, form_key: str) -> str:
    """A keyed hash of the sender's IP address and the form (hex, 64 characters)."""
    return salted_hmac(SALT, f"{address}|{form_key}", algorithm="sha256").hexdigest()
