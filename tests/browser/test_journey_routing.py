"""Issue 7, "done when", through the real pages.

Sam, the sales manager of "AE Paris", puts Sophie (SDR) and Basile in the team's rotation, writes
a routing rule for trade-show leads and simulates it, and sets a first-touch service level of one
business hour on a Paris office calendar. A lead from a trade show becomes an MQL at noon: it
goes to Sophie, its page names the rule, its clock is due at 14:30 (the lunch break does not
count) and it heads her queue. Sophie does not call; the sweep breaches the clock, Sam is told by
a real email and by the bell, sees the escalation on the lead, and an hour later the lead is
Basile's.

Ada, the administrator, writes an email template in the editor, builds a nurture program with a
branch (send the guide → wait two days → opened it? yes: a task for the owner, then a week's
wait / no: exit), activates it and enrols a contact. The real SMTP server receives the guide, the
contact's mail client loads its tracking pixel, and two days later the contact is on the "yes"
side and Sophie, the owner, has the task.

Time is frozen (time-machine) on a coming working Tuesday, Paris time, so that business hours,
due times and waits are exact; the sessions' cookies stay valid since the day is in the future.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from cible.engagement.tasks.models import Task
from cible.lifecycle.leads import services as lead_services
from cible.lifecycle.leads.models import Lead
from cible.nurture.mailing import services as mailing
from cible.nurture.mailing.models import OutboundMessage
from cible.nurture.programs import services as programs
from cible.nurture.programs.models import NurtureProgram, ProgramStep
from cible.people.models import UserProfile
from cible.routing.sla import services as sla
from cible.routing.sla.models import SlaClock
from tests import factories
from tests.browser.helpers import login
from tests.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PARIS = ZoneInfo("Europe/Paris")


def coming_tuesday() -> dt.date:
    """A Tuesday after today that is no French public holiday, nor is the Thursday after it."""
    french = holidays.country_holidays("FR")
    day = dt.date.today() + dt.timedelta(days=1)
    while day.isoweekday() != 2 or day in french or day + dt.timedelta(days=2) in french:
        day += dt.timedelta(days=1)
    return day


def paris(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS)


def settled(page: Page) -> None:
    """Wait until no HTMX request is in flight nor swap settling."""
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-settling, .htmx-swapping')"
    )


def switch_user(page: Page, live_server: Any, username: str) -> None:
    page.context.clear_cookies()
    login(page, live_server, username, PASSWORD)


# --- routing and the service level -----------------------------------------------------------


def test_a_rule_and_a_service_level_route_a_lead_and_escalate_its_breach(
    page: Page, live_server: Any, cast: Any, smtp_server: Any, settings: Any
) -> None:
    settings.SITE_URL = live_server.url  # the links in emails lead to this server
    UserProfile.objects.update(language="en")
    cast.manager.email = "sam@cible.test"
    cast.manager.save()
    page.set_viewport_size({"width": 1600, "height": 1200})
    day = coming_tuesday()

    with time_machine.travel(paris(day, 11, 40), tick=False) as clock:
        # Two leads Marketing opened this morning: the simulator's sample.
        for first_name, last_name, source in (
            ("Paul", "Girard", "event"),
            ("Lucie", "Vidal", "website"),
        ):
            contact = factories.contact(cast.marketer, first_name=first_name, last_name=last_name)
            lead_services.open_lead(
                contact=contact, source=source, stage="prospect", actor=cast.marketer, channel="ui"
            )
        jeanne = factories.contact(
            cast.marketer, first_name="Jeanne", last_name="Dupont", email="jeanne@globex.example"
        )

        login(page, live_server, "sam", PASSWORD)

        # The rotation: Sophie first, then Basile.
        page.goto("/routing/members/")
        for user in (cast.sdr, cast.ae2):
            form = page.locator("#member-form")
            form.locator("[name=team]").select_option(label="AE Paris")
            form.locator("[name=user]").select_option(label=user.get_full_name())
            form.locator("[name=capacity]").fill("5")
            with page.expect_navigation():
                form.locator("button").click()
            expect(page.locator(".alert-success")).to_contain_text("Rotation saved.")
        rows = page.locator("#members tr.member")
        expect(rows).to_have_count(2)
        expect(rows.nth(0)).to_contain_text("Sophie Leroy")
        expect(rows.nth(1)).to_contain_text("Basile Durand")

        # The rule, simulated on the morning's leads before it is saved.
        page.goto("/routing/")
        with page.expect_navigation():
            page.click("#new-rule")
        page.fill("#id_name", "Trade shows to the SDRs")
        page.select_option("#id_field_0", "source")
        page.select_option("#id_op_0", "in")
        page.fill("#id_value_0", "event")
        page.select_option("#id_action", "assign_team")
        page.select_option("#id_method", "round_robin")
        page.select_option("#id_team", label="AE Paris")
        page.click("#simulate")
        expect(page.locator("#simulation-summary")).to_have_text(
            "2 leads simulated, 1 would go elsewhere than today."
        )
        settled(page)
        expect(page.locator("#simulation-warnings")).to_have_count(0)
        expect(page.locator("#simulation-rows tbody td")).to_have_text(
            [
                "Lucie Vidal",
                "Not assigned",
                "Not assigned",
                "Paul Girard",
                "AE Paris: Sophie Leroy",
                "Not assigned",
            ]
        )
        with page.expect_navigation():
            page.click("#save-rule")
        expect(page.locator(".alert-success")).to_contain_text(
            "Rule “Trade shows to the SDRs” saved."
        )
        rule = page.locator("#rules tr.rule")
        expect(rule).to_have_count(1)
        expect(rule.locator("td").nth(2)).to_have_text("source is one of Event or trade show")
        expect(rule.locator("td").nth(3)).to_have_text("Assign to a team: AE Paris (round robin)")

        # The service level: first touch within one business hour of the Paris office.
        page.goto("/sla/")
        with page.expect_navigation():
            page.click("#new-calendar")
        page.fill("#id_name", "Paris office")
        expect(page.locator("#id_opening_hours")).to_have_value("09:00-12:30, 14:00-18:00")
        with page.expect_navigation():
            page.click("#save")
        with page.expect_navigation():
            page.click("#new-policy")
        page.fill("#id_name", "SDR first touch")
        page.select_option("#id_handoff", "first_touch")
        page.fill("#id_target_minutes", "60")
        expect(page.locator("#id_business_hours")).to_be_checked()
        page.select_option("#id_calendar", label="Paris office")
        page.fill("#id_escalate_after_minutes", "60")
        expect(page.locator("#id_notify_manager")).to_be_checked()
        with page.expect_navigation():
            page.click("#save")
        expect(page.locator(".alert-success")).to_contain_text("Saved.")
        expect(page.locator("#policies tbody tr td")).to_have_text(
            [
                "SDR first touch",
                "First touch after assignment",
                "60 minutes (business hours, Paris office)",
                "60 minutes late",
                "All teams",
                "",
            ]
        )

        # Noon: a lead from a trade show arrives and Sam makes it an MQL.
        clock.move_to(paris(day, 12, 0))
        page.goto(f"/contacts/{jeanne.pk}/")
        page.click("#leads-tab-button")
        opening = page.locator("#open-lead")
        opening.locator("[name=source]").select_option("event")
        opening.locator("[name=stage]").select_option("prospect")
        with page.expect_navigation():
            opening.locator("button").click()
        expect(page.locator(".alert-success")).to_contain_text("Lead opened.")
        lead = Lead.objects.get(contact=jeanne)
        assert page.url.endswith(f"/leads/{lead.pk}/")
        page.select_option("#move-to", "mql")
        with page.expect_navigation():
            page.click("#move")
        expect(page.locator("#lead-stage")).to_have_text("Marketing qualified lead (MQL)")

        # It went to Sophie, and its page says why and until when she has to call.
        expect(page.locator("#lead-section-routing .assignment-reason")).to_have_text(
            "Rule 1 “Trade shows to the SDRs” → round robin in AE Paris: Sophie Leroy (1 of 5)"
        )
        running = page.locator("#lead-section-sla .sla-clock[data-status=open]")
        expect(running).to_have_count(1)
        expect(running).to_contain_text("SDR first touch")
        expect(running).to_contain_text("Sophie Leroy")
        expect(running).to_contain_text("(in 2 h 30)")  # 12:00–12:30, then 14:00–14:30
        assert timezone.localtime(SlaClock.objects.get(lead=lead).due_at) == paris(day, 14, 30)

        # Sophie's queue has it at the top, with the time left.
        clock.move_to(paris(day, 12, 5))
        switch_user(page, live_server, "sophie")
        page.goto("/queue/")
        row = page.locator(f"#queue-row-{lead.pk}")
        expect(page.locator(".queue-row").first).to_have_id(f"queue-row-{lead.pk}")
        expect(row).to_contain_text("Jeanne Dupont")
        expect(row.locator(".lead-stage")).to_have_text("Marketing qualified lead (MQL)")
        expect(row).to_contain_text("SDR first touch")
        expect(row.locator(".sla-left")).to_have_text("in 2 h 25")

        # She does not call. At 14:45 the lead is late, and the sweep breaches it.
        clock.move_to(paris(day, 14, 45))
        page.reload()
        expect(row.locator(".sla-left")).to_have_text("late by 15 min")
        report = sla.sweep()
        assert (report.breached, report.notified, report.reassigned) == (1, 1, 0)
        assert sla.sweep().breached == 0  # safe to run twice

        # Sam is told by email, with a link to the lead…
        [mail] = smtp_server.recorder.to("sam@cible.test")
        assert mail.subject == "[Cible] SLA breached: Jeanne Dupont"
        body = mail.message.get_content()
        assert "SDR first touch: due " in body and "14:30 (owner: Sophie Leroy)." in body
        assert f"{live_server.url}/leads/{lead.pk}/" in body

        # …and in the app: the bell leads him to the lead, which shows the breach.
        switch_user(page, live_server, "sam")
        expect(page.locator("#bell-count")).to_contain_text("1")
        page.click("#bell-button")
        with page.expect_navigation():
            page.locator("#bell-menu a", has_text="SLA breached: Jeanne Dupont").click()
        expect(page).to_have_url(f"{live_server.url}/leads/{lead.pk}/")
        breached = page.locator("#lead-section-sla .sla-clock[data-status=breached]")
        expect(breached).to_contain_text("SDR first touch")
        expect(breached).to_contain_text("Breached")
        expect(breached.locator(".sla-escalation")).to_contain_text("Manager notified")
        expect(page.locator("#bell-count")).to_have_count(0)

        # An hour past due (15:30) it is still untouched: the next sweep gives it to Basile.
        clock.move_to(paris(day, 15, 45))
        report = sla.sweep()
        assert (report.breached, report.reassigned) == (0, 1)
        page.reload()
        expect(breached.locator(".sla-escalation")).to_contain_text("Reassigned to Basile Durand")
        expect(page.locator("#lead-section-routing .assignment-reason").first).to_have_text(
            "Reassigned (SDR first touch breached and still untouched: reassigned.) → "
            "round robin in AE Paris: Basile Durand (1 of 5)"
        )
        basile = page.locator("#lead-section-sla .sla-clock[data-status=open]")
        expect(basile).to_contain_text("Basile Durand")
        expect(basile).to_contain_text("(in 1 h)")  # his own first touch, from 15:45
        assert Lead.objects.get(pk=lead.pk).owner == cast.ae2


# --- the nurture program -------------------------------------------------------------------


def step_card(page: Page, step: ProgramStep) -> Any:
    return page.locator(f"#step-{step.pk}")


def add_after(page: Page, step: ProgramStep, kind: str, answer: str | None = None) -> ProgramStep:
    """Add a step of `kind` after `step` (on the `answer` side of a branch); the new step."""
    steps = ProgramStep.objects.filter(program_id=step.program_id)
    before = set(steps.values_list("pk", flat=True))
    cards = page.locator(f"#editor [data-kind={kind}]")
    count = cards.count()
    form = step_card(page, step).locator(".add-after")
    form.locator("[name=kind]").select_option(kind)
    if answer:
        form.locator("[name=answer]").select_option(answer)
    form.locator("button").click()
    expect(cards).to_have_count(count + 1)
    settled(page)
    [new] = ProgramStep.objects.filter(program_id=step.program_id).exclude(pk__in=before)
    expect(step_card(page, new)).to_be_visible()
    return new


def edit(page: Page, step: ProgramStep) -> Any:
    card = step_card(page, step)
    card.locator("summary").click()
    return card.locator(".step-form")


def save_step(page: Page, form: Any) -> None:
    form.locator(".save-step").click()
    settled(page)


def test_a_nurture_program_with_a_branch_takes_a_contact_to_its_yes_side(
    page: Page, browser: Browser, live_server: Any, cast: Any, smtp_server: Any, settings: Any
) -> None:
    settings.SITE_URL = live_server.url  # the tracking pixel is served by this server
    UserProfile.objects.update(language="en")
    page.set_viewport_size({"width": 1600, "height": 1200})
    day = coming_tuesday()

    with time_machine.travel(paris(day, 10, 0), tick=False) as clock:
        initech = factories.organisation(cast.sdr, legal_name="Initech SAS")
        lucas = factories.contact(
            cast.sdr,
            first_name="Lucas",
            last_name="Bernard",
            email="lucas.bernard@initech.example",
            language="en",
            organisation=initech.pk,
        )

        login(page, live_server, "ada", PASSWORD)

        # The email, written in the templates editor.
        page.goto("/email/templates/")
        with page.expect_navigation():
            page.click("#new-template")
        page.fill("#id_name", "Buyer's guide")
        page.click("#tab-en-button")
        page.fill("#id_subject_en", "Your buyer's guide, {{ contact.first_name }}")
        page.fill(
            "#id_body_en",
            "Hello {{ contact.first_name }},\n\n"
            "Here is how {{ organisation.legal_name }} can choose its next CRM: "
            "https://example.com/guide",
        )
        expect(page.locator("#check-body_en .check-ok")).to_be_visible()
        expect(page.locator("#check-subject_en .check-ok")).to_be_visible()
        with page.expect_navigation():
            page.click("#save-template")
        expect(page.locator(".alert-success")).to_contain_text("Template “Buyer's guide” saved.")

        # The program: send the guide → wait two days → opened it?
        page.goto("/nurture/")
        page.fill("#new-program [name=name]", "Not ready yet")
        with page.expect_navigation():
            page.click("#create-program")
        program = NurtureProgram.objects.get(name="Not ready yet")
        page.locator("#add-step [name=kind]").select_option("send_email")
        page.click("#add-step button")
        expect(page.locator("#editor [data-kind=send_email]")).to_have_count(1)
        settled(page)
        send = ProgramStep.objects.get(program=program, kind="send_email")
        form = edit(page, send)
        form.locator("[name=label]").fill("Send the guide")
        form.locator("[name=template]").select_option(label="Buyer's guide")
        save_step(page, form)
        expect(step_card(page, send).locator(".step-summary")).to_have_text("Send “Buyer's guide”")

        wait = add_after(page, send, "wait")
        form = edit(page, wait)
        form.locator("[name=label]").fill("Two days")
        form.locator("[name=days]").fill("2")
        save_step(page, form)
        expect(step_card(page, wait).locator(".step-name")).to_have_text("Two days")

        branch = add_after(page, wait, "branch")
        form = edit(page, branch)
        form.locator("[name=label]").fill("Opened the guide?")
        form.locator("[name=condition]").select_option("opened")
        form.locator("[name=email_step]").select_option(label="Send the guide")
        save_step(page, form)
        expect(page.locator("#problems")).to_contain_text("has no step for its")

        # Yes: a task for the owner, then a week to make the call. No: out of the program.
        task = add_after(page, branch, "create_task", answer="yes")
        form = edit(page, task)
        form.locator("[name=label]").fill("Ask the owner to call")
        form.locator("[name=title]").fill("Call Lucas: he opened the guide")
        form.locator("[name=assign_to]").select_option("owner")
        form.locator("[name=kind]").select_option("call")
        save_step(page, form)
        week = add_after(page, task, "wait")
        form = edit(page, week)
        form.locator("[name=label]").fill("A week to call")
        form.locator("[name=days]").fill("7")
        save_step(page, form)
        add_after(page, branch, "exit", answer="no")
        expect(page.locator("#ready")).to_have_text("Ready to run")
        expect(page.locator("#problems")).to_have_count(0)
        expect(page.locator("#program-graph svg")).to_be_visible()

        with page.expect_navigation():
            page.click("#activate")
        expect(page.locator("#program-status")).to_have_text("Active")

        # Ada enrols Lucas from his page.
        page.goto(f"/contacts/{lucas.pk}/")
        page.click("#nurture-tab-button")
        with page.expect_navigation():
            page.click("#enrol-contact button")
        expect(page.locator(".alert-success")).to_contain_text(
            "Lucas Bernard enrolled in “Not ready yet”."
        )

        # The worker's minute: the guide leaves, the real SMTP server receives it.
        clock.move_to(paris(day, 10, 1))
        report = programs.advance_due(now=timezone.now())
        assert (report.emails_queued, report.tasks_created) == (1, 0)
        assert mailing.send_due(now=timezone.now()).sent == 1
        [received] = smtp_server.messages
        assert received.rcpt_tos == ["lucas.bernard@initech.example"]
        assert received.subject == "Your buyer's guide, Lucas"
        assert "Here is how Initech SAS can choose its next CRM" in received.text()
        assert f"{live_server.url}/m/u/" in str(received.message["List-Unsubscribe"])

        page.goto(f"/nurture/{program.pk}/")
        expect(page.locator("[data-metric=sent]")).to_have_text("1")
        expect(page.locator("[data-metric=opened]")).to_have_text("0")
        expect(page.locator(f"#where-table h3[data-step='{wait.pk}']")).to_contain_text("1")
        expect(page.locator(f"table[data-step-table='{wait.pk}']")).to_contain_text("Lucas Bernard")

        # Lucas reads it: his mail client loads the tracking pixel of the email he received.
        pixel = re.search(r'src="([^"]*/m/o/[^"]+\.gif)"', received.html())
        assert pixel is not None, received.html()
        assert pixel.group(1).startswith(f"{live_server.url}/m/o/")
        mail_client = browser.new_context(locale="en-GB")
        try:
            reading = mail_client.new_page()
            with reading.expect_response(pixel.group(1)) as loaded:
                reading.set_content(received.html())
            assert loaded.value.status == 200
            assert loaded.value.headers["content-type"] == "image/gif"
            expect(reading.locator("body")).to_contain_text("Hello Lucas,")
        finally:
            mail_client.close()
        assert OutboundMessage.objects.get().opened_at is not None
        page.reload()
        expect(page.locator("[data-metric=opened]")).to_have_text("1")

        # Two days later the branch sees the open: Lucas takes the "yes" side.
        clock.move_to(paris(day + dt.timedelta(days=2), 10, 5))
        report = programs.advance_due(now=timezone.now())
        assert (report.emails_queued, report.tasks_created) == (0, 1)
        page.reload()
        expect(step_card(page, week).locator(".waiting")).to_have_text("1")
        expect(step_card(page, wait).locator(".waiting")).to_have_text("0")
        yes_side = page.locator(f"#where-table h3[data-step='{week.pk}']")
        expect(yes_side).to_contain_text("A week to call")
        expect(yes_side).to_contain_text("1")
        expect(page.locator("#where-table h3")).to_have_count(1)
        people = page.locator(f"table[data-step-table='{week.pk}']")
        expect(people).to_contain_text("Lucas Bernard")
        expect(people).to_contain_text("Initech SAS")
        with page.expect_navigation():
            people.locator("a", has_text="Lucas Bernard").click()
        path = page.locator("#path tbody tr td:nth-child(3)")
        expect(path).to_contain_text(["Enrolled", "Email queued", "Waiting"])
        expect(page.locator("#path")).to_contain_text("Branch: yes")
        expect(page.locator("#path")).to_contain_text("Task created")

        # Sophie, Lucas's owner, has the call to make.
        [created] = Task.objects.all()
        assert (created.assignee, created.contact_id) == (cast.sdr, lucas.pk)
        switch_user(page, live_server, "sophie")
        page.goto("/tasks/")
        expect(
            page.locator("#tasks > li", has_text="Call Lucas: he opened the guide")
        ).to_have_count(1)
