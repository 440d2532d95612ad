"""Fast paths per kind of field: polars expressions that give, for the common shapes, exactly
what the foundation's scalar normaliser gives, and say where they are not sure.

`fast_path_for(spec)` recognises a normaliser by identity (`norm.phone`, `norm.email`,
`values.whole_number`…, possibly wrapped in `functools.partial` with keyword arguments) and
returns a `FastPath`: a function from the column to (values, ok). Rows that are not ok, and
every field whose normaliser is not recognised (choices, countries, NAF codes, dates…), go to
the scalar normaliser once per distinct value (`driver.py`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import polars as pl

from cible.core import normalisers as norm
from cible.core import values as typed
from cible.people import normalise as people_normalise
from cible.quality.imports.columns import _text
from cible.quality.imports.columns.phones import french_phones, international_phones

# (raw, tidied text, usable) -> (values, ok). `usable` is true where the tidied text is exact
# (safe characters) and no formula or scientific notation is in the way.
FastFunction = Callable[[pl.Series, pl.Series, pl.Series], tuple[pl.Series, pl.Series]]


@dataclass(frozen=True)
class FastPath:
    function: FastFunction
    dtype: type[pl.DataType]  # what the values are (pl.String, pl.Int64, pl.Decimal)
    # False: the function reads the raw cells only (its shapes can be neither formulas nor
    # scientific notation), and gets them in place of the tidied text and `usable`.
    tidied: bool = True


def _select(**exprs: Any) -> pl.DataFrame:
    result: pl.DataFrame = pl.select(**exprs)
    return result


def _when(mask: pl.Series, then: pl.Series) -> pl.Series:
    """`then` where mask, null elsewhere."""
    return pl.select(pl.when(mask).then(then).otherwise(None)).to_series()


# --------------------------------------------------------------------------- text


def _text_path(max_length: int | None) -> FastFunction:
    def run(raw: pl.Series, text: pl.Series, usable: pl.Series) -> tuple[pl.Series, pl.Series]:
        ok = usable & text.is_not_null()
        if max_length is not None:
            ok = ok & (text.str.len_chars() <= max_length).fill_null(False)
        return text, ok

    return run


def _name_path(max_length: int, *, person: bool) -> FastFunction:
    """Organisation names are kept as typed unless `str.islower()`, person names unless
    `str.isupper()` or `str.islower()`: decided by whether the text holds a capital and a small
    letter ("Écolia", "L'Oréal", "3M" are kept). An organisation name of plain small letters
    (and numbers), spaces and hyphens gets a capital per word."""

    def run(raw: pl.Series, text: pl.Series, usable: pl.Series) -> tuple[pl.Series, pl.Series]:
        upper = text.str.contains(f"[{_text.UPPER_CLASS}]")
        lower = text.str.contains(f"[{_text.LOWER_CLASS}]")
        value = text
        if person:  # neither all capitals nor all small letters (nor both: no letter at all)
            mixed = upper == lower
        else:  # not all small letters
            mixed = upper | ~lower
            # words of small letters or of digits ("néotek 12 sas"), not mixed ("3m")
            small = _text.CAPITALISABLE_CLASS
            plain = (
                text.str.contains(rf"^[{small}0-9 \-]*[{small}][{small}0-9 \-]*$")
                & ~text.str.contains(rf"[{small}][0-9]|[0-9][{small}]")
            ).fill_null(False)
            value = _select(v=pl.when(plain).then(text.str.to_titlecase()).otherwise(text))["v"]
            mixed = mixed | plain
        ok = usable & mixed.fill_null(False) & (text.str.len_chars() <= max_length).fill_null(False)
        return value, ok

    return run


def _long_text_path(max_length: int) -> FastFunction:
    """`people.normalise._long_text`: control characters but line breaks and tabs dropped
    (a carriage return too), then stripped."""

    def run(raw: pl.Series, text: pl.Series, usable: pl.Series) -> tuple[pl.Series, pl.Series]:
        value = raw.str.replace_all(r"[\x00-\x08\x0B-\x1F]", "").str.strip_chars(_text.WHITESPACE)
        ok = usable & (value.str.len_chars() <= max_length).fill_null(False)
        return value, ok

    return run


# --------------------------------------------------------------------------- phones, email, web


def _phone_path(raw: pl.Series, text: pl.Series, usable: pl.Series) -> tuple[pl.Series, pl.Series]:
    value, ok = french_phones(text)
    foreign, foreign_ok = international_phones(_when(~ok, text))
    value = _select(v=pl.when(ok).then(value).otherwise(foreign))["v"]
    return value, (ok | foreign_ok) & usable


_LOCAL = r"[A-Za-z0-9_+\-]+(?:\.[A-Za-z0-9_+\-]+)*"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?"
_HOST = rf"(?:{_LABEL}\.)+[A-Za-z]{{2,63}}"
_EMAIL = rf"^{_LOCAL}@{_HOST}$"


def _special_use(domain: pl.Series) -> pl.Series:
    from email_validator import SPECIAL_USE_DOMAIN_NAMES

    names = "|".join(SPECIAL_USE_DOMAIN_NAMES)
    return domain.str.contains(rf"(?:^|\.)(?:{names})$")


def _email_path(raw: pl.Series, text: pl.Series, usable: pl.Series) -> tuple[pl.Series, pl.Series]:
    """Plain ASCII addresses: validated by email_validator's own rules, then lower-cased."""
    value = text.str.to_lowercase()
    parts = value.str.split_exact("@", 1).struct.unnest()
    local, host = parts["field_0"], parts["field_1"]
    ok = (
        usable
        & value.str.contains(_EMAIL).fill_null(False)
        & (value.str.len_bytes() <= 254).fill_null(False)
        & (local.str.len_bytes() <= 64).fill_null(False)
        & (host.str.len_bytes() <= 253).fill_null(False)
        & ~host.str.contains("--").fill_null(True)
        & ~_special_use(host).fill_null(True)
    )
    return value, ok


