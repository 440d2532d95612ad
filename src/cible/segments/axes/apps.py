from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AxesConfig(AppConfig):
    name = "cible.segments.axes"
    label = "segments"
    verbose_name = _("Segments")

    def ready(self) -> None:
        from cible.core import audit
        from cible.segments.axes import models, receivers, resolver

        resolver.register()
        receivers.connect()
        audit.register(models.Axis)
        # Membership rows are derived data (by the million): hand changes are logged on their
        # segment by the services instead.
        audit.register(models.Segment, exclude=("member_count", "rebuilt_at", "members_version"))
