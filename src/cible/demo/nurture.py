"""Demo: the incubator and its email (issue 7 §5–6, seed 004 §5).

Two email templates in French and English that speak to the person about their company, and a
program for the leads Sales recycled — send the guide → wait three days → opened it? yes: a call
for the owner / no: a second email → wait a week → out — enrolled automatically when a lead is
recycled. Its last three weeks are run through the real engine, day by day: enrolments on the day
each lead was recycled, steps advanced, emails queued and "sent", opens and clicks recorded by
the same services as the tracking pixel and links, so the program's metrics, the outbox and the
contacts' timelines are alive on `make demo`.

The demo's people are invented: their past emails go through Django's dummy mail backend, which
accepts everything and delivers nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.test.utils import override_settings

from cible.core.bulk import refresh_statistics
from cible.demo.generator import DemoContext, Step, register
from cible.lifecycle.leads.models import Lead, Stage
from cible.nurture.mailing import services as mailing
from cible.nurture.mailing.models import MessageStatus, OutboundMessage
from cible.nurture.mailing.sending import send_due
from cible.nurture.programs import exits
from cible.nurture.programs import services as programs
from cible.nurture.programs.models import EnrolmentSource, NurtureProgram

HISTORY_DAYS = 21
PROGRAM = "Incubator — recycled leads"
OPEN_RATE, CLICK_RATE = 0.45, 0.12
GUIDE = {
    "name": "Recycled — the buyer's guide",
    "subject_fr": (
        "{{ contact.first_name|default:'Bonjour' }}, le guide pour "
        "{{ organisation.trade_name|default:'votre équipe' }}"
    ),
    "body_fr": (
        "Bonjour {{ contact.first_name }},\n\n"
        "Vous nous disiez que le moment n'était pas venu. Voici le guide que les équipes "
        "commerciales{% if organisation.sector %} du secteur “{{ organisation.sector }}”"
        "{% endif %} "
        "lisent avant de choisir leur outil : https://cible.example/guide\n\n"
        "Bonne lecture,\nL'équipe Cible"
    ),
    "subject_en": (
        "{{ contact.first_name|default:'Hello' }}, the guide for "
        "{{ organisation.trade_name|default:'your team' }}"
    ),
    "body_en": (
        "Hello {{ contact.first_name }},\n\n"
        "You told us the time was not right yet. Here is the guide sales teams"
        "{% if organisation.sector %} in {{ organisation.sector }}{% endif %} read before "
        "choosing their tool: https://cible.example/guide\n\n"
        "Enjoy,\nThe Cible team"
    ),
}
CASE_STUDY = {
    "name": "Recycled — a customer's story",
    "subject_fr": (
        "Comment une équipe comme {{ organisation.trade_name|default:'la vôtre' }} "
        "a doublé ses rendez-vous"
    ),
    "body_fr": (
        "Bonjour {{ contact.first_name }},\n\n"
        "Une équipe de {{ organisation.city|default:'France' }} a doublé ses rendez-vous qualifiés "
        "en six mois. Son histoire : https://cible.example/histoire\n\nL'équipe Cible"
    ),
    "subject_en": (
        "How a team like {{ organisation.trade_name|default:'yours' }} doubled its meetings"
    ),
    "body_en": (
        "Hello {{ contact.first_name }},\n\n"
        "A team in {{ organisation.city|default:'France' }} doubled its qualified meetings in six "
        "months. Their story: https://cible.example/story\n\nThe Cible team"
    ),
}


def _program(actor: Any) -> Any:
    """The program and its templates, created once (a second demo run reuses them)."""
    existing = NurtureProgram.objects.filter(name=PROGRAM).first()
    if existing is not None:
        return existing
    guide = mailing.template_create(actor=actor, channel="cli", data=GUIDE)
    story = mailing.template_create(actor=actor, channel="cli", data=CASE_STUDY)
    program = programs.program_create(
        actor=actor,
        channel="cli",
        data={
            "name": PROGRAM,
            "description": "Keeps the leads Sales recycled warm until they are ready.",
            "enrol_on_stage": Stage.RECYCLED,
        },
    )

    def add(step_kind: str, after: Any = None, answer: str = "next", **config: Any) -> Any:
        label = config.pop("label")
        return programs.step_create(
            program=program,
            kind=step_kind,
            actor=actor,
            channel="cli",
            data={"config": config, "label": label},
            after=after,
            answer=answer,
        )

    send = add("send_email", template=guide.pk, label="The buyer's guide")
    wait = add("wait", send, mode="delay", days=3, label="Three days")
    opened = add("branch", wait, condition="opened", label="Opened the guide?")
    add(
        "create_task",
        opened,
        "yes",
        title="Call: read the buyer's guide",
        kind="call",
        label="Call",
    )
    second = add("send_email", opened, "no", template=story.pk, label="A customer's story")
    week = add("wait", second, mode="delay", days=7, label="A week")
    add("exit", week, label="Back to the pool")
    programs.program_set_status(program=program, status="active", actor=actor, channel="cli")
    return program


def _react(ctx: DemoContext, day: dt.datetime) -> None:
    """A share of the day's emails opened, some clicked, within hours of being sent."""
    sent = OutboundMessage.objects.filter(
        status=MessageStatus.SENT, sent_at__gte=day, sent_at__lt=day + dt.timedelta(days=1)
    ).order_by("sent_at", "contact_id")  # the same draws for the same people, whatever the ids
    for message in sent.iterator():
        if message.sent_at is not None and ctx.rng.random() < OPEN_RATE:
            opened = message.sent_at + dt.timedelta(hours=ctx.rng.uniform(0.2, 20))
            mailing.message_opened(message=message, at=opened)
            if ctx.rng.random() < CLICK_RATE / OPEN_RATE:
                mailing.message_clicked(message=message, index=0, at=opened)


