"""Which column of a file fills which field: suggestions from header names, export presets.

Headers and synonyms are compared by `normalisers.search_key` (case, accents and punctuation
ignored), also with their spaces removed ("E-mail" is "email"). Exact matches come first: the
columns of a recognised export preset, then the entity's synonyms, then the headers of every
preset of the entity. What is left is compared fuzzily (rapidfuzz), above a threshold high
enough that a typo or a plural matches but "SIRET" never passes for "SIREN". A field is given to
one column at most: the first in the file among equals.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.utils import translation
from rapidfuzz import fuzz

from cible.core.normalisers import search_key
from cible.quality.imports.registry import ImportableEntity, Preset

FUZZY_THRESHOLD = 88.0
SHORTEST_FUZZY = 4  # shorter keys ("cp", "ca", "tel", "id") only ever match exactly
# Words that must agree for a fuzzy match: "siret societe" is not "siren societe".
_DECISIVE = frozenset(
    {
        "siren",
        "siret",
        "tva",
        "vat",
        "naf",
        "ape",
        "nace",
        "id",
        "email",
        "mail",
        "mobile",
        "portable",
        "first",
        "last",
        "prenom",
        "nom",
        "name",
        "domain",
        "domaine",
        "owner",
        "proprietaire",
    }
)
# A header holding one of these words, and no other of them, names the field the word names
# ("SIRET société", "Numéro de TVA intracom", "Adresse mail pro").
_TELLING = frozenset(
    {"siren", "siret", "tva", "vat", "naf", "ape", "nace", "email", "mail", "mobile", "portable"}
)
# A preset is recognised on at least this many of its headers, one of them its own.
PRESET_MIN_COLUMNS = 3
# Headers never sent to a preset's `others`: the column an error file adds.
_IGNORED = frozenset({"error", "errors", "erreur", "erreurs", "import error"})


def header_key(header: str) -> str:
    return search_key(header)


def _compact(key: str) -> str:
    return key.replace(" ", "")


@dataclass(frozen=True)
class _Vocabulary:
    """Every header name known for an entity, by search key."""

    synonyms: dict[str, str]  # key (and compact key) -> field
    preset_headers: dict[str, str]  # key -> field, for keys no two presets disagree on
    fuzzy: tuple[tuple[str, str], ...]  # (key, field) compared fuzzily
    distinctive: dict[str, frozenset[str]]  # preset name -> keys no synonym or other preset has


def _keys(texts: Iterable[str]) -> set[str]:
    keys: set[str] = set()
    for text in texts:
        key = header_key(text)
        if key:
            keys.update((key, _compact(key)))
    return keys


_VOCABULARIES: dict[int, tuple[ImportableEntity, _Vocabulary]] = {}


def _vocabulary(entity: ImportableEntity) -> _Vocabulary:
    cached = _VOCABULARIES.get(id(entity))
    if cached is not None and cached[0] is entity:
        return cached[1]
    vocabulary = _build_vocabulary(entity)
    _VOCABULARIES[id(entity)] = (entity, vocabulary)
    return vocabulary


def _build_vocabulary(entity: ImportableEntity) -> _Vocabulary:
    synonyms: dict[str, str] = {}
    for item in entity.fields:
        names = [item.name.replace("_", " "), *item.synonyms]
        for language in ("fr", "en"):
            with translation.override(language):
                names.append(str(item.label))
        for key in _keys(names):
            synonyms.setdefault(key, item.name)
    by_preset = {
        preset.name: {k: field for header, field in preset.columns.items() for k in _keys([header])}
        for preset in entity.presets
    }
    preset_headers: dict[str, str] = {}
    disputed: set[str] = set()
    for headers in by_preset.values():
        for key, field in headers.items():
            if preset_headers.setdefault(key, field) != field:
                disputed.add(key)
    for key in disputed:
        del preset_headers[key]
    distinctive = {
        name: frozenset(
            key
            for key in headers
            if key not in synonyms
            and not any(key in other for n, other in by_preset.items() if n != name)
        )
        for name, headers in by_preset.items()
    }
    fuzzy = {(key, field) for key, field in synonyms.items() if " " in key or len(key) > 3}
    fuzzy |= {(key, field) for key, field in preset_headers.items() if key not in synonyms}
    return _Vocabulary(synonyms, preset_headers, tuple(sorted(fuzzy)), distinctive)


def detect_preset(entity: ImportableEntity, columns: list[str]) -> Preset | None:
    """The export preset (Salesforce, HubSpot) whose headers the file has, if one stands out."""
    vocabulary = _vocabulary(entity)
    keys = {header_key(c) for c in columns} | {_compact(header_key(c)) for c in columns}
    best: tuple[int, int] = (0, 0)
    found: Preset | None = None
    tied = False
    for preset in entity.presets:
        own = _keys(preset.columns)
        matched = sum(1 for c in columns if header_key(c) in own or _compact(header_key(c)) in own)
        distinctive = len(vocabulary.distinctive[preset.name] & keys)
        if matched < PRESET_MIN_COLUMNS or distinctive == 0:
            continue
        score = (distinctive, matched)
        if score > best:
            best, found, tied = score, preset, False
        elif score == best:
            tied = True
    return None if tied else found


def preset_mapping(preset: Preset, columns: list[str]) -> dict[str, str | None]:
    """Column -> field for the columns a preset names (by search key); the others go to
    `preset.others` (the entity's extras field, which takes many columns), or None."""
    table = {k: field for header, field in preset.columns.items() for k in _keys([header])}
    mapping = _assign(columns, [table])
    if preset.others:
        for column, field in mapping.items():
            if field is None and header_key(column) not in _IGNORED:
                mapping[column] = preset.others
    return mapping


def suggest(entity: ImportableEntity, columns: list[str]) -> dict[str, str | None]:
    """Column -> suggested field name (or None), never the same field for two columns."""
    vocabulary = _vocabulary(entity)
    tables: list[Mapping[str, str]] = []
    preset = detect_preset(entity, columns)
    if preset is not None:
        tables.append({k: f for header, f in preset.columns.items() for k in _keys([header])})
    tables += [vocabulary.synonyms, vocabulary.preset_headers]
    mapping = _assign(columns, tables)
    _assign_fuzzy(mapping, vocabulary)
    _assign_telling(mapping, vocabulary)
    return mapping


def _assign(columns: list[str], tables: list[Mapping[str, str]]) -> dict[str, str | None]:
    mapping: dict[str, str | None] = dict.fromkeys(columns)
    taken: set[str] = set()
    for table in tables:
        for column in columns:
            if mapping[column] is not None:
                continue
            key = header_key(column)
            field = table.get(key) or table.get(_compact(key))
            if field is not None and field not in taken:
                mapping[column] = field
                taken.add(field)
    return mapping


def _known(key: str, vocabulary: _Vocabulary) -> bool:
    """Whether a header names a field exactly (even one another column already has)."""
    tables = (vocabulary.synonyms, vocabulary.preset_headers)
    return any(key in table or _compact(key) in table for table in tables)


def _digits(key: str) -> str:
    return "".join(c for c in key if c.isdigit())


def _assign_fuzzy(mapping: dict[str, str | None], vocabulary: _Vocabulary) -> None:
    taken = {field for field in mapping.values() if field is not None}
    candidates: list[tuple[float, int, str, str]] = []
    for position, column in enumerate(mapping):
        key = header_key(column)
        if mapping[column] is not None or len(_compact(key)) < SHORTEST_FUZZY:
            continue
        if _known(key, vocabulary):
            continue  # a second "Email" column is not the secondary email
        decisive = set(key.split()) & _DECISIVE
        for other, field in vocabulary.fuzzy:
            if field in taken or _digits(other) != _digits(key):
                continue
            theirs = set(other.split()) & _DECISIVE
            if decisive and theirs and decisive != theirs:
                continue
            score = max(fuzz.ratio(key, other), fuzz.token_sort_ratio(key, other))
            if score >= FUZZY_THRESHOLD:
                candidates.append((-score, position, column, field))
    for _score, _position, column, field in sorted(candidates):
        if mapping[column] is None and field not in taken:
            mapping[column] = field
            taken.add(field)


def _assign_telling(mapping: dict[str, str | None], vocabulary: _Vocabulary) -> None:
    taken = {field for field in mapping.values() if field is not None}
    for column, field in mapping.items():
        key = header_key(column)
        if field is not None or _known(key, vocabulary):
            continue
        words = set(key.split()) & _TELLING
        if len(words) != 1:
            continue
        named = vocabulary.synonyms.get(words.pop())
        if named is not None and named not in taken:
            mapping[column] = named
            taken.add(named)
