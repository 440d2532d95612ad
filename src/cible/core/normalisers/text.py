"""Free text and names: tidy_text, person_name, organisation_name and the search key."""

from __future__ import annotations

import unicodedata

from cible.core.normalisers._common import NormalisationError, _, _as_text, _clean, _fail, _fold


def tidy_text(raw: str | None, *, max_length: int | None = None, field: str = "") -> str | None:
    """Strip, collapse whitespace runs (tabs, newlines, non-breaking spaces) into one
    space and remove control and invisible characters. Blank gives None."""
    if raw is None:
        return None
    text = _clean(_as_text(raw))
    if not text:
        return None
    if max_length is not None and len(text) > max_length:
        raise _too_long(field, text, max_length)
    return text


# Lowercase particles in surnames. Nobiliary particles stay lowercase even as
# the first word ("de Gaulle", "d'Alembert", "von Braun"); articles and the like
# only after another word ("Le Pen", "Da Silva" but "de la Fontaine",
# "Maria da Silva").
_NAME_PARTICLES = frozenset({"de", "du", "des", "van", "von", "zu"})
_NAME_ARTICLES = frozenset(
    {"la", "le", "les", "der", "den", "ter", "ten", "di", "da", "del", "della", "do", "dos", "das"}
)
_ELIDED_PARTICLES = frozenset({"d"})  # d'Alembert
_ELIDED_ARTICLES = frozenset({"l"})  # L'Hermite, de l'Estoile
_APOSTROPHES = "'\u2019"


def _capitalise(part: str) -> str:
    """First letter upper, the rest lower; a first letter with no single-character
    capital ("ß", ligatures) is left alone."""
    return _initial(part[:1]) + part[1:].lower()


def _initial(char: str) -> str:
    upper = char.upper()
    return upper if len(upper) == 1 else char


def _is_particle(word: str, *, first: bool, elided: bool = False) -> bool:
    particles = _ELIDED_PARTICLES if elided else _NAME_PARTICLES
    articles = _ELIDED_ARTICLES if elided else _NAME_ARTICLES
    return word in particles or (not first and word in articles)


def _case_word(word: str, *, first: bool, lower_particles: bool) -> str:
    lowered = word.lower()
    if lower_particles and _is_particle(lowered, first=first):
        return lowered
    # Hyphenated parts each get a capital: "jean-pierre" -> "Jean-Pierre".
    pieces = []
    for piece in lowered.split("-"):
        # One-letter elided prefix before an apostrophe: "o'neil" -> "O'Neil",
        # "d'alembert" -> "d'Alembert".
        if len(piece) > 2 and piece[1] in _APOSTROPHES and piece[0].isalpha():
            prefix = piece[0]
            if not (lower_particles and _is_particle(prefix, first=first, elided=True)):
                prefix = _initial(prefix)
            pieces.append(prefix + piece[1] + _capitalise(piece[2:]))
        else:
            pieces.append(_capitalise(piece))
    return "-".join(pieces)


def _smart_case(text: str, *, particles: bool) -> str:
    words = text.split(" ")
    all_particles = all(w.lower() in _NAME_PARTICLES or w.lower() in _NAME_ARTICLES for w in words)
    cased = " ".join(
        _case_word(w, first=i == 0, lower_particles=particles and not all_particles)
        for i, w in enumerate(words)
    )
    # Case mapping can decompose ("İ".lower() is "i" + combining dot): recompose.
    return unicodedata.normalize("NFC", cased)


def _single_case(text: str) -> bool:
    """True when every cased letter has the same case (and there is at least one)."""
    return text.isupper() or text.islower()


def person_name(raw: str | None, field: str = "first_name", *, max_length: int = 150) -> str | None:
    """A first or last name: tidied; "JEAN-PIERRE" -> "Jean-Pierre",
    "de la fontaine" -> "de la Fontaine", "o'neil" -> "O'Neil". Mixed case is kept."""
    text = tidy_text(raw, max_length=max_length, field=field)
    if text is None:
        return None
    if _single_case(text):
        text = _smart_case(text, particles=True)
    return _within(text, max_length, field)


def organisation_name(raw: str | None, field: str = "name", *, max_length: int = 255) -> str | None:
    """An organisation name: tidied; all-lowercase input is title-cased, anything
    else is kept as typed ("IBM", "SNCF", "L'Oréal")."""
    text = tidy_text(raw, max_length=max_length, field=field)
    if text is None:
        return None
    if text.islower():
        text = _smart_case(text, particles=False)
    return _within(text, max_length, field)


def _too_long(field: str, text: str, max_length: int) -> NormalisationError:
    return _fail(
        field,
        text,
        _("“%(value)s” is too long (%(length)s characters, at most %(max)s)"),
        length=len(text),
        max=max_length,
    )


def _within(text: str, max_length: int, field: str) -> str:
    # Case mapping may lengthen a few exotic characters: check again.
    if len(text) > max_length:
        raise _too_long(field, text, max_length)
    return text


def search_key(raw: str | None) -> str:
    """A search/dedup key: lowercase, no accents, punctuation as spaces, single spaces.

    "Société Générale S.A." -> "societe generale s a". Blank gives "".
    """
    if raw is None:
        return ""
    key = _fold(_as_text(raw))
    # Case folding and compatibility decomposition interact on a few exotic
    # characters; iterate to a fixed point so the key is idempotent.
    for _round in range(4):
        again = _fold(key)
        if again == key:
            break
        key = again
    return key
