"""Countries: names and codes to ISO 3166-1 alpha-2, and their names in the active language."""

from __future__ import annotations

import gettext
from functools import cache

import pycountry

from cible.core.normalisers._common import _, _as_text, _fail, _fold
from cible.core.normalisers._country_names import _COUNTRY_ALIASES
from cible.core.normalisers.text import tidy_text

_MAX_COUNTRY_LENGTH = 80


def country(raw: str | None, field: str = "country") -> str | None:
    """An ISO 3166-1 alpha-2 code from a code ("FR", "fra"), an English, French or
    native name ("Allemagne", "Deutschland", "Germany"), accent- and case-insensitive."""
    text = tidy_text(raw, field=field)
    if text is None:
        return None
    if len(text) > _MAX_COUNTRY_LENGTH:
        raise _fail(
            field, text, _("“%(value)s” is not a country: it is far too long for a country name")
        )
    key = _fold(text)
    if key in _COUNTRY_ALIASES:
        return _COUNTRY_ALIASES[key]
    compact = key.replace(" ", "").upper()
    if len(compact) == 2 and compact.isascii() and compact.isalpha():
        found = pycountry.countries.get(alpha_2=compact)
        if found is not None:
            return str(found.alpha_2)
    if len(compact) == 3 and compact.isascii() and compact.isalpha():
        found = pycountry.countries.get(alpha_3=compact)
        if found is not None:
            return str(found.alpha_2)
    for candidate in (text, key):
        try:
            return str(pycountry.countries.lookup(candidate).alpha_2)
        except LookupError:
            continue
    if len(key) >= 4:
        try:
            matches = pycountry.countries.search_fuzzy(key)
        except LookupError:
            matches = []
        if len(matches) == 1:
            return str(matches[0].alpha_2)
    raise _fail(
        field,
        text,
        _("“%(value)s” is not a known country (give its name or its ISO code, e.g. FR)"),
    )


def _current_language() -> str:
    """Django's active language when Django is set up, else French (the default)."""
    try:
        from django.utils.translation import get_language

        return get_language() or "fr"
    except Exception:  # Django missing or settings not configured
        return "fr"


@cache
def _iso_translation(domain: str, language: str) -> gettext.NullTranslations:
    return gettext.translation(domain, pycountry.LOCALES_DIR, languages=[language], fallback=True)


def _translated(domain: str, name: str, language: str | None) -> str:
    lang = (language or _current_language()).split("-")[0].split("_")[0].lower()
    if lang == "en" or not lang:
        return name
    return _iso_translation(domain, lang).gettext(name)


def country_label(code: str | None, language: str | None = None) -> str:
    """The name of an ISO 3166-1 alpha-2 country ("DE" -> "Allemagne" in French,
    "Germany" in English), or the value itself when it is not a known code ("" for None).

    ``language`` defaults to Django's active language, or French without Django.
    """
    if code is None:
        return ""
    text = _as_text(code).strip()
    upper = text.upper()
    found = (
        pycountry.countries.get(alpha_2=upper)
        if len(upper) == 2 and upper.isascii() and upper.isalpha()
        else None
    )
    if found is None:
        return text
    return _translated("iso3166-1", str(found.name), language)


def country_choices(language: str | None = None) -> list[tuple[str, str]]:
    """Every ISO 3166 country with its name in the current language, sorted by that name."""
    pairs = [(str(c.alpha_2), country_label(str(c.alpha_2), language)) for c in pycountry.countries]
    return sorted(pairs, key=lambda p: _fold(p[1]))
