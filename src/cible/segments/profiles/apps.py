from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProfilesConfig(AppConfig):
    name = "cible.segments.profiles"
    label = "profiles"
    verbose_name = _("Ideal customer profiles and personas")

    def ready(self) -> None:
        from cible.core import audit
        from cible.people.hooks import register_related_section
        from cible.segments.profiles import models, receivers, views

        receivers.connect()
        register_related_section(views.organisation_section)
        audit.register(models.IdealCustomerProfile, exclude=("scored_at",))
        audit.register(models.ProfileCriterion)
        audit.register(models.Persona)
