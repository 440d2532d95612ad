"""NACE Rev. 2 / NAF rév. 2 economic activity classification, shipped as data.

The French NAF rév. 2 (INSEE) and the European NACE Rev. 2 (Eurostat) share the
same 21 sections, 88 divisions, groups and classes; NAF adds a fifth character,
the sub-class letter ("62.01Z"). Only sections and divisions are shipped here:
that is the granularity used for segmentation. A code is accepted when its
format is right and its division exists.

Labels: French wording from INSEE (NAF rév. 2), English wording from Eurostat
(NACE Rev. 2).

Error messages are translated when raised, into Django's active language.
Importable and usable without Django settings or a database: messages are then English.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as django_gettext

__all__ = [
    "DIVISIONS",
    "SECTIONS",
    "Division",
    "NaceCodeInvalid",
    "NafCode",
    "Section",
    "division_choices",
    "division_for",
    "divisions_in",
    "parse_naf",
    "section_choices",
    "section_for",
    "sector_label",
]


def gettext_noop(message: str) -> str:
    """Marks ``message`` for makemessages without translating it (``_`` does, when it is
    used). Django's own gettext_noop reads the settings: not at import time."""
    return message


def _(message: str) -> str:
    """``message`` in the active language, at call time; English (unchanged) when Django's
    settings are not configured."""
    return django_gettext(message) if settings.configured else message


def _is_french(language: str | None) -> bool:
    return str(language or "").strip().lower().startswith("fr")


@dataclass(frozen=True)
class Section:
    """One of the 21 top-level sections, lettered A to U."""

    code: str
    label_fr: str
    label_en: str

    def label(self, language: str | None = "fr") -> str:
        """The French label for any language starting with "fr", else the English one."""
        return self.label_fr if _is_french(language) else self.label_en


@dataclass(frozen=True)
class Division:
    """One of the 88 two-digit divisions, each inside one section."""

    code: str
    section: str
    label_fr: str
    label_en: str

    def label(self, language: str | None = "fr") -> str:
        """The French label for any language starting with "fr", else the English one."""
        return self.label_fr if _is_french(language) else self.label_en


_SECTION_ROWS: tuple[tuple[str, str, str], ...] = (
    ("A", "Agriculture, sylviculture et pêche", "Agriculture, forestry and fishing"),
    ("B", "Industries extractives", "Mining and quarrying"),
    ("C", "Industrie manufacturière", "Manufacturing"),
    (
        "D",
        "Production et distribution d'électricité, de gaz, de vapeur et d'air conditionné",
        "Electricity, gas, steam and air conditioning supply",
    ),
    (
        "E",
        "Production et distribution d'eau ; assainissement, gestion des déchets et dépollution",
        "Water supply; sewerage, waste management and remediation activities",
    ),
    ("F", "Construction", "Construction"),
    (
        "G",
        "Commerce ; réparation d'automobiles et de motocycles",
        "Wholesale and retail trade; repair of motor vehicles and motorcycles",
    ),
    ("H", "Transports et entreposage", "Transportation and storage"),
    ("I", "Hébergement et restauration", "Accommodation and food service activities"),
    ("J", "Information et communication", "Information and communication"),
    ("K", "Activités financières et d'assurance", "Financial and insurance activities"),
    ("L", "Activités immobilières", "Real estate activities"),
    (
        "M",
        "Activités spécialisées, scientifiques et techniques",
        "Professional, scientific and technical activities",
    ),
    (
        "N",
        "Activités de services administratifs et de soutien",
        "Administrative and support service activities",
    ),
    (
        "O",
        "Administration publique",
        "Public administration and defence; compulsory social security",
    ),
    ("P", "Enseignement", "Education"),
    ("Q", "Santé humaine et action sociale", "Human health and social work activities"),
    ("R", "Arts, spectacles et activités récréatives", "Arts, entertainment and recreation"),
    ("S", "Autres activités de services", "Other service activities"),
    (
        "T",
        "Activités des ménages en tant qu'employeurs ; activités indifférenciées des ménages "
        "en tant que producteurs de biens et services pour usage propre",
        "Activities of households as employers; undifferentiated goods- and "
        "services-producing activities of households for own use",
    ),
    (
        "U",
        "Activités extra-territoriales",
        "Activities of extraterritorial organisations and bodies",
    ),
)

