"""The mailboxes bounce reports and replies are read from: a Maildir folder or an IMAP folder.

Each reader yields one message's bytes at a time and marks it read only when the caller comes
back for the next one, that is once the message was recorded: a crash in between leaves it
unread, and the next reading records it then (recording is idempotent, see bounces.py).

IMAP is spoken over TLS checked against the system's certificate authorities (or
`MAIL_BOUNCE_IMAP_CAFILE`, for a server with a certificate of its own), with a timeout, so that
a silent server cannot hold the worker.
"""

from __future__ import annotations

import contextlib
import imaplib
import mailbox
import ssl
from collections.abc import Callable, Iterator

from django.conf import settings
from django.utils.translation import gettext, gettext_noop

from cible.core.errors import CibleError

# Seconds an IMAP server may stay silent before the reading gives up.
IMAP_TIMEOUT = 30


class MailboxUnreadable(CibleError):
    """The mailbox could not be reached, opened or read; the message says which and why.

    It keeps its message untranslated (`template`, `params`) beside the one in the current
    language: a reading logged by the worker is shown to each reader in their own language."""

    status_code = 502

    def __init__(self, template: str, params: dict[str, object] | None = None) -> None:
        self.template = template
        self.params = {name: str(value) for name, value in (params or {}).items()}
        super().__init__(describe(template, self.params))


def describe(template: str, params: dict[str, str]) -> str:
    """A mailbox error in the current language: its template translated, then filled."""
    return gettext(template) % params if params else gettext(template)


def maildir_messages(path: str) -> Iterator[bytes]:
    """New messages of the Maildir, each moved to cur/ and flagged seen once recorded."""
    try:
        box = mailbox.Maildir(path, factory=None, create=False)
        keys = list(box.iterkeys())
    except mailbox.NoSuchMailboxError:
        raise MailboxUnreadable(
            gettext_noop(
                "There is no Maildir folder at %(path)s (one with cur, new and tmp in it)."
            ),
            {"path": path},
        ) from None
    except OSError as error:
        raise MailboxUnreadable(
            gettext_noop("Could not read the Maildir %(path)s: %(error)s"),
            {"path": path, "error": error},
        ) from None
    for key in keys:
        message = box.get_message(key)
        if "S" in message.get_flags():
            continue
        yield message.as_bytes()
        message.set_subdir("cur")
        message.add_flag("S")
        box[key] = message


def _imap_client(host: str, port: int) -> imaplib.IMAP4:
    if not getattr(settings, "MAIL_BOUNCE_IMAP_SSL", True):
        return imaplib.IMAP4(host, port, timeout=IMAP_TIMEOUT)
    context = ssl.create_default_context(
        cafile=getattr(settings, "MAIL_BOUNCE_IMAP_CAFILE", "") or None
    )
    return imaplib.IMAP4_SSL(host, port, ssl_context=context, timeout=IMAP_TIMEOUT)


def _reason(error: object) -> str:
    """The server's answer (imaplib's errors carry it as bytes), or the error's own words."""
    answer = error.args[0] if isinstance(error, Exception) and error.args else error
    if isinstance(answer, bytes):
        return answer.decode("utf-8", "replace")
    return str(error)


def imap_messages() -> Iterator[bytes]:
    """Unseen messages of the IMAP folder, by UID, each flagged \\Seen once recorded."""
    host = getattr(settings, "MAIL_BOUNCE_IMAP_HOST", "")
    port = int(getattr(settings, "MAIL_BOUNCE_IMAP_PORT", 993))
    user = getattr(settings, "MAIL_BOUNCE_IMAP_USER", "")
    folder = getattr(settings, "MAIL_BOUNCE_IMAP_FOLDER", "INBOX")
    server = f"{host}:{port}"
    try:
        client = _imap_client(host, port)
    except (OSError, imaplib.IMAP4.error) as error:
        raise MailboxUnreadable(
            gettext_noop("Could not reach the IMAP server %(server)s: %(error)s"),
            {"server": server, "error": _reason(error)},
        ) from None
    try:
        try:
            client.login(user, getattr(settings, "MAIL_BOUNCE_IMAP_PASSWORD", ""))
        except imaplib.IMAP4.error as error:
            raise MailboxUnreadable(
                gettext_noop("The IMAP server %(server)s refused the login of %(user)s: %(error)s"),
                {"server": server, "user": user, "error": _reason(error)},
            ) from None
        status, answer = client.select(folder)
        if status != "OK":
            raise MailboxUnreadable(
                gettext_noop("The IMAP server %(server)s has no folder %(folder)s: %(error)s"),
                {"server": server, "folder": folder, "error": _reason(answer[0])},
            )
        _status, found = client.uid("SEARCH", "UNSEEN")
        for uid in (found[0] or b"").decode().split():
            # BODY.PEEK leaves the message unseen until it is recorded (RFC822 would flag it now).
            _status, parts = client.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((p[1] for p in parts if isinstance(p, tuple) and len(p) == 2), None)
            if raw is None:
                continue  # expunged by another client meanwhile
            yield raw
            client.uid("STORE", uid, "+FLAGS", "(\\Seen)")
    except (OSError, imaplib.IMAP4.error) as error:
        raise MailboxUnreadable(
            gettext_noop("Reading the IMAP folder %(folder)s of %(server)s failed: %(error)s"),
            {"server": server, "folder": folder, "error": _reason(error)},
        ) from None
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            client.logout()


Mailbox = tuple[str, str, Callable[[], Iterator[bytes]]]  # (source, where, its messages)


def configured_mailboxes() -> list[Mailbox]:
    """The bounce mailboxes the settings name, each with where it is (never the password)."""
    found: list[Mailbox] = []
    maildir = str(getattr(settings, "MAIL_BOUNCE_MAILDIR", "") or "")
    if maildir:
        found.append(("maildir", maildir, lambda: maildir_messages(maildir)))
    host = getattr(settings, "MAIL_BOUNCE_IMAP_HOST", "")
    if host:
        scheme = "imaps" if getattr(settings, "MAIL_BOUNCE_IMAP_SSL", True) else "imap"
        user = getattr(settings, "MAIL_BOUNCE_IMAP_USER", "")
        port = getattr(settings, "MAIL_BOUNCE_IMAP_PORT", 993)
        folder = getattr(settings, "MAIL_BOUNCE_IMAP_FOLDER", "INBOX")
        found.append(("imap", f"{scheme}://{user}@{host}:{port}/{folder}", imap_messages))
    return found
