"""Contact files: people at the organisations of the organisation file of the same seed."""

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
    bad_positions,
    choose,
    date_text,
    inject,
    slug,
    spaced,
    world_of,
)
from cible.demo.import_files.organisations import organisation_refs

CONTACT_HEADERS: dict[str, dict[str, str]] = {
    "fr": {
        "external_id": "ID contact",
        "first_name": "Prénom",
        "last_name": "Nom",
        "email": "E-mail",
        "phone": "Téléphone",
        "mobile": "Portable",
        "job_title": "Fonction",
        "organisation_name": "Société",
        "organisation_siren": "SIREN société",
        "organisation_domain": "Site web société",
        "organisation_external_id": "ID société",
        "linkedin_url": "LinkedIn",
        "language": "Langue",
        "email_opt_out": "Désinscrit",
        "owner_email": "Email du propriétaire",
        "last_verified_at": "Dernière vérification",
    },
    "en": {
        "external_id": "Contact ID",
        "first_name": "First name",
        "last_name": "Last name",
        "email": "Email",
        "phone": "Phone",
        "mobile": "Mobile",
        "job_title": "Job title",
        "organisation_name": "Company",
        "organisation_siren": "Company SIREN",
        "organisation_domain": "Company website",
        "organisation_external_id": "Company ID",
        "linkedin_url": "LinkedIn profile",
        "language": "Language",
        "email_opt_out": "Unsubscribed",
        "owner_email": "Owner email",
        "last_verified_at": "Last verified",
    },
}
# (French, English, local) names of the countries of the dataset


def _contact_chunk(
    world: World,
    seed: int,
    start: int,
    n: int,
    companies: pl.DataFrame,
    seen: Seen,
    owners: Sequence[str],
) -> pl.DataFrame:
    d = Draws(seed, 2, start, n)
    company = companies[d.integers("company", 0, companies.height)]
    locale = company["locale"].to_numpy()
    female = d.random("female") < 0.45
    first = pl.select(
        pl.when(pl.Series(female))
        .then(world.females.pick(d.random("first"), locale))
        .otherwise(world.males.pick(d.random("first"), locale))
    ).to_series()
    titles = world.titles
    title = d.choice("title", [t.weight for t in titles])
    fr_title = np.where(
        female, [titles[i].fr_female for i in title], [titles[i].fr_male for i in title]
    )
    country = company["country"].to_numpy()
    mobiles = [(code, ref.MOBILE[code]) for code in sorted(ref.MOBILE)]
    mobile = np.empty(n, dtype=object)
    u_head, u_tail = d.random("mobile_prefix"), d.random("mobile")
    for code, (prefixes, count) in mobiles:
        rows = country == code
        if rows.any():
            heads = np.array(prefixes, dtype=object)[(u_head[rows] * len(prefixes)).astype(int)]
            tails = (10 ** (count - 1) + u_tail[rows] * 9 * 10 ** (count - 1)).astype(np.int64)
            mobile[rows] = heads + tails.astype(str).astype(object)
    frame = company.rename({"index": "company", "legal_name": "company_name"}).with_columns(
        pl.Series("index", np.arange(start, start + n, dtype=np.int64)),
        first.alias("first"),
        world.lasts.pick(d.random("last"), locale).alias("last"),
        pl.Series("fr_title", fr_title.tolist(), dtype=pl.String),
        pl.Series("en_title", [titles[i].en for i in title], dtype=pl.String),
        pl.Series("french_title", d.random("french_title") < 0.85),
        pl.Series("digits", d.integers("digits", 10**7, 10**8)).cast(pl.String),
        pl.Series("mobile", mobile.tolist(), dtype=pl.String),
        pl.Series("has_phone", d.random("has_phone") < 0.55),
        pl.Series("has_mobile", d.random("has_mobile") < 0.45),
        pl.Series("hex", np.char.mod("%06x", d.integers("hex", 0, 1 << 24)).tolist()),
        pl.Series(
            "owner",
            np.array(owners or [""], dtype=object)[
                d.integers("owner", 0, max(len(owners), 1))
            ].tolist(),
            dtype=pl.String,
        ),
        pl.Series(
            "verified",
            np.where(d.random("has_verified") < 0.3, d.integers("verified", 1, 400), -1),
        ),
        pl.Series("opt_out", d.random("opt_out") < 0.03),
        pl.Series("pattern", d.random("pattern")),
        *(pl.Series(f"u{i}", d.random(f"u{i}")) for i in range(12)),
    )
    digits = {code: ref.LANDLINE_DIGITS[code] for code in ref.LANDLINE_DIGITS}
    width = pl.col("country").replace_strict(digits, return_dtype=pl.Int64)
    first_slug, last_slug = slug(pl.col("first")), slug(pl.col("last"))
    local = choose(
        pl.col("pattern"),
        (0.60, first_slug + "." + last_slug),
        (0.25, first_slug.str.slice(0, 1) + last_slug),
        (0.15, first_slug + "-" + last_slug),
    )
    frame = frame.with_columns(
        (local + "@" + pl.col("domain")).alias("email"),
        (pl.col("prefix") + pl.col("digits").str.slice(0, width)).alias("phone"),
        pl.when(pl.col("french") & pl.col("french_title"))
        .then(pl.col("fr_title"))
        .otherwise(pl.col("en_title"))
        .alias("job_title"),
        ("https://www.linkedin.com/in/" + first_slug + "-" + last_slug + "-" + pl.col("hex")).alias(
            "linkedin"
        ),
    )
    return frame.with_columns(seen.uniques(frame["email"], "@").alias("email"))