_DIVISION_ROWS: tuple[tuple[str, str, str, str], ...] = (
    # A - Agriculture, forestry and fishing
    (
        "01",
        "A",
        "Culture et production animale, chasse et services annexes",
        "Crop and animal production, hunting and related service activities",
    ),
    ("02", "A", "Sylviculture et exploitation forestière", "Forestry and logging"),
    ("03", "A", "Pêche et aquaculture", "Fishing and aquaculture"),
    # B - Mining and quarrying
    ("05", "B", "Extraction de houille et de lignite", "Mining of coal and lignite"),
    ("06", "B", "Extraction d'hydrocarbures", "Extraction of crude petroleum and natural gas"),
    ("07", "B", "Extraction de minerais métalliques", "Mining of metal ores"),
    ("08", "B", "Autres industries extractives", "Other mining and quarrying"),
    (
        "09",
        "B",
        "Services de soutien aux industries extractives",
        "Mining support service activities",
    ),
    # C - Manufacturing
    ("10", "C", "Industries alimentaires", "Manufacture of food products"),
    ("11", "C", "Fabrication de boissons", "Manufacture of beverages"),
    ("12", "C", "Fabrication de produits à base de tabac", "Manufacture of tobacco products"),
    ("13", "C", "Fabrication de textiles", "Manufacture of textiles"),
    ("14", "C", "Industrie de l'habillement", "Manufacture of wearing apparel"),
    (
        "15",
        "C",
        "Industrie du cuir et de la chaussure",
        "Manufacture of leather and related products",
    ),
    (
        "16",
        "C",
        "Travail du bois et fabrication d'articles en bois et en liège, à l'exception des "
        "meubles ; fabrication d'articles en vannerie et sparterie",
        "Manufacture of wood and of products of wood and cork, except furniture; "
        "manufacture of articles of straw and plaiting materials",
    ),
    ("17", "C", "Industrie du papier et du carton", "Manufacture of paper and paper products"),
    (
        "18",
        "C",
        "Imprimerie et reproduction d'enregistrements",
        "Printing and reproduction of recorded media",
    ),
    (
        "19",
        "C",
        "Cokéfaction et raffinage",
        "Manufacture of coke and refined petroleum products",
    ),
    ("20", "C", "Industrie chimique", "Manufacture of chemicals and chemical products"),
    (
        "21",
        "C",
        "Industrie pharmaceutique",
        "Manufacture of basic pharmaceutical products and pharmaceutical preparations",
    ),
    (
        "22",
        "C",
        "Fabrication de produits en caoutchouc et en plastique",
        "Manufacture of rubber and plastic products",
    ),
    (
        "23",
        "C",
        "Fabrication d'autres produits minéraux non métalliques",
        "Manufacture of other non-metallic mineral products",
    ),
    ("24", "C", "Métallurgie", "Manufacture of basic metals"),
    (
        "25",
        "C",
        "Fabrication de produits métalliques, à l'exception des machines et des équipements",
        "Manufacture of fabricated metal products, except machinery and equipment",
    ),
    (
        "26",
        "C",
        "Fabrication de produits informatiques, électroniques et optiques",
        "Manufacture of computer, electronic and optical products",
    ),
    ("27", "C", "Fabrication d'équipements électriques", "Manufacture of electrical equipment"),
    (
        "28",
        "C",
        "Fabrication de machines et équipements n.c.a.",
        "Manufacture of machinery and equipment n.e.c.",
    ),
    (
        "29",
        "C",
        "Industrie automobile",
        "Manufacture of motor vehicles, trailers and semi-trailers",
    ),
    (
        "30",
        "C",
        "Fabrication d'autres matériels de transport",
        "Manufacture of other transport equipment",
    ),
    ("31", "C", "Fabrication de meubles", "Manufacture of furniture"),
    ("32", "C", "Autres industries manufacturières", "Other manufacturing"),
    (
        "33",
        "C",
        "Réparation et installation de machines et d'équipements",
        "Repair and installation of machinery and equipment",
    ),
    # D - Electricity, gas, steam and air conditioning supply
    (
        "35",
        "D",
        "Production et distribution d'électricité, de gaz, de vapeur et d'air conditionné",
        "Electricity, gas, steam and air conditioning supply",
    ),
    # E - Water supply; sewerage, waste management and remediation activities
    (
        "36",
        "E",
        "Captage, traitement et distribution d'eau",
        "Water collection, treatment and supply",
    ),
    ("37", "E", "Collecte et traitement des eaux usées", "Sewerage"),
    (
        "38",
        "E",
        "Collecte, traitement et élimination des déchets ; récupération",
        "Waste collection, treatment and disposal activities; materials recovery",
    ),
    (
        "39",
        "E",
        "Dépollution et autres services de gestion des déchets",
        "Remediation activities and other waste management services",
    ),
    # F - Construction
    ("41", "F", "Construction de bâtiments", "Construction of buildings"),
    ("42", "F", "Génie civil", "Civil engineering"),
    ("43", "F", "Travaux de construction spécialisés", "Specialised construction activities"),
    # G - Wholesale and retail trade; repair of motor vehicles and motorcycles
    (
        "45",
        "G",
        "Commerce et réparation d'automobiles et de motocycles",
        "Wholesale and retail trade and repair of motor vehicles and motorcycles",
    ),
    (
        "46",
        "G",
        "Commerce de gros, à l'exception des automobiles et des motocycles",
        "Wholesale trade, except of motor vehicles and motorcycles",
    ),
    (
        "47",
        "G",
        "Commerce de détail, à l'exception des automobiles et des motocycles",
        "Retail trade, except of motor vehicles and motorcycles",
    ),
    # H - Transportation and storage
    (
        "49",
        "H",
        "Transports terrestres et transport par conduites",
        "Land transport and transport via pipelines",
    ),
    ("50", "H", "Transports par eau", "Water transport"),
    ("51", "H", "Transports aériens", "Air transport"),
    (
        "52",
        "H",
        "Entreposage et services auxiliaires des transports",
        "Warehousing and support activities for transportation",
    ),
    ("53", "H", "Activités de poste et de courrier", "Postal and courier activities"),
    # I - Accommodation and food service activities
    ("55", "I", "Hébergement", "Accommodation"),
    ("56", "I", "Restauration", "Food and beverage service activities"),
    # J - Information and communication
    ("58", "J", "Édition", "Publishing activities"),
    (
        "59",
        "J",
        "Production de films cinématographiques, de vidéo et de programmes de télévision ; "
        "enregistrement sonore et édition musicale",
        "Motion picture, video and television programme production, sound recording and "
        "music publishing activities",
    ),
    ("60", "J", "Programmation et diffusion", "Programming and broadcasting activities"),
    ("61", "J", "Télécommunications", "Telecommunications"),
    (
        "62",
        "J",
        "Programmation, conseil et autres activités informatiques",
        "Computer programming, consultancy and related activities",
    ),
    ("63", "J", "Services d'information", "Information service activities"),
    # K - Financial and insurance activities
    (
        "64",
        "K",
        "Activités des services financiers, hors assurance et caisses de retraite",
        "Financial service activities, except insurance and pension funding",
    ),
    (
        "65",
        "K",
        "Assurance",
        "Insurance, reinsurance and pension funding, except compulsory social security",
    ),
    (
        "66",
        "K",
        "Activités auxiliaires de services financiers et d'assurance",
        "Activities auxiliary to financial services and insurance activities",
    ),
    # L - Real estate activities
    ("68", "L", "Activités immobilières", "Real estate activities"),
    # M - Professional, scientific and technical activities
    ("69", "M", "Activités juridiques et comptables", "Legal and accounting activities"),
    (
        "70",
        "M",
        "Activités des sièges sociaux ; conseil de gestion",
        "Activities of head offices; management consultancy activities",
    ),
    (
        "71",
        "M",
        "Activités d'architecture et d'ingénierie ; activités de contrôle et analyses techniques",
        "Architectural and engineering activities; technical testing and analysis",
    ),
    ("72", "M", "Recherche-développement scientifique", "Scientific research and development"),
    ("73", "M", "Publicité et études de marché", "Advertising and market research"),
    (
        "74",
        "M",
        "Autres activités spécialisées, scientifiques et techniques",
        "Other professional, scientific and technical activities",
    ),
    ("75", "M", "Activités vétérinaires", "Veterinary activities"),
    # N - Administrative and support service activities
    ("77", "N", "Activités de location et location-bail", "Rental and leasing activities"),
    ("78", "N", "Activités liées à l'emploi", "Employment activities"),
    (
        "79",
        "N",
        "Activités des agences de voyage, voyagistes, services de réservation et activités "
        "connexes",
        "Travel agency, tour operator and other reservation service and related activities",
    ),
    ("80", "N", "Enquêtes et sécurité", "Security and investigation activities"),
    (
        "81",
        "N",
        "Services relatifs aux bâtiments et aménagement paysager",
        "Services to buildings and landscape activities",
    ),
    (
        "82",
        "N",
        "Activités administratives et autres activités de soutien aux entreprises",
        "Office administrative, office support and other business support activities",
    ),
    # O - Public administration and defence; compulsory social security
    (
        "84",
        "O",
        "Administration publique et défense ; sécurité sociale obligatoire",
        "Public administration and defence; compulsory social security",
    ),
    # P - Education
    ("85", "P", "Enseignement", "Education"),
    # Q - Human health and social work activities
    ("86", "Q", "Activités pour la santé humaine", "Human health activities"),
    ("87", "Q", "Hébergement médico-social et social", "Residential care activities"),
    ("88", "Q", "Action sociale sans hébergement", "Social work activities without accommodation"),
    # R - Arts, entertainment and recreation
    (
        "90",
        "R",
        "Activités créatives, artistiques et de spectacle",
        "Creative, arts and entertainment activities",
    ),
    (
        "91",
        "R",
        "Bibliothèques, archives, musées et autres activités culturelles",
        "Libraries, archives, museums and other cultural activities",
    ),
    ("92", "R", "Organisation de jeux de hasard et d'argent", "Gambling and betting activities"),
    (
        "93",
        "R",
        "Activités sportives, récréatives et de loisirs",
        "Sports activities and amusement and recreation activities",
    ),
    # S - Other service activities
    (
        "94",
        "S",
        "Activités des organisations associatives",
        "Activities of membership organisations",
    ),
    (
        "95",
        "S",
        "Réparation d'ordinateurs et de biens personnels et domestiques",
        "Repair of computers and personal and household goods",
    ),
    ("96", "S", "Autres services personnels", "Other personal service activities"),
    # T - Activities of households as employers; undifferentiated production for own use
    (
        "97",
        "T",
        "Activités des ménages en tant qu'employeurs de personnel domestique",
        "Activities of households as employers of domestic personnel",
    ),
    (
        "98",
        "T",
        "Activités indifférenciées des ménages en tant que producteurs de biens et services "
        "pour usage propre",
        "Undifferentiated goods- and services-producing activities of private households "
        "for own use",
    ),
    # U - Activities of extraterritorial organisations and bodies
    (
        "99",
        "U",
        "Activités des organisations et organismes extraterritoriaux",
        "Activities of extraterritorial organisations and bodies",
    ),
)

