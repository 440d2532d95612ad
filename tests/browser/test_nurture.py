"""Marie builds a nurture program with a branch in the visual editor, activates it, enrols Jeanne
from her contact page, and watches her reach the wait step while the real SMTP server receives
the email."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from cible.nurture.mailing import services as mailing
from cible.nurture.mailing.models import SendPolicy
from cible.nurture.programs import services
from cible.nurture.programs.models import NurtureProgram
from tests import factories
from tests.browser.helpers import login
from tests.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def add_after(page: Page, kind: str, new_kind: str, answer: str | None = None) -> None:
    card = page.locator(f"#editor [data-kind={kind}]").first
    card.locator(".add-after [name=kind]").select_option(new_kind)
    if answer:
        card.locator(".add-after [name=answer]").select_option(answer)
    card.locator(".add-after button").click()
    expect(page.locator(f"#editor [data-kind={new_kind}]")).to_have_count(1)


def edit(page: Page, kind: str) -> object:
    card = page.locator(f"#editor [data-kind={kind}]")
    card.locator("summary").click()
    return card.locator(".step-form")


def test_build_activate_enrol_and_watch_a_contact_go_through(
    page: Page, live_server, cast, smtp_server
) -> None:
    SendPolicy.current()
    SendPolicy.objects.update(days="0123456", start_hour=0, end_hour=24)
    mailing.template_create(
        actor=cast.marketer,
        channel="ui",
        data={
            "name": "Guide",
            "subject_en": "Our guide, {{ contact.first_name }}",
            "body_en": "Hello {{ contact.first_name }}",
        },
    )
    acme = factories.organisation(cast.ae, legal_name="Acme Industrie")
    jeanne = factories.contact(
        cast.ae,
        first_name="Jeanne",
        last_name="Dupont",
        email="jeanne@acme.example",
        organisation=acme.pk,
    )

    login(page, live_server, "marie", PASSWORD)
    page.goto(f"{live_server.url}/nurture/")
    page.fill("#new-program [name=name]", "Not ready yet")
    with page.expect_navigation():
        page.click("#create-program")
    page.locator("#add-step [name=kind]").select_option("send_email")
    page.click("#add-step button")
    form = edit(page, "send_email")
    form.locator("[name=label]").fill("Send the guide")
    form.locator("[name=template]").select_option(label="Guide")
    form.locator(".save-step").click()
    expect(page.locator("#editor [data-kind=send_email] .step-summary")).to_have_text(
        "Send “Guide”"
    )

    add_after(page, "send_email", "wait")
    form = edit(page, "wait")
    form.locator("[name=label]").fill("Two days")
    form.locator("[name=days]").fill("2")
    form.locator(".save-step").click()
    expect(page.locator("#editor [data-kind=wait] .step-name")).to_have_text("Two days")

    add_after(page, "wait", "branch")
    expect(page.locator("#problems")).to_contain_text("has no step for its “no” answer")
    add_after(page, "branch", "create_task", answer="yes")
    add_after(page, "branch", "exit", answer="no")
    form = edit(page, "create_task")
    form.locator("[name=title]").fill("Call: she opened the guide")
    form.locator(".save-step").click()
    expect(page.locator("#ready")).to_have_text("Ready to run")
    expect(page.locator("#program-graph svg")).to_be_visible()

    with page.expect_navigation():
        page.click("#activate")
    expect(page.locator("#program-status")).to_have_text("Active")

    page.goto(f"{live_server.url}/contacts/{jeanne.pk}/")
    page.click("#nurture-tab-button")
    with page.expect_navigation():
        page.click("#enrol-contact button")
    expect(page.locator(".alert-success")).to_contain_text(
        "Jeanne Dupont enrolled in “Not ready yet”."
    )

    services.advance_due(now=timezone.now() + dt.timedelta(minutes=1))
    mailing.send_due()

    program = NurtureProgram.objects.get()
    page.goto(f"{live_server.url}/nurture/{program.pk}/")
    expect(page.locator("#editor [data-kind=wait] .waiting")).to_have_text("1")
    waiting = page.locator("#where-table h3", has_text="Two days")
    expect(waiting).to_contain_text("1")
    expect(page.locator("#where-table table").first).to_contain_text("Jeanne Dupont")
    expect(page.locator("[data-metric=sent]")).to_have_text("1")
    (received,) = smtp_server.messages
    assert received.rcpt_tos == ["jeanne@acme.example"] and received.subject == "Our guide, Jeanne"
