"""Freshness (SPEC C2): the staleness policy, verification tasks, and the data-quality figures.

The figures are kept in two tables:

- `QualityTally`: the current counts of one slice of the base (one entity, one bucket of
  `BUCKET_SIZE` consecutive ids, one owner). A viewer's figures are the sum of the slices whose
  owner they may see: the same `core.access.visible` rule as for the records themselves, since a
  tally row declares the access kind and owner field of an account record. Slices are recomputed
  when their records change (`TallyChange`, written by a signal receiver) and all of them once a
  day, since records go stale as days pass.
- `QualitySnapshot`: the same counts per entity and owner, frozen once a day, for the trends.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cible.quality.freshness.rules import Entity, Rules

# Ids per slice: recomputing one slice reads at most this many rows through the primary key.
BUCKET_SIZE = 20_000


class FreshnessPolicy(models.Model):
    """The one row of staleness rules an administrator may change."""

    organisation_max_age_days = models.PositiveIntegerField(
        _("organisations: verify at least every (days)"), default=365
    )
    contact_max_age_days = models.PositiveIntegerField(
        _("contacts: verify at least every (days)"), default=365
    )
    never_verified_grace_days = models.PositiveIntegerField(
        _("never verified: stale this many days after creation"), default=90
    )
    email_bounced = models.BooleanField(_("a bounced email makes a contact stale"), default=True)
    contact_left = models.BooleanField(
        _("a contact who has left the organisation is stale"), default=True
    )
    organisation_closed = models.BooleanField(
        _("a closed organisation (and its contacts) is stale"), default=True
    )
    task_due_days = models.PositiveIntegerField(
        _("verification tasks are due after (days)"), default=14
    )
    # Grows at every save, so that figures computed under older rules are known to be out of date.
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("freshness policy")

    def __str__(self) -> str:
        return (
            f"organisations {self.organisation_max_age_days} d, "
            f"contacts {self.contact_max_age_days} d"
        )

    @classmethod
    def current(cls) -> FreshnessPolicy:
        policy, _created = cls.objects.get_or_create(pk=1)
        return policy

    @property
    def rules(self) -> Rules:
        return Rules(
            organisation_max_age_days=self.organisation_max_age_days,
            contact_max_age_days=self.contact_max_age_days,
            never_verified_grace_days=self.never_verified_grace_days,
            email_bounced=self.email_bounced,
            contact_left=self.contact_left,
            organisation_closed=self.organisation_closed,
        )


class QualityTally(models.Model):
    """The counts of one slice: `entity` records with ids in `bucket`, owned by `owner`."""

    # Read through core.access like the account records it sums up.
    access_kind = "account"
    access_owner_field = "owner"

    entity = models.CharField(max_length=20, choices=Entity.choices)
    bucket = models.PositiveIntegerField()
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    counts = models.JSONField(default=dict)

    class Meta:
        indexes = [models.Index(fields=["entity", "bucket"], name="tally_bucket")]

    def __str__(self) -> str:
        return f"{self.entity} bucket {self.bucket} owner {self.owner_id}"


class TallyState(models.Model):
    """How far the tally of one entity is computed: under which rules, as of which day, up to
    which id. Its row is also the lock that serialises recomputations of that entity."""

    entity = models.CharField(max_length=20, choices=Entity.choices, unique=True)
    as_of = models.DateField(null=True)
    policy_version = models.PositiveIntegerField(default=0)
    covered_max_id = models.BigIntegerField(default=0)
    computed_at = models.DateTimeField(null=True)
    refresh_requested_at = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return f"{self.entity} as of {self.as_of}"


class TallyChange(models.Model):
    """A record of `entity` changed in `bucket`: that slice must be recomputed. Rows are only ever
    inserted by writers (no lock to wait for) and deleted by the recomputation."""

    entity = models.CharField(max_length=20, choices=Entity.choices)
    bucket = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["entity", "bucket"], name="tally_change_bucket")]

    def __str__(self) -> str:
        return f"{self.entity} bucket {self.bucket} changed"


class QualitySnapshot(models.Model):
    """The counts of one entity and owner at the end of one day, for the trends."""

    access_kind = "account"
    access_owner_field = "owner"

    day = models.DateField(_("day"))
    entity = models.CharField(max_length=20, choices=Entity.choices)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    counts = models.JSONField(default=dict)
    duplicates = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["day", "entity"], name="snapshot_day")]
        verbose_name = _("quality snapshot")

    def __str__(self) -> str:
        return f"{self.day} {self.entity} owner {self.owner_id}"


class TaskOutcome(models.TextChoices):
    VERIFIED = "verified", _("Verified")
    LEFT = "left", _("Has left the organisation")
    CLOSED = "closed", _("Organisation closed")


class VerificationTask(models.Model):
    """Somebody is asked to check one stale record against reality. Done once the record is
    verified, whoever verifies it and however (record page, task list, bulk action, API)."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        on_delete=models.CASCADE,
        related_name="verification_tasks",
    )
    organisation = models.ForeignKey(
        "people.Organisation",
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    contact = models.ForeignKey(
        "people.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    reasons = models.CharField(_("reasons"), max_length=100, blank=True)
    due_on = models.DateField(_("due on"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=TaskOutcome.choices, blank=True)

    class Meta:
        verbose_name = _("verification task")
        verbose_name_plural = _("verification tasks")
        indexes = [
            models.Index(fields=["owner", "done_at", "due_on"], name="vtask_owner_open"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(organisation__isnull=False, contact__isnull=True)
                | Q(organisation__isnull=True, contact__isnull=False),
                name="vtask_one_record",
            ),
            # At most one open task per record: asking twice does not pile up work.
            models.UniqueConstraint(
                fields=["organisation"],
                condition=Q(done_at__isnull=True),
                name="vtask_open_organisation",
            ),
            models.UniqueConstraint(
                fields=["contact"],
                condition=Q(done_at__isnull=True),
                name="vtask_open_contact",
            ),
        ]

    def __str__(self) -> str:
        return f"verify {self.record} ({self.owner})"

    @property
    def record(self) -> models.Model | None:
        return self.organisation if self.organisation_id else self.contact

    @property
    def entity(self) -> str:
        return Entity.ORGANISATION if self.organisation_id else Entity.CONTACT

    @property
    def reason_list(self) -> list[str]:
        return [r for r in self.reasons.split(",") if r]

    def is_overdue(self, today: dt.date) -> bool:
        return self.done_at is None and self.due_on < today
