"""Import runs and what they leave behind: batches committed, rows rejected, keys remembered.

An `ImportRun` is one file brought in once (its dry run, then its real run). The real run writes
in batches, each in one transaction that also records an `ImportBatch`: the batches of a run say
exactly which rows went in, and a run that crashed or was killed resumes after the last one.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def source_key(source: str) -> str:
    """How sources are compared: "Salesforce  export" and "salesforce export" are one source."""
    return " ".join((source or "").split()).casefold()[:200]


class ImportRun(models.Model):
    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Uploaded")
        MAPPED = "mapped", _("Mapped")
        CHECKING = "checking", _("Checking")
        CHECKED = "checked", _("Checked")
        RUNNING = "running", _("Importing")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    class Policy(models.TextChoices):
        FILL_EMPTY = "fill_empty", _("Fill empty fields only")
        OVERWRITE = "overwrite", _("Overwrite")
        SKIP = "skip", _("Skip existing records")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    entity = models.CharField(_("records"), max_length=40)
    source = models.CharField(_("source"), max_length=200)
    filename = models.CharField(_("file"), max_length=255)
    # Where the uploaded file is kept, relative to settings.VAR_DIR (resumption reads it again).
    stored_path = models.CharField(max_length=500, editable=False)
    format = models.CharField(_("format"), max_length=10)
    encoding = models.CharField(_("encoding"), max_length=20, blank=True)
    delimiter = models.CharField(_("delimiter"), max_length=2, blank=True)
    columns = models.JSONField(_("columns"), default=list)
    samples = models.JSONField(default=dict)  # column -> a few values from the top of the file
    mapping = models.JSONField(_("mapping"), default=dict)  # column -> field name
    # Where the suggested mapping came from: "memory", "preset:<name>" or "headers".
    suggested_from = models.CharField(max_length=60, blank=True)
    key = models.CharField(_("match key"), max_length=30, blank=True)
    policy = models.CharField(
        _("existing records"), max_length=12, choices=Policy.choices, default=Policy.FILL_EMPTY
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.UPLOADED
    )
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_done = models.PositiveIntegerField(_("rows imported"), default=0)
    rows_checked = models.PositiveIntegerField(_("rows checked"), default=0)
    counts = models.JSONField(default=dict)  # created, updated, unchanged, rejected
    dry_run_counts = models.JSONField(default=dict)
    changes = models.JSONField(default=dict)  # field -> values the normalisers rewrote
    change_samples = models.JSONField(default=dict)  # field -> [before, after]
    timings = models.JSONField(default=dict)  # seconds per phase: read, normalise, match, write
    error_message = models.TextField(_("error"), blank=True)
    cancel_requested = models.BooleanField(default=False)
    channel = models.CharField(max_length=10, default="ui")  # how the run was asked for
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("imported by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="import_runs",
    )
    created_at = models.DateTimeField(_("uploaded"), default=timezone.now)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # Touched by the worker after every batch: a RUNNING run whose heartbeat stopped was killed.
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        indexes = [
            models.Index(fields=["created_by", "created_at"], name="import_run_creator"),
            models.Index(fields=["entity", "source"], name="import_run_source"),
        ]

    def __str__(self) -> str:
        return f"{self.entity} from {self.filename} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.CHECKING, self.Status.RUNNING)

    @property
    def progress(self) -> int:
        """Percent of the rows handled by the current (or last) pass over the file."""
        if self.status in (self.Status.CHECKED, self.Status.DONE):
            return 100
        done = self.rows_checked if self.status == self.Status.CHECKING else self.rows_done
        if not self.rows_total:
            return 0
        return min(100, int(done * 100 / self.rows_total))

    @property
    def stored_file(self) -> Path:
        return Path(settings.VAR_DIR) / self.stored_path

    @property
    def entity_label(self) -> str:
        from cible.quality.imports import registry

        entity = registry.get(self.entity)
        return str(entity.label) if entity else self.entity


class ImportBatch(models.Model):
    """Rows `first_row`..`last_row` of the file, written in one transaction with this record."""

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="batches")
    first_row = models.PositiveIntegerField()
    last_row = models.PositiveIntegerField()
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    committed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["run", "first_row"]
        constraints = [
            # Two workers can never both commit the same rows of a run.
            models.UniqueConstraint(fields=["run", "first_row"], name="import_batch_once"),
        ]

    def __str__(self) -> str:
        return f"rows {self.first_row}-{self.last_row}"


class ImportRejection(models.Model):
    """A row that was not imported, with the original cells and every reason."""

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="rejections")
    row = models.PositiveIntegerField(_("row"))  # 1-based data row (the header is row 0)
    errors = models.JSONField(default=list)  # [{field, column, message}]
    cells = models.JSONField(default=list)  # the row's original cells, in the file's order
    dry_run = models.BooleanField(default=False)

    class Meta:
        ordering = ["run", "row"]
        indexes = [models.Index(fields=["run", "dry_run", "row"], name="import_rejection_row")]

    def __str__(self) -> str:
        return f"row {self.row}"

    @property
    def message(self) -> str:
        """ "column X: message; column Y: message", as in the error file."""
        from cible.quality.imports.errorfile import field_labels, message

        return message(self.errors, field_labels(self.run))


class MappingMemory(models.Model):
    """The mapping last used for a source, offered again to the next file from that source."""

    entity = models.CharField(max_length=40)
    source = models.CharField(max_length=200)  # source_key()
    mapping = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["entity", "source"], name="import_mapping_once")
        ]

    def __str__(self) -> str:
        return f"{self.entity} from {self.source}"


class ExternalKey(models.Model):
    """A record's identifier in another system: the same id in two sources is two records."""

    entity = models.CharField(max_length=40)
    source = models.CharField(max_length=200)  # source_key()
    external_id = models.CharField(max_length=255)
    object_id = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["entity", "source", "external_id"], name="import_external_key_once"
            )
        ]
        indexes = [models.Index(fields=["entity", "object_id"], name="import_external_object")]

    def __str__(self) -> str:
        return f"{self.source}:{self.external_id} -> {self.entity} {self.object_id}"
