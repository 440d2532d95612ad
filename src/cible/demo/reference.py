"""Static reference tables of the demo dataset: geography, sectors, job titles, products.

The geography follows seed 002's grid (PACA / Paris / Lyon / Lille / other France / Europe). Each
French group maps to exactly one ISO region, so an analysis by region code (FR-HDF) and one by
city group ("Lille") find the same accounts: "other France" uses no city of those four regions.
"""

from __future__ import annotations

from dataclasses import dataclass

# --- geography ------------------------------------------------------------------------------


@dataclass(frozen=True)
class City:
    group: str  # paca | paris | lyon | lille | other | europe
    name: str
    postal_codes: tuple[str, ...]
    country: str
    phone_prefixes: tuple[str, ...]  # E.164 prefix of a landline, before the subscriber digits
    weight: int
    language: str = "fr"


# Share of organisations per group (seed 002's geographic axis).
GROUP_WEIGHTS: dict[str, int] = {
    "paris": 30,
    "paca": 15,
    "lyon": 12,
    "lille": 10,
    "other": 23,
    "europe": 10,
}
GROUP_REGION = {"paca": "FR-PAC", "paris": "FR-IDF", "lyon": "FR-ARA", "lille": "FR-HDF"}


def _fr(group: str, name: str, codes: str, prefixes: str, weight: int) -> City:
    return City(group, name, tuple(codes.split()), "FR", tuple(prefixes.split()), weight)


_PARIS_CODES = " ".join(f"750{n:02d}" for n in range(1, 21))

