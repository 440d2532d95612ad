"""Normalisers: the single place where raw input becomes clean, comparable data.

Every way in (forms, API, CSV imports, integrations) calls these functions so a
value typed by hand and the same value imported from a spreadsheet end up
identical in the database.

Each normaliser takes raw input (a string or None) and returns the normalised
value, or None when the input is blank. Bad input raises NormalisationError,
whose message names the problem and echoes the offending value (shortened to
60 characters). Nothing else is ever raised for bad text.

Messages are translated when the error is raised, into Django's active language
(French for a French user, English in the source). Importable and usable without
Django settings or a database: messages are then English.
"""

from __future__ import annotations

import gettext
import re
import unicodedata
from functools import cache
from urllib.parse import urlsplit, urlunsplit

import idna
import phonenumbers
import pycountry
from django.conf import settings
from django.utils.translation import get_language
from django.utils.translation import gettext as django_gettext
from email_validator import EmailNotValidError, validate_email
from stdnum import exceptions as stdnum_exceptions
from stdnum.eu import vat as stdnum_vat
from stdnum.fr import siren as stdnum_siren
from stdnum.fr import siret as stdnum_siret

from cible.core.nace import NaceCodeInvalid, parse_naf

__all__ = [
    "NormalisationError",
    "country",
    "country_label",
    "domain",
    "email",
    "french_region_from_postal_code",
    "naf_code",
    "organisation_name",
    "person_name",
    "phone",
    "postal_code",
    "region_label",
    "search_key",
    "siren",
    "siret",
    "tidy_text",
    "vat",
    "website",
]

ECHO_LIMIT = 60


class NormalisationError(ValueError):
    """A raw value could not be normalised.

    ``field`` names the field (as given by the caller), ``message`` is a human
    sentence naming the problem and the bad value; ``str(err)`` is the message.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"NormalisationError(field={self.field!r}, message={self.message!r})"


# --------------------------------------------------------------------------- helpers


def gettext_noop(message: str) -> str:
    """Marks ``message`` for makemessages without translating it (``_`` does, when it is
    used). Django's own gettext_noop reads the settings: not at import time."""
    return message


def _(message: str) -> str:
    """``message`` in the active language, at call time; English (unchanged) when Django's
    settings are not configured."""
    return django_gettext(message) if settings.configured else message


def _speaks_english() -> bool:
    """True when messages come out in English (the source language)."""
    if not settings.configured:
        return True
    return (get_language() or "en").lower().startswith("en")


