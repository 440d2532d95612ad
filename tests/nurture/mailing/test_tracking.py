"""The public links of an email: open pixel, tracked clicks, unsubscribe (no login)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from auditlog.models import LogEntry
from django.test import Client

from cible.engagement.interactions.models import Interaction
from cible.nurture.mailing import services, tokens
from cible.nurture.mailing.models import MessageStatus, OutboundMessage
from cible.people.services import profile_set_language
from cible.quality.privacy.models import ConsentEvent


@pytest.fixture
def sent(template: Any, people: dict[str, Any], always_open: Any, smtp_server: Any) -> Any:
    """Jeanne's email, sent and received; returns what the server received."""
    services.queue_messages(
        template=template,
        recipients=[(people["jeanne"].pk, "t:1"), (people["john"].pk, "t:2")],
        origin="test",
        channel="job",
    )
    services.send_due()
    return smtp_server.recorder.to("jeanne@acme.fr")[0]


def _path(url: str) -> str:
    return url.replace("http://127.0.0.1:8000", "")


def test_opening_and_clicking_are_recorded_and_the_click_goes_to_the_real_link(sent: Any) -> None:
    client = Client()
    pixel = re.search(r'src="([^"]+\.gif)"', sent.html()).group(1)
    link = re.search(r'<a href="([^"]+/m/c/[^"]+)"', sent.html()).group(1)

    assert client.get(_path(pixel))["Content-Type"] == "image/gif"
    client.get(_path(pixel))  # opened twice: counted once
    response = client.get(_path(link))

    assert response.status_code == 302
    assert response["Location"] == "https://example.com/offre?x=1&y=2"
    message = OutboundMessage.objects.get(key="t:1")
    assert message.opened_at is not None and message.clicked_at is not None
    kinds = sorted(
        Interaction.objects.filter(source="mailing", contact=message.contact_id).values_list(
            "kind", flat=True
        )
    )
    assert kinds == ["email_clicked", "email_opened", "email_sent"]


def test_forged_and_altered_tokens_get_a_clear_page_never_a_redirect(sent: Any) -> None:
    client = Client(headers={"Accept-Language": "en"})
    message = OutboundMessage.objects.get(key="t:1")
    good = tokens.click_token(message.pk, 0)
    altered = good.replace(f"{tokens._b36(message.pk)}-0", f"{tokens._b36(message.pk)}-1", 1)
    for path in (
        "/m/c/not-a-token",
        f"/m/c/{altered}",
        f"/m/c/{tokens.open_token(message.pk)}",  # a token of another kind
        f"/m/u/{tokens.click_token(message.pk, 0)}",
    ):
        response = client.get(path)
        assert response.status_code == 400, path
        assert "This link is not valid" in response.content.decode()
    # Validly signed, but the message has no link number 7: nowhere to go.
    response = client.get(f"/m/c/{tokens.click_token(message.pk, 7)}")
    assert response.status_code == 404
    assert client.get(f"/m/u/{tokens.unsubscribe_token(10**9)}").status_code == 404
    assert client.get("/m/o/forged.gif").status_code == 400
    assert OutboundMessage.objects.get(key="t:1").clicked_at is None


def test_unsubscribe_page_speaks_the_contacts_language_and_one_click_post_opts_out(
    sent: Any, people: dict[str, Any]
) -> None:
    url = sent.message["List-Unsubscribe"].strip().strip("<>")
    client = Client(enforce_csrf_checks=True)

    page = client.get(_path(url))
    assert page.status_code == 200
    assert 'lang="fr"' in page.content.decode()
    assert "jeanne@acme.fr" in page.content.decode()

    # RFC 8058: the mail provider POSTs "List-Unsubscribe=One-Click", with no session or token.
    done = client.post(_path(url), {"List-Unsubscribe": "One-Click"})

    assert done.status_code == 200
    jeanne = people["jeanne"]
    jeanne.refresh_from_db()
    assert jeanne.email_opt_out is True and jeanne.opted_out_at is not None
    consent = ConsentEvent.objects.get(contact=jeanne)
    assert (consent.status, consent.source, consent.channel) == (
        "withdrawn",
        "email_unsubscribe",
        "email",
    )
    changes = LogEntry.objects.get_for_object(jeanne).filter(changes__icontains="email_opt_out")
    assert changes.exists()
    # Never again: a new message to her is suppressed at queueing.
    outcome = services.queue_messages(
        template=OutboundMessage.objects.get(key="t:1").template,
        recipients=[(jeanne.pk, "t:3")],
        origin="test",
        channel="job",
    )
    assert outcome.suppressed == {jeanne.pk: "opted_out"}
    assert OutboundMessage.objects.get(key="t:2").status == MessageStatus.SENT


def test_the_unsubscribe_link_of_a_test_send_says_it_was_a_test_and_changes_nothing(
    cast: Any, client_for: Any, template: Any, people: dict[str, Any], smtp_server: Any
) -> None:
    cast.marketer.email = "marie@cible.example"
    cast.marketer.save()
    jeanne = people["jeanne"]
    services.send_test(template=template, contact=jeanne, actor=cast.marketer, channel="ui")
    received = smtp_server.recorder.to("marie@cible.example")[0]
    link = re.search(r'<a href="([^"]+/m/u/[^"]*)"', received.html()).group(1)
    assert _path(link) == "/m/u/"  # untracked: no token to read

    page = Client(headers={"Accept-Language": "en"}).get(_path(link))

    assert page.status_code == 200
    text = page.content.decode()
    assert "This was a test email" in text
    assert "Nothing was changed: nobody was unsubscribed." in text
    assert 'lang="en"' in text
    jeanne.refresh_from_db()
    assert jeanne.email_opt_out is False
    assert not ConsentEvent.objects.filter(contact=jeanne).exists()
    # In the reader's language: their profile's when logged in, else their browser's.
    profile_set_language(user=cast.marketer, language="fr")
    assert 'lang="fr"' in client_for(cast.marketer).get("/m/u/").content.decode()
    # Nothing to do without a token: no one-click request is accepted there.
    assert Client().post("/m/u/", {"List-Unsubscribe": "One-Click"}).status_code == 405


def test_a_forged_unsubscribe_token_is_still_refused_next_to_the_test_send_page(db: Any) -> None:
    client = Client(headers={"Accept-Language": "en"})
    for path in ("/m/u/forged", f"/m/u/{tokens.unsubscribe_token(1)[:-1]}"):  # cut short
        for response in (client.get(path), client.post(path, {"List-Unsubscribe": "One-Click"})):
            assert response.status_code == 400, path
            assert "This link is not valid" in response.content.decode()
            assert "This was a test email" not in response.content.decode()


def test_the_contact_page_lists_the_emails_and_an_erasure_blanks_them(
    sent: Any, people: dict[str, Any], cast: Any, client_for: Any
) -> None:
    from cible.quality.privacy.erasure import contact_erase

    jeanne = people["jeanne"]
    page = client_for(cast.ae).get(f"/contacts/{jeanne.pk}/").content.decode()
    assert 'id="contact-emails"' in page and "Bienvenue Jeanne" in page

    contact_erase(contact=jeanne, actor=cast.admin, channel="ui", reason="art. 17 request")

    message = OutboundMessage.objects.get(key="t:1")
    assert (message.to_email, message.subject, message.body_text, message.body_html) == (
        "",
        "",
        "",
        "",
    )
    assert message.status == MessageStatus.SENT  # the row stays: sending figures add up
