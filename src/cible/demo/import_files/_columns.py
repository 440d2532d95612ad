"""The building blocks of the import files: the demo's reference tables as arrays, random draws
that depend on a row's position only, string formats as polars expressions, planted defects."""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl

from cible.demo import reference as ref
from cible.demo.people import _SIREN_SPAN, DEMO_EMAIL_DOMAIN, DEMO_USERS, Pools, locale_of

CHUNK_ROWS = 50_000
REFERENCE_DAY = dt.date(2025, 1, 1)  # dates are drawn in the 400 days before it
BAD_KINDS = ("siren_invalid", "email_invalid", "formula", "siren_scientific")
FORMULA = '=HYPERLINK("http://example.com/x";"Cliquez ici")'

DEFAULT_OWNERS = tuple(f"{user[0]}@{DEMO_EMAIL_DOMAIN}" for user in DEMO_USERS)


class Flat:
    """Lists of strings per group, flattened: `pick` draws one string of each row's group."""

    def __init__(self, lists: Sequence[Sequence[str]]) -> None:
        self.values = pl.Series([value for values in lists for value in values], dtype=pl.String)
        self.counts = np.array([len(values) for values in lists])
        self.offsets = np.concatenate(([0], np.cumsum(self.counts)[:-1]))

    def pick(self, u: np.ndarray, groups: np.ndarray) -> pl.Series:
        counts = np.maximum(self.counts[groups], 1)
        index = self.offsets[groups] + (u * counts).astype(np.int64)
        return self.values.gather(np.minimum(index, len(self.values) - 1))


class Draws:
    """Uniform draws for rows start … start + n - 1, one named stream per variable and block of
    BLOCK rows: a row's values depend on the seed and its position only, so the first rows of a
    small file are the first rows of a big one (and a contact file can name the organisations
    of the organisation file of the same seed)."""

    BLOCK = 50_000

    def __init__(self, seed: int, stream: int, start: int, n: int) -> None:
        self.seed, self.stream, self.start, self.n = seed, stream, start, n

    def random(self, name: str) -> np.ndarray:
        first, last = self.start // self.BLOCK, (self.start + self.n - 1) // self.BLOCK
        code = zlib.crc32(name.encode())
        blocks = [
            np.random.default_rng([self.seed, self.stream, block, code]).random(self.BLOCK)
            for block in range(first, last + 1)
        ]
        offset = self.start - first * self.BLOCK
        return np.concatenate(blocks)[offset : offset + self.n]

    def integers(self, name: str, low: Any, high: Any) -> np.ndarray:
        return low + (self.random(name) * (np.asarray(high) - low)).astype(np.int64)

    def uniform(self, name: str, low: Any, high: Any) -> np.ndarray:
        return low + self.random(name) * (np.asarray(high) - low)

    def choice(self, name: str, weights: Sequence[float] | np.ndarray) -> np.ndarray:
        return weighted_pick(self.random(name), weights)


def weighted_pick(u: np.ndarray, weights: Sequence[float] | np.ndarray) -> np.ndarray:
    cumulative = np.cumsum(np.asarray(weights, dtype=float))
    return np.minimum(
        np.searchsorted(cumulative / cumulative[-1], u, side="right"), len(cumulative) - 1
    )


def weights(pairs: Sequence[tuple[Any, float]]) -> list[float]:
    return [weight for _item, weight in pairs]


class World:
    """The demo reference tables, per seed, in the shapes the column builders need."""

    def __init__(self, seed: int) -> None:
        pools = Pools(seed)
        cities = ref.CITIES
        in_group = {g: sum(c.weight for c in cities if c.group == g) for g in ref.GROUP_WEIGHTS}
        total = sum(ref.GROUP_WEIGHTS.values())
        self.city_p = np.array(
            [ref.GROUP_WEIGHTS[c.group] / total * c.weight / in_group[c.group] for c in cities]
        )
        self.city_name = pl.Series([c.name for c in cities])
        self.city_country = np.array([c.country for c in cities])
        self.city_french = np.array([c.language == "fr" for c in cities])
        self.locales = sorted({locale_of(c) for c in cities})
        self.city_locale = np.array([self.locales.index(locale_of(c)) for c in cities])
        self.postal = Flat([c.postal_codes for c in cities])
        self.prefix = Flat([c.phone_prefixes for c in cities])
        groups = list(ref.GROUP_WEIGHTS)
        self.city_group = np.array([groups.index(c.group) for c in cities])
        self.places = Flat([ref.GROUP_PLACE_WORDS.get(g, ()) for g in groups])
        self.has_places = np.array([g in ref.GROUP_PLACE_WORDS for g in groups])
        self.lasts = Flat([pools.of(locale)["last"] for locale in self.locales])
        self.males = Flat([pools.of(locale)["male"] for locale in self.locales])
        self.females = Flat([pools.of(locale)["female"] for locale in self.locales])
        self.streets = Flat([pools.streets(locale) for locale in self.locales])
        self.number_last = np.array(
            [
                locale in ("de_DE", "de_CH", "nl_NL", "nl_BE", "es_ES", "it_IT")
                for locale in self.locales
            ]
        )
        self.words_fr = Flat([s.words_fr for s in ref.SECTORS])
        self.words_en = Flat([s.words_en for s in ref.SECTORS])
        self.sector_p = np.array([s.weight for s in ref.SECTORS], dtype=float)
        self.sector_p /= self.sector_p.sum()
        self.naf = pl.Series([s.naf_code for s in ref.SECTORS])
        self.brands = pl.Series([h + t for h in ref.BRAND_HEADS for t in ref.BRAND_TAILS])
        self.titles = list(ref.TITLES)
        self.siren_offset = int(np.random.default_rng([seed, 0]).integers(_SIREN_SPAN))