CITIES: tuple[City, ...] = (
    # PACA (FR-PAC)
    _fr("paca", "Marseille", " ".join(f"130{n:02d}" for n in range(1, 17)), "+33491 +33496", 40),
    _fr("paca", "Aix-en-Provence", "13090 13100 13290", "+33442", 12),
    _fr("paca", "Nice", "06000 06100 06200 06300", "+33493 +33492", 18),
    _fr("paca", "Valbonne", "06560", "+33492 +33493", 8),
    _fr("paca", "Toulon", "83000 83100 83200", "+33494", 10),
    _fr("paca", "Avignon", "84000", "+33490", 6),
    _fr("paca", "Cannes", "06400", "+33493", 6),
    # Paris and Île-de-France (FR-IDF)
    _fr(
        "paris",
        "Paris",
        _PARIS_CODES + " 75008 75008 75009 75002 75017",
        "+33140 +33142 +33144 +33153 +33156",
        60,
    ),
    _fr("paris", "Boulogne-Billancourt", "92100", "+33146 +33141", 8),
    _fr("paris", "Issy-les-Moulineaux", "92130", "+33141 +33146", 5),
    _fr("paris", "Courbevoie", "92400", "+33147 +33149", 6),
    _fr("paris", "Puteaux", "92800", "+33147 +33146", 4),
    _fr("paris", "Nanterre", "92000", "+33147 +33141", 4),
    _fr("paris", "Levallois-Perret", "92300", "+33147 +33141", 4),
    _fr("paris", "Neuilly-sur-Seine", "92200", "+33146 +33147", 3),
    _fr("paris", "Saint-Denis", "93200", "+33148 +33149", 3),
    _fr("paris", "Montreuil", "93100", "+33148 +33143", 3),
    _fr("paris", "Ivry-sur-Seine", "94200", "+33146 +33145", 2),
    _fr("paris", "Massy", "91300", "+33169 +33160", 2),
    _fr("paris", "Guyancourt", "78280", "+33130 +33139", 2),
    _fr("paris", "Rueil-Malmaison", "92500", "+33147 +33141", 2),
    # Lyon (FR-ARA)
    _fr(
        "lyon",
        "Lyon",
        " ".join(f"6900{n}" for n in range(1, 10)) + " 69003 69002 69007",
        "+33472 +33478 +33437",
        60,
    ),
    _fr("lyon", "Villeurbanne", "69100", "+33472 +33478", 12),
    _fr("lyon", "Vénissieux", "69200", "+33472 +33478", 4),
    _fr("lyon", "Écully", "69130", "+33472 +33478", 4),
    _fr("lyon", "Limonest", "69760", "+33472 +33478", 3),
    _fr("lyon", "Bron", "69500", "+33472 +33478", 3),
    _fr("lyon", "Saint-Priest", "69800", "+33472 +33478", 3),
    _fr("lyon", "Dardilly", "69570", "+33472 +33478", 2),
    # Lille and its metropolis (FR-HDF)
    _fr("lille", "Lille", "59000 59000 59800 59160 59777", "+33320 +33328 +33359", 60),
    _fr("lille", "Villeneuve-d'Ascq", "59650", "+33320 +33328", 10),
    _fr("lille", "Roubaix", "59100", "+33320 +33328", 8),
    _fr("lille", "Tourcoing", "59200", "+33320 +33328", 7),
    _fr("lille", "Marcq-en-Barœul", "59700", "+33320 +33328", 7),
    _fr("lille", "Lambersart", "59130", "+33320", 3),
    _fr("lille", "La Madeleine", "59110", "+33320", 3),
    _fr("lille", "Lesquin", "59810", "+33320", 2),
    # Other France: none in the four regions above.
    _fr("other", "Bordeaux", "33000 33300 33800", "+33556 +33557", 12),
    _fr("other", "Mérignac", "33700", "+33556", 3),
    _fr("other", "Nantes", "44000 44100 44200 44300", "+33240 +33251", 12),
    _fr("other", "Toulouse", "31000 31100 31200 31300 31400 31500", "+33561 +33562 +33534", 14),
    _fr("other", "Labège", "31670", "+33561 +33562", 2),
    _fr("other", "Rennes", "35000 35200 35700", "+33299 +33223", 9),
    _fr("other", "Cesson-Sévigné", "35510", "+33299", 2),
    _fr("other", "Strasbourg", "67000 67100 67200", "+33388 +33390", 8),
    _fr("other", "Montpellier", "34000 34070 34080", "+33467 +33499", 8),
    _fr("other", "Rouen", "76000 76100", "+33235 +33232", 5),
    _fr("other", "Caen", "14000", "+33231", 3),
    _fr("other", "Dijon", "21000", "+33380", 4),
    _fr("other", "Besançon", "25000", "+33381", 2),
    _fr("other", "Tours", "37000 37100", "+33247", 4),
    _fr("other", "Orléans", "45000", "+33238", 4),
    _fr("other", "Metz", "57000", "+33387", 4),
    _fr("other", "Nancy", "54000", "+33383", 4),
    _fr("other", "Reims", "51100", "+33326", 3),
    _fr("other", "Mulhouse", "68100", "+33389", 2),
    _fr("other", "Brest", "29200", "+33298", 3),
    _fr("other", "Le Mans", "72000", "+33243", 3),
    _fr("other", "Angers", "49000 49100", "+33241", 4),
    _fr("other", "Limoges", "87000", "+33555", 2),
    _fr("other", "Poitiers", "86000", "+33549", 2),
    _fr("other", "La Rochelle", "17000", "+33546", 2),
    _fr("other", "Pau", "64000", "+33559", 2),
    _fr("other", "Ajaccio", "20000", "+33495", 1),
    _fr("other", "Bastia", "20200", "+33495", 1),
    # Europe: no SIREN, no French region.
    City("europe", "Berlin", ("10115", "10117", "10178"), "DE", ("+4930",), 10, "de"),
    City("europe", "München", ("80331", "80333"), "DE", ("+4989",), 7, "de"),
    City("europe", "Hamburg", ("20095",), "DE", ("+4940",), 5, "de"),
    City("europe", "Frankfurt am Main", ("60311",), "DE", ("+4969",), 3, "de"),
    City("europe", "Bruxelles", ("1000", "1040", "1050"), "BE", ("+3222",), 12, "fr"),
    City("europe", "Antwerpen", ("2000",), "BE", ("+3232",), 5, "nl"),
    City("europe", "Liège", ("4000",), "BE", ("+3242",), 3, "fr"),
    City("europe", "Madrid", ("28001", "28046"), "ES", ("+3491",), 7, "es"),
    City("europe", "Barcelona", ("08001", "08018"), "ES", ("+3493",), 5, "es"),
    City("europe", "Milano", ("20121", "20124"), "IT", ("+3902",), 7, "it"),
    City("europe", "Roma", ("00184", "00187"), "IT", ("+3906",), 5, "it"),
    City(
        "europe",
        "London",
        ("EC1A 1BB", "EC2A 4NE", "SW1A 2AA", "W1D 3QF"),
        "GB",
        ("+44207", "+44203"),
        11,
        "en",
    ),
    City("europe", "Manchester", ("M1 1AE", "M2 3WQ"), "GB", ("+44161",), 4, "en"),
    City("europe", "Amsterdam", ("1012 AB", "1017 CT"), "NL", ("+3120",), 5, "nl"),
    City("europe", "Rotterdam", ("3011 AD",), "NL", ("+3110",), 2, "nl"),
    City("europe", "Utrecht", ("3511 AX",), "NL", ("+3130",), 1, "nl"),
    City("europe", "Genève", ("1201", "1204"), "CH", ("+4122",), 3, "fr"),
    City("europe", "Zürich", ("8001", "8004"), "CH", ("+4144",), 3, "de"),
    City("europe", "Lausanne", ("1003",), "CH", ("+4121",), 2, "fr"),
)

