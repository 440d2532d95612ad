from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RoutingConfig(AppConfig):
    name = "cible.routing.assignment"
    label = "routing"
    verbose_name = _("Routing")

    def ready(self) -> None:
        from cible.core import audit
        from cible.people.hooks import register_related_section
        from cible.routing.assignment import models, receivers, tasks, views  # noqa: F401

        receivers.connect()
        register_related_section(views.lead_section, on="lead")
        audit.register(models.RoutingRule)
        audit.register(models.RoutingMember, exclude=("assigned",))
        audit.register(models.RoutingSettings)
