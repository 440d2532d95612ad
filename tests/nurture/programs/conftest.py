"""The incubator's test bench: Marie (Marketing) builds programs; Jeanne Dupont at Acme (owned by
Alice, AE Paris) and Paul Martin at Lyon Textile (owned by Olivier, AE Lyon) are nurtured."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from cible.nurture.mailing import services as mailing
from cible.nurture.mailing.models import SendPolicy
from cible.nurture.programs import services
from cible.nurture.programs.models import NurtureProgram, ProgramStep
from tests import factories
from tests.api.conftest import api_for  # noqa: F401  (the API tests' client, per user)

LATER = dt.timedelta(minutes=1)


@pytest.fixture
def acme(cast: Any) -> Any:
    return factories.organisation(cast.ae, legal_name="Acme Industrie")


@pytest.fixture
def dupont(cast: Any, acme: Any) -> Any:
    return factories.contact(
        cast.ae,
        first_name="Jeanne",
        last_name="Dupont",
        email="jeanne.dupont@acme.example",
        organisation=acme.pk,
        language="en",
    )


@pytest.fixture
def martin(cast: Any) -> Any:
    lyon = factories.organisation(cast.outsider, legal_name="Lyon Textile")
    return factories.contact(
        cast.outsider,
        first_name="Paul",
        last_name="Martin",
        email="paul.martin@lyon.example",
        organisation=lyon.pk,
        language="en",
    )


@pytest.fixture
def template(cast: Any) -> Any:
    return mailing.template_create(
        actor=cast.marketer,
        channel="ui",
        data={
            "name": "Still thinking about it?",
            "subject_en": "Still thinking about it, {{ contact.first_name }}?",
            "body_en": "Hello {{ contact.first_name }},\n\nHere is our guide: https://cible.example/guide\n",
        },
    )


@pytest.fixture
def always_open(db: Any) -> SendPolicy:
    """Mail may leave at any hour of any day (the default window is office hours)."""
    policy = SendPolicy.current()
    SendPolicy.objects.filter(pk=policy.pk).update(days="0123456", start_hour=0, end_hour=24)
    policy.refresh_from_db()
    return policy


def step(
    in_program: NurtureProgram,
    step_kind: str,
    actor: Any,
    after: Any = None,
    answer: str = "next",
    **config: Any,
) -> ProgramStep:
    """Add a step with its settings, behind `after`."""
    return services.step_create(
        program=in_program,
        kind=step_kind,
        actor=actor,
        channel="ui",
        data={"config": config, "label": config.pop("label", "")} if config else None,
        after=after,
        answer=answer,
    )


def link(s: ProgramStep, actor: Any, **links: Any) -> ProgramStep:
    return services.step_update(
        step=s, actor=actor, channel="ui", data={k: getattr(v, "pk", v) for k, v in links.items()}
    )


@pytest.fixture
def nurture(cast: Any, template: Any) -> dict[str, Any]:
    """An active program: send the guide → wait 3 days → opened it? yes: a task for the owner;
    no: exit."""
    program = services.program_create(
        actor=cast.marketer, channel="ui", data={"name": "Recycled leads"}
    )
    send = step(program, "send_email", cast.marketer, template=template.pk, label="Guide")
    wait = step(
        program, "wait", cast.marketer, after=send, mode="delay", days=3, label="Three days"
    )
    branch = step(program, "branch", cast.marketer, after=wait, condition="opened", label="Opened?")
    task = step(
        program,
        "create_task",
        cast.marketer,
        after=branch,
        answer="yes",
        title="Call them: they read the guide",
        kind="call",
        label="Call",
    )
    leave = step(program, "exit", cast.marketer, after=branch, answer="no", label="Give up")
    services.program_set_status(program=program, status="active", actor=cast.marketer, channel="ui")
    program.refresh_from_db()
    return {
        "program": program,
        "send": send,
        "wait": wait,
        "branch": branch,
        "task": task,
        "exit": leave,
    }


def later(days: float = 0, minutes: float = 1) -> dt.datetime:
    return timezone.now() + dt.timedelta(days=days, minutes=minutes)
