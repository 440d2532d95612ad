from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PipelineConfig(AppConfig):
    name = "cible.pipeline"
    label = "pipeline"
    verbose_name = _("Pipeline")

    def ready(self) -> None:
        from cible.core import audit
        from cible.people.hooks import register_related_section
        from cible.pipeline import models, rule_fields, selectors, views

        register_related_section(views.organisation_section)
        selectors.register_search()

        audit.register(models.Opportunity, exclude=("name_key",), m2m=("competitors",))
        rule_fields.register()
