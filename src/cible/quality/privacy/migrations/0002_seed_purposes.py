"""The purposes every Cible starts with; administrators rename, add and retire them."""

from django.db import migrations
from django.utils.translation import gettext_noop

# (code, name, description, requires explicit consent) — names are stored in English and shown
# through the translation catalog.
PURPOSES = [
    (
        "marketing",
        gettext_noop("Marketing and newsletter"),
        gettext_noop("Newsletters, campaigns and marketing offers."),
        True,
    ),
    ("events", gettext_noop("Events"), gettext_noop("Invitations to events and webinars."), False),
    (
        "product_news",
        gettext_noop("Product news"),
        gettext_noop("New features and product announcements."),
        False,
    ),
    (
        "sales_follow_up",
        gettext_noop("Sales follow-up"),
        gettext_noop("Calls and emails from the sales team about a need or an offer."),
        False,
    ),
]


def seed(apps, schema_editor):
    Purpose = apps.get_model("privacy", "Purpose")
    for position, (code, name, description, opt_in) in enumerate(PURPOSES, start=1):
        Purpose.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "description": description,
                "requires_consent": opt_in,
                "position": position * 10,
            },
        )


def unseed(apps, schema_editor):
    Purpose = apps.get_model("privacy", "Purpose")
    Purpose.objects.filter(code__in=[p[0] for p in PURPOSES], events__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("privacy", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
