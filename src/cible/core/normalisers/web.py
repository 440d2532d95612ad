"""Addresses on the web: email addresses, websites (url and domain) and bare domains."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

import idna
from email_validator import EmailNotValidError, validate_email

from cible.core.normalisers._common import (
    NormalisationError,
    _,
    _fail,
    _speaks_english,
    gettext_noop,
)
from cible.core.normalisers.text import tidy_text

# --------------------------------------------------------------------------- email

_EMAIL_REWORDINGS: tuple[tuple[str, str], ...] = (
    ("The email address is not valid. ", ""),
    ("The email address ", "it "),
    ("An email address ", "it "),
    ("The part after the @-sign", "the domain"),
    ("The part before the @-sign", "the part before @"),
    ("The domain name ", "the domain "),
)


# What email_validator says (in English only) -> the same problem in our words, translated
# when raised. "%(chars)s" is the library's list of the offending characters.
_EMAIL_PROBLEMS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), message)
    for pattern, message in (
        (r"An email address must have an @-sign\.", gettext_noop("it must have an @-sign")),
        (
            r"There must be something before the @-sign\.",
            gettext_noop("there must be something before the @-sign"),
        ),
        (
            r"There must be something after the @-sign\.",
            gettext_noop("there must be something after the @-sign"),
        ),
        (
            r"An email address cannot start with a period\.",
            gettext_noop("it cannot start with a period"),
        ),
        (
            r"An email address cannot have a period immediately before the @-sign\.",
            gettext_noop("it cannot have a period immediately before the @-sign"),
        ),
        (
            r"An email address cannot have a period immediately after the @-sign\.",
            gettext_noop("it cannot have a period immediately after the @-sign"),
        ),
        (
            r"An email address cannot have a hyphen immediately after the @-sign\.",
            gettext_noop("it cannot have a hyphen immediately after the @-sign"),
        ),
        (
            r"An email address cannot end with a period\.",
            gettext_noop("it cannot end with a period"),
        ),
        (
            r"An email address cannot end with a hyphen\.",
            gettext_noop("it cannot end with a hyphen"),
        ),
        (
            r"An email address cannot have two periods in a row\.",
            gettext_noop("it cannot have two periods in a row"),
        ),
        (
            r"An email address cannot have a period and a hyphen next to each other\.",
            gettext_noop("it cannot have a period and a hyphen next to each other"),
        ),
        (
            r"The part after the @-sign is not valid\. It should have a period\.",
            gettext_noop("the domain is not valid: it should have a period"),
        ),
        (
            r"The part after the @-sign is not valid\. It is not within a valid top-level domain\.",
            gettext_noop("the domain is not valid: it is not within a valid top-level domain"),
        ),
        (
            r"The part after the @-sign is a special-use or reserved name that cannot be used "
            r"with email\.",
            gettext_noop(
                "the domain is a special-use or reserved name that cannot be used with email"
            ),
        ),
        (
            r"The part after the @-sign contains invalid characters: (?P<chars>.+)\.",
            gettext_noop("the domain contains invalid characters: %(chars)s"),
        ),
        (
            r"The part after the @-sign contains invalid characters \(.*\)\.",
            gettext_noop("the domain contains invalid characters"),
        ),
        (
            r"The part after the @-sign is not valid IDNA \(.*\)\.",
            gettext_noop("the domain is not a valid internationalised domain name"),
        ),
        (
            r"The email address contains invalid characters before the @-sign: (?P<chars>.+)\.",
            gettext_noop("it contains invalid characters before the @-sign: %(chars)s"),
        ),
        (
            r"The email address contains invalid characters before the @-sign\.",
            gettext_noop("it contains invalid characters before the @-sign"),
        ),
        (
            r"The email address contains unsafe characters: (?P<chars>.+)\.",
            gettext_noop("it contains unsafe characters: %(chars)s"),
        ),
        (
            r"The email address contains an invalid character\.",
            gettext_noop("it contains an invalid character"),
        ),
        (
            r"The email address is too long before the @-sign \(.*\)\.",
            gettext_noop("it is too long before the @-sign (at most 64 characters)"),
        ),
        (
            r"The email address is too long after the @-sign \(.*\)\.",
            gettext_noop("it is too long after the @-sign (at most 253 characters)"),
        ),
        (
            r"After the @-sign, periods cannot be separated by so many characters \(.*\)\.",
            gettext_noop(
                "after the @-sign, periods cannot be separated by so many characters (at most 63)"
            ),
        ),
        (
            r"Quoting the part before the @-sign is not allowed here\.",
            gettext_noop("quoting the part before the @-sign is not allowed"),
        ),
        (
            r"A bracketed IP address after the @-sign is not allowed here\.",
            gettext_noop("an IP address in brackets after the @-sign is not allowed"),
        ),
        (
            r"There can't be anything after the email address\.",
            gettext_noop("there can't be anything after the email address"),
        ),
        (
            r"An open angle bracket at the start of the email address has to be followed by a "
            r"close angle bracket at the end\.",
            gettext_noop("an opening < must be closed by a > at the end"),
        ),
        (
            r"The display name contains invalid characters when not quoted: (?P<chars>.+)\.",
            gettext_noop("the name before the address contains invalid characters: %(chars)s"),
        ),
    )
)


def _reword_email_error(error: EmailNotValidError) -> str:
    """email_validator's English message, made to follow "“value” is not a valid email
    address:" (for the rare problems _EMAIL_PROBLEMS does not know)."""
    message = str(error).strip()
    for before, after in _EMAIL_REWORDINGS:
        if message.startswith(before):
            message = after + message[len(before) :]
    message = message.rstrip(".").replace(" is not valid. It ", " is not valid: it ")
    return message[:1].lower() + message[1:]


