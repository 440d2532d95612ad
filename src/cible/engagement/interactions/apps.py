from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InteractionsConfig(AppConfig):
    name = "cible.engagement.interactions"
    label = "interactions"
    verbose_name = _("Interactions")

    def ready(self) -> None:
        from cible.core import audit
        from cible.engagement.interactions import erasure, models, receivers, views
        from cible.people.hooks import register_related_section
        from cible.quality.privacy.hooks import register_eraser

        register_related_section(views.contact_section, on="contact")
        register_related_section(views.organisation_section, on="organisation")
        receivers.connect()
        audit.register(models.Interaction, exclude=("properties",))
        register_eraser(erasure.erase_people)
