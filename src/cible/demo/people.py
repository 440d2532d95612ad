"""Demo steps of the people app: installed products, teams and users, and the shared helpers
(pools of names, weighted draws, identifiers) the organisation step builds on.

Users and teams go through `people.services` (there are a handful); organisations and contacts
are in `demo.organisations`.

Faker is only used to fill small pools of names and streets (a few thousand draws, seeded); the
rows combine pool entries with `random.Random`, which keeps the 1M size fast.
"""

from __future__ import annotations

import datetime as dt
import importlib
from bisect import bisect
from collections.abc import Sequence
from functools import cache
from itertools import accumulate
from random import Random
from typing import Any

from django.contrib.auth import get_user_model

from cible.core import nace
from cible.core import normalisers as norm
from cible.core.roles import Role
from cible.demo import reference as ref
from cible.demo.generator import DEMO_PASSWORD_HASH, DemoContext, Step, register
from cible.people.models import CompetitorProduct, Team
from cible.people.services import team_create, user_create

CHUNK = 20_000  # organisations generated and written per round (with their contacts)

# --- weighted choices -------------------------------------------------------------------------


class Weighted:
    """`pick(rng)` draws one item by weight; faster than `rng.choices` in a hot loop."""

    __slots__ = ("cumulative", "items", "total")

    def __init__(self, pairs: Sequence[tuple[Any, float]]) -> None:
        self.items = [item for item, _weight in pairs]
        self.cumulative = list(accumulate(weight for _item, weight in pairs))
        self.total = self.cumulative[-1]

    def pick(self, rng: Random) -> Any:
        return self.items[bisect(self.cumulative, rng.random() * self.total)]


# --- keys and slugs, cached per fragment ------------------------------------------------------


@cache
def key(text: str) -> str:
    """`normalisers.search_key` of one fragment. The key of fragments joined by spaces is the
    keys joined by spaces (dropping empty ones), so whole names never need the slow path."""
    return norm.search_key(text)


def join_keys(*parts: str) -> str:
    return " ".join(k for k in map(key, parts) if k)


@cache
def slug(text: str) -> str:
    return "-".join(
        "".join(c for c in word if c.isascii() and c.isalnum()) for word in key(text).split()
    )


@cache
def region_of(postal_code: str) -> str:
    return norm.french_region_from_postal_code(postal_code) or ""


@cache
def section_of(naf_code: str) -> str:
    return nace.section_for(naf_code)


def luhn_digit(number: str) -> str:
    """The check digit that makes `number + digit` pass the Luhn test (SIREN, SIRET)."""
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


# SIRENs: a bijection of the organisation's position in the dataset onto 30,000,000–99,999,999
# (then the check digit), so they are unique without remembering them and do not depend on the
# ids the database hands out. The multiplier is coprime to 70,000,000.
_SIREN_SPAN = 70_000_000
_SIREN_MULTIPLIER = 31_415_927


def siren_for(index: int, offset: int) -> str:
    base = 30_000_000 + (_SIREN_MULTIPLIER * index + offset) % _SIREN_SPAN
    text = str(base)
    return text + luhn_digit(text)


def vat_for(siren: str) -> str:
    return f"FR{(12 + 3 * (int(siren) % 97)) % 97:02d}{siren}"


# --- pools of names and streets (Faker, seeded) -----------------------------------------------