# Invisible format characters that only ever get in the way in a CRM field:
# zero-width space, soft hyphen, word joiner, byte order mark and bidirectional
# marks/embeddings/isolates. ZWJ/ZWNJ are kept (they carry meaning in some
# scripts and in emoji).
_INVISIBLE = frozenset(
    "\u00ad\u200b\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff"
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def _as_text(raw: object) -> str:
    if isinstance(raw, str):
        return raw
    if isinstance(raw, bytes):
        return raw.decode("utf-8", errors="replace")
    return str(raw)


def _clean(text: str) -> str:
    """Strip, remove control/invisible characters, NFC, collapse whitespace."""
    kept = []
    for char in text:
        if char.isspace():
            kept.append(" ")
            continue
        if char in _INVISIBLE:
            continue
        category = unicodedata.category(char)
        if category in ("Cc", "Cs"):
            continue
        kept.append(char)
    return " ".join(unicodedata.normalize("NFC", "".join(kept)).split())


def _echo(value: object) -> str:
    """The bad value as shown back in an error message, at most 60 characters."""
    text = " ".join(_as_text(value).split()) if value is not None else ""
    if len(text) > ECHO_LIMIT:
        return text[: ECHO_LIMIT - 1] + "\N{HORIZONTAL ELLIPSIS}"
    return text


def _fail(field: str, raw: object, message: str, **params: object) -> NormalisationError:
    """The error for ``raw``: ``message`` is a translated sentence naming the bad value as
    ``%(value)s`` (filled with its shortened form) and any other ``params`` by name."""
    return NormalisationError(field, message % {"value": _echo(raw), **params})


def _fold(text: str) -> str:
    """Lowercase, accents removed, anything but letters and digits turned into spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    chars = []
    for char in decomposed:
        category = unicodedata.category(char)
        if category == "Mn":
            continue
        chars.append(char if category[0] in "LN" or category == "Mc" else " ")
    return " ".join("".join(chars).split())


# --------------------------------------------------------------------------- text


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
        _("« %(value)s » is too long (%(length)s characters, at most %(max)s)"),
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


# --------------------------------------------------------------------------- phone

# French overseas departments/collectivities share the French national format
# (0590..., 0262...) but have their own calling codes.
_FRENCH_OVERSEAS_REGIONS = ("GP", "MQ", "GF", "RE", "YT", "PM", "BL", "MF")
_E164_RE = re.compile(r"\+\d{8,15}")


def _parse_phone(text: str, region: str) -> phonenumbers.PhoneNumber | None:
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def phone(raw: str | None, *, region: str | None = "FR", field: str = "phone") -> str | None:
    """A phone number in E.164 ("+33123456789"). National numbers are read for
    ``region`` (ISO country code); "00" international prefixes and "(0)" are fine.
    An extension, if any, is dropped."""
    text = tidy_text(raw, field=field)
    if text is None:
        return None
    if len(text) > 64:
        raise _fail(field, text, _("« %(value)s » is not a phone number: it is far too long"))
    region_code = (region or "").strip().upper() or "ZZ"
    candidate = text
    if candidate.lower().startswith("tel:"):
        candidate = candidate[4:].strip()
    if candidate.startswith("00"):
        candidate = "+" + candidate[2:]
    number = _parse_phone(candidate, region_code)
    if number is None and region_code == "FR" and not candidate.startswith("+"):
        for overseas in _FRENCH_OVERSEAS_REGIONS:
            number = _parse_phone(candidate, overseas)
            if number is not None:
                break
    if number is None and region_code != "ZZ":
        raise _fail(
            field,
            text,
            _(
                "« %(value)s » is not a valid phone number (national numbers are read as "
                "%(region)s)"
            ),
            region=region_code,
        )
    if number is None:
        raise _fail(field, text, _("« %(value)s » is not a valid phone number"))
    formatted = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if not _E164_RE.fullmatch(formatted):
        raise _fail(field, text, _("« %(value)s » is not a valid phone number"))
    return formatted


# --------------------------------------------------------------------------- country

# French (and a few native/English) names and usual abbreviations, keyed by
# their folded form (see _fold), for what pycountry does not know.
_COUNTRY_ALIASES: dict[str, str] = {
    # European Union
    "allemagne": "DE",
    "deutschland": "DE",
    "rfa": "DE",
    "autriche": "AT",
    "osterreich": "AT",
    "oesterreich": "AT",
    "belgique": "BE",
    "belgie": "BE",
    "belgien": "BE",
    "bulgarie": "BG",
    "chypre": "CY",
    "croatie": "HR",
    "hrvatska": "HR",
    "danemark": "DK",
    "danmark": "DK",
    "espagne": "ES",
    "espana": "ES",
    "estonie": "EE",
    "eesti": "EE",
    "finlande": "FI",
    "suomi": "FI",
    "france": "FR",
    "republique francaise": "FR",
    "france metropolitaine": "FR",
    "grece": "GR",
    "hellas": "GR",
    "el": "GR",
    "hongrie": "HU",
    "magyarorszag": "HU",
    "irlande": "IE",
    "eire": "IE",
    "italie": "IT",
    "italia": "IT",
    "lettonie": "LV",
    "latvija": "LV",
    "lituanie": "LT",
    "lietuva": "LT",
    "luxembourg": "LU",
    "letzebuerg": "LU",
    "malte": "MT",
    "pays bas": "NL",
    "nederland": "NL",
    "hollande": "NL",
    "holland": "NL",
    "pologne": "PL",
    "polska": "PL",
    "portugal": "PT",
    "republique tcheque": "CZ",
    "tchequie": "CZ",
    "czech republic": "CZ",
    "cesko": "CZ",
    "roumanie": "RO",
    "romania": "RO",
    "slovaquie": "SK",
    "slovensko": "SK",
    "slovenie": "SI",
    "slovenija": "SI",
    "suede": "SE",
    "sverige": "SE",
    # Rest of Europe
    "royaume uni": "GB",
    "uk": "GB",
    "u k": "GB",
    "grande bretagne": "GB",
    "great britain": "GB",
    "angleterre": "GB",
    "england": "GB",
    "ecosse": "GB",
    "scotland": "GB",
    "pays de galles": "GB",
    "wales": "GB",
    "irlande du nord": "GB",
    "northern ireland": "GB",
    "suisse": "CH",
    "schweiz": "CH",
    "svizzera": "CH",
    "confederation suisse": "CH",
    "norvege": "NO",
    "norge": "NO",
    "islande": "IS",
    "liechtenstein": "LI",
    "monaco": "MC",
    "principaute de monaco": "MC",
    "andorre": "AD",
    "saint marin": "SM",
    "vatican": "VA",
    "russie": "RU",
    "russia": "RU",
    "ukraine": "UA",
    "bielorussie": "BY",
    "moldavie": "MD",
    "serbie": "RS",
    "albanie": "AL",
    "macedoine du nord": "MK",
    "bosnie herzegovine": "BA",
    "montenegro": "ME",
    "turquie": "TR",
    "turkey": "TR",
    "georgie": "GE",
    "armenie": "AM",
    # Americas
    "etats unis": "US",
    "etats unis d amerique": "US",
    "usa": "US",
    "u s a": "US",
    "us": "US",
    "u s": "US",
    "united states": "US",
    "united states of america": "US",
    "canada": "CA",
    "mexique": "MX",
    "bresil": "BR",
    "brasil": "BR",
    "argentine": "AR",
    "chili": "CL",
    "colombie": "CO",
    "perou": "PE",
    "venezuela": "VE",
    "uruguay": "UY",
    "paraguay": "PY",
    "bolivie": "BO",
    "equateur": "EC",
    "cuba": "CU",
    "haiti": "HT",
    "republique dominicaine": "DO",
    # Africa
    "maroc": "MA",
    "tunisie": "TN",
    "algerie": "DZ",
    "libye": "LY",
    "egypte": "EG",
    "senegal": "SN",
    "cote d ivoire": "CI",
    "cote divoire": "CI",
    "ivory coast": "CI",
    "mali": "ML",
    "mauritanie": "MR",
    "niger": "NE",
    "burkina faso": "BF",
    "guinee": "GN",
    "benin": "BJ",
    "togo": "TG",
    "cameroun": "CM",
    "gabon": "GA",
    "congo": "CG",
    "republique du congo": "CG",
    "congo brazzaville": "CG",
    "rdc": "CD",
    "republique democratique du congo": "CD",
    "congo kinshasa": "CD",
    "tchad": "TD",
    "centrafrique": "CF",
    "republique centrafricaine": "CF",
    "madagascar": "MG",
    "maurice": "MU",
    "ile maurice": "MU",
    "comores": "KM",
    "djibouti": "DJ",
    "ethiopie": "ET",
    "kenya": "KE",
    "nigeria": "NG",
    "ghana": "GH",
    "afrique du sud": "ZA",
    "rwanda": "RW",
    "burundi": "BI",
    # Asia and Oceania
    "japon": "JP",
    "chine": "CN",
    "republique populaire de chine": "CN",
    "hong kong": "HK",
    "taiwan": "TW",
    "inde": "IN",
    "coree du sud": "KR",
    "south korea": "KR",
    "coree": "KR",
    "coree du nord": "KP",
    "vietnam": "VN",
    "viet nam": "VN",
    "thailande": "TH",
    "singapour": "SG",
    "malaisie": "MY",
    "indonesie": "ID",
    "philippines": "PH",
    "cambodge": "KH",
    "laos": "LA",
    "pakistan": "PK",
    "bangladesh": "BD",
    "sri lanka": "LK",
    "israel": "IL",
    "liban": "LB",
    "jordanie": "JO",
    "syrie": "SY",
    "irak": "IQ",
    "iran": "IR",
    "arabie saoudite": "SA",
    "emirats arabes unis": "AE",
    "eau": "AE",
    "uae": "AE",
    "qatar": "QA",
    "koweit": "KW",
    "bahrein": "BH",
    "oman": "OM",
    "australie": "AU",
    "nouvelle zelande": "NZ",
}

_MAX_COUNTRY_LENGTH = 80


def country(raw: str | None, field: str = "country") -> str | None:
    """An ISO 3166-1 alpha-2 code from a code ("FR", "fra"), an English, French or
    native name ("Allemagne", "Deutschland", "Germany"), accent- and case-insensitive."""
    text = tidy_text(raw, field=field)
    if text is None:
        return None
    if len(text) > _MAX_COUNTRY_LENGTH:
        raise _fail(
            field, text, _("« %(value)s » is not a country: it is far too long for a country name")
        )
    key = _fold(text)
    if key in _COUNTRY_ALIASES:
        return _COUNTRY_ALIASES[key]
    compact = key.replace(" ", "").upper()
    if len(compact) == 2 and compact.isascii() and compact.isalpha():
        found = pycountry.countries.get(alpha_2=compact)
        if found is not None:
            return str(found.alpha_2)
    if len(compact) == 3 and compact.isascii() and compact.isalpha():
        found = pycountry.countries.get(alpha_3=compact)
        if found is not None:
            return str(found.alpha_2)
    for candidate in (text, key):
        try:
            return str(pycountry.countries.lookup(candidate).alpha_2)
        except LookupError:
            continue
    if len(key) >= 4:
        try:
            matches = pycountry.countries.search_fuzzy(key)
        except LookupError:
            matches = []
        if len(matches) == 1:
            return str(matches[0].alpha_2)
    raise _fail(
        field,
        text,
        _("« %(value)s » is not a known country (give its name or its ISO code, e.g. FR)"),
    )


def _current_language() -> str:
    """Django's active language when Django is set up, else French (the default)."""
    try:
        from django.utils.translation import get_language

        return get_language() or "fr"
    except Exception:  # Django missing or settings not configured
        return "fr"


@cache
def _iso_translation(domain: str, language: str) -> gettext.NullTranslations:
    return gettext.translation(domain, pycountry.LOCALES_DIR, languages=[language], fallback=True)


def _translated(domain: str, name: str, language: str | None) -> str:
    lang = (language or _current_language()).split("-")[0].split("_")[0].lower()
    if lang == "en" or not lang:
        return name
    return _iso_translation(domain, lang).gettext(name)


def country_label(code: str | None, language: str | None = None) -> str:
    """The name of an ISO 3166-1 alpha-2 country ("DE" -> "Allemagne" in French,
    "Germany" in English), or the value itself when it is not a known code ("" for None).

    ``language`` defaults to Django's active language, or French without Django.
    """
    if code is None:
        return ""
    text = _as_text(code).strip()
    upper = text.upper()
    found = (
        pycountry.countries.get(alpha_2=upper)
        if len(upper) == 2 and upper.isascii() and upper.isalpha()
        else None
    )
    if found is None:
        return text
    return _translated("iso3166-1", str(found.name), language)


# --------------------------------------------------------------------------- email

_EMAIL_REWORDINGS: tuple[tuple[str, str], ...] = (
    ("The email address is not valid. ", ""),
    ("The email address ", "it "),
    ("An email address ", "it "),
    ("The part after the @-sign", "the domain"),
    ("The part before the @-sign", "the part before @"),
    ("The domain name ", "the domain "),
)


# What email_validator says (in English only) -> the same problem in our words, translated
# when raised. "%(chars)s" is the library's list of the offending characters.
_EMAIL_PROBLEMS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), message)
    for pattern, message in (
        (r"An email address must have an @-sign\.", gettext_noop("it must have an @-sign")),
        (
            r"There must be something before the @-sign\.",
            gettext_noop("there must be something before the @-sign"),
        ),
        (
            r"There must be something after the @-sign\.",
            gettext_noop("there must be something after the @-sign"),
        ),
        (
            r"An email address cannot start with a period\.",
            gettext_noop("it cannot start with a period"),
        ),
        (
            r"An email address cannot have a period immediately before the @-sign\.",
            gettext_noop("it cannot have a period immediately before the @-sign"),
        ),
        (
            r"An email address cannot have a period immediately after the @-sign\.",
            gettext_noop("it cannot have a period immediately after the @-sign"),
        ),
        (
            r"An email address cannot have a hyphen immediately after the @-sign\.",
            gettext_noop("it cannot have a hyphen immediately after the @-sign"),
        ),
        (
            r"An email address cannot end with a period\.",
            gettext_noop("it cannot end with a period"),
        ),
        (
            r"An email address cannot end with a hyphen\.",
            gettext_noop("it cannot end with a hyphen"),
        ),
        (
            r"An email address cannot have two periods in a row\.",
            gettext_noop("it cannot have two periods in a row"),
        ),
        (
            r"An email address cannot have a period and a hyphen next to each other\.",
            gettext_noop("it cannot have a period and a hyphen next to each other"),
        ),
        (
            r"The part after the @-sign is not valid\. It should have a period\.",
            gettext_noop("the domain is not valid: it should have a period"),
        ),
        (
            r"The part after the @-sign is not valid\. It is not within a valid top-level domain\.",
            gettext_noop("the domain is not valid: it is not within a valid top-level domain"),
        ),
        (
            r"The part after the @-sign is a special-use or reserved name that cannot be used "
            r"with email\.",
            gettext_noop(
                "the domain is a special-use or reserved name that cannot be used with email"
            ),
        ),
        (
            r"The part after the @-sign contains invalid characters: (?P<chars>.+)\.",
            gettext_noop("the domain contains invalid characters: %(chars)s"),
        ),
        (
            r"The part after the @-sign contains invalid characters \(.*\)\.",
            gettext_noop("the domain contains invalid characters"),
        ),
        (
            r"The part after the @-sign is not valid IDNA \(.*\)\.",
            gettext_noop("the domain is not a valid internationalised domain name"),
        ),
        (
            r"The email address contains invalid characters before the @-sign: (?P<chars>.+)\.",
            gettext_noop("it contains invalid characters before the @-sign: %(chars)s"),
        ),
        (
            r"The email address contains invalid characters before the @-sign\.",
            gettext_noop("it contains invalid characters before the @-sign"),
        ),
        (
            r"The email address contains unsafe characters: (?P<chars>.+)\.",
            gettext_noop("it contains unsafe characters: %(chars)s"),
        ),
        (
            r"The email address contains an invalid character\.",
            gettext_noop("it contains an invalid character"),
        ),
        (
            r"The email address is too long before the @-sign \(.*\)\.",
            gettext_noop("it is too long before the @-sign (at most 64 characters)"),
        ),
        (
            r"The email address is too long after the @-sign \(.*\)\.",
            gettext_noop("it is too long after the @-sign (at most 253 characters)"),
        ),
        (
            r"After the @-sign, periods cannot be separated by so many characters \(.*\)\.",
            gettext_noop(
                "after the @-sign, periods cannot be separated by so many characters (at most 63)"
            ),
        ),
        (
            r"Quoting the part before the @-sign is not allowed here\.",
            gettext_noop("quoting the part before the @-sign is not allowed"),
        ),
        (
            r"A bracketed IP address after the @-sign is not allowed here\.",
            gettext_noop("an IP address in brackets after the @-sign is not allowed"),
        ),
        (
            r"There can't be anything after the email address\.",
            gettext_noop("there can't be anything after the email address"),
        ),
        (
            r"An open angle bracket at the start of the email address has to be followed by a "
            r"close angle bracket at the end\.",
            gettext_noop("an opening < must be closed by a > at the end"),
        ),
        (
            r"The display name contains invalid characters when not quoted: (?P<chars>.+)\.",
            gettext_noop("the name before the address contains invalid characters: %(chars)s"),
        ),
    )
)


