from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "cible.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from cible.core import audit

        audit.connect()