class Pools:
    """Names and streets per Faker locale; rows then combine them at random.

    Names are Faker's own lists for the locale (read once from its person provider); streets are
    drawn with a Faker generator seeded from the demo seed. Only the two providers needed are
    loaded: a full `Faker(locale)` costs ~50 ms per locale in provider discovery alone.
    """

    STREET_LOCALES = {"fr_BE": "fr_FR", "fr_CH": "fr_FR", "nl_BE": "nl_NL"}

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._names: dict[str, dict[str, list[str]]] = {}
        self._streets: dict[str, list[str]] = {}

    def of(self, locale: str) -> dict[str, list[str]]:
        pools = self._names.get(locale)
        if pools is None:
            person = importlib.import_module(f"faker.providers.person.{locale}").Provider
            pools = self._names[locale] = {
                "male": [str(n) for n in person.first_names_male],
                "female": [str(n) for n in person.first_names_female],
                "last": [str(n) for n in person.last_names],
            }
        return pools

    def streets(self, locale: str) -> list[str]:
        locale = self.STREET_LOCALES.get(locale, locale)
        streets = self._streets.get(locale)
        if streets is None:
            streets = self._streets[locale] = self._draw_streets(locale)
        return streets

    def _draw_streets(self, locale: str) -> list[str]:
        if locale == "en_GB":  # Faker's en_GB street suffixes are American ("Trafficway")
            suffixes = ("Road", "Street", "Lane", "Avenue", "Close", "Place", "Square", "Row")
            return [
                f"{last} {suffix}" for last in self.of("en_GB")["last"][:150] for suffix in suffixes
            ]
        from faker import Generator

        generator: Any = Generator()
        generator.add_provider(importlib.import_module(f"faker.providers.person.{locale}").Provider)
        generator.add_provider(
            importlib.import_module(f"faker.providers.address.{locale}").Provider
        )
        generator.seed_instance(f"{self.seed}:{locale}")
        draws = 3_000 if locale == "fr_FR" else 300
        # dict.fromkeys keeps the draw order (a set would not be deterministic across runs).
        return list(dict.fromkeys(str(generator.street_name()).strip() for _ in range(draws)))


def locale_of(city: ref.City) -> str:
    if city.country == "BE":
        return "nl_BE" if city.language == "nl" else "fr_BE"
    if city.country == "CH":
        return "fr_CH" if city.language == "fr" else "de_CH"
    return ref.FAKER_LOCALES[city.country]


def street_address(rng: Random, pools: Pools, city: ref.City) -> str:
    locale = locale_of(city)
    street = rng.choice(pools.streets(locale))
    number = rng.randint(1, 180)
    if locale in ("de_DE", "de_CH", "nl_NL", "nl_BE"):
        return f"{street} {number}"
    if locale in ("es_ES", "it_IT"):
        return f"{street}, {number}"
    return f"{number} {street}"


def digits(rng: Random, count: int) -> str:
    return str(rng.randint(10 ** (count - 1), 10**count - 1))


def landline(rng: Random, city: ref.City) -> str:
    return rng.choice(city.phone_prefixes) + digits(rng, ref.LANDLINE_DIGITS[city.country])


def mobile(rng: Random, country: str) -> str:
    prefixes, count = ref.MOBILE[country]
    return rng.choice(prefixes) + digits(rng, count)


def aware(moment: dt.datetime) -> dt.datetime:
    return moment.replace(microsecond=0)


# --- step: installed products ------------------------------------------------------------------


def create_products(ctx: DemoContext) -> None:
    """The reference list of tools a prospect may run (seed 002's competitor equipment)."""
    for name, vendor, category in ref.PRODUCTS:
        product, _created = CompetitorProduct.objects.get_or_create(
            name=name, defaults={"vendor": vendor, "category": category}
        )
        ctx.products[name] = product.pk
    ctx.count("installed products", len(ref.PRODUCTS))


# --- step: teams and users ----------------------------------------------------------------------

