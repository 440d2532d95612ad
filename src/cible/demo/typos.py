"""How people mistype names: the mutations the demo's labelled duplicates are made of.

A slip of the keyboard, an abbreviation ("Sté", "Ets", "Intl"), a legal form dropped, changed,
dotted or put first, accents dropped, capitals; for people an initial, first and last names
swapped. Each function takes the random stream of the step, so the demo stays deterministic.
"""

from __future__ import annotations

import unicodedata
from random import Random

from cible.demo import reference as ref

ABBREVIATIONS = (
    ("Société", "Sté"),
    ("Établissements", "Ets"),
    ("Groupe", "Gpe"),
    ("Group", "Grp"),
    ("International", "Intl"),
    ("Technologies", "Tech"),
    ("Compagnie", "Cie"),
    ("Saint", "St"),
    ("Ingénierie", "Ing."),
    ("Laboratoires", "Labo"),
    ("Distribution", "Distrib."),
    ("Services", "Svc"),
    ("Industries", "Ind."),
    (" et ", " & "),
    (" & ", " et "),
    (" & ", " and "),
)
KEYBOARD_NEIGHBOURS = {
    "a": "zqs",
    "e": "zrd",
    "i": "uok",
    "o": "ipl",
    "u": "yij",
    "n": "bm",
    "m": "n",
    "r": "et",
    "t": "ry",
    "s": "qdz",
    "l": "km",
    "c": "xv",
    "d": "sf",
}


def without_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


def typo(rng: Random, text: str) -> str:
    """One slip of the keyboard in one longer word: swapped, dropped, doubled or wrong letter."""
    words = text.split(" ")
    long_words = [n for n, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if not long_words:
        return text
    n = rng.choice(long_words)
    word = words[n]
    at = rng.randrange(1, len(word) - 1)
    kind = rng.random()
    if kind < 0.3:
        word = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    elif kind < 0.55:
        word = word[:at] + word[at + 1 :]
    elif kind < 0.75:
        word = word[:at] + word[at] + word[at:]
    else:
        lower = word[at].lower()
        wrong = rng.choice(KEYBOARD_NEIGHBOURS.get(lower, "aeiou"))
        word = word[:at] + wrong + word[at + 1 :]
    words[n] = word
    return " ".join(words)


def split_form(name: str, country: str) -> tuple[str, str]:
    """(name without its legal form, the form) for a generated legal name."""
    for form, _weight in sorted(ref.LEGAL_FORMS.get(country, ()), key=lambda f: -len(f[0])):
        if name.endswith(" " + form):
            return name[: -len(form) - 1], form
    return name, ""


def other_form(rng: Random, name: str, country: str) -> str:
    """The same name with its legal form dropped, changed, dotted or put first."""
    core, form = split_form(name, country)
    forms = [f for f, _w in ref.LEGAL_FORMS.get(country, ()) if f != form]
    choice = rng.random()
    if not form or choice < 0.4:
        return core if form else f"{core} {rng.choice(forms or ['SA'])}"
    if choice < 0.65 and forms:
        return f"{core} {rng.choice(forms)}"
    if choice < 0.85:
        dotted = ".".join(form.replace(".", "")) + "." if len(form) <= 4 else form
        return f"{core} {dotted}"
    return f"{form} {core}"


def abbreviate(rng: Random, name: str) -> str:
    found = [(long, short) for long, short in ABBREVIATIONS if long in name]
    if found:
        long, short = rng.choice(found)
        return name.replace(long, short, 1)
    words = name.split(" ")
    if len(words) >= 3 and rng.random() < 0.5:  # "Dupont Conseil SAS" -> "DUPONT CONSEIL SAS"
        return name.upper()
    return without_accents(name)


def mutate_name(rng: Random, name: str, country: str) -> tuple[str, str]:
    """One or two of the ways a name gets typed again; returns (name, kinds joined by +)."""
    kinds = rng.sample(["typo", "abbreviation", "legal_form", "accents"], rng.choice((1, 1, 2)))
    for kind in kinds:
        if kind == "typo":
            name = typo(rng, name)
        elif kind == "abbreviation":
            name = abbreviate(rng, name)
        elif kind == "legal_form":
            name = other_form(rng, name, country)
        else:
            name = without_accents(name).upper() if rng.random() < 0.5 else without_accents(name)
    return name, "+".join(kinds)


def mutate_person(rng: Random, first: str, last: str) -> tuple[str, str, str]:
    kind = rng.choice(["typo", "accents", "initial", "swapped", "case", "exact"])
    if kind == "typo":
        if rng.random() < 0.5 and len(last) >= 5:
            last = typo(rng, last)
        else:
            first = typo(rng, first)
    elif kind == "accents":
        first, last = without_accents(first), without_accents(last).upper()
    elif kind == "initial" and first:
        first = first[0] + "."
    elif kind == "swapped":
        first, last = last, first
    elif kind == "case":
        first, last = first.lower(), last.upper()
    return first, last, kind