def _messy_contacts(frame: pl.DataFrame, dialect: str, messy: bool) -> pl.DataFrame:
    english = dialect == "en"
    headers = CONTACT_HEADERS[dialect]
    u = [pl.col(f"u{i}") for i in range(12)]
    yes, no = ("yes", "no") if english else ("oui", "non")
    clean = {
        "external_id": pl.format("CT-{}", (pl.col("index") + 1).cast(pl.String).str.zfill(7)),
        "first_name": pl.col("first"),
        "last_name": pl.col("last"),
        "email": pl.col("email"),
        "phone": pl.when(pl.col("has_phone")).then(pl.col("phone")),
        "mobile": pl.when(pl.col("has_mobile")).then(pl.col("mobile")),
        "job_title": pl.col("job_title"),
        "organisation_name": pl.col("company_name"),
        "organisation_siren": pl.when(pl.col("french") & (u[4] < 0.7)).then(pl.col("siren")),
        "organisation_domain": pl.when(u[5] < 0.5).then(pl.col("domain")),
        "organisation_external_id": pl.when(u[6] < 0.6).then(
            pl.format("CLI-{}", (pl.col("company") + 1).cast(pl.String).str.zfill(7))
        ),
        "linkedin_url": pl.when(u[7] < 0.35).then(pl.col("linkedin")),
        "language": pl.when(pl.col("french")).then(pl.lit("fr")).otherwise(pl.lit("en")),
        "email_opt_out": pl.when(pl.col("opt_out")).then(pl.lit(yes)).otherwise(pl.lit(no)),
        "owner_email": pl.when(pl.col("owner") != "").then(pl.col("owner")),
        "last_verified_at": date_text(pl.col("verified"), english=True),
    }
    if messy:
        clean |= {
            "first_name": pl.when(u[3] < 0.05)
            .then(pl.col("first").str.to_lowercase())
            .otherwise(pl.col("first")),
            "last_name": pl.when(u[3] > 0.85)
            .then(pl.col("last").str.to_uppercase())
            .otherwise(pl.col("last")),
            "email": choose(
                u[8],
                (0.85, pl.col("email")),
                (0.10, pl.col("email").str.to_uppercase()),
                (0.05, " " + pl.col("email") + " "),
            ),
            "phone": pl.when(pl.col("has_phone")).then(
                pl.when(pl.col("country") == "FR")
                .then(spaced("0" + pl.col("phone").str.slice(3), (2, 2, 2, 2), " "))
                .otherwise(pl.col("phone"))
            ),
            "mobile": pl.when(pl.col("has_mobile")).then(
                pl.when((pl.col("country") == "FR") & (u[9] < 0.6))
                .then(spaced("0" + pl.col("mobile").str.slice(3), (2, 2, 2, 2), "."))
                .otherwise(pl.col("mobile"))
            ),
            "organisation_name": pl.when(u[10] < 0.1)
            .then(pl.col("company_name").str.to_uppercase())
            .otherwise(pl.col("company_name")),
            "organisation_domain": pl.when(u[5] < 0.5).then(
                choose(
                    u[11],
                    (0.5, pl.col("domain")),
                    (0.3, "www." + pl.col("domain")),
                    (0.2, "https://" + pl.col("domain") + "/"),
                )
            ),
            "linkedin_url": pl.when(u[7] < 0.35).then(
                pl.when(u[9] > 0.7)
                .then(pl.col("linkedin").str.replace("https://www.", ""))
                .otherwise(pl.col("linkedin"))
            ),
            "language": pl.when(u[2] < 0.2)
            .then(pl.when(pl.col("french")).then(pl.lit("FR")).otherwise(pl.lit("EN")))
            .when(u[2] < 0.3)
            .then(pl.lit(None))
            .otherwise(pl.when(pl.col("french")).then(pl.lit("fr")).otherwise(pl.lit("en"))),
            "email_opt_out": pl.when(pl.col("opt_out"))
            .then(pl.lit(yes.upper() if english else yes))
            .when(u[1] < 0.5)
            .then(pl.lit(None))
            .otherwise(pl.lit(no)),
            "last_verified_at": date_text(pl.col("verified"), english),
        }
    return frame.select(
        pl.col("index"), *(expr.alias(headers[field]) for field, expr in clean.items())
    )


def contact_frames(
    rows: int,
    *,
    seed: int,
    organisations: int | None = None,
    dialect: str = "fr",
    messy: bool = True,
    bad_rows: int = 0,
    owners: Sequence[str] | None = None,
) -> Iterator[pl.DataFrame]:
    """The rows of a contact file whose contacts work at the first `organisations` of the
    organisation file of the same seed (default: a third as many as contacts)."""
    world = world_of(seed)
    companies = organisation_refs(world, seed, organisations or max(1, rows // 3))
    seen = Seen()
    bad = bad_positions(rows, bad_rows)
    headers = CONTACT_HEADERS[dialect]
    spoil = {
        "siren_invalid": headers["organisation_siren"],
        "email_invalid": headers["email"],
        "formula": headers["last_name"],
        "siren_scientific": headers["organisation_siren"],
    }
    owners = DEFAULT_OWNERS if owners is None else tuple(owners)
    for start in range(0, rows, CHUNK_ROWS):
        n = min(CHUNK_ROWS, rows - start)
        clean = _contact_chunk(world, seed, start, n, companies, seen, owners)
        frame = _messy_contacts(clean, dialect, messy)
        yield inject(frame, bad, spoil).drop("index")
