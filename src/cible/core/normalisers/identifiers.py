"""French company identifiers: SIREN, SIRET, EU VAT number and NAF/NACE code."""

from __future__ import annotations

import re

from stdnum import exceptions as stdnum_exceptions
from stdnum.eu import vat as stdnum_vat
from stdnum.fr import siren as stdnum_siren
from stdnum.fr import siret as stdnum_siret

from cible.core.nace import NaceCodeInvalid, parse_naf
from cible.core.normalisers._common import NormalisationError, _, _fail
from cible.core.normalisers.text import tidy_text

_IDENTIFIER_SEPARATORS = re.compile(r"[\s.\-/_]+")


def _compact_identifier(text: str) -> str:
    return _IDENTIFIER_SEPARATORS.sub("", text)


def siren(raw: str | None, field: str = "siren") -> str | None:
    """A SIREN (9 digits, Luhn check digit), returned as digits only: "732 829 320"."""
    text = tidy_text(raw, field=field)
    if text is None:
        return None
    number = _compact_identifier(text)
    if not (number.isascii() and number.isdigit() and len(number) == 9):
        raise _fail(field, text, _("“%(value)s” is not a valid SIREN: 9 digits expected"))
    try:
        return str(stdnum_siren.validate(number))
    except stdnum_exceptions.ValidationError:
        raise _fail(
            field,
            text,
            _("“%(value)s” is not a valid SIREN: 9 digits with a valid check digit expected"),
        ) from None


def siret(raw: str | None, field: str = "siret") -> str | None:
    """A SIRET (14 digits: SIREN + NIC, check digit), returned as digits only."""
    text = tidy_text(raw, field=field)
    if text is None:
        return None
    number = _compact_identifier(text)
    if not (number.isascii() and number.isdigit() and len(number) == 14):
        raise _fail(field, text, _("“%(value)s” is not a valid SIRET: 14 digits expected"))
    try:
        return str(stdnum_siret.validate(number))
    except stdnum_exceptions.ValidationError:
        raise _fail(
            field,
            text,
            _("“%(value)s” is not a valid SIRET: 14 digits with a valid check digit expected"),
        ) from None


def vat(raw: str | None, field: str = "vat_number") -> str | None:
    """An EU VAT number with its country prefix, compact and uppercase: "FR40303265045"."""
    text = tidy_text(raw, field=field)
    if text is None:
        return None
    problem = _(
        "“%(value)s” is not a valid EU VAT number: a country prefix and a number with a "
        "valid check digit expected (e.g. FR40303265045)"
    )
    if len(text) > 40 or not text.isascii():
        raise _fail(field, text, problem)
    try:
        number = str(stdnum_vat.validate(stdnum_vat.compact(text)))
    except (stdnum_exceptions.ValidationError, ValueError, KeyError, IndexError):
        raise _fail(field, text, problem) from None
    return number.upper()


def naf_code(raw: str | None, field: str = "naf_code") -> str | None:
    """A NAF/NACE code in canonical form ("6201z" -> "62.01Z"); see cible.core.nace."""
    text = tidy_text(raw, field=field)
    if text is None:
        return None
    try:
        return parse_naf(text).code
    except NaceCodeInvalid as error:
        raise NormalisationError(field, str(error)) from None
