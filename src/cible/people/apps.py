from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PeopleConfig(AppConfig):
    name = "cible.people"
    label = "people"
    verbose_name = _("Organisations and contacts")

    def ready(self) -> None:
        from cible.core import audit
        from cible.people import models, selectors

        selectors.register_search()
        audit.register(models.Organisation, exclude=("name_key",), m2m=("installed_products",))
        audit.register(models.Contact, exclude=("name_key", "email_key"))
        audit.register(models.Team)
        audit.register(models.UserProfile, m2m=("teams",))
