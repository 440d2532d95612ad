from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FunnelConfig(AppConfig):
    name = "cible.insights.funnel"
    label = "funnel"
    verbose_name = _("Funnel report")
