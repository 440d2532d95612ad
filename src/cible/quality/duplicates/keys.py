"""Comparison keys: names reduced to what identifies them, for blocking and scoring.

"Société Générale S.A." and "Ste Generale" both become "societe generale": lower case, accents
and punctuation gone, the legal form (SAS, SARL, GmbH & Co. KG, Ltd, S.p.A. …) dropped, "&" /
"et" / "and" and small words dropped, common abbreviations spelt out. Every function works on a
whole polars column at once (a million names in about a second); the scalar helpers run the very
same expressions on one value, so a name typed in a form gets exactly the key detection used.
"""

from __future__ import annotations

import re

import polars as pl

# Legal forms, as they read once folded (lower case, accents gone, punctuation as spaces):
# "S.à r.l." -> "s a r l", "GmbH & Co. KG" -> "gmbh co kg". Longest first in the patterns.
LEGAL_FORMS: tuple[str, ...] = (
    # France
    "sas",
    "s a s",
    "sasu",
    "s a s u",
    "sarl",
    "s a r l",
    "sarlu",
    "eurl",
    "e u r l",
    "sa",
    "s a",
    "snc",
    "s n c",
    "sci",
    "s c i",
    "scp",
    "scop",
    "scea",
    "sca",
    "scs",
    "selarl",
    "selas",
    "sem",
    "gie",
    "gaec",
    "ei",
    "eirl",
    "sa a directoire",
    "sa a conseil d administration",
    "societe anonyme",
    "societe par actions simplifiee",
    "societe a responsabilite limitee",
    "societe civile immobiliere",
    "et cie",
    "cie",
    # Germany, Austria, Switzerland
    "gmbh",
    "gmbh co kg",
    "gmbh co kgaa",
    "gmbh co",
    "ag",
    "ag co kg",
    "kg",
    "kgaa",
    "ohg",
    "ug",
    "ug haftungsbeschrankt",
    "e v",
    "ev",
    "eg",
    "sarl",
    "sagl",
    # United Kingdom, Ireland, United States
    "ltd",
    "limited",
    "plc",
    "llp",
    "llc",
    "l l c",
    "inc",
    "incorporated",
    "corp",
    "corporation",
    "co",
    "company",
    "co ltd",
    "lp",
    # Benelux
    "bv",
    "b v",
    "bvba",
    "nv",
    "n v",
    "sprl",
    "srl",
    "cv",
    "vof",
    "asbl",
    "vzw",
    # Italy, Spain, Portugal
    "spa",
    "s p a",
    "s r l",
    "sapa",
    "snc",
    "sas",
    "sl",
    "s l",
    "slu",
    "s l u",
    "sau",
    "s a u",
    "lda",
    # Nordics, others
    "ab",
    "as",
    "asa",
    "aps",
    "oy",
    "oyj",
    "kft",
    "sp z o o",
    "s r o",
    "a s",
)

