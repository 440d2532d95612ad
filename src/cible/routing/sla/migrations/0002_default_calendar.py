from django.db import migrations


def create_default(apps, schema_editor):
    BusinessCalendar = apps.get_model("sla", "BusinessCalendar")
    BusinessCalendar.objects.get_or_create(
        name="France — Paris office",
        defaults={
            "time_zone": "Europe/Paris",
            "working_days": "12345",
            "opening_hours": "09:00-12:30, 14:00-18:00",
            "holidays_country": "FR",
            "holidays_subdivision": "",
        },
    )


class Migration(migrations.Migration):
    dependencies = [("sla", "0001_initial")]

    operations = [migrations.RunPython(create_default, migrations.RunPython.noop)]
