from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeadsConfig(AppConfig):
    name = "cible.lifecycle.leads"
    label = "leads"
    verbose_name = _("Leads")

    def ready(self) -> None:
        from cible.core import audit
        from cible.engagement.campaigns.hooks import register_campaign_results
        from cible.lifecycle.leads import automatic, erasure, importing, models, selectors, views
        from cible.people.hooks import register_related_section, register_stage_keeper
        from cible.quality.privacy.hooks import register_eraser

        audit.register(models.Lead)
        audit.register(models.StageDefinition)
        # Interactions showing interest open leads (automatic.leads_from_interactions).
        automatic.connect()
        register_campaign_results(selectors.campaign_lead_counts)
        register_related_section(views.contact_section, on="contact")
        register_stage_keeper(selectors.stage_keeper)
        importing.register()  # leads come in through the import framework too
        register_eraser(erasure.erase_people)
