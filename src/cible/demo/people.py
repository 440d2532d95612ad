"""Demo steps of the people app: installed products, teams and users, organisations, contacts.

Users and teams go through `people.services` (there are a handful). Organisations, their
installed products and their contacts grow with the size and go through `core.bulk`, with every
derived field computed by the same functions the ORM path uses (`people.normalise.band_for`,
`size_class_for`, `normalisers.search_key`, `french_region_from_postal_code`, `nace.section_for`):
`tests/demo` checks that the rows equal what `derive_organisation`/`derive_contact` would store.

Faker is only used to fill small pools of names and streets (a few thousand draws, seeded); the
rows combine pool entries with `random.Random`, which keeps the 1M size fast.
"""

from __future__ import annotations

import datetime as dt
import importlib
import math
from bisect import bisect
from collections.abc import Sequence
from decimal import Decimal
from functools import cache
from itertools import accumulate
from random import Random
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Max

from cible.core import nace
from cible.core import normalisers as norm
from cible.core.audit import Channel
from cible.core.bulk import bulk_insert, log_bulk, reset_sequences
from cible.core.roles import Role
from cible.demo import reference as ref
from cible.demo.generator import DEMO_PASSWORD_HASH, DemoContext, Step, register
from cible.people.models import CompetitorProduct, Contact, Organisation, Team
from cible.people.normalise import band_for, size_class_for
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

ORGANISATION_COLUMNS = [
    "id",
    "created_at",
    "updated_at",
    "legal_name",
    "trade_name",
    "name_key",
    "siren",
    "siret",
    "vat_number",
    "website",
    "domain",
    "phone",
    "street",
    "postal_code",
    "city",
    "region",
    "country",
    "naf_code",
    "naf_division",
    "naf_section",
    "headcount",
    "headcount_band",
    "size_class",
    "annual_revenue",
    "currency",
    "sales_team_size",
    "status",
    "tier",
    "source",
    "last_verified_at",
    "owner_id",
    "parent_id",
]
CONTACT_COLUMNS = [
    "id",
    "created_at",
    "updated_at",
    "first_name",
    "last_name",
    "name_key",
    "email",
    "email_key",
    "phone",
    "mobile",
    "job_title",
    "function",
    "seniority",
    "organisation_id",
    "reports_to_id",
    "language",
    "linkedin_url",
    "email_consent",
    "email_opt_out",
    "phone_opt_out",
    "opted_out_at",
    "owner_id",
    "lifecycle_stage",
    "source",
    "has_left",
    "last_verified_at",
]
PRODUCT_LINK_COLUMNS = ["organisation_id", "competitorproduct_id"]
ProductLink = Organisation.installed_products.through


