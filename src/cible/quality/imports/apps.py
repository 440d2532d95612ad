from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImportsConfig(AppConfig):
    name = "cible.quality.imports"
    label = "imports"
    verbose_name = _("Imports")

    def ready(self) -> None:
        from cible.quality.imports import entities

        entities.register_all()
