"""What a web form can ask, and how a posted value is read. Pure: no database.

The catalogue lists the fields the capture service knows how to match and fill; a form's
`fields` (a JSON list) picks some of them, with labels in French and English, a required flag
and an order. The builder, the public page, the embeddable snippet and the service all read the
same catalogue, so a field offered in the UI is always one the service can store.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.utils.translation import gettext as _

from cible.core import normalisers as norm
from cible.core.errors import FieldError
from cible.people.models import ContactFunction

# Control fields of every form: a honeypot a person never sees, and the signed start time.
HONEYPOT = "homepage"
TOKEN = "_ts"  # noqa: S105 - the name of a form field, not a secret
CONSENT = "consent"
UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")
UTM_MAX = 100
LANGUAGES = ("fr", "en")
# What is kept of a raw value that is far too long to be valid (so a huge post is still stored).
STORED_VALUE_MAX = 10_000
STORED_KEYS_MAX = 60


@dataclass(frozen=True)
class FieldKind:
    key: str
    label_fr: str
    label_en: str
    input: str  # the HTML input type, or "textarea" / "select"
    max_length: int
    autocomplete: str = ""


CATALOGUE: tuple[FieldKind, ...] = (
    FieldKind("email", "Adresse e-mail", "Email address", "email", 254, "email"),
    FieldKind("first_name", "Prénom", "First name", "text", 100, "given-name"),
    FieldKind("last_name", "Nom", "Last name", "text", 100, "family-name"),
    FieldKind("phone", "Téléphone", "Phone", "tel", 40, "tel"),
    FieldKind("job_title", "Fonction", "Job title", "text", 150, "organization-title"),
    FieldKind("function", "Service", "Department", "select", 40),
    FieldKind("company", "Entreprise", "Company", "text", 255, "organization"),
    FieldKind("company_website", "Site web de l'entreprise", "Company website", "url", 255, "url"),
    FieldKind("country", "Pays", "Country", "text", 100, "country-name"),
    FieldKind("city", "Ville", "City", "text", 100, "address-level2"),
    FieldKind("message", "Message", "Message", "textarea", 5000),
)
BY_KEY: dict[str, FieldKind] = {kind.key: kind for kind in CATALOGUE}


@dataclass(frozen=True)
class FormField:
    """One field of a form, as the public page shows it."""

    key: str
    label: str
    required: bool
    kind: FieldKind


def default_fields() -> list[dict[str, Any]]:
    """A new form asks for an email, a name and a company."""
    return [
        {"field": key, "label_fr": "", "label_en": "", "required": key == "email"}
        for key in ("email", "first_name", "last_name", "company")
    ]


def parse_fields(raw: Any) -> tuple[list[dict[str, Any]], list[FieldError]]:
    """A builder's field list, checked: known fields, once each, email present and required."""
    errors: list[FieldError] = []
    if not isinstance(raw, list):
        return [], [FieldError("fields", _("must be a list of fields"))]
    seen: set[str] = set()
    result: list[dict[str, Any]] = []
    for item in raw:
        key = str(item.get("field", "")) if isinstance(item, Mapping) else ""
        if key not in BY_KEY:
            errors.append(
                FieldError(
                    "fields", _("“%(value)s” is not a field a form can ask") % {"value": key[:40]}
                )
            )
            continue
        if key in seen:
            errors.append(FieldError("fields", _("“%(value)s” is asked twice") % {"value": key}))
            continue
        seen.add(key)
        labels = {
            name: " ".join(str(item.get(name) or "").split())[:200]
            for name in ("label_fr", "label_en")
        }
        result.append(
            {"field": key, **labels, "required": key == "email" or bool(item.get("required"))}
        )
    if "email" not in seen:
        errors.append(FieldError("fields", _("a form must ask for the email address")))
    return result, errors


def form_fields(spec: Sequence[Mapping[str, Any]], language: str) -> list[FormField]:
    """The fields of a form in its order, labelled in `language` (the catalogue's label when the
    builder left it blank)."""
    fields = []
    for item in spec:
        kind = BY_KEY.get(str(item.get("field")))
        if kind is None:
            continue
        own = item.get(f"label_{language}") or ""
        default = kind.label_fr if language == "fr" else kind.label_en
        fields.append(FormField(kind.key, own or default, bool(item.get("required")), kind))
    return fields


def function_choices() -> list[tuple[str, str]]:
    return [(value, str(label)) for value, label in ContactFunction.choices]


