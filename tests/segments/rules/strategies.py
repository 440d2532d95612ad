"""Hypothesis strategies for the rule property tests: random bases and random valid rules.

Values come from small pools shared by the data and the rules, so that conditions hit and miss
often; the pools hold the awkward cases on purpose (capitals, accents, ligatures, characters
whose case mapping is not one letter, empty and missing values, day boundaries in Paris).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from cible.segments import rules
from cible.segments.rules import RuleField

UTC = dt.UTC
NOW = dt.datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # the night clocks change in Paris
TODAY = dt.date(2026, 3, 29)

FOLD_TEXTS = [
    "Lille",
    "LILLE",
    "lillé",
    "Île-de-France",
    "ILE-DE-FRANCE",
    "Saint-Étienne",
    "saint etienne",
    "Œuvre",
    "œuvre",
    "ÆON",
    "Straße",
    "İstanbul",
    "ǅemal",
    "Ørsted",
    "ß",
    "a%b_c",
    "100%",
    "",
]
_ALPHABET = st.characters(
    codec="utf-8", exclude_characters="\x00", exclude_categories=("Cs",), max_codepoint=0x2FF
)
free_text = st.one_of(st.sampled_from(FOLD_TEXTS), st.text(_ALPHABET, max_size=6))
rule_text = st.one_of(
    st.sampled_from([t for t in FOLD_TEXTS if t.strip()]),
    st.text(_ALPHABET, min_size=1, max_size=3).filter(lambda t: t.strip() != ""),
)

# Exact fields: stored values (some not in canonical form) and rule values (whole, fragment).
EXACT_DATA: dict[str, list[str]] = {
    "name": ["acme", "acme sas", "lille tech", "saint etienne", ""],
    "siren": ["732829320", "552100554", "", "123"],
    "siret": ["73282932000074", "", "55210055400013"],
    "vat_number": ["FR40303265045", "", "DE123456789"],
    "domain": ["acme.fr", "example.com", "ACME.fr", ""],
    "phone": ["+33320000000", "+33140000000", ""],
    "postal_code": ["59000", "75008", "69003", "EC1A 1BB", "", "59 000"],
    "naf_code": ["62.01Z", "70.22Z", "58.29C", "85.59A", "", "6201Z"],
    "currency": ["EUR", "GBP", "eur", ""],
    "email": ["a@acme.fr", "b@acme.fr", "B@ACME.FR", ""],
    "mobile": ["+33612345678", ""],
    "language": ["fr", "en", "FR", ""],
}
EXACT_WHOLE: dict[str, list[str]] = {
    "name": ["Acme", "ACME SAS", "acmé", "Lille-Tech", "Saint Étienne"],
    "siren": ["732 829 320", "552100554"],
    "siret": ["73282932000074"],
    "vat_number": ["FR40303265045", "fr 40303265045"],
    "domain": ["ACME.fr", "https://www.example.com/x"],
    "phone": ["03 20 00 00 00", "+33140000000"],
    "postal_code": ["59000", "ec1a 1bb", "75008"],
    "naf_code": ["62.01Z", "6201z", "70.22Z"],
    "currency": ["eur", "GBP"],
    "email": ["A@acme.fr", "b@acme.fr"],
    "mobile": ["06 12 34 56 78"],
    "language": ["FR", "en"],
}
EXACT_FRAGMENT: dict[str, list[str]] = {
    "name": ["acme", "lille", "tech", "é"],
    "siren": ["732", "5"],
    "siret": ["7328", "0001"],
    "vat_number": ["FR", "de"],
    "domain": ["ACME", ".com", "fr"],
    "phone": ["+333", "0000"],
    "postal_code": ["59", "ec1", "0"],
    "naf_code": ["62", "70.2", "58.2", "z"],
    "currency": ["e", "GB"],
    "email": ["@ACME", "a@"],
    "mobile": ["+336"],
    "language": ["f", "EN"],
}
REGIONS = ["FR-HDF", "FR-IDF", "FR-ARA", "FR-PAC", "", "Bavaria"]
COUNTRIES = ["FR", "DE", "GB", "", "fr"]
NUMBERS: dict[str, list[Any]] = {
    "headcount": [None, 0, 9, 10, 42, 249, 250, 4999, 5000],
    "sales_team_size": [None, 0, 3, 4, 10, 11, 20, 21],
    "annual_revenue": [
        None,
        Decimal("0.00"),
        Decimal("999.99"),
        Decimal("1000.00"),
        Decimal("-5.50"),
    ],
    "opportunities.one_time_amount": [Decimal("0.00"), Decimal("1500.50"), Decimal("20000.00")],
    "opportunities.recurring_amount": [Decimal("0.00"), Decimal("99.99"), Decimal("100.00")],
}
DAYS = [TODAY + dt.timedelta(days=n) for n in (-400, -31, -30, -29, -1, 0, 1, 30)]
PRODUCTS = [
    ("Salesforce", "CRM"),
    ("SugarCRM", "crm"),
    ("Sage CRM", "CRM"),
    ("HubSpot", "Marketing"),
    ("Mailchimp", ""),
]
PRODUCT_VALUES = ["salesforce", "SAGE crm", "Hubspot", "sugarcrm", "CRM", "marketing", "Zoho"]


def moments() -> st.SearchStrategy[dt.datetime]:
    """Instants around the day boundaries of Paris (midnight local is 23:00 or 22:00 UTC)."""
    day = st.sampled_from(DAYS)
    minutes = st.sampled_from([-61, -60, -1, 0, 1, 59, 60, 61, 600])

    def build(d: dt.date, m: int) -> dt.datetime:
        from django.utils import timezone

        start = timezone.make_aware(dt.datetime.combine(d, dt.time.min))
        return (start + dt.timedelta(minutes=m)).astimezone(UTC)

    return st.builds(build, day, minutes)


@dataclass
class Base:
    """One random base: rows as dicts, ready to be written."""

    organisations: list[dict[str, Any]] = field(default_factory=list)
    contacts: list[dict[str, Any]] = field(default_factory=list)
    products: list[tuple[int, int]] = field(default_factory=list)  # (organisation index, product)
    opportunities: list[dict[str, Any]] = field(default_factory=list)
    memberships: list[tuple[int, int]] = field(default_factory=list)  # (org index, segment index)


def _choice_values(name: str, level: str = "organisation") -> list[str]:
    f = rules.field_for(level, name)  # type: ignore[arg-type]
    assert f is not None, name
    return [v for v, _label in f.choice_list()]


@st.composite
def organisation_rows(draw: Any, owners: list[int]) -> dict[str, Any]:
    maybe_moment = st.one_of(st.none(), moments())
    return {
        "legal_name": draw(free_text),
        "trade_name": draw(free_text),
        "name_key": draw(st.sampled_from(EXACT_DATA["name"])),
        "siren": draw(st.sampled_from(EXACT_DATA["siren"])),
        "siret": draw(st.sampled_from(EXACT_DATA["siret"])),
        "vat_number": draw(st.sampled_from(EXACT_DATA["vat_number"])),
        "website": draw(free_text),
        "domain": draw(st.sampled_from(EXACT_DATA["domain"])),
        "phone": draw(st.sampled_from(EXACT_DATA["phone"])),
        "street": draw(free_text),
        "postal_code": draw(st.sampled_from(EXACT_DATA["postal_code"])),
        "city": draw(free_text),
        "region": draw(st.sampled_from(REGIONS)),
        "country": draw(st.sampled_from(COUNTRIES)),
        "naf_code": draw(st.sampled_from(EXACT_DATA["naf_code"])),
        "naf_division": draw(st.sampled_from(["62", "70", "58", "85", ""])),
        "naf_section": draw(st.sampled_from(["J", "M", "C", "P", ""])),
        "headcount": draw(st.sampled_from(NUMBERS["headcount"])),
        "headcount_band": draw(st.sampled_from(["", *_choice_values("headcount_band")])),
        "size_class": draw(st.sampled_from(["", "tpe", "pme", "eti", "ge"])),
        "annual_revenue": draw(st.sampled_from(NUMBERS["annual_revenue"])),
        "currency": draw(st.sampled_from(EXACT_DATA["currency"])),
        "sales_team_size": draw(st.sampled_from(NUMBERS["sales_team_size"])),
        "status": draw(st.sampled_from(_choice_values("status"))),
        "tier": draw(st.sampled_from(["", "gold", "silver"])),
        "source": draw(st.sampled_from(["", "website", "event"])),
        "description": draw(free_text),
        "owner_id": draw(st.sampled_from([None, *owners])),
        "created_at": draw(moments()),
        "last_verified_at": draw(maybe_moment),
    }


@st.composite
def contact_rows(draw: Any, owners: list[int], organisations: int) -> dict[str, Any]:
    maybe_moment = st.one_of(st.none(), moments())
    organisation = draw(st.one_of(st.none(), st.integers(0, max(organisations - 1, 0))))
    return {
        "organisation": organisation if organisations else None,
        "first_name": draw(free_text),
        "last_name": draw(free_text),
        "name_key": draw(st.sampled_from(EXACT_DATA["name"])),
        "email_key": draw(st.sampled_from(EXACT_DATA["email"])),
        "phone": draw(st.sampled_from(EXACT_DATA["phone"])),
        "mobile": draw(st.sampled_from(EXACT_DATA["mobile"])),
        "job_title": draw(free_text),
        "function": draw(st.sampled_from(["", "sales", "marketing", "it"])),
        "seniority": draw(st.sampled_from(["", "director", "manager"])),
        "buying_role": draw(st.sampled_from(["", *_choice_values("buying_role", "contact")[:3]])),
        "language": draw(st.sampled_from(EXACT_DATA["language"])),
        "email_consent": draw(st.sampled_from(["unknown", "granted", "withdrawn"])),
        "email_opt_out": draw(st.booleans()),
        "phone_opt_out": draw(st.booleans()),
        "lifecycle_stage": draw(st.sampled_from(["suspect", "mql", "customer"])),
        "source": draw(st.sampled_from(["", "website"])),
        "has_left": draw(st.booleans()),
        "owner_id": draw(st.sampled_from([None, *owners])),
        "created_at": draw(moments()),
        "last_verified_at": draw(maybe_moment),
        "email_bounced_at": draw(maybe_moment),
    }


@st.composite
def opportunity_rows(draw: Any, owners: list[int], organisations: int) -> dict[str, Any]:
    stage = draw(st.sampled_from(["prospecting", "proposal", "won", "lost"]))
    closed = stage in ("won", "lost") or draw(st.booleans())
    return {
        "organisation": draw(st.integers(0, organisations - 1)),
        "stage": stage,
        "type": draw(st.sampled_from(["new_business", "renewal"])),
        "lost_reason": draw(st.sampled_from(["", "price", "competitor"])),
        "closed_on": draw(st.sampled_from(DAYS)) if closed else None,
        "expected_close_date": draw(st.one_of(st.none(), st.sampled_from(DAYS))),
        "one_time_amount": draw(st.sampled_from(NUMBERS["opportunities.one_time_amount"])),
        "recurring_amount": draw(st.sampled_from(NUMBERS["opportunities.recurring_amount"])),
        "owner_id": draw(st.sampled_from([None, *owners])),
        "created_at": draw(moments()),
    }


@st.composite
def bases(draw: Any, owners: list[int]) -> Base:
    base = Base()
    count = draw(st.integers(0, 8))
    base.organisations = [draw(organisation_rows(owners)) for _ in range(count)]
    base.contacts = [
        draw(contact_rows(owners, count)) for _ in range(draw(st.integers(0, 2 * count + 1)))
    ]
    if count:
        base.products = sorted(
            draw(
                st.sets(
                    st.tuples(st.integers(0, count - 1), st.integers(0, len(PRODUCTS) - 1)),
                    max_size=2 * count,
                )
            )
        )
        base.opportunities = [
            draw(opportunity_rows(owners, count)) for _ in range(draw(st.integers(0, count)))
        ]
        base.memberships = sorted(
            draw(st.sets(st.tuples(st.integers(0, count - 1), st.integers(0, 1)), max_size=count))
        )
    return base


# --- rules ---------------------------------------------------------------------------------------


def _base_name(f: RuleField) -> str:
    return (
        f.name.split(".", 1)[1]
        if f.relation in ("contacts", "organisation") and "." in f.name
        else f.name
    )


def _scalar(f: RuleField, op: str, context: dict[str, Any]) -> st.SearchStrategy[Any]:
    name = _base_name(f)
    if f.kind == "text":
        if f.mode == "fold":
            return rule_text
        whole = op in ("equals", "not_equals", "in", "not_in")
        return st.sampled_from((EXACT_WHOLE if whole else EXACT_FRAGMENT)[name])
    if f.kind == "choice":
        if name == "region":
            return st.sampled_from(["FR-HDF", "FR-IDF", "Île-de-France", "FR-PAC"])
        if name == "country":
            return st.sampled_from(["FR", "DE", "Allemagne", "gb"])
        return st.sampled_from([v for v, _label in f.choice_list()][:8])
    if f.kind == "number":
        pool = NUMBERS.get(f.name) or NUMBERS.get(name) or [0, 1, 10]
        return st.sampled_from([v for v in pool if v is not None] + [-1, 5])
    if f.kind in ("date", "datetime"):
        return st.sampled_from([d.isoformat() for d in DAYS])
    if f.kind == "reference":
        return st.sampled_from([*context["owners"], 999_999])
    if f.kind == "list":
        return st.sampled_from(PRODUCT_VALUES)
    if f.kind == "segment":
        return st.sampled_from(context["segments"])
    raise AssertionError(f.kind)


@st.composite
def conditions(draw: Any, level: str, context: dict[str, Any]) -> dict[str, Any]:
    candidates = [
        f
        for f in rules.fields_for(level)  # type: ignore[arg-type]
        if f.kind != "segment" or context["segments"]
    ]
    f = draw(st.sampled_from(candidates))
    op = draw(st.sampled_from(rules.OPERATORS[f.kind]))
    shape = rules.operators.shape_of(op)
    data: dict[str, Any] = {"field": f.name, "op": op}
    if shape == "one":
        data["value"] = draw(_scalar(f, op, context))
    elif shape == "many":
        data["value"] = draw(st.lists(_scalar(f, op, context), min_size=1, max_size=3))
    elif shape == "pair":
        low, high = draw(_scalar(f, op, context)), draw(_scalar(f, op, context))
        data["value"] = sorted([low, high])
    elif shape == "days":
        data["value"] = draw(st.sampled_from([0, 1, 29, 30, 31, 400]))
    return data


def rule_trees(level: str, context: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    def group(children: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
        return st.builds(
            lambda match, items: {"match": match, "conditions": items},
            st.sampled_from(["all", "any"]),
            st.lists(children, min_size=1, max_size=3),
        )

    tree = st.recursive(conditions(level, context), group, max_leaves=5)
    return st.one_of(
        group(tree), st.builds(lambda c: {"match": "all", "conditions": [c]}, tree)
    ).filter(lambda t: _depth(t) <= 5)


def _depth(node: dict[str, Any]) -> int:
    if "conditions" not in node:
        return 0
    return 1 + max(_depth(child) for child in node["conditions"])