def _reword_email_error(error: EmailNotValidError) -> str:
    """email_validator's English message, made to follow "« value » is not a valid email
    address:" (for the rare problems _EMAIL_PROBLEMS does not know)."""
    message = str(error).strip()
    for before, after in _EMAIL_REWORDINGS:
        if message.startswith(before):
            message = after + message[len(before) :]
    message = message.rstrip(".").replace(" is not valid. It ", " is not valid: it ")
    return message[:1].lower() + message[1:]


def _email_problem(field: str, shown: str, error: EmailNotValidError) -> NormalisationError:
    message = str(error).strip()
    for pattern, problem in _EMAIL_PROBLEMS:
        match = pattern.fullmatch(message)
        if match is not None:
            reason = _(problem) % match.groupdict()
            break
    else:
        if not _speaks_english():  # the library's own wording is English only
            return _fail(field, shown, _("« %(value)s » is not a valid email address"))
        reason = _reword_email_error(error)
    return _fail(
        field, shown, _("« %(value)s » is not a valid email address: %(reason)s"), reason=reason
    )


def email(raw: str | None, field: str = "email") -> str | None:
    """An email address, lowercased ("Jean.Dupont@Example.FR" -> "jean.dupont@example.fr").

    Syntax only: the domain is not looked up. "mailto:" and a display name
    ("Jean <jean@example.fr>") are accepted and dropped."""
    text = tidy_text(raw, field=field)
    if text is None:
        return None
    if len(text) > 320:
        raise _fail(
            field, text, _("« %(value)s » is not a valid email address: it is far too long")
        )
    candidate = text
    if candidate.lower().startswith("mailto:"):
        candidate = candidate[7:].split("?", 1)[0].strip()
    try:
        result = validate_email(
            candidate,
            check_deliverability=False,
            allow_display_name=True,
            allow_quoted_local=False,
            allow_domain_literal=False,
        )
    except EmailNotValidError as error:
        raise _email_problem(field, text, error) from None
    return str(result.normalized).lower()


