"""Shared setup of the mailing tests: a bilingual template and a sending window always open."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cible.nurture.mailing import services
from cible.nurture.mailing.models import EmailTemplate, SendPolicy
from cible.segments.axes.models import Axis
from tests import factories, imap
from tests.imap import DOVECOT, ImapServer, start_imap_server

BODY_FR = (
    'Bonjour {{ contact.first_name|default:"à vous" }},\n\n'
    "{{ organisation.trade_name }} pourrait gagner du temps.\n"
    "{% if segments.size %}Pour une entreprise {{ segments.size }}, c'est clé.{% endif %}\n\n"
    "Voir https://example.com/offre?x=1&y=2."
)
BODY_EN = (
    "Hello {{ contact.first_name }},\n\n"
    "{{ organisation.trade_name }} could save time.\n\n"
    "See https://example.com/offer."
)


@pytest.fixture
def template(cast: Any) -> EmailTemplate:
    # The size axis comes with the migrations; a transactional test earlier in the session
    # flushes it away, and the template's `segments.size` would be an unknown field.
    Axis.objects.get_or_create(code="size", defaults={"name": "Size", "exclusive": True})
    return services.template_create(
        actor=cast.marketer,
        channel="ui",
        data={
            "name": "Welcome",
            "subject_fr": "Bienvenue {{ contact.first_name }}",
            "body_fr": BODY_FR,
            "subject_en": "Welcome {{ contact.first_name }}",
            "body_en": BODY_EN,
        },
    )


@pytest.fixture
def always_open(db: Any) -> SendPolicy:
    policy = SendPolicy.current()
    policy.days, policy.start_hour, policy.end_hour = "0123456", 0, 24
    policy.save()
    return policy


@pytest.fixture
def people(cast: Any) -> dict[str, Any]:
    acme = factories.organisation(cast.ae, legal_name="Acme Industries SAS", trade_name="Acme")
    return {
        "jeanne": factories.contact(
            cast.ae,
            first_name="Jeanne",
            last_name="Roy",
            email="jeanne@acme.fr",
            language="fr",
            organisation=acme.pk,
        ),
        "john": factories.contact(
            cast.ae,
            first_name="John",
            last_name="Smith",
            email="john@acme.co.uk",
            language="en",
            organisation=acme.pk,
        ),
        "nameless": factories.contact(cast.ae, last_name="Anonyme", email="x@other.fr"),
    }


@pytest.fixture
def imap_server(settings: Any) -> Iterator[ImapServer]:
    """A real IMAP server (Dovecot) with one mailbox; the bounce settings point at its TLS port,
    trusting the certificate it was given. Under /tmp, not pytest's private tmp_path: Dovecot's
    login processes run as another user and must reach its run directory."""
    if not Path(DOVECOT).exists():
        pytest.skip(
            "Dovecot is missing (Debian package dovecot-imapd; scripts/test.sh installs it)"
        )
    root = Path(tempfile.mkdtemp(prefix="cible-imap."))
    server = start_imap_server(root)
    settings.MAIL_BOUNCE_MAILDIR = ""
    settings.MAIL_BOUNCE_IMAP_HOST = server.host
    settings.MAIL_BOUNCE_IMAP_PORT = server.tls_port
    settings.MAIL_BOUNCE_IMAP_SSL = True
    settings.MAIL_BOUNCE_IMAP_CAFILE = server.cafile
    settings.MAIL_BOUNCE_IMAP_USER = imap.USER
    settings.MAIL_BOUNCE_IMAP_PASSWORD = imap.PASSWORD
    settings.MAIL_BOUNCE_IMAP_FOLDER = "INBOX"
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
