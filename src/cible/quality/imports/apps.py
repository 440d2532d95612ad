from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImportsConfig(AppConfig):
    name = "cible.quality.imports"
    label = "imports"
    verbose_name = _("Imports")

    def ready(self) -> None:
        from cible.quality.imports import entities, erasure
        from cible.quality.privacy.hooks import register_eraser

        entities.register_all()
        register_eraser(erasure.erase_people)
