from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    name = "cible.engagement.campaigns"
    label = "campaigns"
    verbose_name = _("Campaigns")

    def ready(self) -> None:
        from cible.core import audit
        from cible.engagement.campaigns import merging, models, views
        from cible.people.hooks import register_related_section
        from cible.quality.duplicates.relations import register_merge_combiner

        audit.register(models.Campaign)
        audit.register(models.CampaignMember)
        register_related_section(views.contact_section, on="contact")
        # Two duplicate contacts in one campaign merge into one member (SPEC C2).
        register_merge_combiner(
            models.CampaignMember, unique_with=("campaign",), combine=merging.combine_members
        )
