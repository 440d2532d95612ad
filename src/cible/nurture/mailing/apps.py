from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MailingConfig(AppConfig):
    name = "cible.nurture.mailing"
    label = "mailing"
    verbose_name = _("Email")

    def ready(self) -> None:
        from cible.core import audit
        from cible.nurture.mailing import erasure, models, views
        from cible.people.hooks import register_related_section
        from cible.quality.privacy.hooks import register_eraser

        audit.register(models.EmailTemplate)
        audit.register(models.SendPolicy)
        register_related_section(views.contact_section, on="contact")
        register_eraser(erasure.erase_people)