def _email_problem(field: str, shown: str, error: EmailNotValidError) -> NormalisationError:
    message = str(error).strip()
    for pattern, problem in _EMAIL_PROBLEMS:
        match = pattern.fullmatch(message)
        if match is not None:
            reason = _(problem) % match.groupdict()
            break
    else:
        if not _speaks_english():  # the library's own wording is English only
            return _fail(field, shown, _("“%(value)s” is not a valid email address"))
        reason = _reword_email_error(error)
    return _fail(
        field, shown, _("“%(value)s” is not a valid email address: %(reason)s"), reason=reason
    )


def email(raw: str | None, field: str = "email") -> str | None:
    """An email address, lowercased ("Jean.Dupont@Example.FR" -> "jean.dupont@example.fr").

    Syntax only: the domain is not looked up. "mailto:" and a display name
    ("Jean <jean@example.fr>") are accepted and dropped."""
    text = tidy_text(raw, field=field)
    if text is None:
        return None
    if len(text) > 320:
        raise _fail(field, text, _("“%(value)s” is not a valid email address: it is far too long"))
    candidate = text
    if candidate.lower().startswith("mailto:"):
        candidate = candidate[7:].split("?", 1)[0].strip()
    try:
        result = validate_email(
            candidate,
            check_deliverability=False,
            allow_display_name=True,
            allow_quoted_local=False,
            allow_domain_literal=False,
        )
    except EmailNotValidError as error:
        raise _email_problem(field, text, error) from None
    return str(result.normalized).lower()


# --------------------------------------------------------------------------- web

_LABEL_RE = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_WWW_RE = re.compile(r"^www\d*\.")


def _host(raw_host: str, field: str, shown: str, *, email_domain: bool = False) -> str:
    """Validate a host name and return it lowercased (Unicode form kept).

    ``email_domain`` says the host came from an email address (for the messages)."""
    host = raw_host.strip().rstrip(".").lower()
    if email_domain:
        no_dot = _("“%(value)s” is not a valid email domain: the host name has no dot")
        problem = _("“%(value)s” is not a valid email domain: the host name is not valid")
    else:
        no_dot = _("“%(value)s” is not a website address: the host name has no dot")
        problem = _("“%(value)s” is not a website address: the host name is not valid")
    if "." not in host:
        raise _fail(field, shown, no_dot)
    try:
        ascii_host = idna.encode(host, uts46=True).decode("ascii")
        unicode_host = idna.decode(ascii_host)
    except (idna.IDNAError, UnicodeError, ValueError):
        raise _fail(field, shown, problem) from None
    labels = ascii_host.split(".")
    if len(ascii_host) > 253 or not all(_LABEL_RE.fullmatch(label) for label in labels):
        raise _fail(field, shown, problem)
    tld = labels[-1]
    if not (tld.isalpha() or tld.startswith("xn--")) or len(tld) < 2:
        raise _fail(field, shown, problem)
    return unicode_host


def _domain_of_host(host: str) -> str:
    stripped = _WWW_RE.sub("", host)
    return stripped if "." in stripped else host


def website(raw: str | None, field: str = "website") -> tuple[str | None, str | None]:
    """(url, domain): "WWW.Example.fr/contact" -> ("https://www.example.fr/contact",
    "example.fr"). No scheme means https; only http and https are accepted.
    The domain is the host without a leading "www."; blank gives (None, None)."""
    text = tidy_text(raw, field=field)
    if text is None:
        return None, None
    if len(text) > 2000:
        raise _fail(field, text, _("“%(value)s” is not a website address: it is far too long"))
    if " " in text:
        raise _fail(field, text, _("“%(value)s” is not a website address: it contains spaces"))
    candidate = text
    if "://" not in candidate:
        if candidate.startswith("//"):
            candidate = candidate[2:]
        candidate = "https://" + candidate
    try:
        parts = urlsplit(candidate)
        port = parts.port
        hostname = parts.hostname or ""
    except ValueError:
        raise _fail(field, text, _("“%(value)s” is not a website address")) from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise _fail(
            field,
            text,
            _("“%(value)s” is not a website address: only http and https are accepted"),
        )
    if parts.username is not None or parts.password is not None:
        raise _fail(field, text, _("“%(value)s” is not a website address: it contains a user name"))
    host = _host(hostname, field, text)
    netloc = host if port is None else f"{host}:{port}"
    path = "" if parts.path == "/" and not parts.query else parts.path
    url = urlunsplit((scheme, netloc, path, parts.query, parts.fragment))
    return url, _domain_of_host(host)


def domain(raw: str | None, field: str = "domain") -> str | None:
    """A domain from a URL, a bare host or an email address:
    "https://www.example.fr/x" and "jean@example.fr" both give "example.fr"."""
    text = tidy_text(raw, field=field)
    if text is None:
        return None
    if "@" in text and "://" not in text:
        if len(text) > 320 or " " in text:
            raise _fail(field, text, _("“%(value)s” is not a domain or an email address"))
        host = text.rsplit("@", 1)[1].rstrip(">")
        return _domain_of_host(_host(host, field, text, email_domain=True))
    return website(text, field=field)[1]
