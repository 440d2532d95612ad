"""Seed 002's axes, which every Cible starts with; people rename, change and add to them.

Names and descriptions are stored in English and shown through the translation catalog. Every
axis is exclusive: an organisation is in the first segment, in order, whose rule it passes —
which is how "other France" and "world" need not repeat the segments above them.

Choices made where seed 002 leaves room:
- Geography: PACA and Île-de-France by region; Lyon and Lille by their department (Rhône 69,
  Nord 59) inside their region; "other France" is any other French address; Europe is the rest of
  geographic Europe (Russia and Turkey go to "world").
- Sales-team size: seed 002 says "fewer than 3, 4 to 10, 11 to 20, more than 20", which leaves 3
  nowhere; the first segment is "3 or fewer" so that every known team size has a segment.
- Installed CRM: the four CRMs the seed names and HubSpot, then "another CRM" (by the product's
  category), then "no CRM" (no product of category CRM).
- Target sectors: software and IT services, management consulting, engineering, training, and
  manufacturing industry, from NAF codes.
"""

from django.db import migrations
from django.utils import timezone
from django.utils.translation import gettext_noop

FRENCH_REGIONS = [
    "FR-ARA", "FR-BFC", "FR-BRE", "FR-CVL", "FR-20R", "FR-GES", "FR-971", "FR-973", "FR-HDF",
    "FR-IDF", "FR-974", "FR-972", "FR-976", "FR-NOR", "FR-NAQ", "FR-NC", "FR-OCC", "FR-PDL",
    "FR-PF", "FR-PAC", "FR-BL", "FR-MF", "FR-PM", "FR-TF", "FR-WF",
]  # fmt: skip
# France and the overseas territories that have a country code of their own.
FRENCH_COUNTRIES = [
    "FR", "GP", "MQ", "GF", "RE", "YT", "PM", "BL", "MF", "WF", "PF", "NC", "TF",
]  # fmt: skip
EUROPE = [
    "AD", "AL", "AT", "AX", "BA", "BE", "BG", "BY", "CH", "CY", "CZ", "DE", "DK", "EE", "ES",
    "FI", "FO", "GB", "GG", "GI", "GR", "HR", "HU", "IE", "IM", "IS", "IT", "JE", "LI", "LT",
    "LU", "LV", "MC", "MD", "ME", "MK", "MT", "NL", "NO", "PL", "PT", "RO", "RS", "SE", "SI",
    "SJ", "SK", "SM", "UA", "VA",
]  # fmt: skip
CRM = ["CRM"]


def all_of(*conditions):
    return {"match": "all", "conditions": list(conditions)}


def any_of(*conditions):
    return {"match": "any", "conditions": list(conditions)}


def cond(field, op, value=None):
    data = {"field": field, "op": op}
    if value is not None:
        data["value"] = value
    return data


