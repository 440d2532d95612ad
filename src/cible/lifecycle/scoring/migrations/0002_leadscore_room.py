from django.db import migrations


def leave_room(apps, schema_editor):
    """PostgreSQL: half-full pages, so that a whole-base rescore rewrites each lead's parts in
    place (a HOT update) instead of moving them and touching the indexes."""
    if schema_editor.connection.vendor == "postgresql":
        table = schema_editor.quote_name(apps.get_model("scoring", "LeadScore")._meta.db_table)
        schema_editor.execute(f"ALTER TABLE {table} SET (fillfactor = 50)")


def fill_pages(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        table = schema_editor.quote_name(apps.get_model("scoring", "LeadScore")._meta.db_table)
        schema_editor.execute(f"ALTER TABLE {table} RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("scoring", "0001_initial")]

    operations = [migrations.RunPython(leave_room, fill_pages)]
