from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScoringConfig(AppConfig):
    name = "cible.lifecycle.scoring"
    label = "scoring"
    verbose_name = _("Lead scoring")

    def ready(self) -> None:
        from cible.core import audit
        from cible.lifecycle.scoring import models, receivers

        audit.register(models.ScoringModel)
        receivers.connect()
