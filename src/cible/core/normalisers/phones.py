"""Phone numbers to E.164, read for a region (French overseas numbers included)."""

from __future__ import annotations

import re

import phonenumbers

from cible.core.normalisers._common import _, _fail
from cible.core.normalisers.text import tidy_text

# French overseas departments/collectivities share the French national format
# (0590..., 0262...) but have their own calling codes.
_FRENCH_OVERSEAS_REGIONS = ("GP", "MQ", "GF", "RE", "YT", "PM", "BL", "MF")
_E164_RE = re.compile(r"\+\d{8,15}")


def _parse_phone(text: str, region: str) -> phonenumbers.PhoneNumber | None:
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def phone(raw: str | None, *, region: str | None = "FR", field: str = "phone") -> str | None:
    """A phone number in E.164 ("+33123456789"). National numbers are read for
    ``region`` (ISO country code); "00" international prefixes and "(0)" are fine.
    An extension, if any, is dropped."""
    text = tidy_text(raw, field=field)
    if text is None:
        return None
    if len(text) > 64:
        raise _fail(field, text, _("“%(value)s” is not a phone number: it is far too long"))
    region_code = (region or "").strip().upper() or "ZZ"
    candidate = text
    if candidate.lower().startswith("tel:"):
        candidate = candidate[4:].strip()
    if candidate.startswith("00"):
        candidate = "+" + candidate[2:]
    number = _parse_phone(candidate, region_code)
    if number is None and region_code == "FR" and not candidate.startswith("+"):
        for overseas in _FRENCH_OVERSEAS_REGIONS:
            number = _parse_phone(candidate, overseas)
            if number is not None:
                break
    if number is None and region_code != "ZZ":
        raise _fail(
            field,
            text,
            _("“%(value)s” is not a valid phone number (national numbers are read as %(region)s)"),
            region=region_code,
        )
    if number is None:
        raise _fail(field, text, _("“%(value)s” is not a valid phone number"))
    formatted = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if not _E164_RE.fullmatch(formatted):
        raise _fail(field, text, _("“%(value)s” is not a valid phone number"))
    return formatted
