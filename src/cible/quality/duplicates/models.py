"""Duplicate pairs, the merges made from them, and the runs of detection and bulk merge.

Records are referred to by entity and id rather than by foreign key: a pair outlives a merge or
a deletion of one of its records (its decision must be remembered, SPEC C2), and the generic merge
moves every relation pointing at a record without having to step around our own tables.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Entity(models.TextChoices):
    ORGANISATION = "organisation", _("Organisations")
    CONTACT = "contact", _("Contacts")


class PairStatus(models.TextChoices):
    OPEN = "open", _("To review")
    MERGED = "merged", _("Merged")
    NOT_DUPLICATE = "not_duplicate", _("Not a duplicate")


class DuplicatePair(models.Model):
    """Two records that look like the same organisation or person, with the evidence.

    `record_a` < `record_b`, and one row per (entity, a, b): detection run again updates the
    score of an open pair, and never reopens a pair someone decided on.
    """

    entity = models.CharField(_("records"), max_length=20, choices=Entity.choices)
    record_a = models.BigIntegerField()
    record_b = models.BigIntegerField()
    score = models.FloatField(_("score"))
    # [{"code": "same_siren", ...parameters}], positive and negative evidence, strongest first;
    # turned into sentences in the reader's language by `scoring.describe`.
    reasons = models.JSONField(_("reasons"), default=list)
    status = models.CharField(
        _("status"), max_length=20, choices=PairStatus.choices, default=PairStatus.OPEN
    )
    detected_at = models.DateTimeField(_("detected"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        verbose_name = _("duplicate pair")
        verbose_name_plural = _("duplicate pairs")
        constraints = [
            models.UniqueConstraint(
                fields=["entity", "record_a", "record_b"], name="duplicate_pair_once"
            ),
            models.CheckConstraint(
                condition=Q(record_a__lt=F("record_b")), name="duplicate_pair_ordered"
            ),
            models.CheckConstraint(
                condition=Q(score__gte=0) & Q(score__lte=1), name="duplicate_pair_score_range"
            ),
        ]
        indexes = [
            models.Index(fields=["entity", "status", "score"], name="duplicate_queue"),
            models.Index(fields=["entity", "record_b"], name="duplicate_record_b"),
        ]

    def __str__(self) -> str:
        return f"{self.entity} {self.record_a} ~ {self.record_b} ({self.score:.2f})"

    @property
    def percent(self) -> int:
        return round(self.score * 100)


class MergeRecord(models.Model):
    """One merge: enough to show what happened and to undo it exactly.

    The snapshots are Django's serialisation of both records (fields and many-to-many) before
    the merge; `moved` lists every related row repointed from the loser to the survivor.
    """

    entity = models.CharField(_("records"), max_length=20, choices=Entity.choices)
    survivor_id = models.BigIntegerField()
    loser_id = models.BigIntegerField()
    survivor_label = models.CharField(max_length=255)
    loser_label = models.CharField(max_length=255)
    survivor_before = models.JSONField()
    loser_snapshot = models.JSONField()
    # The survivor's version right after the merge: undo refuses if it moved since.
    survivor_version = models.PositiveIntegerField()
    values = models.JSONField(default=dict)  # field -> "survivor" | "loser": whose value was kept
    moved = models.JSONField(default=list)
    pair = models.ForeignKey(
        DuplicatePair, null=True, blank=True, on_delete=models.SET_NULL, related_name="merges"
    )
    channel = models.CharField(max_length=10)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    merged_at = models.DateTimeField(default=timezone.now)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("merge")
        verbose_name_plural = _("merges")
        indexes = [
            models.Index(fields=["entity", "survivor_id"], name="merge_survivor"),
            models.Index(fields=["entity", "loser_id"], name="merge_loser"),
        ]

    def __str__(self) -> str:
        return f"{self.loser_label} → {self.survivor_label}"

    @property
    def moved_count(self) -> int:
        return sum(len(group.get("ids", [])) for group in self.moved)


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class DetectionRun(models.Model):
    """One pass of detection over every organisation or contact, with what it found."""

    entity = models.CharField(_("records"), max_length=20, choices=Entity.choices)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    channel = models.CharField(max_length=10)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    step = models.CharField(max_length=100, blank=True)
    records = models.PositiveIntegerField(default=0)
    candidates = models.PositiveBigIntegerField(default=0)
    pairs = models.PositiveIntegerField(default=0)  # stored pairs (score ≥ the storage floor)
    new_pairs = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"detection of {self.entity} ({self.status})"


class BulkMergeRun(models.Model):
    """A merge of every open pair above a score, run in the background when it is large."""

    entity = models.CharField(_("records"), max_length=20, choices=Entity.choices)
    threshold = models.FloatField()
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    channel = models.CharField(max_length=10)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    total = models.PositiveIntegerField(default=0)
    merged = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list)  # [{"pair": id, "message": str}], the first 100
    cancel_requested = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"bulk merge of {self.entity} ≥ {self.threshold} ({self.status})"

    @property
    def done(self) -> int:
        return self.merged + self.skipped + self.failed

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, round(100 * self.done / self.total))

    @property
    def finished(self) -> bool:
        return self.status in (RunStatus.DONE, RunStatus.FAILED, RunStatus.CANCELLED)


class DuplicateLabel(models.Model):
    """The truth of a labelled set (built by the demo generator): which pairs are duplicates,
    and which look alike but are not. Detection is measured against it (precision, recall)."""

    entity = models.CharField(max_length=20, choices=Entity.choices)
    record_a = models.BigIntegerField()
    record_b = models.BigIntegerField()
    duplicate = models.BooleanField()
    kind = models.CharField(max_length=40)  # how the pair was made: "typo", "subsidiary" …

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["entity", "record_a", "record_b"], name="duplicate_label_once"
            ),
        ]

    def __str__(self) -> str:
        verdict = "duplicate" if self.duplicate else "distinct"
        return f"{self.entity} {self.record_a} / {self.record_b}: {verdict} ({self.kind})"