def create_nurture(ctx: DemoContext) -> None:
    # The engine's queries (exits: "became an MQL since enrolment") need the planner to know
    # the tables the earlier steps bulk-loaded; on PostgreSQL they are empty to it until then.
    refresh_statistics(*dict.fromkeys(ctx.shared.get("bulk_models", [])))
    marketer = (ctx.users_by_role.get("marketing") or ctx.users_by_role["admin"])[0]
    program = _program(marketer)
    ctx.shared["nurture_program_id"] = program.pk
    start = ctx.now - dt.timedelta(days=HISTORY_DAYS)
    recycled = (
        Lead.objects.filter(
            stage=Stage.RECYCLED, contact__isnull=False, stage_entered_at__gte=start
        )
        .order_by("pk")
        .values_list("pk", "contact_id", "stage_entered_at")
    )
    by_day: dict[int, list[tuple[int, int]]] = {}
    for lead_id, contact_id, entered in recycled:
        by_day.setdefault((entered - start).days, []).append((lead_id, contact_id))
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
        for offset in range(HISTORY_DAYS + 1):
            day = start + dt.timedelta(days=offset)
            morning = day.replace(hour=9, minute=30)  # inside the default send window
            leads = by_day.get(offset, [])
            exits.insert_enrolments(
                program=program,
                contact_ids=[contact for _lead, contact in leads],
                source=EnrolmentSource.STAGE,
                actor=None,
                now=morning,
                lead_of={contact: lead for lead, contact in leads},
            )
            if morning > ctx.now:
                break
            programs.advance_due(now=morning)
            # Queued "now" by the machine's clock: dated at the demo's morning, like the rest.
            OutboundMessage.objects.filter(
                status=MessageStatus.QUEUED, next_attempt_at__gt=morning
            ).update(queued_at=morning, next_attempt_at=morning)
            send_due(now=morning)
            _react(ctx, day)
    ctx.count("nurture enrolments", program.enrolments.count())
    ctx.count("emails", OutboundMessage.objects.count())


register(Step("nurture", 115, create_nurture, "an incubator program and three weeks of its emails"))
