from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeadsConfig(AppConfig):
    name = "cible.lifecycle.leads"
    label = "leads"
    verbose_name = _("Leads")

    def ready(self) -> None:
        from cible.core import audit
        from cible.lifecycle.leads import models

        audit.register(models.Lead)
        audit.register(models.StageDefinition)
