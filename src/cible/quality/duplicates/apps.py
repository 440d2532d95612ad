from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DuplicatesConfig(AppConfig):
    name = "cible.quality.duplicates"
    label = "duplicates"
    verbose_name = _("Duplicates")

    def ready(self) -> None:
        from cible.people.hooks import register_duplicate_finder, register_related_section
        from cible.quality.duplicates import erasure, prevention, selectors
        from cible.quality.privacy.hooks import register_eraser

        register_duplicate_finder(prevention.find_look_alikes, template="duplicates/_suspects.html")
        register_related_section(selectors.record_section, on="organisation")
        register_related_section(selectors.record_section, on="contact")
        register_eraser(erasure.erase_people)
