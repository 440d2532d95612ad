"""Derived values, by column: what `people.normalise.derive_organisation` and `derive_contact`
compute row by row (search keys, domain from the website, size class, NAF section, region from
the postal code, SIREN from the SIRET, required fields), computed once per column or once per
distinct value. Any other entity's `derive` is called row by row (see `columns.normalise_batch`).

The tests check, on generated and hostile rows, that these give the same values and the same
errors as the row-by-row functions.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import polars as pl
from django.utils.translation import gettext as _

from cible.core import nace
from cible.core import normalisers as norm
from cible.core.errors import FieldError
from cible.core.normalisers.geography import _POSTAL_CODE_RE
from cible.people.normalise import (
    band_for,
    derive_contact,
    derive_organisation,
    size_class_for,
)
from cible.quality.imports.columns import _text
from cible.quality.imports.columns.driver import ABSENT, FieldResult
from cible.quality.imports.columns.kinds import url_domains

Derived = dict[str, list[Any]]  # field -> value per row (ABSENT: not in that row's values)
RowErrors = dict[int, list[FieldError]]


class _Columns:
    """The normalised model fields of a batch, read the way derive functions read a dict."""

    def __init__(self, fields: dict[str, FieldResult], size: int) -> None:
        self.fields = fields
        self.size = size

    def value(self, name: str, index: int) -> Any:
        result = self.fields.get(name)
        return result.values[index] if result is not None else ABSENT

    def values(self, name: str) -> list[Any]:
        result = self.fields.get(name)
        return list(result.values) if result is not None else [ABSENT] * self.size

    def text(self, name: str) -> pl.Series:
        """The column as text, null where absent or None (callers only test truthiness)."""
        result = self.fields.get(name)
        if result is None:
            return pl.Series(name, [None] * self.size, dtype=pl.String)
        return result.series()

    def is_text(self, *names: str) -> bool:
        return all(self.fields[name].text_only for name in names if name in self.fields)


def _truthy(series: pl.Series) -> pl.Series:
    return (series.is_not_null() & (series != "")).fill_null(False)


def _search_keys(text: pl.Series, limit: int) -> list[str]:
    """`norm.search_key(value)[:limit]` for every value (null: "")."""
    key, ok = _text.search_key(text, limit=limit)
    keys = key.to_list()
    positions = (~ok).arg_true().to_list()
    if positions:
        cache: dict[str, str] = {}
        for index, value in zip(positions, text.gather(positions).to_list(), strict=True):
            if value not in cache:
                cache[value] = norm.search_key(value)[:limit]
            keys[index] = cache[value]
    return keys


def _cached(function: Callable[[Any], Any]) -> Callable[[Any], Any]:
    cache: dict[Any, Any] = {}

    def run(value: Any) -> Any:
        if value not in cache:
            cache[value] = function(value)
        return cache[value]

    return run


def _required(columns: _Columns, name: str, errors: RowErrors) -> None:
    """`if not (values.get(name) or "").strip()`: "is required"."""
    text = columns.text(name).str.strip_chars(_text.WHITESPACE)
    missing = (text.is_null() | (text == "")).fill_null(True)
    for index in missing.arg_true().to_list():
        errors.setdefault(index, []).append(FieldError(name, _("is required")))


def _domain_or_error(url: str) -> str | FieldError:
    """`norm.domain(url) or ""`. It only fails for a url a little over 2,000 characters (the
    website was just under, "https://" was added): `derive_organisation` raises then, and
    `columns.normalise_row` rejects the row with that error."""
    try:
        return norm.domain(url) or ""
    except norm.NormalisationError as error:
        return FieldError(error.field, error.message)


def _organisations(columns: _Columns) -> tuple[Derived, RowErrors]:
    size = columns.size
    derived: Derived = {}
    errors: RowErrors = {}
    trade, legal = columns.text("trade_name"), columns.text("legal_name")
    name = pl.select(
        pl.when(_truthy(trade)).then(trade).when(_truthy(legal)).then(legal).otherwise(pl.lit(""))
    ).to_series()
    derived["name_key"] = _search_keys(name, 255)
    aborted: dict[int, FieldError] = {}  # rows where derive_organisation would raise

    if "website" in columns.fields:
        url, domain = columns.text("website"), columns.text("domain")
        positions = (_truthy(url) & ~_truthy(domain)).arg_true()
        if positions.len():
            urls = url.gather(positions)
            found, ok = url_domains(urls)
            domains = columns.values("domain")
            _scatter(domains, positions.filter(ok), found.filter(ok))
            unsure = (~ok).arg_true()
            scalar = _cached(_domain_or_error)
            for index, text in zip(
                positions.gather(unsure).to_list(), urls.gather(unsure).to_list(), strict=True
            ):
                value = scalar(text)
                if isinstance(value, FieldError):  # see _domain_or_error
                    aborted[index] = value
                else:
                    domains[index] = value
            derived["domain"] = domains

    bands = columns.values("headcount_band")
    if "headcount" in columns.fields:
        headcounts = columns.fields["headcount"].values
        band_of = {h: band_for(h) for h in set(headcounts) if h is not None and h is not ABSENT}
        bands = [band_of.get(h, band) for h, band in zip(headcounts, bands, strict=True)]
        derived["headcount_band"] = bands
    size_of = {b: size_class_for("" if b is ABSENT else (b or "")) for b in set(bands)}
    derived["size_class"] = [size_of[band] for band in bands]

    if "naf_code" in columns.fields:
        codes = columns.fields["naf_code"].values
        division_of: dict[Any, str] = {}
        section_of: dict[Any, str] = {}
        for value in set(codes):
            code = "" if value is ABSENT else (value or "")
            division_of[value] = code[:2]
            section_of[value] = nace.section_for(code) if code else ""
        derived["naf_division"] = [division_of[code] for code in codes]
        derived["naf_section"] = [section_of[code] for code in codes]
    else:
        derived["naf_division"] = [""] * size
        derived["naf_section"] = [""] * size

    if "postal_code" in columns.fields:
        _postal(columns, derived, errors)
    if "siret" in columns.fields:
        _siret(columns, derived, errors)
    _required(columns, "legal_name", errors)
    for index, error in aborted.items():  # as far as derive_organisation went: the name key
        for field, values in derived.items():
            if field != "name_key":
                values[index] = columns.value(field, index)
        errors[index] = [error]
    return derived, errors


def _postal(columns: _Columns, derived: Derived, errors: RowErrors) -> None:
    """`postal_code` checked for its country (French ones: 5 digits, spaces dropped), then
    `region` from it for French addresses with no region given; once per distinct value."""
    postal = columns.text("postal_code")
    country = columns.text("country").fill_null("")
    given = _truthy(postal)
    positions = given.arg_true()
    # Most codes are French ones of five digits already, kept as they are (by column); the
    # others are checked once per distinct code and country.
    plain = country.is_in(["", "FR", "MC"]) & postal.str.contains(r"^[0-9]{5}$")
    others = (~plain).gather(positions).arg_true()
    keys = (postal + "\x00" + country).gather(positions.gather(others))  # no NUL in tidy text
    distinct = keys.unique().to_list()
    found = [_postal_code(key) for key in distinct]
    checked = postal.gather(positions).scatter(
        others,
        keys.replace_strict(distinct, [value for value, _message in found], return_dtype=pl.String),
    )
    postals = columns.values("postal_code")
    _scatter(postals, positions, checked)
    refused = {key: message for key, (_v, message) in zip(distinct, found, strict=True) if message}
    if refused:
        at = keys.is_in(list(refused)).arg_true()
        rows = positions.gather(others.gather(at))
        for index, key in zip(rows.to_list(), keys.gather(at).to_list(), strict=True):
            errors.setdefault(index, []).append(FieldError("postal_code", refused[key]))

    regions = columns.values("region")
    french = (country.is_in(["", "FR"]) & ~_truthy(columns.text("region"))).gather(positions)
    wanted = french.arg_true()
    if wanted.len():
        codes = checked.gather(wanted)
        region_of = _REGIONS
        if len(region_of) >= _CACHE_LIMIT:
            region_of.clear()
        distinct = codes.unique().to_list()
        for code in distinct:
            if code not in region_of:
                region_of[code] = norm.french_region_from_postal_code(code) or ""
        found_regions = codes.replace_strict(
            distinct, [region_of[code] for code in distinct], return_dtype=pl.String
        )
        _scatter(regions, positions.gather(wanted), found_regions)
    derived["postal_code"] = postals
    derived["region"] = regions


def _scatter(values: list[Any], positions: pl.Series, new: pl.Series) -> None:
    """`values[positions[i]] = new[i]` for every i."""
    for index, value in zip(positions.to_list(), new.to_list(), strict=True):
        values[index] = value


# Postal codes met in earlier batches (key: postal NUL country) and their regions.
_CACHE_LIMIT = 100_000
_POSTAL_CODES: dict[str, str] = {}
_REGIONS: dict[str, str] = {}


def clear_caches() -> None:
    _POSTAL_CODES.clear()
    _REGIONS.clear()


def _postal_code(key: str) -> tuple[str, str | None]:
    """For "postal NUL country": (`norm.postal_code(postal, country or "FR") or ""`, None),
    or (postal, its error). Valid codes are remembered across batches."""
    known = _POSTAL_CODES.get(key)
    if known is not None:
        return known, None
    postal, country = key.split("\x00", 1)
    value, message = _check_postal_code(postal, country)
    if message is None:
        if len(_POSTAL_CODES) >= _CACHE_LIMIT:
            _POSTAL_CODES.clear()
        _POSTAL_CODES[key] = value
    return value, message


def _check_postal_code(postal: str, country: str) -> tuple[str, str | None]:
    # What norm.postal_code gives for tidy ASCII text, without tidying it again.
    if _TIDY_ASCII.fullmatch(postal):
        code = postal.upper()
        if (country or "FR").strip().upper() in ("FR", "MC"):
            digits = code.replace(" ", "").replace(".", "")
            if len(digits) == 5 and digits.isdigit():
                return digits, None
        elif _POSTAL_CODE_RE.fullmatch(code):
            return code, None
    try:
        return norm.postal_code(postal, country or "FR") or "", None
    except norm.NormalisationError as error:
        return postal, error.message


_TIDY_ASCII = re.compile(r"[!-~]+(?: [!-~]+)*")


def _siret(columns: _Columns, derived: Derived, errors: RowErrors) -> None:
    sirets = columns.fields["siret"].values
    sirens = columns.values("siren")
    mismatch = _("does not belong to the SIREN given (its first 9 digits differ)")
    for index, siret in enumerate(sirets):
        if siret is ABSENT or not siret:
            continue
        siren = sirens[index]
        if siren is ABSENT or not siren:
            sirens[index] = siret[:9]
        elif siret[:9] != siren:
            errors.setdefault(index, []).append(FieldError("siret", mismatch))
    derived["siren"] = sirens


def _contacts(columns: _Columns) -> tuple[Derived, RowErrors]:
    errors: RowErrors = {}
    _required(columns, "last_name", errors)
    lasts = ["" if v is ABSENT else f"{v}" for v in columns.values("last_name")]
    firsts = ["" if v is ABSENT else f"{v}" for v in columns.values("first_name")]
    names = pl.Series([f"{last} {first}" for last, first in zip(lasts, firsts, strict=True)])
    derived: Derived = {"name_key": _search_keys(names, 255)}
    derived["email_key"] = [
        "" if v is ABSENT else (v or "").lower() for v in columns.values("email")
    ]
    return derived, errors


_COLUMNAR: dict[Any, tuple[Callable[[_Columns], tuple[Derived, RowErrors]], tuple[str, ...]]] = {
    derive_organisation: (
        _organisations,
        (
            "trade_name",
            "legal_name",
            "website",
            "domain",
            "headcount_band",
            "naf_code",
            "postal_code",
            "country",
            "region",
            "siren",
            "siret",
        ),
    ),
    derive_contact: (_contacts, ("last_name", "first_name", "email")),
}


def columnar(
    derive: Any, fields: dict[str, FieldResult], size: int
) -> tuple[Derived, RowErrors] | None:
    """The derived values and errors of a batch by column, or None when `derive` has no
    columnar twin (or a field it reads holds something other than text)."""
    known = _COLUMNAR.get(derive)
    if known is None:
        return None
    function, text_fields = known
    columns = _Columns(fields, size)
    if not columns.is_text(*text_fields):
        return None
    return function(columns)