SECTIONS: dict[str, Section] = {
    code: Section(code=code, label_fr=fr, label_en=en) for code, fr, en in _SECTION_ROWS
}
DIVISIONS: dict[str, Division] = {
    code: Division(code=code, section=section, label_fr=fr, label_en=en)
    for code, section, fr, en in _DIVISION_ROWS
}

assert len(SECTIONS) == 21, "NACE Rev. 2 has 21 sections"
assert len(DIVISIONS) == 88, "NACE Rev. 2 has 88 divisions"
assert all(d.section in SECTIONS for d in DIVISIONS.values())


class NaceCodeInvalid(ValueError):
    """Raised when a value is not a NAF rév. 2 / NACE Rev. 2 code.

    ``reason`` (already translated) says what is wrong; the message, in the active language,
    names the value too."""

    def __init__(self, raw: object, reason: str) -> None:
        self.raw = raw
        self.reason = reason
        shown = _echo(raw)
        if shown:
            message = _("“%(value)s” is not a NAF/NACE code: %(reason)s") % {
                "value": shown,
                "reason": reason,
            }
        else:
            message = _("An empty value is not a NAF/NACE code: %(reason)s") % {"reason": reason}
        super().__init__(message)


def _echo(raw: object, limit: int = 60) -> str:
    text = " ".join(str(raw if raw is not None else "").split())
    return text if len(text) <= limit else text[: limit - 1] + "\N{HORIZONTAL ELLIPSIS}"