# (code, name, description, [(code, name, rule), ...])
AXES = [
    (
        "geography",
        gettext_noop("Geography"),
        gettext_noop("Where the organisation is, from its address (seed 002)."),
        [
            ("paca", gettext_noop("PACA"), all_of(cond("region", "in", ["FR-PAC"]))),
            (
                "paris",
                gettext_noop("Paris / Île-de-France"),
                all_of(cond("region", "in", ["FR-IDF"])),
            ),
            (
                "lyon",
                gettext_noop("Lyon"),
                all_of(cond("region", "in", ["FR-ARA"]), cond("postal_code", "starts_with", "69")),
            ),
            (
                "lille",
                gettext_noop("Lille"),
                all_of(cond("region", "in", ["FR-HDF"]), cond("postal_code", "starts_with", "59")),
            ),
            (
                "other-france",
                gettext_noop("Other France"),
                any_of(
                    cond("country", "in", FRENCH_COUNTRIES), cond("region", "in", FRENCH_REGIONS)
                ),
            ),
            ("europe", gettext_noop("Europe"), all_of(cond("country", "in", EUROPE))),
            ("world", gettext_noop("World"), all_of(cond("country", "is_not_empty"))),
        ],
    ),
    (
        "size",
        gettext_noop("Size"),
        gettext_noop("By headcount: the French size classes TPE, PME, ETI and large groups."),
        [
            ("tpe", gettext_noop("TPE (< 10)"), all_of(cond("size_class", "in", ["tpe"]))),
            ("pme", gettext_noop("PME (10–249)"), all_of(cond("size_class", "in", ["pme"]))),
            ("eti", gettext_noop("ETI (250–4,999)"), all_of(cond("size_class", "in", ["eti"]))),
            (
                "large-group",
                gettext_noop("Large group (≥ 5,000)"),
                all_of(cond("size_class", "in", ["ge"])),
            ),
        ],
    ),
    (
        "sales-team",
        gettext_noop("Sales-team size"),
        gettext_noop("How many salespeople the organisation has (seed 002)."),
        [
            (
                "up-to-3",
                gettext_noop("3 or fewer"),
                all_of(cond("sales_team_size", "lte", 3)),
            ),
            ("4-10", gettext_noop("4–10"), all_of(cond("sales_team_size", "between", [4, 10]))),
            ("11-20", gettext_noop("11–20"), all_of(cond("sales_team_size", "between", [11, 20]))),
            ("over-20", gettext_noop("More than 20"), all_of(cond("sales_team_size", "gt", 20))),
        ],
    ),
    (
        "installed-crm",
        gettext_noop("Installed CRM"),
        gettext_noop("The CRM the organisation already runs: a competitor's (seed 002)."),
        [
            (
                "salesforce",
                gettext_noop("Salesforce"),
                all_of(cond("installed_products", "any_of", ["Salesforce"])),
            ),
            (
                "sugarcrm",
                gettext_noop("SugarCRM"),
                all_of(cond("installed_products", "any_of", ["SugarCRM"])),
            ),
            (
                "sage-crm",
                gettext_noop("Sage CRM"),
                all_of(cond("installed_products", "any_of", ["Sage CRM"])),
            ),
            (
                "hubspot",
                gettext_noop("HubSpot"),
                all_of(cond("installed_products", "any_of", ["HubSpot"])),
            ),
            (
                "other-crm",
                gettext_noop("Another CRM"),
                all_of(cond("installed_product_categories", "any_of", CRM)),
            ),
            (
                "no-crm",
                gettext_noop("No CRM"),
                all_of(cond("installed_product_categories", "none_of", CRM)),
            ),
        ],
    ),
    (
        "target-sectors",
        gettext_noop("Target sectors"),
        gettext_noop(
            "The sectors we want to grow in, where we already have references (seed 002), "
            "from NAF codes."
        ),
        [
            (
                "software",
                gettext_noop("Software and IT services"),
                any_of(
                    cond("naf_division", "in", ["62", "63"]),
                    cond("naf_code", "starts_with", "58.2"),
                ),
            ),
            (
                "consulting",
                gettext_noop("Management consulting"),
                all_of(cond("naf_code", "starts_with", "70.2")),
            ),
            (
                "engineering",
                gettext_noop("Engineering and technical studies"),
                all_of(cond("naf_division", "in", ["71"])),
            ),
            (
                "training",
                gettext_noop("Training and education"),
                all_of(cond("naf_division", "in", ["85"])),
            ),
            (
                "industry",
                gettext_noop("Manufacturing industry"),
                all_of(cond("naf_section", "in", ["C"])),
            ),
        ],
    ),
]


def seed(apps, schema_editor):
    Axis = apps.get_model("segments", "Axis")
    Segment = apps.get_model("segments", "Segment")
    now = timezone.now()
    for axis_position, (code, name, description, segments) in enumerate(AXES, start=1):
        axis, created = Axis.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "description": description,
                "exclusive": True,
                "position": axis_position * 10,
            },
        )
        if not created:
            continue
        for position, (segment_code, segment_name, rule) in enumerate(segments, start=1):
            Segment.objects.create(
                axis=axis,
                code=segment_code,
                name=segment_name,
                kind="rule",
                rule=rule,
                position=position * 10,
                created_at=now,
            )


def unseed(apps, schema_editor):
    Axis = apps.get_model("segments", "Axis")
    Axis.objects.filter(code__in=[axis[0] for axis in AXES]).delete()


class Migration(migrations.Migration):
    dependencies = [("segments", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
