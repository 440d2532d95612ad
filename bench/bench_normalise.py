"""Normalisation of import batches: the columnar path vs the row-by-row path.

1,000,000 generated organisation rows in 15 columns, as a messy export has them: names in any
case, French phone numbers in every common format (and some foreign, some invalid), emails in
mixed case, websites with and without scheme, SIREN/SIRET grouped by spaces, postal codes, cities,
country names and codes, NAF codes, headcounts, French amounts, statuses. Read in batches of
50,000 (as `reading.read_batches` gives them), normalised by
`quality.imports.columns.normalise_batch`.

Figures, same run:
- columnar: `normalise_batch` on every batch (values, errors, changes, derived fields);
- baseline: polars lower-casing the same 15 columns and turning the rows into Python dicts (the
  least any import does with them);
- row by row: `normalise_row` (`clean_fields` + `derive_organisation`, the definition the columnar
  path is proved equal to) on a sample, extrapolated;
- phones alone: `norm.phone` (phonenumbers) per row on the sample vs the columnar path on the
  phone column alone.
Target: ≥ 100,000 rows/s (normalisation well under half of the 25,000 rows/s import budget).
Standalone: python bench/bench_normalise.py [--rows 1000000] [--sample 20000].
"""

from __future__ import annotations

import argparse
import contextlib
import random
import time
from collections.abc import Iterator
from typing import Any

from common import Result, print_table, setup_django

BATCH = 50_000

COLUMNS = {
    "Raison sociale": "legal_name",
    "Nom commercial": "trade_name",
    "SIREN": "siren",
    "SIRET": "siret",
    "Site web": "website",
    "Téléphone": "phone",
    "Email commercial": "owner_email",
    "Adresse": "street",
    "Code postal": "postal_code",
    "Ville": "city",
    "Pays": "country",
    "Code NAF": "naf_code",
    "Effectif": "headcount",
    "Chiffre d'affaires": "annual_revenue",
    "Statut": "status",
}

HEADS = ("Nova", "Axe", "Lumi", "Opti", "Viva", "Cap", "Oxy", "Alti", "Néo", "Ver", "Sol", "Éco")
TAILS = ("tek", "lia", "gie", "ris", "sys", "via", "nova", "tis", "lab", "com", "log", "ance")
FORMS = ("SAS", "SARL", "SA", "EURL", "SASU", "", "", "S.A.S.")
STREETS = (
    "rue de la République",
    "avenue Jean Jaurès",
    "boulevard Voltaire",
    "place du Marché",
    "chemin des Vignes",
    "allée des Tilleuls",
    "rue Victor Hugo",
    "quai de la Loire",
)
FIRST = ("Jean", "Marie", "Luc", "Anne", "Paul", "Julie", "Hélène", "Éric", "Sophie", "Karim")
LAST = ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy")
COUNTRIES = ("France",) * 8 + ("FR", "france", "FRANCE", "Belgique", "BE", "Suisse", "Allemagne")
NAF = ("62.01Z", "6201Z", "70.22Z", "7022z", "85.59A", "46.51Z", "47.11F", "56.10A", "41.20A")
STATUSES = ("prospect", "Prospect", "customer", "suspect", "", "partner", "former_customer")
TLDS = ("fr", "fr", "fr", "com", "eu", "io")


def _luhn(number: str) -> str:
    total = 0
    for position, char in enumerate(reversed(number + "0")):
        digit = int(char)
        if position % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return number + str((10 - total % 10) % 10)


