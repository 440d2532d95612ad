"""Shared base models and kernel records: API tokens and the configurable access policy."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True


class VersionedModel(TimeStampedModel):
    """An editable business record. `version` grows by one on every save through
    `core.concurrency.save_versioned`, which refuses a save based on an older version."""

    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    # How the access policy treats the model: "account" (organisations, contacts) or
    # "pipeline" (deals), and which field holds the owner.
    access_kind = "account"
    access_owner_field = "owner"

    class Meta:
        abstract = True


class Visibility(models.TextChoices):
    SHARED = "shared", _("Shared with everyone")
    TEAM = "team", _("Private to the owner's team")


class AccessPolicy(models.Model):
    """The one row of access settings an administrator may change (seed 004: who sees what)."""

    account_visibility = models.CharField(
        _("organisations and contacts"),
        max_length=10,
        choices=Visibility.choices,
        default=Visibility.SHARED,
    )
    pipeline_visibility = models.CharField(
        _("opportunities"), max_length=10, choices=Visibility.choices, default=Visibility.TEAM
    )
    marketing_sees_amounts = models.BooleanField(_("Marketing sees deal amounts"), default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("access policy")

    def __str__(self) -> str:
        return f"accounts {self.account_visibility}, pipeline {self.pipeline_visibility}"

    @classmethod
    def current(cls) -> AccessPolicy:
        policy, _created = cls.objects.get_or_create(pk=1)
        return policy


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiToken(models.Model):
    """A personal API token. Only its SHA-256 is stored; the key is shown once, at creation."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=12, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def new_key() -> str:
        return "cib_" + secrets.token_urlsafe(32)

    @staticmethod
    def hash_key(key: str) -> str:
        return _hash(key)

    @property
    def is_active(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class SuspendedIndex(models.Model):
    """A secondary index dropped for a bulk load (`core.indexes`), to be built again after it.

    Written in the transaction that drops the index, so that a crash or a kill in the middle of
    the load still leaves the list of what to rebuild.
    """

    app_label = models.CharField(max_length=100)
    model_name = models.CharField(max_length=100)
    name = models.CharField(max_length=100, unique=True)  # index names are unique per database
    suspended_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.app_label}.{self.model_name}: {self.name}"


class SuspendedForeignKey(models.Model):
    """A foreign-key constraint dropped while a table is filled from empty
    (`core.foreign_keys`), with the definition that adds it back.

    Written in the transaction that drops the constraint, like `SuspendedIndex`."""

    table = models.CharField(max_length=100)
    name = models.CharField(max_length=100)
    definition = models.TextField()  # PostgreSQL's pg_get_constraintdef
    suspended_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["table", "name"], name="suspended_fk_per_table")
        ]

    def __str__(self) -> str:
        return f"{self.table}: {self.name}"