# Subscriber digits after the landline prefix, so that the whole number is valid (E.164).
LANDLINE_DIGITS = {"FR": 6, "DE": 8, "BE": 6, "ES": 7, "IT": 8, "GB": 7, "NL": 7, "CH": 7}
# Mobile prefixes and the number of digits that follow them.
MOBILE = {
    "FR": (
        ("+3361", "+3362", "+3364", "+3365", "+3366", "+3367", "+3368", "+3376", "+3377", "+3378"),
        7,
    ),
    "DE": (("+49151", "+49160", "+49170", "+49176"), 8),
    "BE": (("+32470", "+32475", "+32485", "+32495"), 6),
    "ES": (("+346",), 8),
    "IT": (("+39347", "+39335", "+39320"), 7),
    "GB": (("+4477", "+4478"), 8),
    "NL": (("+3161", "+3162", "+3165"), 7),
    "CH": (("+4176", "+4179"), 7),
}
COUNTRY_TLDS = {
    "FR": (("fr", 70), ("com", 25), ("eu", 5)),
    "DE": (("de", 85), ("com", 15)),
    "BE": (("be", 85), ("eu", 15)),
    "ES": (("es", 85), ("com", 15)),
    "IT": (("it", 85), ("com", 15)),
    "GB": (("co.uk", 75), ("com", 25)),
    "NL": (("nl", 85), ("com", 15)),
    "CH": (("ch", 90), ("com", 10)),
}
COUNTRY_CURRENCY = {"GB": "GBP", "CH": "CHF"}
LEGAL_FORMS = {
    "FR": (("SAS", 45), ("SARL", 25), ("SA", 12), ("SASU", 8), ("EURL", 5)),
    "DE": (("GmbH", 80), ("AG", 15), ("GmbH & Co. KG", 5)),
    "BE": (("SA", 40), ("SRL", 45), ("NV", 15)),
    "ES": (("S.L.", 75), ("S.A.", 25)),
    "IT": (("S.r.l.", 75), ("S.p.A.", 25)),
    "GB": (("Ltd", 85), ("plc", 15)),
    "NL": (("B.V.", 90), ("N.V.", 10)),
    "CH": (("AG", 50), ("SA", 35), ("Sàrl", 15)),
}
# Words for names built from a place ("Mécanique de Provence").
GROUP_PLACE_WORDS = {
    "paca": ("Provence", "Méditerranée", "Azur", "Sud"),
    "paris": ("Paris", "Île-de-France", "Seine"),
    "lyon": ("Rhône", "Lyon", "Confluence"),
    "lille": ("Nord", "Flandres", "Métropole"),
}
FAKER_LOCALES = {
    "FR": "fr_FR",
    "DE": "de_DE",
    "BE": "fr_BE",
    "ES": "es_ES",
    "IT": "it_IT",
    "GB": "en_GB",
    "NL": "nl_NL",
    "CH": "de_CH",
}