def _phone(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.08:
        return ""
    if roll < 0.12:
        return rng.choice(("+32 2 123 45 67", "+44 20 7946 0958", "+41 22 345 67 89"))
    if roll < 0.14:
        return rng.choice(("01 23 45", "n/c", "0590 12 34 56", "01 23 45 67 89 poste 12"))
    lead = rng.choice(("1", "2", "3", "4", "5", "6", "7"))
    second = {"2": "0123457", "4": "123456789", "5": "012345678", "6": "0124578", "7": "3456789"}
    nsn = lead + rng.choice(second.get(lead, "0123456789"))
    nsn += "".join(rng.choice("0123456789") for _ in range(7))
    pairs = [nsn[i : i + 2] for i in range(1, 9, 2)]
    form = rng.randrange(7)
    if form == 0:
        return "0" + nsn[0] + " " + " ".join(pairs)
    if form == 1:
        return "0" + nsn[0] + "." + ".".join(pairs)
    if form == 2:
        return "+33 " + nsn[0] + " " + " ".join(pairs)
    if form == 3:
        return "0033" + nsn
    if form == 4:
        return "+33 (0)" + nsn[0] + " " + " ".join(pairs)
    if form == 5:
        return "0" + nsn
    return "+33" + nsn


def _row(rng: random.Random, index: int) -> list[str]:
    brand = rng.choice(HEADS) + rng.choice(TAILS) + f" {index}"
    legal = f"{brand} {rng.choice(FORMS)}".strip()
    if rng.random() < 0.1:
        legal = legal.lower()
    elif rng.random() < 0.1:
        legal = legal.upper()
    slug = brand.lower().replace(" ", "-").replace("é", "e").replace("É", "e")
    domain = f"{slug}.{rng.choice(TLDS)}"
    siren = _luhn(f"{rng.randrange(10_000_000, 99_999_999)}")
    siret = _luhn(siren + f"{rng.randrange(1, 9999):04d}")
    website = rng.choice(("www.", "https://www.", "http://", "", "https://")) + domain
    if rng.random() < 0.15:
        website = ""
    first, last = rng.choice(FIRST), rng.choice(LAST)
    first = first.replace("é", "e").replace("É", "E").replace("è", "e")
    email = f"{first}.{last}@{domain}" if rng.random() < 0.5 else f"{first[0]}{last}@cible.example"
    department = rng.randrange(1, 96)
    postal = f"{department:02d}{rng.randrange(0, 60) * 10:03d}"
    if rng.random() < 0.05:
        postal = postal[:2] + " " + postal[2:]
    revenue = rng.randrange(10_000, 500_000_000)
    amount = f"{revenue // 100},{revenue % 100:02d}"
    if rng.random() < 0.1:
        amount = f"{revenue // 100:,}".replace(",", "\u00a0") + " €"
    return [
        legal,
        brand if rng.random() < 0.3 else "",
        siren if rng.random() < 0.7 else " ".join((siren[:3], siren[3:6], siren[6:])),
        siret if rng.random() < 0.5 else "",
        website,
        _phone(rng),
        email.upper() if rng.random() < 0.1 else email,
        f"{rng.randrange(1, 200)} {rng.choice(STREETS)}",
        postal,
        f"Ville {department:02d}-{rng.randrange(40)}",
        rng.choice(COUNTRIES),
        rng.choice(NAF),
        str(rng.choice((rng.randrange(1, 10), rng.randrange(10, 250), rng.randrange(250, 5000)))),
        amount,
        rng.choice(STATUSES),
    ]


def batches(rows: int, seed: int) -> Iterator[Any]:
    import polars as pl

    rng = random.Random(seed)
    names = list(COLUMNS)
    for start in range(0, rows, BATCH):
        size = min(BATCH, rows - start)
        data = [_row(rng, start + i) for i in range(size)]
        frame = pl.DataFrame(data, schema=names, orient="row")
        frame = frame.with_columns(
            pl.when(pl.col(name) == "").then(None).otherwise(pl.col(name)).alias(name)
            for name in names
        )
        yield frame.with_columns(_row=pl.int_range(start + 1, start + size + 1, dtype=pl.Int64))


def organisations() -> Any:
    from cible.quality.imports import registry

    found = registry.get("organisations")
    if found is not None:
        return found
    from cible.people.models import Organisation
    from cible.people.normalise import (
        ORGANISATION_BLANKS,
        ORGANISATION_SPECS,
        derive_organisation,
    )

    fields = (
        *(registry.ImportField(name, name) for name in ORGANISATION_SPECS),
        registry.ImportField("owner_email", "owner_email", link=True),
    )
    return registry.ImportableEntity(
        "organisations",
        "organisations",
        Organisation,
        fields,
        (),
        ORGANISATION_SPECS,
        ORGANISATION_BLANKS,
        derive_organisation,
    )


def run(rows: int = 1_000_000, sample: int = 20_000, seed: int = 42) -> tuple[list[Result], dict]:
    import polars as pl

    from cible.core import normalisers as norm
    from cible.quality.imports.columns import (
        _model_field,
        clear_caches,
        normalise_batch,
        normalise_row,
    )

    entity = organisations()
    clear_caches()
    columnar = baseline = phones_columnar = cpu = 0.0
    rejected = 0
    changes: dict[str, int] = {}
    kept: list[Any] = []
    for frame in batches(rows, seed):
        if sum(f.height for f in kept) < sample:
            kept.append(frame)
        began = time.perf_counter()
        frame.select(pl.col(name).str.to_lowercase() for name in COLUMNS).to_dicts()
        baseline += time.perf_counter() - began
        began, began_cpu = time.perf_counter(), time.process_time()
        batch = normalise_batch(entity, frame, COLUMNS)
        columnar += time.perf_counter() - began
        cpu += time.process_time() - began_cpu
        began = time.perf_counter()
        _model_field(entity, "phone", frame.get_column("Téléphone"))
        phones_columnar += time.perf_counter() - began
        rejected += len(batch.errors)
        for name, count in batch.changes.items():
            changes[name] = changes.get(name, 0) + count

    sampled = pl.concat(kept).head(sample)
    records = [
        {COLUMNS[k]: v for k, v in row.items() if k in COLUMNS}
        for row in sampled.iter_rows(named=True)
    ]
    began = time.perf_counter()
    for record in records:
        normalise_row(entity, record)
    by_row = time.perf_counter() - began
    began = time.perf_counter()
    for record in records:
        with contextlib.suppress(norm.NormalisationError):
            norm.phone(record["phone"])
    phones_by_row = time.perf_counter() - began

    results = [
        Result(
            "normalise",
            f"normalise {rows:,} organisation rows, 15 columns",
            rows / columnar,
            "rows/s",
            baseline=rows / baseline,
            baseline_name="polars lower-casing the 15 columns, rows to Python dicts",
            target="≥ 100,000 rows/s",
            met=rows / columnar >= 100_000,
        ),
        Result(
            "normalise",
            f"  row by row (clean_fields + derive), {len(records):,}-row sample",
            len(records) / by_row,
            "rows/s",
            baseline=rows / columnar,
            baseline_name="the columnar path above",
        ),
        Result(
            "normalise",
            f"  phones alone, norm.phone per row, {len(records):,}-row sample",
            len(records) / phones_by_row,
            "rows/s",
            baseline=rows / phones_columnar,
            baseline_name="the columnar path on the phone column alone (fast path + fallback)",
        ),
    ]
    details = {
        "rows": rows,
        "rejected": rejected,
        "changes": changes,
        "seconds": {
            "columnar": round(columnar, 2),
            "columnar_cpu": round(cpu, 2),  # all threads of this process
            "baseline": round(baseline, 2),
            "phones_columnar": round(phones_columnar, 2),
            "row_by_row_sample": round(by_row, 2),
            "phones_by_row_sample": round(phones_by_row, 2),
        },
    }
    return results, details


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    setup_django()
    results, details = run(args.rows, args.sample, args.seed)
    print_table("normalisation of import batches", results)
    print(f"  rejected rows: {details['rejected']:,}; changes: {details['changes']}")
    print(f"  seconds: {details['seconds']}")


if __name__ == "__main__":
    main()
