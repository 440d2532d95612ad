"""The owner and organisation keys lose the index Django gives every foreign key: a composite
index leading with each (org_owner_name, contact_org_name, contact_owner_name) serves the same
lookups, and the second index cost every write.

The indexes are dropped by name rather than by AlterField: on SQLite AlterField remakes the
table, which would drop the triggers other apps keep on it (targets' change log).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# (table, column, the name Django gave the index: the same on SQLite and PostgreSQL)
COVERED = [
    ("people_organisation", "owner_id", "people_organisation_owner_id_b850b673"),
    ("people_contact", "organisation_id", "people_contact_organisation_id_520b22fc"),
    ("people_contact", "owner_id", "people_contact_owner_id_8e64f18f"),
]


def _field(to, related_name, verbose_name):
    return models.ForeignKey(
        blank=True,
        db_index=False,
        null=True,
        on_delete=django.db.models.deletion.SET_NULL,
        related_name=related_name,
        to=to,
        verbose_name=verbose_name,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0005_contact_buying_role"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f"DROP INDEX IF EXISTS {index}",
                    reverse_sql=f"CREATE INDEX {index} ON {table} ({column})",
                )
                for table, column, index in COVERED
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="contact",
                    name="organisation",
                    field=_field("people.organisation", "contacts", "organisation"),
                ),
                migrations.AlterField(
                    model_name="contact",
                    name="owner",
                    field=_field(settings.AUTH_USER_MODEL, "contacts", "owner"),
                ),
                migrations.AlterField(
                    model_name="organisation",
                    name="owner",
                    field=_field(settings.AUTH_USER_MODEL, "organisations", "owner"),
                ),
            ],
        )
    ]