def planted_every(size: int) -> tuple[int, int]:
    """The strong pattern of the dataset, planted at fixed positions so that even a small base
    has enough of it: Salesforce-equipped PME/ETI in Lille with 11–20 salespeople (seed 002:
    "vous perdez 100 % des dossiers sur un segment précis"). Returns (stride, count)."""
    count = max(6, round(size * 0.004))
    return max(1, size // count), count


class OrganisationFactory:
    """Builds organisation rows (and their products and contacts) from the pools."""

    def __init__(self, ctx: DemoContext, pools: Pools) -> None:
        self.ctx = ctx
        self.pools = pools
        self.rng = ctx.rng_for("organisations")
        self.contact_rng = ctx.rng_for("contacts")
        self.groups = Weighted(list(ref.GROUP_WEIGHTS.items()))
        self.cities = {
            group: Weighted([(c, c.weight) for c in ref.CITIES if c.group == group])
            for group in ref.GROUP_WEIGHTS
        }
        self.lille = next(c for c in ref.CITIES if c.name == "Lille")
        self.sizes = Weighted(list(ref.SIZE_WEIGHTS.items()))
        self.sectors = Weighted([(s, s.weight) for s in ref.SECTORS])
        self.forms = {country: Weighted(pairs) for country, pairs in ref.LEGAL_FORMS.items()}
        self.tlds = {country: Weighted(pairs) for country, pairs in ref.COUNTRY_TLDS.items()}
        self.crms = {size: Weighted(pairs) for size, pairs in ref.CRM_BY_SIZE.items()}
        self.sources = Weighted(ref.SOURCES)
        self.lifecycle = Weighted(ref.LIFECYCLE)
        self.titles = Weighted([(t, t.weight) for t in ref.TITLES])
        self.decision_titles = Weighted([(t, t.weight) for t in ref.DECISION_TITLES])
        self.owners = {
            group: Weighted([(ctx.users[u].pk, w) for u, w in pairs])
            for group, pairs in OWNERS_BY_GROUP.items()
        }
        self.siren_offset = self.rng.randrange(_SIREN_SPAN)
        self.domains: dict[str, int] = {}
        self.families: list[tuple[int, str]] = []  # (id, family name) of large groups
        self.stride, self.planted = planted_every(ctx.size.organisations)
        self.contacts_mean = ctx.size.contacts / ctx.size.organisations
        self.contact_norm = sum(
            ref.SIZE_WEIGHTS[s] * ref.CONTACT_WEIGHT[s] for s in ref.SIZE_WEIGHTS
        ) / sum(ref.SIZE_WEIGHTS.values())
        self.next_contact_id = ctx.contact_ids.start
        self.three_years = 3 * 365 * 86_400

    # -- names -----------------------------------------------------------------------------

    def _core_name(
        self, rng: Random, city: ref.City, sector: ref.Sector, size: str, lasts: list[str]
    ) -> tuple[tuple[str, ...], str]:
        """(parts of the name, family name or "") of an organisation, without its legal form."""
        french = city.language == "fr"
        word = rng.choice(sector.words_fr if french else sector.words_en)
        last = rng.choice(lasts)
        pattern = rng.random()
        if size == "ge" and pattern < 0.5:
            return (("Groupe", last) if french else (last, "Group")), last
        if pattern < 0.30:
            return (last, word), last
        if pattern < 0.50:
            return (word, last), last
        if pattern < 0.60:
            return (last, "et" if french else "&", rng.choice(lasts)), last
        if pattern < 0.72 and city.group in ref.GROUP_PLACE_WORDS:
            return (word, rng.choice(ref.GROUP_PLACE_WORDS[city.group])), ""
        return (rng.choice(ref.BRAND_HEADS) + rng.choice(ref.BRAND_TAILS), word), ""

    def _domain(self, rng: Random, base: str, country: str) -> str:
        base = base[:40].strip("-") or "societe"
        name = f"{base}.{self.tlds[country].pick(rng)}"
        seen = self.domains.get(name)
        if seen is None:
            self.domains[name] = 1
            return name
        self.domains[name] = seen + 1
        head, _dot, tld = name.partition(".")
        return f"{head}-{seen + 1}.{tld}"

    # -- rows --------------------------------------------------------------------------------

    def chunk(
        self, first_index: int, first_id: int, count: int
    ) -> tuple[list[tuple], list[tuple], list[tuple]]:
        """Rows of `count` organisations, their installed products and their contacts."""
        rng = self.rng
        random_ = rng.random
        randint = rng.randint
        ctx = self.ctx
        now = ctx.now
        organisations: list[tuple] = []
        links: list[tuple] = []
        contacts: list[tuple] = []
        products = ctx.products
        for n in range(count):
            index = first_index + n
            org_id = first_id + n
            planted = (
                index % self.stride == self.stride // 2 and index // self.stride < self.planted
            )
            if planted:
                group, city = "lille", self.lille
                size = "pme" if random_() < 0.7 else "eti"
            else:
                group = self.groups.pick(rng)
                city = self.cities[group].pick(rng)
                size = self.sizes.pick(rng)
            country = city.country
            french = country == "FR"
            locale = locale_of(city)
            names = self.pools.of(locale)
            sector: ref.Sector = self.sectors.pick(rng)
            # size, headcount, sales team
            low, high = ref.HEADCOUNT_RANGES[size]
            if planted:
                low, high = (60, 249) if size == "pme" else (250, 900)
            drawn = int(math.exp(rng.uniform(math.log(low), math.log(high + 1))))
            headcount: int | None = min(max(drawn, low), high)
            band = band_for(min(max(drawn, low), high))
            if random_() < 0.05:
                headcount = None  # known band only (e.g. from the SIRENE register)
            size_class = size_class_for(band)
            team_low, team_high = ref.SALES_TEAM_RANGES[size]
            sales_team: int | None
            if planted:
                sales_team = randint(11, 20)
            elif random_() < 0.08:
                sales_team = None
            else:
                sales_team = (
                    int(math.exp(rng.uniform(math.log(team_low + 1), math.log(team_high + 2)))) - 1
                )
                sales_team = min(max(sales_team, team_low), team_high)
            # name, parent, domain
            parent_id = None
            if size in ("pme", "eti") and self.families and random_() < 0.02:
                parent_id, family = self.families[
                    randint(max(0, len(self.families) - 200), len(self.families) - 1)
                ]
                word = rng.choice(sector.words_fr if city.language == "fr" else sector.words_en)
                parts: tuple[str, ...] = (family, word, city.name)
            else:
                parts, family = self._core_name(rng, city, sector, size, names["last"])
                if size == "ge" and family:
                    self.families.append((org_id, family))
            domain_base = "-".join(filter(None, map(slug, parts)))
            form = self.forms[country].pick(rng)
            legal_name = " ".join((*parts, form))
            trade_name = ""
            if random_() < 0.2:
                trade_name = rng.choice(ref.BRAND_HEADS) + rng.choice(ref.BRAND_TAILS)
                domain_base = f"{slug(trade_name)}-{slug(city.name)}"
            name_key = key(trade_name) if trade_name else join_keys(*parts, form)
            domain = self._domain(rng, domain_base, country)
            website = f"https://www.{domain}"
            # identifiers, address
            siren = siret = vat = ""
            if french:
                siren = siren_for(index, self.siren_offset)
                if random_() < 0.7:
                    nic = f"{randint(1, 4):04d}"
                    siret = siren + nic + luhn_digit(siren + nic)
                if random_() < 0.8:
                    vat = vat_for(siren)
            postal_code = rng.choice(city.postal_codes)
            region = region_of(postal_code) if french else ""
            naf_code = sector.naf_code
            revenue = None
            if headcount is not None and random_() < 0.9:
                revenue = Decimal(int(headcount * rng.uniform(80_000, 220_000)) // 1000 * 1000)
            # accounts of the planted segment are old enough to have closed deals
            oldest = 800 * 86_400 if planted else 86_400
            created = now - dt.timedelta(seconds=randint(oldest, self.three_years))
            updated = min(now, created + dt.timedelta(seconds=randint(0, 200 * 86_400)))
            verified = None
            if random_() < 0.35:
                verified = max(created, now - dt.timedelta(seconds=randint(0, 400 * 86_400)))
            owner_id = None if random_() < 0.15 else self.owners[group].pick(rng)
            status = (
                "suspect" if random_() < 0.56 else ("prospect" if random_() < 0.97 else "partner")
            )
            source = self.sources.pick(rng)
            organisations.append(
                (
                    org_id,
                    created,
                    updated,
                    legal_name,
                    trade_name,
                    name_key,
                    siren,
                    siret,
                    vat,
                    website,
                    domain,
                    landline(rng, city),
                    street_address(rng, self.pools, city),
                    postal_code,
                    city.name,
                    region,
                    country,
                    naf_code,
                    naf_code[:2],
                    section_of(naf_code),
                    headcount,
                    band,
                    size_class,
                    revenue,
                    ref.COUNTRY_CURRENCY.get(country, "EUR"),
                    sales_team,
                    status,
                    "",
                    source,
                    verified,
                    owner_id,
                    parent_id,
                )
            )
            # installed products: the CRM (seed 002's axis), sometimes other tools
            crm = "Salesforce" if planted else self.crms[size].pick(rng)
            if crm is not None:
                links.append((org_id, products[crm]))
            if random_() < 0.2:
                tool = rng.choice(ref.OTHER_TOOLS)[0]
                links.append((org_id, products[tool]))
            self._contacts(contacts, org_id, city, size, domain, owner_id, created, source)
        return organisations, links, contacts

    def _contacts(
        self,
        rows: list[tuple],
        org_id: int,
        city: ref.City,
        size: str,
        domain: str,
        owner_id: int | None,
        org_created: dt.datetime,
        org_source: str,
    ) -> None:
        rng = self.contact_rng
        random_ = rng.random
        now = self.ctx.now
        country = city.country
        french = country == "FR"
        wanted = self.contacts_mean * ref.CONTACT_WEIGHT[size] / self.contact_norm
        count = max(1, int(wanted + random_()))
        pattern = rng.random()
        emails: set[str] = set()
        first_id = self.next_contact_id
        self.next_contact_id += count
        for position in range(count):
            if french and random_() < 0.08:
                locale, language = "en_GB", "en"
            else:
                locale = locale_of(city)
                language = "en" if country == "GB" else city.language
            names = self.pools.of(locale)
            female = random_() < 0.45
            first = rng.choice(names["female"] if female else names["male"])
            last = rng.choice(names["last"])
            title: ref.Title = (self.decision_titles if position == 0 else self.titles).pick(rng)
            if french and random_() < 0.85:
                job_title = title.fr_female if female else title.fr_male
            else:
                job_title = title.en
            first_slug, last_slug = slug(first) or "contact", slug(last) or "contact"
            if pattern < 0.6:
                local = f"{first_slug}.{last_slug}"
            elif pattern < 0.85:
                local = f"{first_slug[0]}{last_slug}"
            else:
                local = f"{first_slug}-{last_slug}" if size != "tpe" else first_slug
            number = 1
            candidate = local
            while candidate in emails:
                number += 1
                candidate = f"{local}{number}"
            emails.add(candidate)
            email = f"{candidate}@{domain}"
            created = min(now, org_created + dt.timedelta(seconds=rng.randint(0, 300 * 86_400)))
            consent = "granted" if random_() < 0.3 else "unknown"
            opted_out_at = None
            email_opt_out = random_() < 0.03
            if email_opt_out:
                consent = "withdrawn"
                opted_out_at = min(
                    now, created + dt.timedelta(seconds=rng.randint(0, 200 * 86_400))
                )
            verified = None
            if random_() < 0.3:
                verified = max(created, now - dt.timedelta(seconds=rng.randint(0, 400 * 86_400)))
            reports_to = first_id if position and size != "tpe" and random_() < 0.5 else None
            linkedin = ""
            if random_() < 0.35:
                linkedin = f"https://www.linkedin.com/in/{first_slug}-{last_slug}-{rng.getrandbits(24):06x}"
            rows.append(
                (
                    first_id + position,
                    created,
                    created,
                    first,
                    last,
                    join_keys(last, first),
                    email,
                    email,
                    landline(rng, city) if random_() < 0.55 else "",
                    mobile(rng, country) if random_() < 0.45 else "",
                    job_title,
                    title.function,
                    title.seniority,
                    org_id,
                    reports_to,
                    language,
                    linkedin,
                    consent,
                    email_opt_out,
                    random_() < 0.01,
                    opted_out_at,
                    owner_id,
                    self.lifecycle.pick(rng),
                    org_source if random_() < 0.7 else self.sources.pick(rng),
                    random_() < 0.02,
                    verified,
                )
            )


def _next_id(model: Any) -> int:
    return (model.objects.aggregate(top=Max("id"))["top"] or 0) + 1


def create_organisations(ctx: DemoContext) -> None:
    """Organisations with their installed products and contacts, written in rounds of CHUNK."""
    total = ctx.size.organisations
    first_org = _next_id(Organisation)
    ctx.org_ids = range(first_org, first_org + total)
    first_contact = _next_id(Contact)
    ctx.contact_ids = range(first_contact, first_contact)  # its end is known once written
    factory = OrganisationFactory(ctx, Pools(ctx.seed))
    written = {"organisations": 0, "installed products links": 0, "contacts": 0}
    # One transaction for every round: all or nothing, and on SQLite at 1M about 1.6× faster
    # than a commit per round (each commit checkpoints index pages that the next round rewrites).
    with transaction.atomic():
        for start in range(0, total, CHUNK):
            count = min(CHUNK, total - start)
            organisations, links, contacts = factory.chunk(start, first_org + start, count)
            written["organisations"] += bulk_insert(
                Organisation, ORGANISATION_COLUMNS, organisations
            )
            written["installed products links"] += bulk_insert(
                ProductLink, PRODUCT_LINK_COLUMNS, links
            )
            written["contacts"] += bulk_insert(Contact, CONTACT_COLUMNS, contacts)
            ctx.progress(
                f"  organisations {written['organisations']:>10,} / {total:,}"
                f"   contacts {written['contacts']:>10,}"
            )
    ctx.contact_ids = range(first_contact, factory.next_contact_id)
    reset_sequences(Organisation, Contact)
    for label, rows in written.items():
        ctx.count(label, rows)
    ctx.shared.setdefault("bulk_models", []).extend([Organisation, ProductLink, Contact])
    log_bulk(actor=None, channel=Channel.CLI, model=Organisation, rows=written["organisations"])
    log_bulk(actor=None, channel=Channel.CLI, model=Contact, rows=written["contacts"])


register(Step("products", 10, create_products, "the reference list of installed products"))
register(Step("users", 20, create_users, "teams and users in every role"))
register(
    Step("organisations", 30, create_organisations, "organisations, installed products, contacts")
)
