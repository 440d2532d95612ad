from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProfilesConfig(AppConfig):
    name = "cible.segments.profiles"
    label = "profiles"
    verbose_name = _("Ideal customer profiles and personas")
