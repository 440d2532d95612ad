from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FreshnessConfig(AppConfig):
    name = "cible.quality.freshness"
    label = "freshness"
    verbose_name = _("Data freshness")

    def ready(self) -> None:
        from cible.core import audit
        from cible.quality.freshness import models, receivers

        receivers.connect()
        audit.register(models.FreshnessPolicy, exclude=("version",))
        audit.register(models.VerificationTask)