@dataclass(frozen=True)
class NafCode:
    """A parsed code, at whatever level of detail it was given.

    ``code`` is canonical: "62", "62.0", "62.01" or "62.01Z".
    """

    code: str
    division: str
    section: str

    @property
    def level(self) -> str:
        """The level of detail: "division", "group", "class" or "subclass" (NAF only)."""
        return {2: "division", 4: "group", 5: "class", 6: "subclass"}[len(self.code)]

    def label(self, language: str | None = "fr") -> str:
        """The label of the code's division."""
        return DIVISIONS[self.division].label(language)

    def __str__(self) -> str:
        return self.code


# Division, then optionally group digit, class digit and NAF sub-class letter,
# with an optional dot after the division. Whitespace is removed beforehand.
_NAF_RE = re.compile(r"(?P<div>\d{2})(?:\.?(?P<group>\d)(?:(?P<cls>\d)(?P<sub>[A-Z])?)?)?")

_FORMAT_HELP = gettext_noop(
    "expected a division (62), a group (62.0), a class (62.01) or a NAF sub-class (62.01Z)"
)


def parse_naf(raw: str) -> NafCode:
    """Parse a NAF/NACE code typed in any common way into its canonical form.

    Accepts "62.01Z", "6201Z", "62.01z", " 62 01 Z ", "62.01", "6201", "62.0" and "62".
    Raises NaceCodeInvalid when the format is wrong or the division does not exist.
    """
    if not isinstance(raw, str):
        raise NaceCodeInvalid(
            raw, _("a text value is expected, not %(type)s") % {"type": type(raw).__name__}
        )
    compact = "".join(raw.split()).upper()
    if not compact:
        raise NaceCodeInvalid(raw, _("a code such as 62.01Z is expected"))
    if not compact.isascii():
        raise NaceCodeInvalid(raw, _(_FORMAT_HELP))
    match = _NAF_RE.fullmatch(compact)
    if match is None:
        raise NaceCodeInvalid(raw, _(_FORMAT_HELP))
    div, group, cls, sub = match.group("div", "group", "cls", "sub")
    if div not in DIVISIONS:
        raise NaceCodeInvalid(raw, _("division %(division)s does not exist") % {"division": div})
    code = div
    if group is not None:
        code += "." + group
        if cls is not None:
            code += cls + (sub or "")
    return NafCode(code=code, division=div, section=DIVISIONS[div].section)


