"""Parsers for typed values typed by people: "1 200", "1 234,56 €", "oui", "25/12/2026".

They complete `normalisers` (which tidy identities: names, phones, countries…) and raise the
same `NormalisationError`, so every way in reports bad input the same way, in the active
language (messages are translated when raised).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from cible.core.normalisers import NormalisationError

_SPACES = re.compile(r"[\s\u00a0\u202f']")
_CURRENCY = re.compile(r"[€$£]|EUR|USD|GBP", re.IGNORECASE)


def _blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and raw.strip() == "")


def _shown(raw: Any) -> str:
    """The bad value as echoed in a message: its first 60 characters."""
    return str(raw)[:60]


def _fail(field: str, raw: Any, message: str) -> NormalisationError:
    """``message`` (translated) names the bad value as ``%(value)s``."""
    return NormalisationError(field, message % {"value": _shown(raw)})


def is_id(raw: Any) -> bool:
    """Is `raw` a record id as text or number: ASCII digits only (`str.isdigit` also accepts
    "¹" or "²", which `int()` then refuses) and within a 64-bit key."""
    if isinstance(raw, bool):
        return False
    if isinstance(raw, int):
        return 0 <= raw < 2**63
    text = str(raw)
    return text.isascii() and text.isdigit() and len(text) <= 19 and int(text) < 2**63


def whole_number(raw: Any, *, field: str, minimum: int = 0, maximum: int = 2**31 - 1) -> int | None:
    if _blank(raw):
        return None
    if isinstance(raw, bool):
        raise _fail(field, raw, _("“%(value)s” is not a whole number"))
    if isinstance(raw, int):
        value = raw
    else:
        text = _SPACES.sub("", str(raw))
        if not re.fullmatch(r"[+-]?\d{1,12}", text):
            raise _fail(field, raw, _("“%(value)s” is not a whole number"))
        value = int(text)
    if not minimum <= value <= maximum:
        raise NormalisationError(
            field,
            _("%(value)s is out of range (%(min)s to %(max)s)")
            % {"value": value, "min": minimum, "max": maximum},
        )
    return value


def amount(raw: Any, *, field: str, max_digits: int = 14, places: int = 2) -> Decimal | None:
    """A money amount, accepting French ("1 234,56 €") and English ("1,234.56") writing."""
    if _blank(raw):
        return None
    if isinstance(raw, bool):
        raise _fail(field, raw, _("“%(value)s” is not an amount"))
    if isinstance(raw, int | Decimal):
        value = Decimal(raw)
    elif isinstance(raw, float):
        value = Decimal(str(raw))
    else:
        text = _CURRENCY.sub("", _SPACES.sub("", str(raw)))
        if re.fullmatch(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?", text):
            text = text.replace(",", "")  # 1,234.56
        elif re.fullmatch(r"[+-]?\d{1,3}(\.\d{3})+(,\d+)?", text):
            text = text.replace(".", "").replace(",", ".")  # 1.234,56
        else:
            text = text.replace(",", ".")
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise _fail(field, raw, _("“%(value)s” is not an amount")) from None
    if not value.is_finite():
        raise _fail(field, raw, _("“%(value)s” is not an amount"))
    if value < 0:
        raise NormalisationError(field, _("must not be negative"))
    if value >= Decimal(10) ** (max_digits - places):  # checked first: quantize would overflow
        raise NormalisationError(
            field, _("is too large (at most %(digits)s digits)") % {"digits": max_digits - places}
        )
    return value.quantize(Decimal(1).scaleb(-places))


def choice(raw: Any, *, field: str, choices: Iterable[tuple[str, Any]]) -> str:
    """A choice given by its value or its label, in any case; blank gives ""."""
    if _blank(raw):
        return ""
    text = str(raw).strip().lower()
    pairs = list(choices)
    for value, label in pairs:
        if text == str(value).lower() or text == str(label).lower():
            return str(value)
    allowed = ", ".join(str(value) for value, _label in pairs)
    raise NormalisationError(
        field,
        _("“%(value)s” is not one of: %(choices)s") % {"value": _shown(raw), "choices": allowed},
    )


_TRUE = {"1", "true", "yes", "y", "oui", "o", "vrai", "x", "on"}
_FALSE = {"0", "false", "no", "n", "non", "faux", "off"}


def boolean(raw: Any, *, field: str) -> bool | None:
    if _blank(raw):
        return None
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _fail(field, raw, _("“%(value)s” is not yes or no"))


def moment(raw: Any, *, field: str) -> dt.datetime | None:
    """A point in time: a datetime, or ISO 8601 text; naive values are taken as UTC."""
    if _blank(raw):
        return None
    if isinstance(raw, dt.datetime):
        value = raw
    elif isinstance(raw, dt.date):
        value = dt.datetime.combine(raw, dt.time())
    else:
        value = _parse_moment(str(raw).strip(), field)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


_DAY_FIRST_MOMENTS = ("%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d-%m-%Y %H:%M")


def _parse_moment(text: str, field: str) -> dt.datetime:
    """ISO 8601, or the day-first dates (with or without a time) French spreadsheets hold."""
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        pass
    for pattern in _DAY_FIRST_MOMENTS:
        try:
            return dt.datetime.strptime(text, pattern)
        except ValueError:
            continue
    try:
        day = date(text, field=field)
    except NormalisationError:
        raise _fail(
            field, text, _("“%(value)s” is not a date (use YYYY-MM-DD or DD/MM/YYYY)")
        ) from None
    assert day is not None
    return dt.datetime.combine(day, dt.time())


def date(raw: Any, *, field: str) -> dt.date | None:
    """ISO dates and French day-first dates (25/12/2026, 25.12.2026)."""
    if _blank(raw):
        return None
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    text = str(raw).strip()
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%d/%m/%y"):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise _fail(field, text, _("“%(value)s” is not a date (use YYYY-MM-DD or DD/MM/YYYY)"))
