"""Records as polars frames: read in bulk, with the keys and codes detection works on.

One query reads every organisation (or contact) into a frame; `prepare_*` adds the comparison
keys of `keys` and integer codes for equality tests, all column-wise; `*_blocks` gives the
blocking keys of `blocking`. Detection (`detect`) and prevention (`prevention`) share them, so a
record typed in a form is keyed exactly as the base was.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl
from django.db import connection
from django.db.models import QuerySet

from cible.quality.duplicates import blocking, keys, scoring
from cible.quality.duplicates.models import DuplicatePair, Entity, PairStatus

FETCH_CHUNK = 100_000

# --- reading the base -------------------------------------------------------------------------

ORGANISATION_COLUMNS = {
    "id": pl.Int64,
    "legal_name": pl.String,
    "trade_name": pl.String,
    "siren": pl.String,
    "siret": pl.String,
    "domain": pl.String,
    "phone": pl.String,
    "street": pl.String,
    "postal_code": pl.String,
    "city": pl.String,
    "country": pl.String,
    "parent_id": pl.Int64,
}
CONTACT_COLUMNS = {
    "id": pl.Int64,
    "first_name": pl.String,
    "last_name": pl.String,
    "email_key": pl.String,
    "phone": pl.String,
    "mobile": pl.String,
    "organisation_id": pl.Int64,
    "linkedin_url": pl.String,
}


def read_frame(queryset: QuerySet[Any], columns: Mapping[str, Any]) -> pl.DataFrame:
    """The rows of `queryset` as a polars frame, read with one query in chunks of raw rows."""
    sql, params = queryset.values_list(*columns).query.sql_with_params()
    frames = []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(FETCH_CHUNK):
            frames.append(pl.DataFrame(rows, schema=dict(columns), orient="row"))
    if not frames:
        return pl.DataFrame(schema=dict(columns))
    return pl.concat(frames)


def _hashed(value: pl.Expr) -> pl.Expr:
    """An integer code of a text for equality tests (a 63-bit hash), -1 when it is empty."""
    value = value.fill_null("")
    return (
        pl.when(value != "")
        .then((value.hash() // 2).cast(pl.Int64))
        .otherwise(pl.lit(-1, dtype=pl.Int64))
    )


def _code(column: str) -> pl.Expr:
    return _hashed(pl.col(column)).alias(f"{column}_code")


def prepare_organisations(raw: pl.DataFrame) -> pl.DataFrame:
    """Keys and codes of organisations for blocking and scoring."""
    text = [c for c, kind in ORGANISATION_COLUMNS.items() if kind == pl.String]
    frame = raw.with_columns([pl.col(c).fill_null("") for c in text]).with_columns(
        pl.col("parent_id").fill_null(-1),
        keys.name_core(pl.col("legal_name")).alias("core"),
        pl.when(pl.col("trade_name") != "")
        .then(keys.name_core(pl.col("trade_name")))
        .otherwise(pl.lit(""))
        .alias("trade_core"),
        keys.fold(pl.col("street")).alias("street_key"),
        keys.fold(pl.col("city")).alias("city_key"),
        pl.col("postal_code").str.replace_all(" ", "", literal=True).str.to_uppercase(),
        keys.department(pl.col("postal_code"), pl.col("country")).alias("department"),
        pl.when(pl.col("domain").is_in(list(keys.GENERIC_DOMAINS)))
        .then(pl.lit(""))
        .otherwise(pl.col("domain").str.to_lowercase())
        .alias("domain"),
    )
    frame = frame.with_columns(
        keys.sorted_tokens(pl.col("core")).alias("core_sorted"),
        keys.compact(pl.col("core")).alias("compact"),
        pl.coalesce(
            pl.when(pl.col("department") != "").then(pl.col("department")),
            pl.when(pl.col("city_key") != "").then(pl.col("city_key")),
            pl.col("country"),
        ).alias("place"),
    )
    return frame.with_columns(
        _code("siren"),
        _code("siret"),
        _code("domain"),
        _code("phone"),
        _code("city_key").alias("city_code"),
        _code("postal_code"),
        _code("department"),
        _code("country"),
        pl.col("core_sorted").rank("dense").cast(pl.Int64).alias("order"),
    )


def organisation_blocks(frame: pl.DataFrame) -> list[blocking.Key]:
    """Blocking keys of organisations: identifiers, and two fragments of the name, each within
    the same department, so that a typo spares one of them: the first four letters, and the
    first two letters of each of the first two words in alphabetical order ("dupont conseil"
    gives "dupo" and "codu"). Names within a block are compared in C++; alike ones come out."""
    compact = pl.col("compact")
    words = pl.col("core_sorted").str.split(" ")
    place = pl.col("place")
    head = pl.when(compact.str.len_chars() >= 3).then(
        pl.concat_str([compact.str.slice(0, 4), place], separator="|")
    )
    initials = (
        pl.when(words.list.len() >= 2)
        .then(
            pl.concat_str(
                [
                    words.list.get(0, null_on_oob=True).str.slice(0, 2),
                    words.list.get(1, null_on_oob=True).str.slice(0, 2),
                    pl.lit("|"),
                    place,
                ]
            )
        )
        .when(compact.str.len_chars() >= 4)
        .then(
            pl.concat_str([compact.str.slice(0, 2), compact.str.slice(-2, 2), pl.lit("|"), place])
        )
    )
    codes = frame.select(
        pl.col("siren_code"),
        pl.col("domain_code"),
        pl.col("phone_code"),
        _hashed(head).alias("name_head"),
        _hashed(initials).alias("name_initials"),
    )
    order = frame["order"].to_numpy()
    names = frame["core_sorted"].to_list()
    cutoff = scoring.organisation_name_cutoff()
    return [
        blocking.Key("siren", codes["siren_code"].to_numpy(), order),
        blocking.Key("domain", codes["domain_code"].to_numpy(), order),
        blocking.Key("phone", codes["phone_code"].to_numpy(), order),
        blocking.Key("name_head", codes["name_head"].to_numpy(), order, names, cutoff),
        blocking.Key("name_initials", codes["name_initials"].to_numpy(), order, names, cutoff),
    ]


def organisation_groups() -> dict[int, int]:
    """Organisations that are likely duplicates of each other, as organisation -> the smallest
    id of its group: their contacts are compared as colleagues of one organisation."""
    pairs = DuplicatePair.objects.filter(
        entity=Entity.ORGANISATION, status=PairStatus.OPEN, score__gte=scoring.DEFAULT_THRESHOLD
    ).values_list("record_a", "record_b")
    parent: dict[int, int] = {}

    def root(node: int) -> int:
        while parent.get(node, node) != node:
            parent[node] = parent.get(parent[node], parent[node])
            node = parent[node]
        return node

    for a, b in pairs.iterator(chunk_size=10_000):
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {node: root(node) for node in list(parent)}


def with_organisation_groups(raw: pl.DataFrame, groups: Mapping[int, int]) -> pl.DataFrame:
    group = pl.col("organisation_id")
    if groups:
        group = group.replace(
            pl.Series(list(groups), dtype=pl.Int64),
            pl.Series(list(groups.values()), dtype=pl.Int64),
        )
    return raw.with_columns(group.alias("organisation_group"))


def prepare_contacts(raw: pl.DataFrame) -> pl.DataFrame:
    """Keys and codes of contacts for blocking and scoring. `organisation_group` (optional)
    puts contacts of organisations that are likely duplicates together."""
    text = [c for c, kind in CONTACT_COLUMNS.items() if kind == pl.String]
    local, domain = keys.email_parts(pl.col("email_key"))
    if "organisation_group" not in raw.columns:
        raw = raw.with_columns(pl.col("organisation_id").alias("organisation_group"))
    frame = raw.with_columns([pl.col(c).fill_null("") for c in text]).with_columns(
        pl.col("organisation_id").fill_null(-1),
        pl.col("organisation_group").fill_null(-1),
        keys.person_key(pl.col("first_name"), pl.col("last_name")).alias("person"),
        keys.fold(pl.col("last_name")).alias("last_key"),
        keys.fold(pl.col("first_name")).alias("first_key"),
        pl.col("email_key").str.to_lowercase().alias("email"),
        local.alias("email_local"),
        domain.alias("email_domain"),
        pl.col("linkedin_url")
        .str.to_lowercase()
        .str.extract(r"linkedin\.com/in/([^/?#]+)", 1)
        .fill_null("")
        .alias("linkedin"),
        pl.col("organisation_group").cast(pl.String).alias("organisation"),
        pl.col("organisation_id").cast(pl.String).alias("employer"),
    )
    frame = frame.with_columns(
        pl.col("email_local").is_in(list(keys.ROLE_MAILBOXES)).alias("role_mailbox"),
        pl.col("first_key").str.slice(0, 1).alias("initial"),
        (pl.col("first_key").str.len_chars() == 1).alias("first_is_initial"),
        pl.when(pl.col("organisation_id") >= 0)
        .then(pl.col("organisation"))
        .otherwise(pl.lit(""))
        .alias("organisation"),
        pl.when(pl.col("organisation_id") >= 0)
        .then(pl.col("employer"))
        .otherwise(pl.lit(""))
        .alias("employer"),
    )
    return frame.with_columns(
        _code("email"),
        _code("organisation"),
        _code("employer"),
        _code("phone"),
        _code("mobile"),
        _code("linkedin"),
        _code("last_key").alias("last_code"),
        _code("initial"),
        pl.col("person").rank("dense").cast(pl.Int64).alias("order"),
    )


def contact_blocks(frame: pl.DataFrame) -> list[blocking.Key]:
    """Blocking keys of contacts: email, phones, LinkedIn, and the name within an organisation
    (or a group of organisations that are likely duplicates) or an email domain. Not the name
    alone: namesakes are common, and a name with nothing else in common stays under the
    threshold anyway."""
    words = pl.col("person").str.split(" ")
    # The first three letters of the first and of the last word of the name in alphabetical
    # order: "Dupont Jean", "Jean Dupont", "J. Dupont" and "Jean Dupnot" share one of them.
    first = words.list.first().str.slice(0, 3)
    last = words.list.last().str.slice(0, 3)
    organisation = pl.col("organisation")
    domain = pl.col("email_domain")
    generic = domain.is_in(list(keys.GENERIC_DOMAINS))
    named = pl.col("person") != ""

    def within(place: pl.Expr, present: pl.Expr, fragment: pl.Expr, name: str) -> pl.Expr:
        return _hashed(
            pl.when(present & named)
            .then(pl.concat_str([place, fragment], separator="|"))
            .otherwise(pl.lit(""))
        ).alias(name)

    blocks = frame.select(
        pl.col("email_code").alias("email"),
        pl.col("mobile_code").alias("mobile"),
        pl.col("phone_code").alias("phone"),
        pl.col("linkedin_code").alias("linkedin"),
        within(organisation, organisation != "", first, "organisation_first_word"),
        within(organisation, organisation != "", last, "organisation_last_word"),
        within(domain, (domain != "") & ~generic, first, "domain_first_word"),
        within(domain, (domain != "") & ~generic, last, "domain_last_word"),
    )
    order = frame["order"].to_numpy()
    return [blocking.Key(name, blocks[name].to_numpy(), order) for name in blocks.columns]