# Tokens spelt out before comparing ("Ets" and "Établissements" are the same word).
ABBREVIATIONS: dict[str, str] = {
    "soc": "societe",
    "ste": "sainte",  # "Ste" first in a name is "Société": see _LEADING below
    "st": "saint",
    "cie": "compagnie",
    "ets": "etablissements",
    "etbs": "etablissements",
    "etabl": "etablissements",
    "etab": "etablissements",
    "etablissement": "etablissements",
    "gpe": "groupe",
    "grp": "groupe",
    "group": "groupe",
    "gruppe": "groupe",
    "grupo": "groupe",
    "gruppo": "groupe",
    "intl": "international",
    "int": "international",
    "internat": "international",
    "mgmt": "management",
    "svc": "services",
    "svcs": "services",
    "service": "services",
    "serv": "services",
    "assoc": "association",
    "asso": "association",
    "tech": "technologies",
    "techno": "technologies",
    "technologie": "technologies",
    "technology": "technologies",
    "technologys": "technologies",
    "sys": "systemes",
    "systeme": "systemes",
    "info": "informatique",
    "distrib": "distribution",
    "dist": "distribution",
    "ind": "industries",
    "indus": "industries",
    "industrie": "industries",
    "industry": "industries",
    "ing": "ingenierie",
    "bros": "brothers",
    "mfg": "manufacturing",
    "fr": "france",
    "dept": "departement",
    "lab": "laboratoires",
    "labo": "laboratoires",
    "labs": "laboratoires",
    "laboratoire": "laboratoires",
    "conseils": "conseil",
    "solution": "solutions",
    "transport": "transports",
    "assurance": "assurances",
}
# Words that carry nothing: articles, "and" in the languages of the base.
STOP_WORDS: frozenset[str] = frozenset(
    [
        "et",
        "and",
        "und",
        "y",
        "e",
        "de",
        "du",
        "des",
        "la",
        "le",
        "les",
        "l",
        "d",
        "the",
        "of",
        "au",
        "aux",
    ]
)
# "Ste Generale", "Sté Générale", "Soc. Générale": at the head of a name, "ste" is "Société".
_LEADING = re.compile(r"^(?:ste|soc|sté)\s")
# Letters NFKD leaves alone but people type both ways.
_LIGATURES = {"œ": "oe", "æ": "ae", "ß": "ss", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th"}

# Mail and site hosts shared by unrelated people and companies: the same one is no evidence.
GENERIC_DOMAINS: frozenset[str] = frozenset(
    [
        "gmail.com",
        "googlemail.com",
        "hotmail.com",
        "hotmail.fr",
        "hotmail.co.uk",
        "outlook.com",
        "outlook.fr",
        "live.com",
        "live.fr",
        "msn.com",
        "yahoo.com",
        "yahoo.fr",
        "yahoo.co.uk",
        "ymail.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "aol.fr",
        "orange.fr",
        "wanadoo.fr",
        "free.fr",
        "sfr.fr",
        "neuf.fr",
        "laposte.net",
        "bbox.fr",
        "numericable.fr",
        "club-internet.fr",
        "gmx.de",
        "gmx.fr",
        "gmx.net",
        "web.de",
        "t-online.de",
        "freenet.de",
        "protonmail.com",
        "proton.me",
        "mail.com",
        "zoho.com",
        "yandex.com",
        "tutanota.com",
        "libero.it",
        "virgilio.it",
        "tiscali.it",
        "alice.it",
        "telefonica.net",
        "terra.es",
        "skynet.be",
        "telenet.be",
        "bluewin.ch",
        "hispeed.ch",
        "ziggo.nl",
        "kpnmail.nl",
        "facebook.com",
        "linkedin.com",
        "instagram.com",
        "twitter.com",
        "x.com",
        "wixsite.com",
        "wordpress.com",
        "blogspot.com",
        "sites.google.com",
        "pagesjaunes.fr",
        "societe.com",
    ]
)
# Local parts of role mailboxes shared by colleagues: the same address is weaker evidence.
ROLE_MAILBOXES: frozenset[str] = frozenset(
    [
        "contact",
        "info",
        "infos",
        "information",
        "accueil",
        "hello",
        "bonjour",
        "sales",
        "vente",
        "ventes",
        "commercial",
        "admin",
        "office",
        "bureau",
        "secretariat",
        "direction",
        "rh",
        "hr",
        "compta",
        "comptabilite",
        "support",
        "service",
        "team",
        "equipe",
        "marketing",
        "communication",
        "mail",
        "email",
        "noreply",
        "no-reply",
    ]
)


def _forms_pattern(forms: tuple[str, ...]) -> str:
    ordered = sorted(set(forms), key=lambda form: (-len(form), form))
    return "|".join(re.escape(form) for form in ordered)


_FORMS = _forms_pattern(LEGAL_FORMS)
# One or more legal forms at the end ("dupont sa a directoire", "muller gmbh co kg"), or one at
# the head ("sarl dupont"). Only whole words: "sas" in "sassenage" stays.
_TRAILING_FORMS = rf"(?:\s(?:{_FORMS}))+$"
_LEADING_FORM = rf"^(?:{_FORMS})\s"


def fold(column: pl.Expr) -> pl.Expr:
    """Lower case, accents and ligatures gone, anything but letters and digits as one space."""
    expr = column.fill_null("").str.to_lowercase()
    for ligature, spelt in _LIGATURES.items():
        expr = expr.str.replace_all(ligature, spelt, literal=True)
    return (
        expr.str.normalize("NFKD")
        .str.replace_all(r"\p{Mn}+", "")
        .str.replace_all(r"[^\p{L}\p{N}]+", " ")
        .str.strip_chars()
    )


def _tokens_cleaned(folded: pl.Expr) -> pl.Expr:
    """Abbreviations spelt out and stop words dropped, token by token, joined again."""
    return (
        folded.str.split(" ")
        .list.eval(
            pl.element()
            .replace(ABBREVIATIONS)
            .filter(~pl.element().is_in(list(STOP_WORDS)) & (pl.element() != ""))
        )
        .list.join(" ")
    )


def name_core(column: pl.Expr) -> pl.Expr:
    """An organisation's name without legal form, accents, punctuation or small words.

    Falls back to the folded name when nothing would be left ("SA" alone stays "sa")."""
    folded = fold(column)
    leading = folded.str.replace(_LEADING.pattern, "societe ")
    stripped = (
        leading.str.replace(_TRAILING_FORMS, "")
        .str.replace(_TRAILING_FORMS, "")
        .str.replace(_LEADING_FORM, "")
        .str.strip_chars()
    )
    cleaned = _tokens_cleaned(stripped)
    return pl.when(cleaned == "").then(folded).otherwise(cleaned)


def sorted_tokens(column: pl.Expr) -> pl.Expr:
    """The key's words in alphabetical order: "conseil dupont" == "dupont conseil"."""
    return column.str.split(" ").list.sort().list.join(" ")


def compact(column: pl.Expr) -> pl.Expr:
    """No spaces at all: "nova tek" == "novatek"."""
    return column.str.replace_all(" ", "", literal=True)


def person_key(first: pl.Expr, last: pl.Expr) -> pl.Expr:
    """A person's name folded, words sorted: "Dupont Jean" == "jean DUPONT" == "Jean Dupont"."""
    return sorted_tokens(
        _tokens_cleaned(
            fold(pl.concat_str([first.fill_null(""), last.fill_null("")], separator=" "))
        )
    )


def department(postal_code: pl.Expr, country: pl.Expr) -> pl.Expr:
    """Where a record is, coarsely: the French department ("75", "2A", "971"), else country and
    the first two characters of the postal code ("DE:10"). Empty when unknown."""
    postal = postal_code.fill_null("").str.replace_all(" ", "", literal=True).str.to_uppercase()
    country_ = country.fill_null("").str.to_uppercase()
    french = (country_ == "") | (country_ == "FR") | (country_ == "MC")
    overseas = postal.str.starts_with("97") | postal.str.starts_with("98")
    return (
        pl.when(postal == "")
        .then(pl.lit(""))
        .when(french & overseas)
        .then(postal.str.slice(0, 3))
        .when(french)
        .then(postal.str.slice(0, 2))
        .otherwise(pl.concat_str([country_, pl.lit(":"), postal.str.slice(0, 2)]))
    )


def email_parts(email: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(local part, domain) of a lower-cased address; empty strings when there is none."""
    lowered = email.fill_null("").str.to_lowercase()
    local = lowered.str.extract(r"^([^@]+)@", 1).fill_null("")
    domain = lowered.str.extract(r"@(.+)$", 1).fill_null("")
    return local, domain


# --- one value at a time (forms, API, tests) ----------------------------------------------------


def _one(expression: pl.Expr, value: str | None) -> str:
    frame = pl.DataFrame({"value": [value or ""]}, schema={"value": pl.String})
    return str(frame.select(expression.alias("out"))["out"][0] or "")


def organisation_name_key(name: str | None) -> str:
    """`name_core` of one name: "Société Générale S.A." -> "societe generale"."""
    return _one(name_core(pl.col("value")), name)


def folded(text: str | None) -> str:
    return _one(fold(pl.col("value")), text)


def person_name_key(first: str | None, last: str | None) -> str:
    frame = pl.DataFrame({"first": [first or ""], "last": [last or ""]})
    return str(frame.select(person_key(pl.col("first"), pl.col("last")).alias("out"))["out"][0])