# --- sectors --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sector:
    naf_code: str
    weight: int
    words_fr: tuple[str, ...]
    words_en: tuple[str, ...]


def _sector(code: str, weight: int, fr: str, en: str) -> Sector:
    return Sector(code, weight, tuple(fr.split("|")), tuple(en.split("|")))


SECTORS: tuple[Sector, ...] = (
    _sector(
        "62.01Z",
        8,
        "Informatique|Digital|Logiciels|Systèmes|Numérique|Tech",
        "Software|Digital|Systems|Tech",
    ),
    _sector(
        "62.02A",
        8,
        "Conseil IT|Systèmes|Data|Cloud|Informatique",
        "IT Consulting|Data|Cloud|Systems",
    ),
    _sector("58.29C", 4, "Éditions|Logiciels|Software", "Software|Apps"),
    _sector("63.11Z", 3, "Data|Hébergement|Datacenter", "Data|Hosting"),
    _sector(
        "70.22Z",
        8,
        "Conseil|Consulting|Partners|Stratégie|Management",
        "Consulting|Partners|Advisory",
    ),
    _sector("73.11Z", 4, "Communication|Publicité|Média|Création", "Media|Advertising|Creative"),
    _sector("69.20Z", 4, "Expertise|Audit|Experts-Comptables", "Accountants|Audit"),
    _sector("69.10Z", 2, "Avocats|Juridique", "Law|Legal"),
    _sector("71.12B", 4, "Ingénierie|Études|Engineering", "Engineering|Design"),
    _sector("78.20Z", 3, "Intérim|Recrutement|Emploi", "Recruitment|Staffing"),
    _sector("46.51Z", 3, "Distribution|Bureautique|Informatique", "Distribution|IT Supplies"),
    _sector("46.69B", 4, "Équipements|Fournitures|Négoce", "Equipment|Supplies|Trading"),
    _sector("46.90Z", 3, "Distribution|Négoce|Import-Export", "Distribution|Trading"),
    _sector("47.91B", 2, "Direct|E-commerce|Boutique", "Direct|Online"),
    _sector("25.62B", 4, "Mécanique|Usinage|Précision", "Engineering|Machining|Precision"),
    _sector("28.29B", 3, "Machines|Automation|Industries", "Machinery|Automation|Industries"),
    _sector("10.89Z", 3, "Alimentaire|Saveurs|Traiteur", "Foods|Kitchen"),
    _sector("22.29A", 2, "Plastiques|Polymères|Injection", "Plastics|Polymers"),
    _sector("26.51B", 2, "Instruments|Mesure|Électronique", "Instruments|Electronics"),
    _sector("41.20A", 2, "Construction|Bâtiment|Habitat", "Construction|Building"),
    _sector("43.21A", 3, "Électricité|Installations|Énergie", "Electrical|Installations"),
    _sector("49.41A", 3, "Transports|Logistique|Fret", "Transport|Logistics|Freight"),
    _sector("52.29A", 2, "Express|Logistique|Messagerie", "Express|Logistics"),
    _sector("68.31Z", 3, "Immobilier|Patrimoine", "Property|Real Estate"),
    _sector("64.19Z", 1, "Finance|Capital", "Finance|Capital"),
    _sector("66.22Z", 3, "Assurances|Courtage|Prévoyance", "Insurance|Brokers"),
    _sector("85.59A", 4, "Formation|Academy|Institut", "Training|Academy|Institute"),
    _sector("86.10Z", 1, "Clinique|Santé", "Clinic|Health"),
    _sector("55.10Z", 2, "Hôtels|Hôtellerie", "Hotels|Hospitality"),
    _sector("82.20Z", 2, "Contact|Relation Client", "Contact|Call Centre"),
    _sector("81.21Z", 2, "Propreté|Services", "Cleaning|Services"),
)
# Sectors where the publisher already has references (seed 002: "secteurs que l'on veut
# développer et où l'on a déjà une référence"): software, consulting, training.
TARGET_DIVISIONS = frozenset({"62", "70", "85"})