# --------------------------------------------------------------------------- web

_LABEL_RE = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_WWW_RE = re.compile(r"^www\d*\.")


def _host(raw_host: str, field: str, shown: str, *, email_domain: bool = False) -> str:
    """Validate a host name and return it lowercased (Unicode form kept).

    ``email_domain`` says the host came from an email address (for the messages)."""
    host = raw_host.strip().rstrip(".").lower()
    if email_domain:
        no_dot = _("« %(value)s » is not a valid email domain: the host name has no dot")
        problem = _("« %(value)s » is not a valid email domain: the host name is not valid")
    else:
        no_dot = _("« %(value)s » is not a website address: the host name has no dot")
        problem = _("« %(value)s » is not a website address: the host name is not valid")
    if "." not in host:
        raise _fail(field, shown, no_dot)
    try:
        ascii_host = idna.encode(host, uts46=True).decode("ascii")
        unicode_host = idna.decode(ascii_host)
    except (idna.IDNAError, UnicodeError, ValueError):
        raise _fail(field, shown, problem) from None
    labels = ascii_host.split(".")
    if len(ascii_host) > 253 or not all(_LABEL_RE.fullmatch(label) for label in labels):
        raise _fail(field, shown, problem)
    tld = labels[-1]
    if not (tld.isalpha() or tld.startswith("xn--")) or len(tld) < 2:
        raise _fail(field, shown, problem)
    return unicode_host


