"""Targets: saved searches over organisations or contacts (SPEC C3, seed 002).

A target combines segments of any number of axes (OR within an axis, AND across axes) with
rule groups over the organisation's fields and, for a contact-level target, over the contact's:
"equipped with Salesforce, sales team 11–20 or > 20, in Lille or Paris, contacts who are sales
directors". Its `definition` is stored in the canonical shape `definition.parse` produces:

    {"segments": {"<axis code>": [segment ids]},
     "organisation": <rule group or null>,
     "contact": <rule group or null>}          # contact-level targets only

Campaigns, nurture programs, routing and reports resolve a target to the records it names
(`selectors.target_resolve`); members are never stored, so a target is always current.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cible.core.models import VersionedModel


class TargetLevel(models.TextChoices):
    ORGANISATION = "organisation", _("Organisations")
    CONTACT = "contact", _("Contacts")


def empty_definition() -> dict[str, object]:
    return {"segments": {}, "organisation": None, "contact": None}


class Target(VersionedModel):
    """A saved search. Visible to its owner, and to everyone when `shared`; changed by its owner
    or an administrator (`selectors.target_list`, `services.may_change`)."""

    name = models.CharField(_("name"), max_length=150)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    level = models.CharField(
        _("level"), max_length=20, choices=TargetLevel.choices, default=TargetLevel.ORGANISATION
    )
    definition = models.JSONField(_("definition"), default=empty_definition)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        # A departed owner's targets stay: administrators (and everyone, when shared) keep them.
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="targets",
    )
    shared = models.BooleanField(
        _("shared"),
        default=False,
        help_text=_("Everybody sees a shared target and may use it; only its owner changes it."),
    )

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        indexes = [
            models.Index(fields=["owner", "name"], name="target_owner_name"),
            models.Index(fields=["shared", "name"], name="target_shared_name"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_contact_level(self) -> bool:
        return self.level == TargetLevel.CONTACT