BRAND_HEADS = (
    "Nova",
    "Axe",
    "Lumi",
    "Opti",
    "Viva",
    "Cap",
    "Oxy",
    "Alti",
    "Néo",
    "Ver",
    "Sol",
    "Ari",
    "Eco",
    "Inno",
    "Kali",
    "Medi",
    "Qual",
    "Tera",
    "Vali",
    "Zen",
    "Hexa",
    "Syn",
    "Orbi",
    "Pixa",
)
BRAND_TAILS = (
    "tek",
    "lia",
    "gie",
    "ris",
    "sys",
    "via",
    "nova",
    "tis",
    "lab",
    "com",
    "log",
    "ance",
    "ium",
    "sis",
    "ora",
    "ex",
    "ean",
    "ys",
)

# --- sizes ----------------------------------------------------------------------------------

# Share of organisations per size class: a B2B target list, not the INSEE population.
SIZE_WEIGHTS = {"tpe": 30, "pme": 50, "eti": 15, "ge": 5}
HEADCOUNT_RANGES = {"tpe": (1, 9), "pme": (10, 249), "eti": (250, 4999), "ge": (5000, 120_000)}
SALES_TEAM_RANGES = {"tpe": (0, 3), "pme": (1, 25), "eti": (5, 80), "ge": (20, 600)}
CONTACT_WEIGHT = {"tpe": 0.5, "pme": 1.0, "eti": 1.8, "ge": 2.6}

# --- installed products (seed 002: "l'équipement chez un concurrent") --------------------------

# (name, vendor, category)
PRODUCTS: tuple[tuple[str, str, str], ...] = (
    ("Salesforce", "Salesforce", "CRM"),
    ("SugarCRM", "SugarCRM", "CRM"),
    ("Sage CRM", "Sage", "CRM"),
    ("HubSpot", "HubSpot", "CRM"),
    ("Microsoft Dynamics 365", "Microsoft", "CRM"),
    ("Pipedrive", "Pipedrive", "CRM"),
    ("Zoho CRM", "Zoho", "CRM"),
    ("Sellsy", "Sellsy", "CRM"),
    ("Mailchimp", "Intuit", "Marketing automation"),
    ("Marketo", "Adobe", "Marketing automation"),
    ("Sage 100", "Sage", "ERP"),
    ("SAP Business One", "SAP", "ERP"),
)
CRM_NAMES = tuple(name for name, _vendor, category in PRODUCTS if category == "CRM")
# Installed CRM by size class; None = no CRM (spreadsheets and e-mail).
CRM_BY_SIZE: dict[str, tuple[tuple[str | None, int], ...]] = {
    "tpe": (
        (None, 55),
        ("HubSpot", 12),
        ("Sellsy", 10),
        ("Pipedrive", 8),
        ("Zoho CRM", 6),
        ("Salesforce", 5),
        ("SugarCRM", 2),
        ("Sage CRM", 2),
    ),
    "pme": (
        (None, 25),
        ("Salesforce", 16),
        ("HubSpot", 17),
        ("Sage CRM", 12),
        ("SugarCRM", 10),
        ("Pipedrive", 6),
        ("Sellsy", 6),
        ("Zoho CRM", 4),
        ("Microsoft Dynamics 365", 4),
    ),
    "eti": (
        (None, 15),
        ("Salesforce", 32),
        ("Microsoft Dynamics 365", 18),
        ("SugarCRM", 10),
        ("Sage CRM", 9),
        ("HubSpot", 12),
        ("Zoho CRM", 4),
    ),
    "ge": (
        (None, 8),
        ("Salesforce", 42),
        ("Microsoft Dynamics 365", 28),
        ("SugarCRM", 6),
        ("Sage CRM", 4),
        ("HubSpot", 12),
    ),
}
OTHER_TOOLS = (("Mailchimp", 10), ("Marketo", 3), ("Sage 100", 8), ("SAP Business One", 3))