def division_for(code: str | NafCode) -> str:
    """The two-digit division code of a NAF/NACE code at any level ("62.01Z" -> "62").

    Raises NaceCodeInvalid. ``DIVISIONS[division_for(code)]`` gives the labels.
    """
    parsed = code if isinstance(code, NafCode) else parse_naf(code)
    return parsed.division


def section_for(code: str | NafCode) -> str:
    """The section letter of a NAF/NACE code ("62.01Z" -> "J"); a section letter is
    returned as is. Raises NaceCodeInvalid. ``SECTIONS[section_for(code)]`` gives the labels.
    """
    if isinstance(code, str) and code.strip().upper() in SECTIONS:
        return code.strip().upper()
    return DIVISIONS[division_for(code)].section


def sector_label(code: str | NafCode, language: str | None = "fr") -> str:
    """The division code and label, e.g. "62 - Programmation, conseil et autres ..." (en dash).

    Raises NaceCodeInvalid.
    """
    division = DIVISIONS[division_for(code)]
    return f"{division.code} \N{EN DASH} {division.label(language)}"


def divisions_in(section: str) -> list[Division]:
    """The divisions of a section letter, in code order (empty for an unknown letter)."""
    letter = section.strip().upper()
    return [d for d in DIVISIONS.values() if d.section == letter]


def section_choices(language: str | None = "fr") -> list[tuple[str, str]]:
    """(code, "A - label") pairs for select widgets (en dash)."""
    return [(s.code, f"{s.code} \N{EN DASH} {s.label(language)}") for s in SECTIONS.values()]


def division_choices(language: str | None = "fr") -> list[tuple[str, str]]:
    """(code, "62 - label") pairs for select widgets (en dash)."""
    return [(d.code, f"{d.code} \N{EN DASH} {d.label(language)}") for d in DIVISIONS.values()]
