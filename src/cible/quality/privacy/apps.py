from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    name = "cible.quality.privacy"
    label = "privacy"
    verbose_name = _("Privacy")

    def ready(self) -> None:
        from cible.core import audit
        from cible.people.hooks import register_related_section
        from cible.quality.privacy import models, receivers, views

        register_related_section(views.contact_section, on="contact")
        receivers.connect()
        audit.register(models.Purpose)
        audit.register(models.RetentionRule)
        from cible.quality.privacy import tasks  # noqa: F401 - registers the periodic task
