"""Addresses: postal codes, and the French region (ISO 3166-2) a postal code lies in."""

from __future__ import annotations

import re
from functools import cache

import pycountry

from cible.core.normalisers._common import _, _as_text, _fail, _fold
from cible.core.normalisers.text import tidy_text

_POSTAL_CODE_RE = re.compile(r"[A-Z0-9][A-Z0-9 \-]{0,10}[A-Z0-9]|[A-Z0-9]")


def postal_code(
    raw: str | None, country: str | None = "FR", field: str = "postal_code"
) -> str | None:
    """A postal code, tidied and uppercased; French ones (country "FR") must be 5 digits
    ("75 008" -> "75008")."""
    text = tidy_text(raw, field=field)
    if text is None:
        return None
    code = text.upper()
    country_code = (country or "").strip().upper()
    if country_code in ("FR", "MC"):
        digits = code.replace(" ", "").replace(".", "")
        if not (digits.isascii() and digits.isdigit() and len(digits) == 5):
            raise _fail(
                field, text, _("“%(value)s” is not a valid French postal code: 5 digits expected")
            )
        return digits
    if not (code.isascii() and _POSTAL_CODE_RE.fullmatch(code)):
        raise _fail(
            field,
            text,
            _("“%(value)s” is not a valid postal code: letters, digits, spaces or dashes expected"),
        )
    return code


# Overseas postal prefixes that are not departments in pycountry's sense.
_OVERSEAS_POSTAL_PREFIXES: dict[str, str] = {
    "971": "FR-971",
    "972": "FR-972",
    "973": "FR-973",
    "974": "FR-974",
    "975": "FR-PM",
    "976": "FR-976",
    "977": "FR-BL",
    "978": "FR-MF",
    "984": "FR-TF",
    "986": "FR-WF",
    "987": "FR-PF",
    "988": "FR-NC",
}


@cache
def _department_regions() -> dict[str, str]:
    """Department number ("01".."95", "2A", "2B") -> top-level region code ("FR-ARA")."""
    by_code = {s.code: s for s in pycountry.subdivisions.get(country_code="FR")}
    mapping: dict[str, str] = {}
    for code, subdivision in by_code.items():
        number = code.removeprefix("FR-")
        if subdivision.type == "Metropolitan department":
            pass
        elif code == "FR-75C":  # Paris: a department and a commune at once
            number = "75"
        else:
            continue
        root = subdivision
        seen = 0
        while root.parent_code and root.parent_code in by_code and seen < 5:
            root = by_code[root.parent_code]
            seen += 1
        mapping[number] = str(root.code)
    return mapping


def french_region_from_postal_code(postal_code: str | None) -> str | None:
    """The ISO 3166-2 region of a French postal code: "75008" -> "FR-IDF",
    "20000" -> "FR-20R" (Corsica), "97400" -> "FR-974" (La Réunion).
    None when unknown (Monaco, malformed codes)."""
    if postal_code is None:
        return None
    code = "".join(_as_text(postal_code).split())
    if not (len(code) == 5 and code.isascii() and code.isdigit()):
        return None
    if code.startswith(("97", "98")):
        return _OVERSEAS_POSTAL_PREFIXES.get(code[:3])
    # Corsica: 200xx-201xx are Corse-du-Sud (2A), 202xx and above Haute-Corse (2B).
    corsica = "2A" if code[2] in "01" else "2B"
    department = corsica if code.startswith("20") else code[:2]
    return _department_regions().get(department)


def region_label(code: str | None) -> str:
    """The name of an ISO 3166-2 subdivision ("FR-IDF" -> "Île-de-France"), or the
    value itself when it is not a known code ("" for None)."""
    if code is None:
        return ""
    text = _as_text(code).strip()
    subdivision = pycountry.subdivisions.get(code=text.upper()) if text else None
    return str(subdivision.name) if subdivision is not None else text


@cache
def _french_region_codes() -> tuple[str, ...]:
    codes = set(_department_regions().values()) | set(_OVERSEAS_POSTAL_PREFIXES.values())
    return tuple(sorted(code for code in codes if code))


def french_region_choices() -> list[tuple[str, str]]:
    """The French regions a postal code can lead to, by name: list filters offer these
    without scanning the organisations table."""
    return sorted(
        ((code, region_label(code)) for code in _french_region_codes()), key=lambda p: _fold(p[1])
    )
