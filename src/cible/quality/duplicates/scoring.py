"""Scoring: how likely two records are the same organisation or person, and why.

Each piece of evidence adds or removes weight (log-odds, in the manner of Fellegi and Sunter):
the same SIREN is strong evidence for, two different valid SIRENs strong evidence against (a
subsidiary, a namesake), the same name in another department is evidence against, and so on. The
sum goes through a logistic curve into a score between 0 and 1. Everything is computed for
millions of pairs at once on numpy arrays; string similarity is rapidfuzz's `cpdist` (one pair
per position, in C++, on all cores).

A missing value is no evidence either way: a record without a phone neither gains nor loses.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
from django.utils.translation import gettext as _
from rapidfuzz import fuzz, process

Array = npt.NDArray[Any]

# Default threshold of "likely duplicate" (precision and recall are measured there); pairs under
# STORE_FLOOR are not kept at all.
DEFAULT_THRESHOLD = 0.85
STORE_FLOOR = 0.5
SIMILARITY_CHUNK = 500_000
WORKERS = min(2, os.cpu_count() or 1)


def logistic(logit: Array) -> Array:
    return 1.0 / (1.0 + np.exp(-np.clip(logit, -30, 30)))


def similarity(
    left: pl.Series, right: pl.Series, scorer: Callable[..., float] = fuzz.ratio
) -> Array:
    """Similarity 0–1 of left[k] and right[k] for every k; NaN where either is empty."""
    out = np.full(len(left), np.nan, dtype=np.float32)
    present = ((left != "") & (right != "")).fill_null(False).to_numpy()
    where = np.flatnonzero(present)
    lefts, rights = left.gather(where), right.gather(where)
    for start in range(0, len(where), SIMILARITY_CHUNK):
        a = lefts.slice(start, SIMILARITY_CHUNK).to_list()
        b = rights.slice(start, SIMILARITY_CHUNK).to_list()
        scores = process.cpdist(a, b, scorer=scorer, workers=WORKERS, dtype=np.float32)
        out[where[start : start + len(a)]] = scores / 100.0
    return out


def _same(codes: Array, i: Array, j: Array) -> tuple[Array, Array]:
    """(same, different) for integer codes where -1 means missing."""
    a, b = codes[i], codes[j]
    both = (a >= 0) & (b >= 0)
    return both & (a == b), both & (a != b)


def _name_weight(similarity_: Array, floor: float) -> Array:
    """+4 for the same name, about +2.4 at 90 %, 0 near 82 %, down to `floor` for unlike names."""
    weight = np.clip((np.nan_to_num(similarity_, nan=0.0) - 0.82) * 30.0, floor, 4.0)
    return np.where(np.isnan(similarity_), 0.0, weight)


@dataclass(frozen=True)
class Scored:
    """Scores of pairs (i[k], j[k]) and the evidence behind them, as arrays."""

    i: Array
    j: Array
    score: Array
    evidence: Mapping[str, Array]


# --- organisations ------------------------------------------------------------------------------

ORGANISATION_WEIGHTS = {
    "bias": -4.0,
    "same_siren": 8.0,
    "different_siren": -9.0,
    "same_siret": 1.0,
    "same_domain": 4.0,
    "different_domain": -1.0,
    "same_phone": 3.0,
    "different_phone": -1.0,
    "same_street": 2.0,
    "different_street": -0.5,
    "same_city": 1.0,
    "different_city": -1.0,
    "different_department": -3.0,
    "same_postal_code": 0.5,
    "different_country": -3.0,
    "parent_child": -10.0,
    "siblings": -2.0,
}


def organisation_name_cutoff() -> float:
    """The name similarity (0–100) under which two organisations sharing no identifier cannot
    reach the storage floor, however well their addresses agree: blocking need not keep them."""
    w = ORGANISATION_WEIGHTS
    best_address = w["same_street"] + w["same_city"] + w["same_postal_code"]
    needed = float(np.log(STORE_FLOOR / (1 - STORE_FLOOR))) - w["bias"] - best_address
    return 100 * (0.82 + needed / 30.0) - 1.0  # inverse of _name_weight, one point of margin


def organisation_scores(frame: pl.DataFrame, i: Array, j: Array) -> Scored:
    """Score pairs of rows of a frame made by `frames.prepare_organisations`."""
    w = ORGANISATION_WEIGHTS
    ev: dict[str, Array] = {}
    core, ordered = frame["core"], frame["core_sorted"]
    name = np.fmax(
        similarity(core.gather(i), core.gather(j)),
        similarity(ordered.gather(i), ordered.gather(j)),
    )
    trade = frame["trade_core"]
    # A record may carry another's trade name as its name ("Novatek" for "Dupont SAS", trading
    # as Novatek); two trade names alike prove little (brands are reused), so not those.
    if (trade != "").any():
        name = np.fmax(name, similarity(core.gather(i), trade.gather(j)))
        name = np.fmax(name, similarity(trade.gather(i), core.gather(j)))
    ev["name"] = name
    logit = np.full(len(i), w["bias"]) + _name_weight(name, -6.0)
    for key in ("siren", "siret", "domain", "phone", "city", "postal_code", "department"):
        same, different = _same(frame[f"{key}_code"].to_numpy(), i, j)
        ev[f"same_{key}"], ev[f"different_{key}"] = same, different
    logit += w["same_siren"] * ev["same_siren"] + w["different_siren"] * ev["different_siren"]
    logit += w["same_siret"] * ev["same_siret"]
    logit += w["same_domain"] * ev["same_domain"] + w["different_domain"] * ev["different_domain"]
    logit += w["same_phone"] * ev["same_phone"] + w["different_phone"] * ev["different_phone"]
    logit += w["same_city"] * ev["same_city"] + w["same_postal_code"] * ev["same_postal_code"]
    # Another city in the same department is a move or a suburb; another department is far.
    ev["different_city"] = ev["different_city"] & ~ev["different_department"]
    logit += w["different_city"] * ev["different_city"]
    logit += w["different_department"] * ev["different_department"]
    street = similarity(frame["street_key"].gather(i), frame["street_key"].gather(j))
    ev["street"] = street
    ev["same_street"] = np.nan_to_num(street, nan=0.0) >= 0.9
    ev["different_street"] = np.nan_to_num(street, nan=1.0) < 0.6
    logit += w["same_street"] * ev["same_street"] + w["different_street"] * ev["different_street"]
    _same_country, ev["different_country"] = _same(frame["country_code"].to_numpy(), i, j)
    logit += w["different_country"] * ev["different_country"]
    ids = frame["id"].to_numpy()
    parent = frame["parent_id"].to_numpy()
    ev["parent_child"] = (parent[i] == ids[j]) | (parent[j] == ids[i])
    ev["siblings"] = (parent[i] >= 0) & (parent[i] == parent[j])
    logit += w["parent_child"] * ev["parent_child"] + w["siblings"] * ev["siblings"]
    ev["logit"] = logit
    return Scored(i, j, logistic(logit), ev)


def organisation_reasons(frame: pl.DataFrame, scored: Scored, k: int) -> list[dict[str, Any]]:
    """The evidence of pair k as reason codes, strongest first."""
    ev, w = scored.evidence, ORGANISATION_WEIGHTS
    a, b = int(scored.i[k]), int(scored.j[k])
    found: list[tuple[float, dict[str, Any]]] = []
    name = float(ev["name"][k])
    if not np.isnan(name):
        found.append(
            (
                float(_name_weight(np.array([name]), -6.0)[0]),
                {"code": "name", "percent": round(name * 100)},
            )
        )
    for code in (
        "same_siren",
        "different_siren",
        "same_siret",
        "same_domain",
        "different_domain",
        "same_phone",
        "different_phone",
        "same_street",
        "different_street",
        "same_postal_code",
        "different_country",
        "parent_child",
        "siblings",
    ):
        if ev[code][k]:
            found.append((w[code], {"code": code}))
    if ev["same_city"][k]:
        found.append((w["same_city"], {"code": "same_city", "city": frame["city"][a]}))
    for code in ("different_city", "different_department"):
        if ev[code][k]:
            cities = [
                frame["city"][a] or frame["postal_code"][a],
                frame["city"][b] or frame["postal_code"][b],
            ]
            found.append((w[code], {"code": code, "cities": cities}))
    found.sort(key=lambda item: -abs(item[0]))
    return [{**reason, "weight": round(weight, 1)} for weight, reason in found]


# --- contacts -----------------------------------------------------------------------------------

CONTACT_WEIGHTS = {
    "bias": -3.0,
    "same_email": 7.0,
    "same_role_mailbox": 2.0,
    "different_email": -2.0,
    "same_organisation": 3.0,
    "duplicate_organisations": 2.5,
    "different_organisation": -2.0,
    "same_mobile": 3.0,
    "same_phone": 1.5,
    "same_linkedin": 6.0,
}


def contact_scores(frame: pl.DataFrame, i: Array, j: Array) -> Scored:
    """Score pairs of rows of a frame made by `frames.prepare_contacts`."""
    w = CONTACT_WEIGHTS
    ev: dict[str, Array] = {}
    person = frame["person"]
    name = similarity(person.gather(i), person.gather(j), fuzz.token_sort_ratio)
    # "J. Dupont" and "Jean Dupont": the same last name and an initial that fits.
    same_last, _other = _same(frame["last_code"].to_numpy(), i, j)
    same_initial, _other = _same(frame["initial_code"].to_numpy(), i, j)
    bare = frame["first_is_initial"].to_numpy()
    initial = same_last & same_initial & (bare[i] | bare[j])
    name = np.where(initial, np.fmax(np.nan_to_num(name, nan=0.0), 0.93), name)
    ev["name"] = name
    logit = np.full(len(i), w["bias"]) + _name_weight(name, -7.0)
    for key in ("email", "organisation", "mobile", "linkedin"):
        same, different = _same(frame[f"{key}_code"].to_numpy(), i, j)
        ev[f"same_{key}"], ev[f"different_{key}"] = same, different
    # `organisation` groups organisations that are likely duplicates; `employer` is the record.
    same_employer, _other = _same(frame["employer_code"].to_numpy(), i, j)
    ev["duplicate_organisations"] = ev["same_organisation"] & ~same_employer
    ev["same_organisation"] = same_employer
    role = frame["role_mailbox"].to_numpy()
    ev["same_role_mailbox"] = ev["same_email"] & role[i]
    ev["same_email"] = ev["same_email"] & ~role[i]
    logit += w["same_email"] * ev["same_email"] + w["same_role_mailbox"] * ev["same_role_mailbox"]
    logit += w["different_email"] * ev["different_email"]
    logit += w["same_organisation"] * ev["same_organisation"]
    logit += w["duplicate_organisations"] * ev["duplicate_organisations"]
    logit += w["different_organisation"] * ev["different_organisation"]
    logit += w["same_mobile"] * ev["same_mobile"] + w["same_linkedin"] * ev["same_linkedin"]
    # A landline is often a switchboard shared by colleagues: weak evidence, either number.
    phones = frame["phone_code"].to_numpy()
    mobiles = frame["mobile_code"].to_numpy()
    shared = ((phones[i] >= 0) & ((phones[i] == phones[j]) | (phones[i] == mobiles[j]))) | (
        (mobiles[i] >= 0) & (mobiles[i] == phones[j])
    )
    ev["same_phone"] = shared & ~ev["same_mobile"]
    logit += w["same_phone"] * ev["same_phone"]
    ev["logit"] = logit
    return Scored(i, j, logistic(logit), ev)


def contact_reasons(frame: pl.DataFrame, scored: Scored, k: int) -> list[dict[str, Any]]:
    ev, w = scored.evidence, CONTACT_WEIGHTS
    found: list[tuple[float, dict[str, Any]]] = []
    name = float(ev["name"][k])
    if not np.isnan(name):
        found.append(
            (
                float(_name_weight(np.array([name]), -7.0)[0]),
                {"code": "name", "percent": round(name * 100)},
            )
        )
    for code in (
        "same_email",
        "same_role_mailbox",
        "different_email",
        "same_organisation",
        "duplicate_organisations",
        "different_organisation",
        "same_mobile",
        "same_phone",
        "same_linkedin",
    ):
        if ev[code][k]:
            found.append((w[code], {"code": code}))
    found.sort(key=lambda item: -abs(item[0]))
    return [{**reason, "weight": round(weight, 1)} for weight, reason in found]


# --- reasons in words ---------------------------------------------------------------------------


def describe(reason: Mapping[str, Any]) -> str:
    """One reason as a short phrase in the active language ("same SIREN", "names 94 % alike")."""
    code = reason.get("code", "")
    if code == "name":
        return _("names %(percent)s %% alike") % {"percent": reason.get("percent", 0)}
    if code == "same_city":
        return _("same city (%(city)s)") % {"city": reason.get("city", "")}
    if code in ("different_city", "different_department"):
        cities = [*list(reason.get("cities") or ["", ""]), "", ""]
        message = (
            _("different cities (%(a)s, %(b)s)")
            if code == "different_city"
            else _("far apart (%(a)s, %(b)s)")
        )
        return message % {"a": cities[0], "b": cities[1]}
    phrases = {
        "same_siren": _("same SIREN"),
        "different_siren": _("different SIRENs"),
        "same_siret": _("same SIRET"),
        "same_domain": _("same domain"),
        "different_domain": _("different domains"),
        "same_phone": _("same phone"),
        "different_phone": _("different phones"),
        "same_street": _("same street address"),
        "different_street": _("different street addresses"),
        "same_postal_code": _("same postal code"),
        "different_country": _("different countries"),
        "parent_child": _("parent and subsidiary"),
        "siblings": _("subsidiaries of the same parent"),
        "same_email": _("same email"),
        "same_role_mailbox": _("same shared mailbox"),
        "different_email": _("different emails"),
        "same_organisation": _("same organisation"),
        "duplicate_organisations": _("organisations that look like duplicates"),
        "different_organisation": _("different organisations"),
        "same_mobile": _("same mobile"),
        "same_linkedin": _("same LinkedIn profile"),
    }
    return phrases.get(code, code)


def is_for(reason: Mapping[str, Any]) -> bool:
    """Evidence for the pair being one record (shown in green), rather than against."""
    return float(reason.get("weight", 0)) > 0
