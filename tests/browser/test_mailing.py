"""Marketing edits an email template: sees a syntax error as she types, previews the email for a
real contact, saves it and sends herself a test, which the SMTP server receives. And she sees on
the sending rules page which bounce mailbox could not be read, and why."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from cible.nurture.mailing import services
from cible.nurture.mailing.mailboxes import MailboxUnreadable
from tests import factories
from tests.browser.helpers import login
from tests.cast import PASSWORD
from tests.smtp import free_port

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_edit_preview_and_send_a_test(page: Page, live_server, cast, smtp_server) -> None:
    cast.marketer.email = "marie@cible.test"
    cast.marketer.save()
    acme = factories.organisation(cast.ae, legal_name="Acme Industries SAS", trade_name="Acme")
    factories.contact(
        cast.ae,
        first_name="Jeanne",
        last_name="Roy",
        email="jeanne@acme.fr",
        language="fr",
        organisation=acme.pk,
    )
    template = services.template_create(
        actor=cast.marketer,
        channel="ui",
        data={"name": "Relance", "subject_fr": "Bonjour", "body_fr": "Bonjour,"},
    )

    login(page, live_server, "marie", PASSWORD)
    page.goto(f"{live_server.url}/email/templates/{template.pk}/")
    body = page.locator("#id_body_fr")
    body.fill("Bonjour {{ contact.first_name }},\n{% if organisation.city %}\nÀ bientôt")
    expect(page.locator("#check-body_fr .field-error")).to_contain_text("line 2:")
    body.fill(
        "Bonjour {{ contact.first_name }},\n\n{{ organisation.trade_name }} et vous : "
        "https://example.com/rdv"
    )
    expect(page.locator("#check-body_fr .check-ok")).to_be_visible()
    page.fill("#id_subject_fr", "Une idée pour {{ organisation.trade_name }}")

    page.fill("#preview-search", "Roy")
    expect(page.locator("#preview-contact option")).to_have_count(2)
    expect(page.locator("#preview-contact option").nth(1)).to_contain_text("Jeanne Roy")
    page.select_option("#preview-contact", index=1)
    expect(page.locator("#preview-subject")).to_have_text("Une idée pour Acme")
    preview = page.frame_locator("#preview-html")
    expect(preview.locator("body")).to_contain_text("Bonjour Jeanne,")

    with page.expect_navigation():
        page.click("#save-template")
    expect(page.locator(".alert-success")).to_contain_text("Template “Relance” saved.")
    page.fill("#preview-search", "jeanne@")
    expect(page.locator("#preview-contact option")).to_have_count(2)
    page.select_option("#preview-contact", index=1)
    with page.expect_navigation():
        page.click("#send-test")
    expect(page.locator(".alert-success")).to_contain_text("Test sent to marie@cible.test")

    [received] = smtp_server.recorder.to("marie@cible.test")
    assert received.subject == "[Test] Une idée pour Acme"
    assert (
        received.text()
        .replace("\r\n", "\n")
        .startswith("Bonjour Jeanne,\n\nAcme et vous : https://example.com/rdv")
    )
    assert '<a href="https://example.com/rdv">' in received.html()
    assert smtp_server.recorder.to("jeanne@acme.fr") == []  # a test never reaches the contact


def test_marketing_sees_which_bounce_mailbox_fails_and_why(
    page: Page, live_server, cast, settings
) -> None:
    port = free_port()  # nothing listens there: the worker's reading failed
    settings.MAIL_BOUNCE_MAILDIR = ""
    settings.MAIL_BOUNCE_IMAP_HOST, settings.MAIL_BOUNCE_IMAP_PORT = "127.0.0.1", port
    settings.MAIL_BOUNCE_IMAP_SSL, settings.MAIL_BOUNCE_IMAP_USER = False, "bounces@cible.test"
    with pytest.raises(MailboxUnreadable):
        services.bounces_read_mailboxes()

    login(page, live_server, "marie", PASSWORD)
    page.goto(f"{live_server.url}/email/policy/")

    mailbox = page.locator('#mailboxes [data-source="imap"]')
    expect(mailbox).to_have_attribute("data-failing", "true")
    expect(mailbox).to_contain_text(f"imap://bounces@cible.test@127.0.0.1:{port}/INBOX")
    expect(mailbox.locator(".reading-error")).to_contain_text(
        f"Could not reach the IMAP server 127.0.0.1:{port}"
    )