# --- people ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Title:
    fr_male: str
    fr_female: str
    en: str
    function: str
    seniority: str
    weight: int


def _title(m: str, f: str, en: str, function: str, seniority: str, weight: int) -> Title:
    return Title(m, f or m, en, function, seniority, weight)


TITLES: tuple[Title, ...] = (
    _title(
        "Président-directeur général",
        "Présidente-directrice générale",
        "Chief Executive Officer",
        "general_management",
        "executive",
        3,
    ),
    _title(
        "Directeur général",
        "Directrice générale",
        "Managing Director",
        "general_management",
        "executive",
        5,
    ),
    _title("Gérant", "Gérante", "Owner", "general_management", "executive", 3),
    _title(
        "Directeur commercial", "Directrice commerciale", "Sales Director", "sales", "director", 8
    ),
    _title("Responsable des ventes", "", "Head of Sales", "sales", "manager", 6),
    _title("Chef des ventes", "Cheffe des ventes", "Sales Manager", "sales", "manager", 5),
    _title(
        "Ingénieur commercial",
        "Ingénieure commerciale",
        "Account Executive",
        "sales",
        "individual",
        8,
    ),
    _title(
        "Chargé d'affaires", "Chargée d'affaires", "Business Developer", "sales", "individual", 6
    ),
    _title(
        "Directeur marketing",
        "Directrice marketing",
        "Marketing Director",
        "marketing",
        "director",
        4,
    ),
    _title(
        "Responsable marketing digital", "", "Digital Marketing Manager", "marketing", "manager", 4
    ),
    _title(
        "Chargé de communication",
        "Chargée de communication",
        "Marketing Executive",
        "marketing",
        "individual",
        3,
    ),
    _title(
        "Directeur des systèmes d'information",
        "Directrice des systèmes d'information",
        "Chief Information Officer",
        "it",
        "executive",
        4,
    ),
    _title("Responsable informatique", "", "IT Manager", "it", "manager", 5),
    _title(
        "Administrateur systèmes",
        "Administratrice systèmes",
        "Systems Administrator",
        "it",
        "individual",
        3,
    ),
    _title(
        "Directeur administratif et financier",
        "Directrice administrative et financière",
        "Chief Financial Officer",
        "finance",
        "executive",
        4,
    ),
    _title(
        "Contrôleur de gestion",
        "Contrôleuse de gestion",
        "Financial Controller",
        "finance",
        "individual",
        3,
    ),
    _title("Responsable des ressources humaines", "", "HR Manager", "hr", "manager", 3),
    _title(
        "Directeur des opérations",
        "Directrice des opérations",
        "Operations Director",
        "operations",
        "director",
        3,
    ),
    _title(
        "Responsable service client",
        "",
        "Customer Service Manager",
        "customer_service",
        "manager",
        4,
    ),
    _title("Responsable achats", "", "Purchasing Manager", "purchasing", "manager", 3),
    _title("Acheteur", "Acheteuse", "Buyer", "purchasing", "individual", 2),
    _title("Juriste", "", "Legal Counsel", "legal", "individual", 1),
)
DECISION_TITLES = tuple(t for t in TITLES if t.seniority in ("executive", "director"))

