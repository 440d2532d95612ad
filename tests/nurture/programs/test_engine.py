"""The engine walks contacts through programs: each kind of step, branches on real interactions,
exits, and its promises — never a step twice, never a step skipped, even after a crash."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from cible.engagement.interactions.services import record_interaction
from cible.engagement.tasks.models import Task
from cible.lifecycle.leads import services as leads
from cible.lifecycle.leads.models import Lead
from cible.nurture.mailing.models import OutboundMessage
from cible.nurture.programs import engine, services
from cible.nurture.programs.models import Enrolment, EventKind
from tests.nurture.programs.conftest import later, step

pytestmark = pytest.mark.django_db


def enrol(program: Any, *contacts: Any, actor: Any) -> list[Enrolment]:
    services.enrol(
        program=program,
        contact_ids=[c.pk for c in contacts],
        source="manual",
        actor=actor,
        channel="ui",
    )
    return list(Enrolment.objects.filter(program=program).order_by("contact_id"))


def test_send_then_wait_in_one_advance_and_never_twice(
    cast: Any, nurture: Any, dupont: Any
) -> None:
    (enrolment,) = enrol(nurture["program"], dupont, actor=cast.marketer)
    first = services.advance_due(now=later())
    second = services.advance_due(now=later())  # the same minute, again: nothing left to do

    message = OutboundMessage.objects.get()
    assert message.key == f"nurture:{enrolment.pk}:{nurture['send'].pk}"
    assert message.contact_id == dupont.pk and message.origin == f"nurture:{nurture['program'].pk}"
    assert (first.emails_queued, second.emails_queued, second.enrolments) == (1, 0, 0)
    enrolment.refresh_from_db()
    assert enrolment.step_id == nurture["wait"].pk
    assert enrolment.next_run_at - enrolment.step_entered_at == dt.timedelta(days=3)
    kinds = list(enrolment.events.order_by("pk").values_list("kind", flat=True))
    assert kinds == [EventKind.ENROLLED, EventKind.EMAIL_QUEUED, EventKind.WAITING]


def test_branch_yes_creates_a_task_for_the_owner_and_no_exits(
    cast: Any, nurture: Any, dupont: Any, martin: Any
) -> None:
    jeanne, paul = enrol(nurture["program"], dupont, martin, actor=cast.marketer)
    services.advance_due(now=later())
    OutboundMessage.objects.filter(contact=dupont).update(opened_at=timezone.now())

    report = services.advance_due(now=later(days=3, minutes=2))

    assert report.tasks_created == 1
    task = Task.objects.get()
    assert (task.assignee, task.contact, task.title) == (
        cast.ae,
        dupont,
        "Call them: they read the guide",
    )
    assert task.key == f"nurture:{jeanne.pk}:{nurture['task'].pk}"
    jeanne.refresh_from_db()
    paul.refresh_from_db()
    assert (jeanne.status, jeanne.step_id) == ("completed", None)
    assert (paul.status, paul.exit_reason) == ("exited", "exit_step")
    assert paul.events.filter(kind=EventKind.BRANCH_NO).exists()


def test_branches_on_replies_visits_and_scores(
    cast: Any, template: Any, dupont: Any, martin: Any
) -> None:
    program = services.program_create(
        actor=cast.marketer, channel="ui", data={"name": "Signals", "exit_on_reply": False}
    )
    replied = step(program, "branch", cast.marketer, condition="replied")
    visited = step(
        program, "branch", cast.marketer, after=replied, answer="yes", condition="visited"
    )
    scored = step(
        program,
        "branch",
        cast.marketer,
        after=replied,
        answer="no",
        condition="score",
        score="engagement",
        threshold=40,
    )
    hot = step(program, "exit", cast.marketer, after=visited, answer="yes", label="Hot")
    for s in (visited, scored):
        services.step_update(
            step=s,
            actor=cast.marketer,
            channel="ui",
            data={"no": hot.pk, "yes": hot.pk} if s is scored else {"no": hot.pk},
        )
    services.program_set_status(program=program, status="active", actor=cast.marketer, channel="ui")
    jeanne, paul = enrol(program, dupont, martin, actor=cast.marketer)
    record_interaction(kind="email_replied", contact=dupont, actor=cast.admin, channel="api")
    record_interaction(kind="web_visit", contact=dupont, actor=cast.admin, channel="api")
    lead = leads.open_lead(
        contact=martin, source="website", stage="prospect", actor=cast.outsider, channel="ui"
    )
    Lead.objects.filter(pk=lead.pk).update(engagement_score=35)

    services.advance_due(now=later())

    path = {
        e.pk: list(e.events.order_by("pk").values_list("kind", flat=True)) for e in (jeanne, paul)
    }
    assert path[jeanne.pk][1:3] == [EventKind.BRANCH_YES, EventKind.BRANCH_YES]
    assert path[paul.pk][1:3] == [EventKind.BRANCH_NO, EventKind.BRANCH_NO]  # 35 < 40


def test_crash_after_the_step_work_leaves_the_chunk_untouched_and_restart_runs_it_once(
    cast: Any, nurture: Any, dupont: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    (enrolment,) = enrol(nurture["program"], dupont, actor=cast.marketer)
    real_save = engine.save_states

    def killed(chunk: Any) -> None:
        assert OutboundMessage.objects.count() == 1  # the email was queued …
        raise SystemExit("worker killed")  # … and the worker dies before the commit

    monkeypatch.setattr(engine, "save_states", killed)
    with pytest.raises(SystemExit):
        services.advance_due(now=later())
    assert OutboundMessage.objects.count() == 0
    enrolment.refresh_from_db()
    assert enrolment.step_id == nurture["send"].pk and enrolment.events.count() == 1

    monkeypatch.setattr(engine, "save_states", real_save)
    services.advance_due(now=later())
    services.advance_due(now=later())
    assert OutboundMessage.objects.count() == 1
    assert enrolment.events.filter(kind=EventKind.EMAIL_QUEUED).count() == 1


def test_exits_on_opt_out_and_on_becoming_an_mql(
    cast: Any, nurture: Any, dupont: Any, martin: Any, django_capture_on_commit_callbacks: Any
) -> None:
    jeanne, paul = enrol(nurture["program"], dupont, martin, actor=cast.marketer)
    services.advance_due(now=later())
    type(dupont).objects.filter(pk=dupont.pk).update(email_opt_out=True)
    lead = leads.open_lead(
        contact=martin, source="website", stage="prospect", actor=cast.outsider, channel="ui"
    )
    with django_capture_on_commit_callbacks(execute=True):
        leads.move(lead=lead, to_stage="mql", actor=cast.outsider, channel="ui")
    paul.refresh_from_db()
    assert (paul.status, paul.exit_reason) == ("exited", "mql")  # at once, on the signal

    services.advance_due(now=later(days=4))
    jeanne.refresh_from_db()
    assert (jeanne.status, jeanne.exit_reason) == ("exited", "opt_out")
    assert OutboundMessage.objects.count() == 2 and not Task.objects.exists()


def test_change_stage_and_enrol_in_another_program(cast: Any, nurture: Any, dupont: Any) -> None:
    lead = leads.open_lead(
        contact=dupont, source="website", stage="mql", actor=cast.ae, channel="ui"
    )
    leads.reject(lead=lead, actor=cast.sdr, reason="Call back in spring")
    program = services.program_create(actor=cast.marketer, channel="ui", data={"name": "Wake up"})
    back = step(program, "change_stage", cast.marketer, stage="prospect", note="Read three emails")
    again = step(
        program, "change_stage", cast.marketer, after=back, stage="prospect", label="Twice"
    )
    onward = step(
        program, "enrol_program", cast.marketer, after=again, program=nurture["program"].pk
    )
    services.program_set_status(program=program, status="active", actor=cast.marketer, channel="ui")
    (enrolment,) = enrol(program, dupont, actor=cast.marketer)

    services.advance_due(now=later())

    lead.refresh_from_db()
    assert lead.stage == "prospect" and lead.transitions.last().channel == "job"
    events = dict(enrolment.events.exclude(kind="enrolled").values_list("step_id", "detail"))
    assert events[back.pk] == "prospect"
    assert "already there" in events[again.pk]  # refused by the stage graph: an event, no failure
    assert events[onward.pk] == "Recycled leads"
    moved_on = Enrolment.objects.get(program=nurture["program"])
    assert (moved_on.contact, moved_on.source, moved_on.lead) == (dupont, "program", lead)
    assert OutboundMessage.objects.filter(contact=dupont).count() == 1  # its first step ran too


def test_exits_on_bounce_and_on_entering_a_custom_target(
    cast: Any, nurture: Any, dupont: Any, martin: Any
) -> None:
    from cible.segments.targets.services import target_create

    lyon = target_create(
        actor=cast.marketer,
        channel="ui",
        data={
            "name": "Lyon customers",
            "definition": {
                "organisation": {
                    "match": "all",
                    "conditions": [
                        {"field": "legal_name", "op": "equals", "value": "Lyon Textile"}
                    ],
                }
            },
        },
    )
    program = nurture["program"]
    services.program_update(
        program=program,
        actor=cast.marketer,
        channel="ui",
        data={"exit_target": lyon.pk, "exit_target_when": "enters"},
    )
    enrol(program, dupont, martin, actor=cast.marketer)
    type(dupont).objects.filter(pk=dupont.pk).update(email_bounced_at=timezone.now())

    report = services.advance_due(now=later())

    assert report.exited == 2 and report.emails_queued == 0
    reasons = dict(Enrolment.objects.values_list("contact_id", "exit_reason"))
    assert reasons == {dupont.pk: "bounce", martin.pk: "target"}


def test_a_reply_during_the_wait_ends_the_nurture_at_once(
    cast: Any, nurture: Any, dupont: Any, django_capture_on_commit_callbacks: Any
) -> None:
    (jeanne,) = enrol(nurture["program"], dupont, actor=cast.marketer)
    services.advance_due(now=later())  # the guide is queued; three days of waiting begin
    with django_capture_on_commit_callbacks(execute=True):
        record_interaction(
            kind="email_replied", contact=dupont, channel="api", actor=cast.ae, subject="Re: guide"
        )
    jeanne.refresh_from_db()
    assert (jeanne.status, jeanne.exit_reason) == ("exited", "reply")  # not three days later
    services.advance_due(now=later(days=4))
    assert not Task.objects.exists()  # the branch after the wait never ran