def _domain_of_host(host: str) -> str:
    stripped = _WWW_RE.sub("", host)
    return stripped if "." in stripped else host


def website(raw: str | None, field: str = "website") -> tuple[str | None, str | None]:
    """(url, domain): "WWW.Example.fr/contact" -> ("https://www.example.fr/contact",
    "example.fr"). No scheme means https; only http and https are accepted.
    The domain is the host without a leading "www."; blank gives (None, None)."""
    text = tidy_text(raw, field=field)
    if text is None:
        return None, None
    if len(text) > 2000:
        raise _fail(field, text, _("« %(value)s » is not a website address: it is far too long"))
    if " " in text:
        raise _fail(field, text, _("« %(value)s » is not a website address: it contains spaces"))
    candidate = text
    if "://" not in candidate:
        if candidate.startswith("//"):
            candidate = candidate[2:]
        candidate = "https://" + candidate
    try:
        parts = urlsplit(candidate)
        port = parts.port
        hostname = parts.hostname or ""
    except ValueError:
        raise _fail(field, text, _("« %(value)s » is not a website address")) from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise _fail(
            field,
            text,
            _("« %(value)s » is not a website address: only http and https are accepted"),
        )
    if parts.username is not None or parts.password is not None:
        raise _fail(
            field, text, _("« %(value)s » is not a website address: it contains a user name")
        )
    host = _host(hostname, field, text)
    netloc = host if port is None else f"{host}:{port}"
    path = "" if parts.path == "/" and not parts.query else parts.path
    url = urlunsplit((scheme, netloc, path, parts.query, parts.fragment))
    return url, _domain_of_host(host)


