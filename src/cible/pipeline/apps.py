from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PipelineConfig(AppConfig):
    name = "cible.pipeline"
    label = "pipeline"
    verbose_name = _("Pipeline")

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from cible.people.hooks import register_related_section
        from cible.pipeline import models, selectors, views

        register_related_section(views.organisation_section)
        selectors.register_search()

        auditlog.register(
            models.Opportunity,
            exclude_fields=["version", "updated_at", "name_key"],
            m2m_fields={"competitors"},
        )
