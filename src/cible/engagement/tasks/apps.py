from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TasksConfig(AppConfig):
    name = "cible.engagement.tasks"
    label = "tasks"
    verbose_name = _("Tasks")

    def ready(self) -> None:
        from cible.core import audit
        from cible.engagement.tasks import models, views
        from cible.people.hooks import register_related_section

        register_related_section(views.contact_section, on="contact")
        register_related_section(views.organisation_section, on="organisation")
        audit.register(models.Task)