# (username, first name, last name, role, teams, language)
DEMO_USERS: tuple[tuple[str, str, str, str, tuple[str, ...], str], ...] = (
    ("admin", "Adèle", "Fontaine", Role.ADMIN, (), "fr"),
    ("manager", "Samuel", "Garnier", Role.SALES_MANAGER, (), "fr"),
    ("manager.sud", "Hélène", "Roussel", Role.SALES_MANAGER, (), "fr"),
    ("ae.paris", "Alice", "Moreau", Role.AE, ("AE Paris",), "fr"),
    ("ae.paris2", "Thomas", "Lambert", Role.AE, ("AE Paris",), "fr"),
    ("ae.lyon", "Julien", "Mercier", Role.AE, ("AE Lyon-Lille",), "fr"),
    ("ae.lille", "Camille", "Dubois", Role.AE, ("AE Lyon-Lille",), "fr"),
    ("ae.paca", "Nicolas", "Faure", Role.AE, ("AE PACA",), "fr"),
    ("ae.europe", "Emma", "Clarke", Role.AE, ("AE Europe",), "en"),
    ("sdr", "Sophie", "Leroy", Role.SDR, ("SDR",), "fr"),
    ("sdr.sud", "Hugo", "Blanc", Role.SDR, ("SDR",), "fr"),
    ("ir", "Léa", "Girard", Role.IR, ("Inbound",), "fr"),
    ("csm", "Claire", "Morel", Role.CSM, ("Customer success",), "fr"),
    ("csm2", "Mehdi", "Benali", Role.CSM, ("Customer success",), "fr"),
    ("marketing", "Marie", "Petit", Role.MARKETING, ("Marketing",), "fr"),
    ("marketing2", "Lucas", "Bonnet", Role.MARKETING, ("Marketing",), "en"),
)
# (team, manager's username, description)
DEMO_TEAMS: tuple[tuple[str, str | None, str], ...] = (
    ("AE Paris", "manager", "Account executives for Paris and Île-de-France"),
    ("AE Lyon-Lille", "manager", "Account executives for Lyon and Lille"),
    ("AE PACA", "manager.sud", "Account executives for Provence-Alpes-Côte d'Azur"),
    ("AE Europe", "manager.sud", "Account executives for other French regions and Europe"),
    ("SDR", "manager", "Outbound sales development"),
    ("Inbound", "manager.sud", "Inbound representatives"),
    ("Customer success", None, "Customer success managers"),
    ("Marketing", None, "Marketing"),
)
DEMO_EMAIL_DOMAIN = "demo.cible.example"
# Owners of accounts per geographic group (seed 002), by username.
OWNERS_BY_GROUP = {
    "paris": (("ae.paris", 40), ("ae.paris2", 40), ("sdr", 20)),
    "lyon": (("ae.lyon", 80), ("sdr", 20)),
    "lille": (("ae.lille", 80), ("sdr", 20)),
    "paca": (("ae.paca", 80), ("sdr.sud", 20)),
    "other": (("ae.paris2", 30), ("ae.paca", 25), ("ae.europe", 25), ("sdr.sud", 20)),
    "europe": (("ae.europe", 85), ("sdr.sud", 15)),
}


def create_users(ctx: DemoContext) -> None:
    """One user per role at least, in teams, all with the demo password (see `demo_logins`).

    They share a precomputed hash of the demo password: hashing it for each user would cost
    ~0.4 s each, most of the small demo's time budget.
    """
    User = get_user_model()
    existing = {u.username: u for u in User.objects.filter(username__in=[u[0] for u in DEMO_USERS])}
    created = 0
    for username, first, last, role, _teams, language in DEMO_USERS:
        user: Any = existing.get(username)
        if user is None:
            created += 1
            user = user_create(
                username=username,
                password=None,
                password_hash=DEMO_PASSWORD_HASH,
                role=role,
                first_name=first,
                last_name=last,
                email=f"{username}@{DEMO_EMAIL_DOMAIN}",
                language=language,
                sees_deal_amounts=username == "marketing2",
            )
        ctx.users[username] = user
        ctx.users_by_role.setdefault(role, []).append(user)
    for name, manager, description in DEMO_TEAMS:
        team = Team.objects.filter(name=name).first() or team_create(
            name=name, manager=ctx.users.get(manager) if manager else None, description=description
        )
        ctx.teams[name] = team
    for username, _first, _last, _role, teams, _language in DEMO_USERS:
        profile = getattr(ctx.users[username], "profile", None)
        if profile is not None and teams:
            profile.teams.add(*(ctx.teams[name] for name in teams))
    ctx.count("users", created)


# --- step: organisations and contacts --------------------------------------------------------


register(Step("products", 10, create_products, "the reference list of installed products"))
register(Step("users", 20, create_users, "teams and users in every role"))