_WORLDS: dict[int, World] = {}


def world_of(seed: int) -> World:
    if seed not in _WORLDS:
        _WORLDS[seed] = World(seed)
    return _WORLDS[seed]


def luhn_check_digits(numbers: np.ndarray, width: int) -> np.ndarray:
    """The digit that makes each `width`-digit number pass the Luhn test (SIREN, SIRET)."""
    rest = numbers.astype(np.int64).copy()
    total = np.zeros(len(rest), dtype=np.int64)
    for position in range(width):
        digit = rest % 10
        rest //= 10
        if position % 2 == 0:
            digit = digit * 2
            digit = np.where(digit > 9, digit - 9, digit)
        total += digit
    return (10 - total % 10) % 10


def slug(column: pl.Expr) -> pl.Expr:
    folded = column.str.to_lowercase().str.replace_many(["œ", "æ", "ß"], ["oe", "ae", "ss"])
    folded = folded.str.normalize("NFKD").str.replace_all(r"\p{M}", "")
    return folded.str.replace_all(r"[^a-z0-9]+", "-").str.strip_chars("-")


def choose(u: pl.Expr, *options: tuple[float, pl.Expr]) -> pl.Expr:
    """The first option whose cumulative share exceeds the row's uniform draw `u`."""
    cumulative = 0.0
    chain: Any = None
    for share, expression in options[:-1]:
        cumulative += share
        chain = (pl.when if chain is None else chain.when)(u < cumulative).then(expression)
    return chain.otherwise(options[-1][1])


class Seen:
    """How many times each value was given so far, across chunks."""

    def __init__(self) -> None:
        self.counts = pl.DataFrame(schema={"value": pl.String, "seen": pl.UInt32})

    def uniques(self, values: pl.Series, stop: str) -> pl.Series:
        """`values` made unique by a "-2", "-3"… before the first `stop`."""
        frame = pl.DataFrame({"value": values}).with_columns(
            pl.int_range(pl.len(), dtype=pl.UInt32).over("value").alias("n")
        )
        number = (
            frame.join(self.counts, on="value", how="left", maintain_order="left")
            .select(pl.col("n") + pl.col("seen").fill_null(0))
            .to_series()
        )
        chunk = frame.group_by("value").agg(pl.len().cast(pl.UInt32).alias("seen"))
        self.counts = pl.concat([self.counts, chunk]).group_by("value").agg(pl.col("seen").sum())
        head = values.str.extract(rf"^([^{stop}]*)", 1)
        return (
            pl.DataFrame({"h": head, "t": values.str.slice(head.str.len_chars()), "n": number})
            .select(
                pl.when(pl.col("n") == 0)
                .then(pl.col("h") + pl.col("t"))
                .otherwise(pl.col("h") + "-" + (pl.col("n") + 1).cast(pl.String) + pl.col("t"))
            )
            .to_series()
        )


def spaced(text: pl.Expr, cuts: Sequence[int], separator: str) -> pl.Expr:
    """`text` cut at `cuts` (lengths) and joined with `separator`; slices, not regexes."""
    parts, offset = [], 0
    for length in cuts:
        parts.append(text.str.slice(offset, length))
        offset += length
    parts.append(text.str.slice(offset))
    return pl.concat_str(parts, separator=separator).str.strip_chars(separator)


def amount_text(value: pl.Expr, english: bool, u: pl.Expr, *, decimals: bool) -> pl.Expr:
    digits = value.cast(pl.String)
    if english and not decimals:
        text = digits  # "1,800" people would be refused by `values.whole_number`
    elif english:
        grouped = digits.str.reverse().str.replace_all(r"(\d{3})", "$1,").str.reverse()
        grouped = grouped.str.strip_chars_start(",")
        text = choose(u, (0.5, digits), (0.3, grouped), (0.2, grouped + ".00"))
    else:
        grouped = digits.str.reverse().str.replace_all(r"(\d{3})", "$1 ").str.reverse()
        grouped = grouped.str.strip_chars_start(" ")
        text = choose(
            u,
            (0.4, digits),
            (0.3, grouped),
            (0.3, grouped + " €" if decimals else grouped.str.replace_all(" ", "\u00a0")),
        )
        if decimals:
            text = pl.when(u > 0.85).then(digits + ",00").otherwise(text)
    return pl.when(value >= 0).then(text)


def date_text(days_before: pl.Expr, english: bool) -> pl.Expr:
    day = pl.lit(REFERENCE_DAY) - pl.duration(days=days_before)
    text = day.dt.strftime("%Y-%m-%d" if english else "%d/%m/%Y")
    return pl.when(days_before >= 0).then(text)


_SPOILED = {
    "siren_invalid": "356000001",  # fails the Luhn check
    "email_invalid": "jean.dupont@",
    "formula": FORMULA,
    "siren_scientific": "3.56E+08",  # what Excel shows of 356000000 in a narrow column
}


def inject(frame: pl.DataFrame, bad: dict[int, str], columns: dict[str, str]) -> pl.DataFrame:
    """Spoil the rows of `bad` (0-based index -> kind) in the column each kind names."""
    for kind, column in columns.items():
        rows = [i for i, k in bad.items() if k == kind]
        if rows:
            frame = frame.with_columns(
                pl.when(pl.col("index").is_in(rows))
                .then(pl.lit(_SPOILED[kind]))
                .otherwise(pl.col(column))
                .alias(column)
            )
    return frame


def bad_positions(rows: int, count: int) -> dict[int, str]:
    count = min(count, rows)
    return {int((i + 0.5) * rows / count): BAD_KINDS[i % len(BAD_KINDS)] for i in range(count)}