_URL = (
    r"^(?:(?P<scheme>[Hh][Tt][Tt][Pp][Ss]?)://)?(?P<host>" + _HOST + r")"
    r"(?P<path>/[A-Za-z0-9._~\-/]*)?$"
)
_SCHEME = r"^([Hh][Tt][Tt][Pp][Ss]?)://"
_WWW = r"^www[0-9]*\."


def _url_split(text: pl.Series) -> pl.DataFrame:
    """_URL's groups (scheme, host, path; host null where the text does not match). Whether it
    matches is one search; the parts are then cut with string functions, which costs half of
    what capture groups of that pattern cost."""
    col = pl.col
    return (
        pl.DataFrame({"text": text})
        .lazy()
        .with_columns(
            matched=col("text").str.contains(_URL), scheme=col("text").str.extract(_SCHEME)
        )
        # Where the text matches it is ASCII: byte offsets are character offsets.
        .with_columns(rest=col("text").str.slice(col("scheme").str.len_bytes().fill_null(-3) + 3))
        .with_columns(cut=col("rest").str.find("/", literal=True))
        .select(
            scheme=pl.when("matched").then("scheme"),
            host=pl.when("matched").then(col("rest").str.slice(0, col("cut"))),
            path=pl.when("matched").then(col("rest").str.slice(col("cut"))),
        )
        .collect()
    )


def _url_parts(text: pl.Series, *, domain: bool = True) -> pl.DataFrame:
    """scheme (lower, "https" when absent), host (lower), path, domain and ok for tidied text
    that is a plain http(s) address: ASCII host name, path of plain characters, nothing else."""
    groups = _url_split(text)
    host = groups["host"].str.to_lowercase()
    if domain:
        bare = host.str.replace(_WWW, "")
        found = pl.when(bare.str.contains(r"\.")).then(bare).otherwise(host)
    else:
        found = pl.lit(None, dtype=pl.String)
    return _select(
        scheme=groups["scheme"].str.to_lowercase().fill_null("https"),
        host=host,
        path=groups["path"].fill_null(""),
        domain=found,
        ok=(
            groups["host"].is_not_null()
            & (text.str.len_chars() <= 2000).fill_null(False)
            & ~host.str.contains("--").fill_null(True)
            & (host.str.len_bytes() <= 253).fill_null(False)
        ),
    )


def _website_path(
    raw: pl.Series, text: pl.Series, usable: pl.Series
) -> tuple[pl.Series, pl.Series]:
    parts = _url_parts(text, domain=False)
    path = pl.when(pl.col("path") == "/").then(pl.lit("")).otherwise(pl.col("path"))
    url = parts.select(pl.col("scheme") + "://" + pl.col("host") + path).to_series()
    storable = (url.str.len_chars() <= 255).fill_null(False)  # longer ones: the scalar's message
    return url, parts["ok"] & usable & storable


