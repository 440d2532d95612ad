"""Who may change axes and segments: administrators, Marketing and sales managers.

Segmentation is shared configuration, so only these roles write it (`services`, and the rebuilds
started from a page or the API in `membership`); everybody reads axes and segments, and counts
follow each viewer's access (`core.access`).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from cible.core import access
from cible.core.errors import PermissionDenied
from cible.core.roles import Role

MANAGERS = frozenset({Role.ADMIN, Role.MARKETING, Role.SALES_MANAGER})


def may_manage(actor: Any) -> bool:
    return access.role_of(actor) in MANAGERS


def require_manager(actor: Any) -> None:
    if not may_manage(actor):
        raise PermissionDenied(
            _("Only administrators, Marketing and sales managers may change segmentation.")
        )


__all__ = ["MANAGERS", "may_manage", "require_manager"]
