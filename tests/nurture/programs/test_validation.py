"""A program runs only when sound, and stays sound: each problem is named with its step, and an
edit that would break a running program is refused whole."""

from __future__ import annotations

from typing import Any

import pytest

from cible.core.errors import ConflictError, PermissionDenied, ValidationFailed
from cible.nurture.mailing.models import EmailTemplate
from cible.nurture.programs import services, validation
from tests.nurture.programs.conftest import step

pytestmark = pytest.mark.django_db


def problems(program: Any) -> list[str]:
    program.refresh_from_db()
    return [p.message for p in validation.program_problems(program)]


def test_unfinished_steps_are_named_and_block_activation(cast: Any) -> None:
    program = services.program_create(actor=cast.marketer, channel="ui", data={"name": "Drafty"})
    send = step(program, "send_email", cast.marketer, label="Welcome")
    wait = step(program, "wait", cast.marketer, after=send, mode="delay", label="Pause")
    window = step(
        program,
        "wait",
        cast.marketer,
        after=wait,
        mode="window",
        start="09:00",
        end="11:00",
        label="Tuesday",
    )
    # A template saved before its syntax was checked (an old import): its error shows here.
    broken = EmailTemplate.objects.create(
        name="Broken", subject_en="Hi", body_en="{% if contact.first_name %}Hello"
    )
    send2 = step(
        program, "send_email", cast.marketer, after=window, template=broken.pk, label="Follow-up"
    )
    task = step(program, "create_task", cast.marketer, after=send2, assign_to="user", label="Task")

    found = problems(program)
    assert "“Welcome” has no email template." in found
    assert "“Pause” waits for no time: give days or hours." in found
    assert "“Tuesday” waits for a window without days or hours: give both." in found
    assert any(
        m.startswith("“Follow-up” uses template “Broken”, whose body_en has an error: line 1")
        for m in found
    )
    assert "“Task” creates a task without a title." in found
    assert "“Task” assigns its task to nobody: choose a person." in found
    with pytest.raises(ValidationFailed) as refused:
        services.program_set_status(
            program=program, status="active", actor=cast.marketer, channel="ui"
        )
    named = {e.field for e in refused.value.errors}
    assert named == {f"steps.{s.pk}" for s in (send, wait, window, send2, task)}
    program.refresh_from_db()
    assert program.status == "draft"


def test_malformed_settings_are_refused_at_once(cast: Any) -> None:
    program = services.program_create(actor=cast.marketer, channel="ui", data={"name": "Typos"})
    with pytest.raises(ValidationFailed) as refused:
        step(
            program,
            "wait",
            cast.marketer,
            mode="window",
            weekdays=["9"],
            start="25h",
            end="10:00",
            tz="Mars/Olympus",
        )
    assert [(e.field, e.message) for e in refused.value.errors] == [
        ("config.weekdays", "days are numbered 0 (Monday) to 6"),
        ("config.start", "“25h” is not a time (HH:MM)"),
        ("config.tz", "“Mars/Olympus” is not a time zone"),
    ]
    with pytest.raises(ValidationFailed) as refused:
        step(program, "send_email", cast.marketer, template=999_999)
    assert refused.value.errors[0].message == "no email template #999999"
    assert not program.steps.exists()


def test_a_running_program_refuses_an_edit_that_would_loop_and_keeps_its_steps(
    cast: Any, nurture: Any
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        services.step_update(
            step=nurture["task"],
            actor=cast.marketer,
            channel="ui",
            data={"next": nurture["send"].pk},
        )
    assert "“Call” leads back to “Guide”: an endless loop." in str(refused.value)
    nurture["task"].refresh_from_db()
    assert nurture["task"].next_id is None
    with pytest.raises(ValidationFailed) as refused:
        step(
            nurture["program"],
            "enrol_program",
            cast.marketer,
            after=nurture["task"],
            program=nurture["program"].pk,
            label="Again",
        )
    assert "“Again” enrols contacts into this same program." in str(refused.value)


def test_only_marketing_builds_programs_and_a_busy_step_stays(
    cast: Any, nurture: Any, dupont: Any
) -> None:
    with pytest.raises(PermissionDenied):
        services.program_create(actor=cast.ae, channel="ui", data={"name": "Mine"})
    services.enrol(
        program=nurture["program"],
        contact_ids=[dupont.pk],
        source="manual",
        actor=cast.marketer,
        channel="ui",
    )
    with pytest.raises(ConflictError, match="1 contacts are at this step"):
        services.step_delete(step=nurture["send"], actor=cast.marketer, channel="ui")