def url_domains(urls: pl.Series) -> tuple[pl.Series, pl.Series]:
    """(domain, ok): `norm.domain(url)` for urls as `norm.website` writes them, where the host
    is plain ASCII (it was checked when the url was made)."""
    host = urls.str.extract(r"^https?://([a-z0-9.\-]+)(?:/|$)", 1)
    bare = host.str.replace(_WWW, "")
    domain = _select(d=pl.when(bare.str.contains(r"\.")).then(bare).otherwise(host))["d"]
    ok = (host.is_not_null() & (urls.str.len_chars() <= 2000)).fill_null(False)
    return domain, ok


_EMAIL_HOST = rf"^[^ ]*@(?P<host>{_HOST})$"


def _domain_path(raw: pl.Series, text: pl.Series, usable: pl.Series) -> tuple[pl.Series, pl.Series]:
    """`norm.domain`: the host of an address without "www.", or the domain of an email."""
    parts = _url_parts(text)
    host = text.str.extract(_EMAIL_HOST, 1).str.to_lowercase()
    has_at = text.str.contains("@").fill_null(False)
    email_ok = (
        host.is_not_null()
        & ~text.str.contains("://").fill_null(True)
        & (text.str.len_chars() <= 320).fill_null(False)
        & ~host.str.contains("--").fill_null(True)
        & (host.str.len_bytes() <= 253).fill_null(False)
    )
    bare = host.str.replace(_WWW, "")
    email_domain = _select(
        d=pl.when(bare.str.contains(r"\.")).then(bare).otherwise(host)
    ).to_series()
    value = _select(d=pl.when(has_at).then(email_domain).otherwise(parts["domain"])).to_series()
    ok = _select(o=pl.when(has_at).then(email_ok).otherwise(parts["ok"])).to_series()
    return value, ok.fill_null(False) & usable


# --------------------------------------------------------------------------- identifiers


# Luhn's doubled digits, their own digits summed: 0..9 -> 0 2 4 6 8 1 3 5 7 9.
_DOUBLED = np.array([0, 2, 4, 6, 8, 1, 3, 5, 7, 9], dtype=np.uint8)


def luhn_valid(digits: pl.Series, length: int) -> pl.Series:
    """True where the string of `length` ASCII digits passes the Luhn check (null elsewhere):
    the digits of every such string side by side in one numpy matrix."""
    shaped = digits.str.contains(rf"^[0-9]{{{length}}}$").fill_null(False)
    positions = shaped.arg_true()
    unknown = pl.repeat(None, digits.len(), dtype=pl.Boolean, eager=True).alias(digits.name)
    if positions.len() == 0:
        return unknown
    text = digits.gather(positions).str.join("").item().encode("ascii")
    matrix = np.frombuffer(text, dtype=np.uint8).reshape(-1, length) - 48
    matrix[:, length - 2 :: -2] = _DOUBLED[matrix[:, length - 2 :: -2]]  # from the right: 2nd, 4th…
    valid = pl.Series(digits.name, matrix.sum(axis=1, dtype=np.uint16) % 10 == 0)
    return valid if positions.len() == digits.len() else unknown.scatter(positions, valid)


def _identifier_path(length: int) -> FastFunction:
    """SIREN (9) or SIRET (14): separators dropped, digits with a Luhn check digit (for a SIRET,
    its SIREN too). La Poste's SIRETs (356000000…) follow another rule: left to the scalar
    normaliser."""

    def run(raw: pl.Series, text: pl.Series, usable: pl.Series) -> tuple[pl.Series, pl.Series]:
        value = text.str.replace_all(r"[ .\-/_]+", "")
        shaped = value.str.contains(rf"^[0-9]{{{length}}}$").fill_null(False)
        ok = usable & shaped & luhn_valid(_when(shaped, value), length).fill_null(False)
        if length == 14:
            siren = _when(shaped, value.str.slice(0, 9))
            ok = ok & luhn_valid(siren, 9).fill_null(False)
            ok = ok & ~value.str.starts_with("356000000").fill_null(True)
        return value, ok

    return run


# --------------------------------------------------------------------------- numbers


