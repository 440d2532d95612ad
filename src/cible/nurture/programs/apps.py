from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NurtureConfig(AppConfig):
    name = "cible.nurture.programs"
    label = "nurture"
    verbose_name = _("Nurture programs")

    def ready(self) -> None:
        from cible.core import audit
        from cible.nurture.programs import models, receivers, views
        from cible.people.hooks import register_related_section

        audit.register(models.NurtureProgram)
        audit.register(models.ProgramStep)
        receivers.connect()
        # "Enrol in a program" on a contact's page, with where they are in each program.
        register_related_section(views.contact_section, on="contact")
