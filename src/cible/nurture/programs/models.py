"""Nurture programs: the opportunity incubator (SPEC C7, seed 004 §5).

Marketing keeps leads that are not ready to buy warm until they become MQLs again. A program is
an acyclic graph of steps (send an email, wait, create a task, branch, change stage, enrol in
another program, exit) starting at `entry`. An `Enrolment` is one contact's walk through it: the
step it will run next and when (`next_run_at`, indexed for the engine's sweep). Every step run
leaves an `EnrolmentEvent`: the path history, and what the program's metrics count.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cible.core.models import TimeStampedModel, VersionedModel
from cible.people.models import Contact, LifecycleStage
from cible.segments.targets.models import Target


class ProgramStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")
    ARCHIVED = "archived", _("Archived")


class TargetExit(models.TextChoices):
    """A custom exit: the contact leaves the program when they enter (or leave) a target."""

    NONE = "", _("No custom exit")
    ENTERS = "enters", _("enters the target")
    LEAVES = "leaves", _("leaves the target")


class NurtureProgram(VersionedModel):
    name = models.CharField(_("name"), max_length=150)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    status = models.CharField(
        _("status"), max_length=10, choices=ProgramStatus.choices, default=ProgramStatus.DRAFT
    )
    entry = models.ForeignKey(
        "ProgramStep",
        verbose_name=_("first step"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Exit conditions (seed 004 §5: the incubator hands a lead back once it is ready).
    exit_on_mql = models.BooleanField(_("exit on becoming an MQL"), default=True)
    exit_on_reply = models.BooleanField(_("exit on reply"), default=True)
    exit_on_opt_out = models.BooleanField(_("exit on opt-out"), default=True)
    exit_on_bounce = models.BooleanField(_("exit on bounce"), default=True)
    exit_target = models.ForeignKey(
        Target,
        verbose_name=_("custom exit target"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    exit_target_when = models.CharField(
        _("exit when the contact"),
        max_length=10,
        choices=TargetExit.choices,
        blank=True,
        default=TargetExit.NONE,
    )
    # Stage-based enrolment: leads entering this stage (e.g. Recycled) are enrolled.
    enrol_on_stage = models.CharField(
        _("enrol leads entering"),
        max_length=20,
        choices=LifecycleStage.choices,
        blank=True,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    activated_at = models.DateTimeField(_("activated"), null=True, blank=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("nurture program")
        verbose_name_plural = _("nurture programs")
        indexes = [
            models.Index(fields=["enrol_on_stage", "status"], name="program_stage_status"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_editable(self) -> bool:
        return self.status != ProgramStatus.ARCHIVED


class StepKind(models.TextChoices):
    SEND_EMAIL = "send_email", _("Send an email")
    WAIT = "wait", _("Wait")
    CREATE_TASK = "create_task", _("Create a task")
    BRANCH = "branch", _("Branch")
    CHANGE_STAGE = "change_stage", _("Change stage")
    ENROL_PROGRAM = "enrol_program", _("Enrol in another program")
    EXIT = "exit", _("Exit")


class ProgramStep(TimeStampedModel):
    """One node of a program. `config` holds the kind's settings (checked by `steps.clean`);
    `next` is where the walk goes on, or `yes`/`no` for a branch."""

    program = models.ForeignKey(
        NurtureProgram, verbose_name=_("program"), on_delete=models.CASCADE, related_name="steps"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=StepKind.choices)
    label = models.CharField(_("label"), max_length=150, blank=True)
    config = models.JSONField(_("settings"), default=dict, blank=True)
    next = models.ForeignKey(
        "self",
        verbose_name=_("then"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    yes = models.ForeignKey(
        "self",
        verbose_name=_("if yes"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    no = models.ForeignKey(
        "self",
        verbose_name=_("if no"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["program", "position", "id"]
        verbose_name = _("program step")
        verbose_name_plural = _("program steps")

    def __str__(self) -> str:
        return self.label or f"{self.get_kind_display()} #{self.pk}"


class EnrolmentStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    COMPLETED = "completed", _("Completed")
    EXITED = "exited", _("Exited")


class EnrolmentSource(models.TextChoices):
    MANUAL = "manual", _("By hand")
    TARGET = "target", _("From a target")
    STAGE = "stage", _("On entering a stage")
    ROUTING = "routing", _("By a routing rule")
    PROGRAM = "program", _("From another program")


class ExitReason(models.TextChoices):
    MQL = "mql", _("Became an MQL")
    REPLY = "reply", _("Replied")
    OPT_OUT = "opt_out", _("Opted out")
    BOUNCE = "bounce", _("Email bounced")
    TARGET = "target", _("Custom exit condition")
    EXIT_STEP = "exit_step", _("Reached an exit step")
    BY_HAND = "by_hand", _("Removed by hand")
    ARCHIVED = "archived", _("Program archived")
    STEP_REMOVED = "step_removed", _("Its step was removed")


class Enrolment(models.Model):
    program = models.ForeignKey(
        NurtureProgram,
        verbose_name=_("program"),
        on_delete=models.CASCADE,
        related_name="enrolments",
        db_index=False,  # the (program, status, step) index serves it
    )
    contact = models.ForeignKey(
        Contact, verbose_name=_("contact"), on_delete=models.CASCADE, related_name="enrolments"
    )
    lead = models.ForeignKey(
        "leads.Lead",
        verbose_name=_("lead"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="enrolments",
    )
    # The stage of the contact's lead when enrolled: the base of the "not nurtured" comparison.
    lead_stage = models.CharField(
        _("stage when enrolled"), max_length=20, choices=LifecycleStage.choices, blank=True
    )
    step = models.ForeignKey(
        ProgramStep,
        verbose_name=_("current step"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="enrolments",
    )
    step_entered_at = models.DateTimeField(_("at this step since"), default=timezone.now)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=EnrolmentStatus.choices,
        default=EnrolmentStatus.ACTIVE,
    )
    next_run_at = models.DateTimeField(_("next run"), null=True, blank=True)
    enrolled_at = models.DateTimeField(_("enrolled"), default=timezone.now)
    source = models.CharField(
        _("source"), max_length=10, choices=EnrolmentSource.choices, default=EnrolmentSource.MANUAL
    )
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("enrolled by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    exit_reason = models.CharField(
        _("exit reason"), max_length=20, choices=ExitReason.choices, blank=True
    )
    exited_at = models.DateTimeField(_("left"), null=True, blank=True)

    # An enrolment is seen by whoever may see its contact (core.access).
    access_kind = "account"
    access_owner_field = "contact__owner"

    class Meta:
        verbose_name = _("enrolment")
        verbose_name_plural = _("enrolments")
        constraints = [
            models.UniqueConstraint(
                fields=["program", "contact"],
                condition=Q(status="active"),
                name="enrolment_one_active",
            ),
        ]
        indexes = [
            # The engine's sweep: active rows whose time has come, in order.
            models.Index(
                fields=["next_run_at"],
                condition=Q(status="active"),
                name="enrolment_due",
            ),
            models.Index(fields=["program", "status", "step"], name="enrolment_program_step"),
        ]

    def __str__(self) -> str:
        return f"{self.contact_id} in {self.program_id}"


class EventKind(models.TextChoices):
    ENROLLED = "enrolled", _("Enrolled")
    EMAIL_QUEUED = "email_queued", _("Email queued")
    EMAIL_SKIPPED = "email_skipped", _("Email not sent")
    WAITING = "waiting", _("Waiting")
    WAITED = "waited", _("Waited")
    TASK_CREATED = "task_created", _("Task created")
    TASK_SKIPPED = "task_skipped", _("Task not created")
    BRANCH_YES = "branch_yes", _("Branch: yes")
    BRANCH_NO = "branch_no", _("Branch: no")
    STAGE_CHANGED = "stage_changed", _("Stage changed")
    STAGE_UNCHANGED = "stage_unchanged", _("Stage not changed")
    ENROLLED_ELSEWHERE = "enrolled_elsewhere", _("Enrolled in another program")
    COMPLETED = "completed", _("Completed")
    EXITED = "exited", _("Exited")


class EnrolmentEvent(models.Model):
    """What happened to an enrolment at a step, once: never edited."""

    enrolment = models.ForeignKey(
        Enrolment,
        on_delete=models.CASCADE,
        related_name="events",
        db_index=False,  # (enrolment, occurred_at) serves it
    )
    step = models.ForeignKey(
        ProgramStep, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    kind = models.CharField(_("what happened"), max_length=20, choices=EventKind.choices)
    detail = models.CharField(_("detail"), max_length=255, blank=True)
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("enrolment event")
        verbose_name_plural = _("enrolment events")
        indexes = [
            models.Index(fields=["enrolment", "occurred_at"], name="enrolment_event_time"),
            models.Index(fields=["step", "kind"], name="enrolment_event_step"),
        ]

    def __str__(self) -> str:
        return f"{self.enrolment_id}: {self.kind}"
