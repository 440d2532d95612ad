"""Normalisers: the single place where raw input becomes clean, comparable data.

Every way in (forms, API, CSV imports, integrations) calls these functions so a
value typed by hand and the same value imported from a spreadsheet end up
identical in the database.

Each normaliser takes raw input (a string or None) and returns the normalised
value, or None when the input is blank. Bad input raises NormalisationError,
whose message names the problem and echoes the offending value (shortened to
60 characters). Nothing else is ever raised for bad text.

Messages are translated when the error is raised, into Django's active language
(French for a French user, English in the source). Importable and usable without
Django settings or a database: messages are then English.

One module per concern: ``text`` (free text, names, search key), ``phones``,
``countries``, ``web`` (email, website, domain), ``identifiers`` (SIREN, SIRET,
VAT, NAF) and ``geography`` (postal codes, French regions); ``_common`` holds the
error and the shared helpers. Import from the package: ``norm.phone(...)``.
"""

from __future__ import annotations

from cible.core.normalisers._common import ECHO_LIMIT, NormalisationError, gettext_noop
from cible.core.normalisers._country_names import _COUNTRY_ALIASES as _COUNTRY_ALIASES
from cible.core.normalisers.countries import country, country_choices, country_label
from cible.core.normalisers.geography import (
    french_region_choices,
    french_region_from_postal_code,
    postal_code,
    region_label,
)
from cible.core.normalisers.identifiers import naf_code, siren, siret, vat
from cible.core.normalisers.phones import phone
from cible.core.normalisers.text import organisation_name, person_name, search_key, tidy_text
from cible.core.normalisers.web import domain, email, website

__all__ = [
    "ECHO_LIMIT",
    "NormalisationError",
    "country",
    "country_choices",
    "country_label",
    "domain",
    "email",
    "french_region_choices",
    "french_region_from_postal_code",
    "gettext_noop",
    "naf_code",
    "organisation_name",
    "person_name",
    "phone",
    "postal_code",
    "region_label",
    "search_key",
    "siren",
    "siret",
    "tidy_text",
    "vat",
    "website",
]
