"""The SMTP side of sending: deliver prepared emails over Django's mail framework and say, for
each, whether the server accepted it, and if not whether the refusal is permanent.

`MAIL_SMTP_CONNECTIONS` (default 1) spreads a batch over that many connections, each in its own
thread; outcomes are yielded as they come, so the caller marks each message right after the
server's answer, from its own thread (the database connection stays single-threaded).
"""

from __future__ import annotations

import contextlib
import queue
import smtplib
import threading
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection


def classify(error: BaseException) -> tuple[bool, str]:
    """(permanent?, reason) of a failed delivery."""
    code: int | None = None
    text: Any = ""
    if isinstance(error, smtplib.SMTPRecipientsRefused) and error.recipients:
        code, text = next(iter(error.recipients.values()))
    elif isinstance(error, smtplib.SMTPResponseException):
        code, text = error.smtp_code, error.smtp_error
    if code is None:
        return False, f"{type(error).__name__}: {error}"
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return 500 <= code < 600, f"{code} {text}"


def _deliver_one(conn: Any, email: EmailMultiAlternatives) -> tuple[Any, BaseException | None]:
    try:
        conn.open()  # a no-op when open (and for backends without connections)
        conn.send_messages([email])
        return conn, None
    except (smtplib.SMTPException, OSError) as error:
        if not isinstance(error, smtplib.SMTPResponseException | smtplib.SMTPRecipientsRefused):
            # The connection is in an unknown state (timeout, disconnect): start a new one.
            with contextlib.suppress(smtplib.SMTPException, OSError):
                conn.close()
            conn.connection = None
        return conn, error


def deliver(emails: list[EmailMultiAlternatives]) -> Iterator[tuple[int, BaseException | None]]:
    """Send `emails`; yield (index, error or None) as each one is accepted or refused."""
    lanes = max(1, int(getattr(settings, "MAIL_SMTP_CONNECTIONS", 1)))
    if lanes == 1 or len(emails) < 2 * lanes:
        conn = get_connection(fail_silently=False)
        try:
            for index, email in enumerate(emails):
                conn, error = _deliver_one(conn, email)
                yield index, error
        finally:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                conn.close()
        return
    outcomes: queue.Queue[tuple[int, BaseException | None]] = queue.Queue()

    def lane(indexes: range) -> None:
        conn = get_connection(fail_silently=False)
        try:
            for index in indexes:
                conn, error = _deliver_one(conn, emails[index])
                outcomes.put((index, error))
        finally:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                conn.close()

    threads = [
        threading.Thread(target=lane, args=(range(i, len(emails), lanes),), daemon=True)
        for i in range(lanes)
    ]
    for thread in threads:
        thread.start()
    for _n in range(len(emails)):
        yield outcomes.get()
    for thread in threads:
        thread.join()
