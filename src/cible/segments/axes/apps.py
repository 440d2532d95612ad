from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AxesConfig(AppConfig):
    name = "cible.segments.axes"
    label = "segments"
    verbose_name = _("Segments")