def domain(raw: str | None, field: str = "domain") -> str | None:
    """A domain from a URL, a bare host or an email address:
    "https://www.example.fr/x" and "jean@example.fr" both give "example.fr"."""
    text = tidy_text(raw, field=field)
    if text is None:
        return None
    if "@" in text and "://" not in text:
        if len(text) > 320 or " " in text:
            raise _fail(field, text, _("« %(value)s » is not a domain or an email address"))
        host = text.rsplit("@", 1)[1].rstrip(">")
        return _domain_of_host(_host(host, field, text, email_domain=True))
    return website(text, field=field)[1]


# --------------------------------------------------------------------------- French identifiers

_IDENTIFIER_SEPARATORS = re.compile(r"[\s.\-/_]+")


def _compact_identifier(text: str) -> str:
    return _IDENTIFIER_SEPARATORS.sub("", text)


def siren(raw: str | None, field: str = "siren") -> str | None:
    """A SIREN (9 digits, Luhn check digit), returned as digits only: "732 829 320"."""
    text = tidy_text(raw, field=field)
    if text is None:
        return None
    number = _compact_identifier(text)
    if not (number.isascii() and number.isdigit() and len(number) == 9):
        raise _fail(field, text, _("« %(value)s » is not a valid SIREN: 9 digits expected"))
    try:
        return str(stdnum_siren.validate(number))
    except stdnum_exceptions.ValidationError:
        raise _fail(
            field,
            text,
            _("« %(value)s » is not a valid SIREN: 9 digits with a valid check digit expected"),
        ) from None