# `core.values`: spaces of any kind and apostrophes are digit group separators ("1 200",
# "1'200"); amounts may carry a currency. Only text made of these (ASCII otherwise) is taken.
_GROUPING = f"[{_text.WHITESPACE_CLASS}']+"
_NUMBER_CHARS = f"^[0-9+\\-'{_text.WHITESPACE_CLASS}]*$"
_AMOUNT_CHARS = f"^[0-9.,'€$£EURSDGBeursdgb{_text.WHITESPACE_CLASS}]*$"
_CURRENCY = r"(?i)[€$£]|EUR|USD|GBP"


def _whole_number_path(minimum: int, maximum: int) -> FastFunction:
    def run(raw: pl.Series, text: pl.Series, usable: pl.Series) -> tuple[pl.Series, pl.Series]:
        plain = raw.str.replace_all(_GROUPING, "")
        shaped = (
            raw.str.contains(_NUMBER_CHARS) & plain.str.contains(r"^[+\-]?[0-9]{1,12}$")
        ).fill_null(False)
        value = _when(shaped, plain).cast(pl.Int64)
        ok = shaped & value.is_between(minimum, maximum).fill_null(False)
        return value, ok

    return run


def _amount_path(max_digits: int, places: int) -> FastFunction:
    """Amounts without a sign or thousands separator other than spaces ("1234", "1 234,5 €",
    "1234.56 EUR"): digits, then a decimal point or comma and at most `places` decimals."""
    pattern = rf"^[0-9]{{1,{max_digits - places}}}(?:[.,][0-9]{{1,{places}}})?$"

    def run(raw: pl.Series, text: pl.Series, usable: pl.Series) -> tuple[pl.Series, pl.Series]:
        plain = raw.str.replace_all(_GROUPING, "").str.replace_all(_CURRENCY, "")
        ok = (raw.str.contains(_AMOUNT_CHARS) & plain.str.contains(pattern)).fill_null(False)
        value = _when(ok, plain).str.replace(",", ".", literal=True).str.to_decimal(scale=places)
        return value, ok

    return run


# --------------------------------------------------------------------------- recognition


def _unwrap(spec: Any) -> tuple[Any, dict[str, Any]] | None:
    if isinstance(spec, partial):
        if spec.args:
            return None
        return spec.func, dict(spec.keywords)
    return spec, {}


def _argument(func: Any, keywords: dict[str, Any], name: str) -> Any:
    if name in keywords:
        return keywords[name]
    return inspect.signature(func).parameters[name].default


_LONG_TEXT_CODE = people_normalise._long_text("description").__code__  # type: ignore[attr-defined]
_LONG_TEXT_LIMIT = 10_000


def fast_path_for(spec: Any) -> FastPath | None:
    """The fast path of a foundation normaliser, or None (scalar per distinct value)."""
    unwrapped = _unwrap(spec)
    if unwrapped is None:
        return None
    func, keywords = unwrapped
    string = pl.String
    if func is norm.tidy_text:
        return FastPath(_text_path(_argument(func, keywords, "max_length")), string)
    if func is norm.organisation_name:
        return FastPath(_name_path(_argument(func, keywords, "max_length"), person=False), string)
    if func is norm.person_name:
        return FastPath(_name_path(_argument(func, keywords, "max_length"), person=True), string)
    if func is norm.phone:
        region = _argument(func, keywords, "region")
        return FastPath(_phone_path, string) if region == "FR" else None
    if func is norm.email:
        return FastPath(_email_path, string)
    if func is people_normalise._website:
        return FastPath(_website_path, string)
    if func is norm.domain:
        return FastPath(_domain_path, string)
    if func is norm.siren:
        return FastPath(_identifier_path(9), string)
    if func is norm.siret:
        return FastPath(_identifier_path(14), string)
    if func is typed.whole_number:
        minimum = _argument(func, keywords, "minimum")
        maximum = _argument(func, keywords, "maximum")
        return FastPath(_whole_number_path(minimum, maximum), pl.Int64, tidied=False)
    if func is typed.amount:
        max_digits = _argument(func, keywords, "max_digits")
        places = _argument(func, keywords, "places")
        return FastPath(_amount_path(max_digits, places), pl.Decimal, tidied=False)
    if getattr(func, "__code__", None) is _LONG_TEXT_CODE:
        return FastPath(_long_text_path(_LONG_TEXT_LIMIT), string)
    return None