# The share of contacts whose usual buying role nobody has recorded.
UNKNOWN_BUYING_ROLE = 0.30
# The buying roles (SPEC C9) people usually play, with weights: by rank in general…
BUYING_ROLES_BY_SENIORITY: dict[str, tuple[tuple[str, int], ...]] = {
    "executive": (("decision_maker", 75), ("economic_buyer", 25)),
    "director": (
        ("decision_maker", 55),
        ("economic_buyer", 15),
        ("influencer", 20),
        ("recommender", 10),
    ),
    "manager": (("influencer", 55), ("recommender", 35), ("user", 10)),
    "individual": (("user", 85), ("influencer", 15)),
}
# … and by function where it says more than the rank: finance holds the budget, IT evaluates
# and recommends, purchasing and legal play their own part whatever their rank.
BUYING_ROLES_BY_FUNCTION: dict[tuple[str, str] | str, tuple[tuple[str, int], ...]] = {
    ("finance", "executive"): (("economic_buyer", 80), ("decision_maker", 20)),
    ("finance", "individual"): (("economic_buyer", 60), ("evaluator", 40)),
    ("it", "executive"): (("decision_maker", 35), ("recommender", 40), ("evaluator", 25)),
    ("it", "manager"): (("recommender", 45), ("evaluator", 55)),
    ("it", "individual"): (("evaluator", 70), ("user", 30)),
    "purchasing": (("purchasing", 1),),
    "legal": (("legal", 1),),
}


def buying_role_weights(function: str, seniority: str) -> list[tuple[str, float]]:
    """The buying roles of a person of `function` and `seniority`, with their probabilities;
    "" (unknown) takes `UNKNOWN_BUYING_ROLE`."""
    roles = (
        BUYING_ROLES_BY_FUNCTION.get((function, seniority))
        or BUYING_ROLES_BY_FUNCTION.get(function)
        or BUYING_ROLES_BY_SENIORITY[seniority]
    )
    total = sum(weight for _role, weight in roles)
    known = 1 - UNKNOWN_BUYING_ROLE
    return [("", UNKNOWN_BUYING_ROLE)] + [(role, known * w / total) for role, w in roles]


SOURCES = (
    ("website", 18),
    ("inbound_call", 4),
    ("outbound", 20),
    ("event", 10),
    ("webinar", 6),
    ("referral", 8),
    ("partner", 5),
    ("purchased_list", 14),
    ("social", 6),
    ("advertising", 4),
    ("import", 5),
)
LIFECYCLE = (("suspect", 45), ("prospect", 30), ("mql", 12), ("sal", 7), ("sql", 6))

# --- the publisher's own offers (pipeline) ----------------------------------------------------

# (name, monthly price per user, one-time onboarding range)
OFFERS = {
    "essentiel": ("Cible Essentiel", 25, (0, 1_500)),
    "pro": ("Cible Pro", 45, (2_000, 8_000)),
    "entreprise": ("Cible Entreprise", 75, (10_000, 60_000)),
}
OFFER_BY_SIZE = {"tpe": "essentiel", "pme": "pro", "eti": "entreprise", "ge": "entreprise"}
SALES_CYCLE_DAYS = {"tpe": (15, 60), "pme": (30, 120), "eti": (60, 200), "ge": (90, 300)}
LOST_REASONS = (
    ("price", 25),
    ("competitor", 20),
    ("no_decision", 25),
    ("no_budget", 10),
    ("product_fit", 8),
    ("timing", 8),
    ("lost_contact", 4),
)
LOST_DETAILS = {
    "price": "Budget jugé trop élevé par la direction financière.",
    "competitor": "Reste chez l'éditeur en place : coût de migration jugé trop élevé.",
    "no_decision": "Projet repoussé sans décision.",
    "no_budget": "Pas de budget cette année.",
    "product_fit": "Besoin d'intégrations spécifiques non couvertes.",
    "timing": "Réorganisation interne en cours, à relancer l'an prochain.",
    "lost_contact": "Interlocuteur parti, plus de réponse.",
}
