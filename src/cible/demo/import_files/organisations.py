"""Organisation files: clean values drawn column by column, then written the ways people write
them (see the package docstring)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import polars as pl

from cible.demo import reference as ref
from cible.demo.import_files._columns import (
    CHUNK_ROWS,
    DEFAULT_OWNERS,
    Draws,
    Seen,
    World,
    amount_text,
    bad_positions,
    choose,
    date_text,
    inject,
    luhn_check_digits,
    slug,
    spaced,
    weighted_pick,
    weights,
    world_of,
)
from cible.demo.people import _SIREN_MULTIPLIER, _SIREN_SPAN

ORGANISATION_HEADERS: dict[str, dict[str, str]] = {
    "fr": {
        "external_id": "Réf. client",
        "legal_name": "Raison sociale",
        "siren": "SIREN",
        "siret": "N° SIRET",
        "website": "Site web",
        "phone": "Téléphone",
        "owner_email": "Email du propriétaire",
        "street": "Adresse",
        "postal_code": "Code postal",
        "city": "Ville",
        "country": "Pays",
        "naf_code": "Code NAF",
        "headcount": "Effectif",
        "annual_revenue": "Chiffre d'affaires (€)",
        "last_verified_at": "Dernière vérification",
    },
    "en": {
        "external_id": "External ID",
        "legal_name": "Company name",
        "siren": "SIREN",
        "siret": "SIRET",
        "website": "Website",
        "phone": "Phone",
        "owner_email": "Owner email",
        "street": "Street",
        "postal_code": "Postal code",
        "city": "City",
        "country": "Country",
        "naf_code": "NAF code",
        "headcount": "Employees",
        "annual_revenue": "Annual revenue",
        "last_verified_at": "Last verified",
    },
}
COUNTRY_NAMES = {
    "FR": ("France", "France", "FRANCE"),
    "DE": ("Allemagne", "Germany", "Deutschland"),
    "BE": ("Belgique", "Belgium", "België"),
    "ES": ("Espagne", "Spain", "España"),
    "IT": ("Italie", "Italy", "Italia"),
    "GB": ("Royaume-Uni", "United Kingdom", "UK"),
    "NL": ("Pays-Bas", "Netherlands", "Nederland"),
    "CH": ("Suisse", "Switzerland", "Schweiz"),
}


def organisation_chunk(
    world: World, seed: int, start: int, n: int, seen: Seen, owners: Sequence[str]
) -> pl.DataFrame:
    """Clean values of organisations start … start + n - 1, plus draws for the messy formats."""
    d = Draws(seed, 1, start, n)
    index = np.arange(start, start + n, dtype=np.int64)
    city = d.choice("city", world.city_p)
    country = world.city_country[city]
    french = country == "FR"
    locale = world.city_locale[city]
    sector = d.choice("sector", world.sector_p)
    sizes = list(ref.SIZE_WEIGHTS)
    size = d.choice("size", list(ref.SIZE_WEIGHTS.values()))
    low = np.array([ref.HEADCOUNT_RANGES[s][0] for s in sizes])[size]
    high = np.array([ref.HEADCOUNT_RANGES[s][1] for s in sizes])[size]
    headcount = np.exp(d.uniform("headcount", np.log(low), np.log(high + 1))).astype(np.int64)
    headcount = np.clip(headcount, low, high)
    revenue = (headcount * d.uniform("revenue", 80_000, 220_000)).astype(np.int64) // 1000 * 1000
    base = 30_000_000 + (_SIREN_MULTIPLIER * index + world.siren_offset) % _SIREN_SPAN
    siren = base * 10 + luhn_check_digits(base, 8)
    head13 = siren * 10_000 + d.integers("nic", 1, 5)
    siret = head13 * 10 + luhn_check_digits(head13, 13)
    forms = np.empty(n, dtype=object)
    tlds = np.empty(n, dtype=object)
    u_form, u_tld = d.random("form"), d.random("tld")
    for code in sorted(set(country.tolist())):
        rows = country == code
        legal_forms, country_tlds = ref.LEGAL_FORMS[code], ref.COUNTRY_TLDS[code]
        forms[rows] = np.array([f for f, _w in legal_forms], dtype=object)[
            weighted_pick(u_form[rows], weights(legal_forms))
        ]
        tlds[rows] = np.array([t for t, _w in country_tlds], dtype=object)[
            weighted_pick(u_tld[rows], weights(country_tlds))
        ]
    words = pl.select(
        pl.when(pl.Series(world.city_french[city]))
        .then(world.words_fr.pick(d.random("word"), sector))
        .otherwise(world.words_en.pick(d.random("word"), sector))
    ).to_series()
    group = world.city_group[city]
    frame = pl.DataFrame(
        {
            "index": index,
            "last": world.lasts.pick(d.random("last"), locale),
            "last2": world.lasts.pick(d.random("last2"), locale),
            "word": words,
            "place": world.places.pick(d.random("place"), group),
            "has_place": world.has_places[group],
            "brand": world.brands.gather(d.integers("brand", 0, len(world.brands))),
            "form": pl.Series(forms.tolist(), dtype=pl.String),
            "tld": pl.Series(tlds.tolist(), dtype=pl.String),
            "french": french,
            "big": size == sizes.index("ge"),
            "country": country,
            "city": world.city_name.gather(city),
            "locale": locale,
            "postal_code": world.postal.pick(d.random("postal_code"), city),
            "prefix": world.prefix.pick(d.random("prefix"), city),
            "digits": pl.Series(d.integers("digits", 10**7, 10**8)).cast(pl.String),
            "street": world.streets.pick(d.random("street"), locale),
            "number": d.integers("number", 1, 181),
            "number_last": world.number_last[locale],
            "naf_code": world.naf.gather(sector),
            "headcount": pl.Series(np.where(d.random("has_headcount") < 0.95, headcount, -1)),
            "revenue": pl.Series(np.where(d.random("has_revenue") < 0.85, revenue, -1)),
            "siren": pl.Series(siren).cast(pl.String),
            "siret": pl.Series(siret).cast(pl.String),
            "has_siret": d.random("has_siret") < 0.7,
            "owner": pl.Series(
                np.array(owners or [""], dtype=object)[
                    d.integers("owner", 0, max(len(owners), 1))
                ].tolist(),
                dtype=pl.String,
            ),
            "verified": pl.Series(
                np.where(d.random("has_verified") < 0.35, d.integers("verified", 1, 400), -1)
            ),
            "pattern": d.random("pattern"),
            **{f"u{i}": d.random(f"u{i}") for i in range(12)},
        }
    )
    digits = {code: ref.LANDLINE_DIGITS[code] for code in ref.LANDLINE_DIGITS}
    width = pl.col("country").replace_strict(digits, return_dtype=pl.Int64)
    p = pl.col("pattern")
    core = (
        pl.when(pl.col("big") & (p < 0.5))
        .then(
            pl.when(pl.col("french"))
            .then(pl.lit("Groupe ") + pl.col("last"))
            .otherwise(pl.col("last") + " Group")
        )
        .when(p < 0.30)
        .then(pl.col("last") + " " + pl.col("word"))
        .when(p < 0.50)
        .then(pl.col("word") + " " + pl.col("last"))
        .when(p < 0.60)
        .then(
            pl.col("last")
            + pl.when(pl.col("french")).then(pl.lit(" et ")).otherwise(pl.lit(" & "))
            + pl.col("last2")
        )
        .when((p < 0.72) & pl.col("has_place"))
        .then(pl.col("word") + " " + pl.col("place"))
        .otherwise(pl.col("brand") + " " + pl.col("word"))
    )
    frame = frame.with_columns(
        core.alias("core"),
        (pl.col("prefix") + pl.col("digits").str.slice(0, width)).alias("phone"),
        pl.when(pl.col("number_last"))
        .then(pl.col("street") + " " + pl.col("number").cast(pl.String))
        .otherwise(pl.col("number").cast(pl.String) + " " + pl.col("street"))
        .alias("street"),
    )
    frame = frame.with_columns(
        (pl.col("core") + " " + pl.col("form")).alias("legal_name"),
        (slug(pl.col("core")) + "." + pl.col("tld")).alias("domain"),
    )
    return frame.with_columns(seen.uniques(frame["domain"], ".").alias("domain"))


def _phone_text(english: bool) -> pl.Expr:
    """A landline in E.164 written the ways people write it."""
    e164, u = pl.col("phone"), pl.col("u0")
    cc, rest = e164.str.slice(1, 2), e164.str.slice(3)
    national = "0" + rest
    spaced_rest = spaced(rest, (1, 2, 2, 2), " ")
    french = choose(
        u,
        (0.40, spaced(national, (2, 2, 2, 2), " ")),
        (0.15, spaced(national, (2, 2, 2, 2), ".")),
        (0.15, national),
        (0.12, "+33 " + spaced_rest),
        (0.05, "+33 (0)" + spaced_rest),
        (0.05, "0033 " + spaced_rest),
        (0.08, spaced(national, (2, 2, 2, 2), "-")),
    )
    foreign = choose(
        u,
        (0.5, "+" + cc + " " + rest.str.slice(0, 2) + " " + rest.str.slice(2)),
        (0.2, "00" + cc + " " + rest),
        (0.3, e164),
    )
    if english:
        french = choose(u, (0.5, "+33 " + spaced_rest), (0.5, spaced(national, (2, 2, 2, 2), " ")))
    text = pl.when(pl.col("country") == "FR").then(french).otherwise(foreign)
    return pl.when(pl.col("u1") < 0.08).then(pl.lit(None)).otherwise(text)


def _country_text(english: bool) -> pl.Expr:
    u = pl.col("u2")
    names = [
        pl.col("country").replace_strict({k: v[i] for k, v in COUNTRY_NAMES.items()})
        for i in range(3)
    ]
    french_row = choose(
        u, (0.35, names[0]), (0.20, pl.col("country")), (0.30, pl.lit(None)), (0.15, names[2])
    )
    foreign_row = choose(
        u,
        (0.30, names[1] if english else names[0]),
        (0.35, pl.col("country")),
        (0.20, names[1]),
        (0.15, names[2]),
    )
    return pl.when(pl.col("country") == "FR").then(french_row).otherwise(foreign_row)


def _messy_organisations(frame: pl.DataFrame, dialect: str, messy: bool) -> pl.DataFrame:
    english = dialect == "en"
    headers = ORGANISATION_HEADERS[dialect]
    u = [pl.col(f"u{i}") for i in range(12)]
    clean = {
        "external_id": pl.format("CLI-{}", (pl.col("index") + 1).cast(pl.String).str.zfill(7)),
        "legal_name": pl.col("legal_name"),
        "siren": pl.when(pl.col("french")).then(pl.col("siren")),
        "siret": pl.when(pl.col("french") & pl.col("has_siret")).then(pl.col("siret")),
        "website": "https://www." + pl.col("domain"),
        "phone": pl.col("phone"),
        "owner_email": pl.when(pl.col("owner") != "").then(pl.col("owner")),
        "street": pl.col("street"),
        "postal_code": pl.col("postal_code"),
        "city": pl.col("city"),
        "country": pl.col("country"),
        "naf_code": pl.col("naf_code"),
        "headcount": pl.when(pl.col("headcount") >= 0).then(pl.col("headcount").cast(pl.String)),
        "annual_revenue": pl.when(pl.col("revenue") >= 0).then(pl.col("revenue").cast(pl.String)),
        "last_verified_at": date_text(pl.col("verified"), english=True),
    }
    if messy:
        name = pl.col("legal_name")
        domain = pl.col("domain")
        clean |= {
            "legal_name": choose(
                u[3], (0.80, name), (0.12, name.str.to_uppercase()), (0.08, "  " + name + " ")
            ),
            "siren": pl.when(pl.col("french") & (u[4] < 0.92)).then(
                choose(
                    u[5],
                    (0.8, pl.col("siren")),
                    (0.2, pl.col("siren").str.replace(r"^(\d{3})(\d{3})(\d{3})$", "$1 $2 $3")),
                )
            ),
            "website": choose(
                u[6],
                (0.30, "https://www." + domain),
                (0.20, "http://www." + domain),
                (0.30, "www." + domain),
                (0.10, domain),
                (0.05, ("HTTPS://WWW." + domain + "/").str.to_uppercase()),
                (0.05, pl.lit(None)),
            ),
            "phone": _phone_text(english),
            "owner_email": pl.when(pl.col("owner") != "").then(
                choose(
                    u[7],
                    (0.6, pl.col("owner")),
                    (0.2, pl.col("owner").str.to_uppercase()),
                    (0.1, " " + pl.col("owner") + " "),
                    (0.1, pl.lit(None)),
                )
            ),
            "street": pl.when(u[8] < 0.1)
            .then(pl.col("street").str.to_uppercase())
            .otherwise(pl.col("street")),
            "city": pl.when(u[8] > 0.9)
            .then(pl.col("city").str.to_uppercase())
            .otherwise(pl.col("city")),
            "country": _country_text(english),
            "naf_code": choose(
                u[9],
                (0.5, pl.col("naf_code")),
                (0.3, pl.col("naf_code").str.replace(".", "", literal=True)),
                (0.1, pl.col("naf_code").str.to_lowercase()),
                (0.1, pl.lit(None)),
            ),
            "headcount": amount_text(pl.col("headcount"), english, u[10], decimals=False),
            "annual_revenue": amount_text(pl.col("revenue"), english, u[11], decimals=True),
            "last_verified_at": date_text(pl.col("verified"), english),
        }
    return frame.select(
        pl.col("index"), *(expr.alias(headers[field]) for field, expr in clean.items())
    )


def organisation_frames(
    rows: int,
    *,
    seed: int,
    dialect: str = "fr",
    messy: bool = True,
    bad_rows: int = 0,
    owners: Sequence[str] | None = None,
) -> Iterator[pl.DataFrame]:
    """The rows of an organisation file, CHUNK_ROWS at a time, as text columns."""
    world = world_of(seed)
    seen = Seen()
    bad = bad_positions(rows, bad_rows)
    headers = ORGANISATION_HEADERS[dialect]
    spoil = {
        "siren_invalid": headers["siren"],
        "email_invalid": headers["owner_email"],
        "formula": headers["legal_name"],
        "siren_scientific": headers["siren"],
    }
    owners = DEFAULT_OWNERS if owners is None else tuple(owners)
    for start in range(0, rows, CHUNK_ROWS):
        n = min(CHUNK_ROWS, rows - start)
        clean = organisation_chunk(world, seed, start, n, seen, owners)
        frame = _messy_organisations(clean, dialect, messy)
        yield inject(frame, bad, spoil).drop("index")


def organisation_refs(world: World, seed: int, count: int) -> pl.DataFrame:
    """What a contact file says of the organisations of the organisation file of `seed`."""
    seen = Seen()
    parts = [
        organisation_chunk(world, seed, start, min(CHUNK_ROWS, count - start), seen, ()).select(
            "index", "legal_name", "siren", "french", "domain", "prefix", "country", "locale"
        )
        for start in range(0, count, CHUNK_ROWS)
    ]
    return pl.concat(parts)