def siret(raw: str | None, field: str = "siret") -> str | None:
    """A SIRET (14 digits: SIREN + NIC, check digit), returned as digits only."""
    text = tidy_text(raw, field=field)
    if text is None:
        return None
    number = _compact_identifier(text)
    if not (number.isascii() and number.isdigit() and len(number) == 14):
        raise _fail(field, text, _("« %(value)s » is not a valid SIRET: 14 digits expected"))
    try:
        return str(stdnum_siret.validate(number))
    except stdnum_exceptions.ValidationError:
        raise _fail(
            field,
            text,
            _("« %(value)s » is not a valid SIRET: 14 digits with a valid check digit expected"),
        ) from None


def vat(raw: str | None, field: str = "vat_number") -> str | None:
    """An EU VAT number with its country prefix, compact and uppercase: "FR40303265045"."""
    text = tidy_text(raw, field=field)
    if text is None:
        return None
    problem = _(
        "« %(value)s » is not a valid EU VAT number: a country prefix and a number with a "
        "valid check digit expected (e.g. FR40303265045)"
    )
    if len(text) > 40 or not text.isascii():
        raise _fail(field, text, problem)
    try:
        number = str(stdnum_vat.validate(stdnum_vat.compact(text)))
    except (stdnum_exceptions.ValidationError, ValueError, KeyError, IndexError):
        raise _fail(field, text, problem) from None
    return number.upper()


def naf_code(raw: str | None, field: str = "naf_code") -> str | None:
    """A NAF/NACE code in canonical form ("6201z" -> "62.01Z"); see cible.core.nace."""
    text = tidy_text(raw, field=field)
    if text is None:
        return None
    try:
        return parse_naf(text).code
    except NaceCodeInvalid as error:
        raise NormalisationError(field, str(error)) from None


# --------------------------------------------------------------------------- addresses

_POSTAL_CODE_RE = re.compile(r"[A-Z0-9][A-Z0-9 \-]{0,10}[A-Z0-9]|[A-Z0-9]")


