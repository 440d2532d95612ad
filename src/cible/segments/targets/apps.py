from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TargetsConfig(AppConfig):
    name = "cible.segments.targets"
    label = "targets"
    verbose_name = _("Targets")

    def ready(self) -> None:
        from cible.core import audit
        from cible.segments.targets import models

        audit.register(models.Target)
