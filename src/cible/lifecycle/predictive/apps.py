from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PredictiveConfig(AppConfig):
    name = "cible.lifecycle.predictive"
    label = "predictive"
    verbose_name = _("Predictive scoring")

    def ready(self) -> None:
        from cible.core import audit
        from cible.lifecycle.predictive import models, receivers

        receivers.connect()
        # Who trained what with which settings, how it ended, which model gives the
        # probabilities: not the report and the fitted parameters, which are the results.
        audit.register(
            models.PredictiveModel,
            exclude=("report", "parameters", "started_at", "finished_at", "seconds"),
        )
