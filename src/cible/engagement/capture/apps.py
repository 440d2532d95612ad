from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CaptureConfig(AppConfig):
    name = "cible.engagement.capture"
    label = "capture"
    verbose_name = _("Web forms")

    def ready(self) -> None:
        from cible.core import audit
        from cible.engagement.capture import erasure, models
        from cible.quality.privacy.hooks import register_eraser

        audit.register(models.WebForm)
        register_eraser(erasure.erase_people)
