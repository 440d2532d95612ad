from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SlaConfig(AppConfig):
    name = "cible.routing.sla"
    label = "sla"
    verbose_name = _("Service levels")

    def ready(self) -> None:
        from cible.core import audit
        from cible.people.hooks import register_related_section
        from cible.routing.sla import models, receivers, views

        audit.register(models.SlaPolicy)
        audit.register(models.BusinessCalendar)
        receivers.connect()
        # The lead page shows its clocks, due times and escalations.
        register_related_section(views.lead_section, on="lead")
