from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PeopleConfig(AppConfig):
    name = "cible.people"
    label = "people"
    verbose_name = _("Organisations and contacts")

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from cible.people import models, selectors

        selectors.register_search()

        excluded = ["version", "updated_at", "name_key", "search_phone"]
        auditlog.register(
            models.Organisation, exclude_fields=excluded, m2m_fields={"installed_products"}
        )
        auditlog.register(models.Contact, exclude_fields=[*excluded, "email_key"])
        auditlog.register(models.Team)
        auditlog.register(models.UserProfile, m2m_fields={"teams"})
