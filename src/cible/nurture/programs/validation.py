"""Is a program fit to run? Its shape (graph.py) and each step's settings (steps.unfinished).

Shown in the editor as the program is built, and enforced when it is activated and whenever an
active program is edited: a running program is always sound, so the engine never meets a loop
or a step it cannot run.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from cible.core.errors import FieldError, ValidationFailed
from cible.nurture.programs import graph, steps
from cible.nurture.programs.graph import Problem
from cible.nurture.programs.models import NurtureProgram, ProgramStep, StepKind, TargetExit


def step_name(step: ProgramStep) -> str:
    """How problems and the editor name a step: its label, else its kind and number."""
    return step.label or f"{StepKind(step.kind).label} #{step.pk}"


def nodes_of(program_steps: list[ProgramStep]) -> list[graph.Node]:
    return [
        graph.Node(
            id=s.pk,
            kind=s.kind,
            name=f"“{step_name(s)}”",
            next=s.next_id,
            yes=s.yes_id,
            no=s.no_id,
            config=s.config or {},
        )
        for s in program_steps
    ]


def program_problems(
    program: NurtureProgram, program_steps: list[ProgramStep] | None = None
) -> list[Problem]:
    """Everything that keeps `program` from running, each naming its step."""
    if program_steps is None:
        program_steps = list(program.steps.all())
    problems = graph.check(nodes_of(program_steps), entry=program.entry_id, program_id=program.pk)
    for step in program_steps:
        for gap in steps.unfinished(step.kind, step.config or {}):
            problems.append(Problem(step.pk, f"“{step_name(step)}” {gap}."))
        if step.kind == StepKind.BRANCH and step.config.get("email_step"):
            problems.extend(_email_step_problems(step, program_steps))
    if program.exit_target_when != TargetExit.NONE and program.exit_target_id is None:
        problems.append(Problem(None, _("The custom exit has no target.")))
    return problems


def _email_step_problems(branch: ProgramStep, program_steps: list[ProgramStep]) -> list[Problem]:
    sender = next((s for s in program_steps if s.pk == branch.config.get("email_step")), None)
    if sender is None or sender.kind != StepKind.SEND_EMAIL:
        return [
            Problem(
                branch.pk,
                _("“%(step)s” tests an email step that is not in this program.")
                % {"step": step_name(branch)},
            )
        ]
    return []


def require_sound(program: NurtureProgram) -> None:
    """Raise ValidationFailed listing every problem (field `steps`), or return."""
    problems = program_problems(program)
    if problems:
        raise ValidationFailed(
            _("The program cannot run: %(problems)s")
            % {"problems": " ".join(p.message for p in problems)},
            errors=[
                FieldError(f"steps.{p.step}" if p.step else "steps", p.message) for p in problems
            ],
        )
