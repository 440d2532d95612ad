"""Axes, their segments, materialised membership and rebuild runs (SPEC C3, seed 002)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cible.core.models import TimeStampedModel, VersionedModel
from cible.people.models import Organisation


class Axis(TimeStampedModel):
    """One way of cutting the base (geography, size, installed CRM …); axes run in parallel."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    exclusive = models.BooleanField(
        _("exclusive"),
        default=True,
        help_text=_(
            "Each organisation falls in at most one segment of the axis: the first, in order, "
            "that holds it by hand or whose rule matches."
        ),
    )
    position = models.PositiveIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("segmentation axis")
        verbose_name_plural = _("segmentation axes")

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        """The name in the active language (seeded names are English msgids)."""
        return gettext(self.name) if self.name else ""


class SegmentKind(models.TextChoices):
    RULE = "rule", _("By rule")
    MANUAL = "manual", _("By hand")


class Segment(VersionedModel):
    """A part of an axis: set by hand, or defined by a rule over fields (at organisation level)."""

    axis = models.ForeignKey(
        Axis, verbose_name=_("axis"), on_delete=models.CASCADE, related_name="segments"
    )
    code = models.SlugField(_("code"), max_length=50)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    kind = models.CharField(
        _("kind"), max_length=10, choices=SegmentKind.choices, default=SegmentKind.RULE
    )
    rule = models.JSONField(_("rule"), null=True, blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    member_count = models.PositiveIntegerField(_("members"), default=0, editable=False)
    rebuilt_at = models.DateTimeField(_("rebuilt"), null=True, blank=True, editable=False)
    # One more on every change of the membership rows, in the transaction that makes it: the
    # key of the member sets held in memory for counts (`bitsets`).
    members_version = models.PositiveBigIntegerField(
        _("membership version"), default=0, editable=False
    )

    # Segments are shared configuration, not records someone owns: everybody reads them.
    access_kind = "configuration"

    class Meta:
        ordering = ["axis__position", "position", "id"]
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        constraints = [
            models.UniqueConstraint(fields=["axis", "code"], name="segment_code_per_axis"),
            models.CheckConstraint(
                condition=Q(kind="manual", rule__isnull=True) | Q(kind="rule", rule__isnull=False),
                name="segment_rule_by_kind",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return gettext(self.name) if self.name else ""

    @property
    def is_rule(self) -> bool:
        return self.kind == SegmentKind.RULE


class Membership(models.Model):
    """An organisation in a segment: derived from the rule, or set by hand for manual segments."""

    # No single-column indexes on the keys: the three composite ones below serve every lookup,
    # and each index costs time on every row a rebuild writes (millions at a time).
    segment = models.ForeignKey(
        Segment,
        verbose_name=_("segment"),
        on_delete=models.CASCADE,
        related_name="memberships",
        db_index=False,
    )
    # Hidden from the organisation's side ("+"): membership is derived data, which generic
    # record tools (the duplicates merge moves every row pointing to the merged record) must
    # leave alone; lookups still work as `segment_membership__…`. An organisation's rows are
    # deleted by the axes app when it goes (receivers.organisation_deleting, through the
    # (axis, organisation) index): a cascade would look them up by organisation alone.
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.DO_NOTHING,
        related_name="+",
        related_query_name="segment_membership",
        db_index=False,
    )
    # The segment's axis, copied so that "which segment of axis A is this organisation in" and
    # exclusivity are answered from one index.
    axis = models.ForeignKey(
        Axis,
        verbose_name=_("axis"),
        on_delete=models.CASCADE,
        related_name="memberships",
        db_index=False,
    )
    since = models.DateTimeField(_("member since"))

    class Meta:
        verbose_name = _("segment membership")
        verbose_name_plural = _("segment memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["segment", "organisation"], name="membership_segment_organisation"
            ),
        ]
        # (segment, organisation) by the constraint above, and (axis, organisation, segment):
        # every lookup goes through one of them — an organisation's rows by `axis IN (…)`; the
        # segment in it lets the cross-tab's joins read the index alone (PostgreSQL at 1M:
        # 846 → 397 ms). No (organisation, segment) index: a rebuild adding an axis would touch
        # every one of its pages (at 1M organisations: twice as long for each later axis).
        indexes = [
            models.Index(fields=["axis", "organisation", "segment"], name="membership_axis_org")
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id} in {self.segment_id}"

    @classmethod
    def of_organisations(cls, ids: Any) -> models.QuerySet[Membership]:
        """Rows of these organisations, through the (axis, organisation) index."""
        return cls.objects.filter(axis_id__in=Axis.objects.values("pk"), organisation_id__in=ids)


class RebuildStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class RebuildRun(models.Model):
    """A full rebuild of the rule segments' membership, with its progress for the UI to poll."""

    status = models.CharField(
        _("status"), max_length=10, choices=RebuildStatus.choices, default=RebuildStatus.RUNNING
    )
    segments_total = models.PositiveIntegerField(_("segments"), default=0)
    segments_done = models.PositiveIntegerField(_("segments rebuilt"), default=0)
    rows_added = models.PositiveIntegerField(_("memberships added"), default=0)
    rows_removed = models.PositiveIntegerField(_("memberships removed"), default=0)
    seconds = models.FloatField(_("seconds"), null=True, blank=True)
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    channel = models.CharField(_("channel"), max_length=10, blank=True)
    # Segment ids the rebuild was asked for (it also rebuilds what depends on them); [] = all.
    scope = models.JSONField(_("scope"), default=list, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("segment rebuild")
        verbose_name_plural = _("segment rebuilds")

    def __str__(self) -> str:
        return f"rebuild #{self.pk} ({self.status})"

    @property
    def percent(self) -> int:
        if not self.segments_total:
            return 100 if self.status == RebuildStatus.DONE else 0
        return round(100 * self.segments_done / self.segments_total)

    @property
    def rows(self) -> int:
        return self.rows_added + self.rows_removed


class RefreshMark(models.Model):
    """When an organisation's membership was last refreshed (an edit of it or of what its rules
    read, a placement by hand). A rebuild computes each axis from the organisations as they were
    when it read them, then writes: whatever was refreshed in between would be overwritten with
    older data. So a rebuild refreshes again, once it has written, the organisations marked
    since it began (`membership.membership_rebuild`). One row per organisation, overwritten."""

    organisation_id = models.BigIntegerField(_("organisation"), primary_key=True)
    at = models.DateTimeField(_("refreshed at"), db_index=True)

    class Meta:
        verbose_name = _("membership refresh")
        verbose_name_plural = _("membership refreshes")

    def __str__(self) -> str:
        return f"{self.organisation_id} at {self.at:%Y-%m-%d %H:%M:%S}"
