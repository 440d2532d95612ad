from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NurtureConfig(AppConfig):
    name = "cible.nurture.programs"
    label = "nurture"
    verbose_name = _("Nurture programs")
