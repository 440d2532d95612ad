from typing import Any

from django.apps import AppConfig
from django.db.models.signals import pre_migrate
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "cible.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from cible.core import audit

        audit.connect()
        pre_migrate.connect(_restore_indexes, sender=self)


def _restore_indexes(*, using: str, **kwargs: Any) -> None:
    """Migrations may alter or drop an index or a foreign key a bulk load set aside
    (core.indexes, core.foreign_keys)."""
    from cible.core.foreign_keys import restore_foreign_keys
    from cible.core.indexes import restore_indexes

    restore_indexes(using=using)
    restore_foreign_keys(using=using)
