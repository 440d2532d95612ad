"""Organisations and contacts as importable entities: their fields (the people app's
normalised fields plus the link fields the engine resolves), match keys and export presets.
The header names of each field are in `headers`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from cible.core.errors import FieldError
from cible.people.hooks import stages_kept
from cible.people.models import Contact, Organisation
from cible.people.normalise import (
    CONTACT_BLANKS,
    CONTACT_SPECS,
    ORGANISATION_BLANKS,
    ORGANISATION_SPECS,
    derive_contact,
    derive_organisation,
)
from cible.quality.imports.headers import (
    CONTACT_SYNONYMS,
    HUBSPOT_CONTACTS,
    HUBSPOT_ORGANISATIONS,
    ORGANISATION_SYNONYMS,
    SALESFORCE_CONTACTS,
    SALESFORCE_ORGANISATIONS,
)
from cible.quality.imports.registry import ImportableEntity, ImportField, MatchKey, Preset, register

LINK_LABELS: dict[str, Promise] = {
    "external_id": _("external ID"),
    "owner_email": _("owner's email"),
    "organisation_external_id": _("organisation's external ID"),
    "organisation_siren": _("organisation's SIREN"),
    "organisation_domain": _("organisation's domain or website"),
    "organisation_name": _("organisation's name"),
}


def _fields(
    model: type[models.Model],
    specs: Mapping[str, object],
    synonyms: dict[str, tuple[str, ...]],
    links: tuple[str, ...],
    required: str,
) -> tuple[ImportField, ...]:
    fields = [
        ImportField(
            name=name,
            label=cast(models.Field, model._meta.get_field(name)).verbose_name,
            synonyms=synonyms.get(name, ()),
            required=name == required,
        )
        for name in specs
    ]
    fields += [
        ImportField(name=name, label=LINK_LABELS[name], synonyms=synonyms[name], link=True)
        for name in links
    ]
    return tuple(fields)


def organisations() -> ImportableEntity:
    return ImportableEntity(
        name="organisations",
        label=Organisation._meta.verbose_name_plural or _("organisations"),
        model=Organisation,
        fields=_fields(
            Organisation,
            ORGANISATION_SPECS,
            ORGANISATION_SYNONYMS,
            ("external_id", "owner_email"),
            required="legal_name",
        ),
        keys=(
            MatchKey("external_id", _("external ID (per source)"), "external_id"),
            MatchKey("siren", _("SIREN"), "siren"),
            MatchKey("siret", _("SIRET"), "siret"),
            MatchKey("domain", _("domain"), "domain"),
        ),
        specs=ORGANISATION_SPECS,
        blanks=ORGANISATION_BLANKS,
        derive=derive_organisation,
        presets=(
            Preset("salesforce", _("Salesforce export (accounts)"), SALESFORCE_ORGANISATIONS),
            Preset("hubspot", _("HubSpot export (companies)"), HUBSPOT_ORGANISATIONS),
        ),
        # The match keys' indexes (a run keeps its own key's: bulkload.IndexPlan). Names are
        # read through `org_name` by contact imports, into this table, not by this entity.
        lookup_indexes=("org_siren", "org_siret", "org_domain"),
    )


def _vet_contacts(creates: list[Any], updates: list[Any]) -> dict[int, list[FieldError]]:
    """A contact with leads has the stage of their lead (`people.hooks.stages_kept`): a row that
    would set another is refused with the reason, as the contact's form refuses the edit."""
    stage_changes = {u.id: u.row for u in updates if "lifecycle_stage" in u.values}
    if not stage_changes:
        return {}
    kept = stages_kept(list(stage_changes))
    return {
        stage_changes[contact]: [FieldError("lifecycle_stage", message)]
        for contact, message in kept.items()
    }


def contacts() -> ImportableEntity:
    return ImportableEntity(
        name="contacts",
        label=Contact._meta.verbose_name_plural or _("contacts"),
        model=Contact,
        fields=_fields(
            Contact,
            CONTACT_SPECS,
            CONTACT_SYNONYMS,
            (
                "external_id",
                "organisation_external_id",
                "organisation_siren",
                "organisation_domain",
                "organisation_name",
                "owner_email",
            ),
            required="last_name",
        ),
        keys=(
            MatchKey("external_id", _("external ID (per source)"), "external_id"),
            MatchKey("email", _("email"), "email"),
        ),
        specs=CONTACT_SPECS,
        blanks=CONTACT_BLANKS,
        derive=derive_contact,
        presets=(
            Preset("salesforce", _("Salesforce export (contacts)"), SALESFORCE_CONTACTS),
            Preset("hubspot", _("HubSpot export (contacts)"), HUBSPOT_CONTACTS),
        ),
        lookup_indexes=("contact_email", "contact_name", "contact_org_name"),
        vet=_vet_contacts,
    )


def register_all() -> None:
    """Register organisations and contacts (called by ImportsConfig.ready)."""
    register(organisations())
    register(contacts())
