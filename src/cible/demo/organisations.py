"""Demo step of the people app that grows with the size: organisations, their installed
products and their contacts, written through `core.bulk`.

Every derived field is computed by the same functions the ORM path uses
(`people.normalise.band_for`, `size_class_for`, `normalisers.search_key`,
`french_region_from_postal_code`, `nace.section_for`): `tests/demo` checks that the rows equal
what `derive_organisation`/`derive_contact` would store.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from random import Random
from typing import Any

from django.db import transaction
from django.db.models import Max

from cible.core.audit import Channel
from cible.core.bulk import bulk_insert, log_bulk, reset_sequences
from cible.demo import reference as ref
from cible.demo.generator import DemoContext, Step, register
from cible.demo.people import (
    _SIREN_SPAN,
    CHUNK,
    OWNERS_BY_GROUP,
    Pools,
    Weighted,
    join_keys,
    key,
    landline,
    locale_of,
    luhn_digit,
    mobile,
    region_of,
    section_of,
    siren_for,
    slug,
    street_address,
    vat_for,
)
from cible.people.models import Contact, Organisation
from cible.people.normalise import band_for, size_class_for

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
    "buying_role",
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
        # A stream of its own: adding buying roles left every other value of a seed unchanged.
        self.role_rng = ctx.rng_for("buying_roles")
        self.buying_roles = {
            (t.function, t.seniority): Weighted(ref.buying_role_weights(t.function, t.seniority))
            for t in ref.TITLES
        }
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
                    self.buying_roles[title.function, title.seniority].pick(self.role_rng),
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


register(
    Step("organisations", 30, create_organisations, "organisations, installed products, contacts")
)