def postal_code(
    raw: str | None, country: str | None = "FR", field: str = "postal_code"
) -> str | None:
    """A postal code, tidied and uppercased; French ones (country "FR") must be 5 digits
    ("75 008" -> "75008")."""
    text = tidy_text(raw, field=field)
    if text is None:
        return None
    code = text.upper()
    country_code = (country or "").strip().upper()
    if country_code in ("FR", "MC"):
        digits = code.replace(" ", "").replace(".", "")
        if not (digits.isascii() and digits.isdigit() and len(digits) == 5):
            raise _fail(
                field, text, _("« %(value)s » is not a valid French postal code: 5 digits expected")
            )
        return digits
    if not (code.isascii() and _POSTAL_CODE_RE.fullmatch(code)):
        raise _fail(
            field,
            text,
            _(
                "« %(value)s » is not a valid postal code: letters, digits, spaces or dashes "
                "expected"
            ),
        )
    return code


# Overseas postal prefixes that are not departments in pycountry's sense.
_OVERSEAS_POSTAL_PREFIXES: dict[str, str] = {
    "971": "FR-971",
    "972": "FR-972",
    "973": "FR-973",
    "974": "FR-974",
    "975": "FR-PM",
    "976": "FR-976",
    "977": "FR-BL",
    "978": "FR-MF",
    "984": "FR-TF",
    "986": "FR-WF",
    "987": "FR-PF",
    "988": "FR-NC",
}


@cache
def _department_regions() -> dict[str, str]:
    """Department number ("01".."95", "2A", "2B") -> top-level region code ("FR-ARA")."""
    by_code = {s.code: s for s in pycountry.subdivisions.get(country_code="FR")}
    mapping: dict[str, str] = {}
    for code, subdivision in by_code.items():
        number = code.removeprefix("FR-")
        if subdivision.type == "Metropolitan department":
            pass
        elif code == "FR-75C":  # Paris: a department and a commune at once
            number = "75"
        else:
            continue
        root = subdivision
        seen = 0
        while root.parent_code and root.parent_code in by_code and seen < 5:
            root = by_code[root.parent_code]
            seen += 1
        mapping[number] = str(root.code)
    return mapping


def french_region_from_postal_code(postal_code: str | None) -> str | None:
    """The ISO 3166-2 region of a French postal code: "75008" -> "FR-IDF",
    "20000" -> "FR-20R" (Corsica), "97400" -> "FR-974" (La Réunion).
    None when unknown (Monaco, malformed codes)."""
    if postal_code is None:
        return None
    code = "".join(_as_text(postal_code).split())
    if not (len(code) == 5 and code.isascii() and code.isdigit()):
        return None
    if code.startswith(("97", "98")):
        return _OVERSEAS_POSTAL_PREFIXES.get(code[:3])
    # Corsica: 200xx-201xx are Corse-du-Sud (2A), 202xx and above Haute-Corse (2B).
    corsica = "2A" if code[2] in "01" else "2B"
    department = corsica if code.startswith("20") else code[:2]
    return _department_regions().get(department)


def region_label(code: str | None) -> str:
    """The name of an ISO 3166-2 subdivision ("FR-IDF" -> "Île-de-France"), or the
    value itself when it is not a known code ("" for None)."""
    if code is None:
        return ""
    text = _as_text(code).strip()
    subdivision = pycountry.subdivisions.get(code=text.upper()) if text else None
    return str(subdivision.name) if subdivision is not None else text


@cache
def _french_region_codes() -> tuple[str, ...]:
    codes = set(_department_regions().values()) | set(_OVERSEAS_POSTAL_PREFIXES.values())
    return tuple(sorted(code for code in codes if code))


def french_region_choices() -> list[tuple[str, str]]:
    """The French regions a postal code can lead to, by name: list filters offer these
    without scanning the organisations table."""
    return sorted(
        ((code, region_label(code)) for code in _french_region_codes()), key=lambda p: _fold(p[1])
    )


def country_choices(language: str | None = None) -> list[tuple[str, str]]:
    """Every ISO 3166 country with its name in the current language, sorted by that name."""
    pairs = [(str(c.alpha_2), country_label(str(c.alpha_2), language)) for c in pycountry.countries]
    return sorted(pairs, key=lambda p: _fold(p[1]))