def origin_of(raw: str) -> str | None:
    """`https://www.example.com/path` → `https://www.example.com`; None if not an http origin."""
    text = raw.strip().rstrip("/")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


def parse_origins(raw: str) -> tuple[list[str], list[FieldError]]:
    """Allowed websites, one per line or separated by commas or spaces."""
    origins: list[str] = []
    errors: list[FieldError] = []
    for part in raw.replace(",", " ").split():
        origin = origin_of(part)
        if origin is None:
            errors.append(
                FieldError(
                    "allowed_origins",
                    _("“%(value)s” is not a website address starting with https:// or http://")
                    % {"value": part[:60]},
                )
            )
        elif origin not in origins:
            origins.append(origin)
    return origins, errors


def stored(data: Mapping[str, Any]) -> dict[str, Any]:
    """The posted data as it is kept: every key, values cut at 10,000 characters, the token
    left out (it proves nothing once checked)."""
    kept: dict[str, Any] = {}
    for key, value in list(data.items())[:STORED_KEYS_MAX]:
        name = str(key)[:100]
        if name == TOKEN:
            continue
        if isinstance(value, str | int | float | bool) or value is None:
            kept[name] = value[:STORED_VALUE_MAX] if isinstance(value, str) else value
        else:
            kept[name] = repr(value)[:STORED_VALUE_MAX]
    return kept


def clean_utm(raw: Mapping[str, Any]) -> dict[str, str]:
    """The five UTM parameters, as text of at most 100 characters; anything else is dropped."""
    result = {}
    for key in UTM_KEYS:
        value = raw.get(key)
        if isinstance(value, str) and value.strip():
            result[key] = " ".join(value.split())[:UTM_MAX]
    return result


def _text(value: str, kind: FieldKind) -> str:
    if "\x00" in value:
        raise norm.NormalisationError(kind.key, _("must not contain NUL characters"))
    if len(value) > kind.max_length:
        raise norm.NormalisationError(
            kind.key,
            _("is too long (%(length)s characters, at most %(max)s)")
            % {"length": f"{len(value):,}", "max": f"{kind.max_length:,}"},
        )
    return value


def read_value(kind: FieldKind, value: str) -> Any:
    """A posted value in the shape the service stores; NormalisationError names the problem."""
    value = _text(value.strip(), kind)
    if kind.key == "email":
        return norm.email(value, field="email")
    if kind.key in ("first_name", "last_name"):
        return norm.person_name(value, field=kind.key, max_length=kind.max_length)
    if kind.key == "phone":
        return norm.phone(value, field="phone")
    if kind.key == "function":
        if value not in ContactFunction.values:
            raise norm.NormalisationError("function", _("choose one of the departments listed"))
        return value
    if kind.key == "company":
        return norm.organisation_name(value, field="company", max_length=kind.max_length)
    if kind.key == "company_website":
        url, domain = norm.website(value, field="company_website")
        return {"url": url, "domain": domain} if url else None
    if kind.key == "country":
        return norm.country(value, field="country")
    if kind.key == "message":
        return "".join(c for c in value if c in "\n\t" or c >= " ").strip()
    return norm.tidy_text(value, max_length=kind.max_length, field=kind.key)


def read(
    spec: Sequence[Mapping[str, Any]], data: Mapping[str, Any]
) -> tuple[dict[str, Any], list[FieldError]]:
    """The form's fields read from `data`: values by field key, and every problem at once."""
    values: dict[str, Any] = {}
    errors: list[FieldError] = []
    for item in spec:
        kind = BY_KEY.get(str(item.get("field")))
        if kind is None:
            continue
        raw = data.get(kind.key)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if item.get("required"):
                errors.append(FieldError(kind.key, _("is required")))
            continue
        if not isinstance(raw, str):
            errors.append(FieldError(kind.key, _("must be text")))
            continue
        try:
            value = read_value(kind, raw)
        except norm.NormalisationError as error:
            errors.append(FieldError(kind.key, error.message))
            continue
        if value not in (None, ""):
            values[kind.key] = value
        elif item.get("required"):
            errors.append(FieldError(kind.key, _("is required")))
    return values, errors


def consent_given(raw: Any) -> bool:
    """A ticked box posts "on"; JSON clients send true."""
    if isinstance(raw, bool):
        return raw
    return isinstance(raw, str) and raw.strip().lower() in ("on", "true", "1", "yes", "oui")
