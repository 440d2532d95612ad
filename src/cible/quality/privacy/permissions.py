"""Who may do what with a person's data, phrased over `core.access` (the one policy).

- reading a contact's consents: whoever may see the contact;
- recording a consent or an objection: whoever may change the contact;
- a subject-access export: administrators, and the contact's owner;
- erasure, retention rules and purposes: administrators only (Cible has no separate data
  protection officer role: the DPO is given the administrator role).

Background jobs and the command line act as the system (`actor=None`), which may do all of it:
whoever runs `cible privacy` already holds the database.
"""

from __future__ import annotations

from typing import Any

from cible.core import access

SYSTEM_CHANNELS = ("job", "cli")


def is_system(actor: Any, channel: str) -> bool:
    return actor is None and str(channel) in SYSTEM_CHANNELS


def may_view(actor: Any, contact: Any) -> bool:
    return access.can(actor, "view", contact)


def may_record(actor: Any, contact: Any, channel: str) -> bool:
    return is_system(actor, channel) or access.can(actor, "change", contact)


def may_export(actor: Any, contact: Any, channel: str = "ui") -> bool:
    if is_system(actor, channel) or access.can(actor, "administer"):
        return True
    owner = getattr(actor, "pk", None)
    return owner is not None and contact.owner_id == owner and access.can(actor, "view", contact)


def may_administer(actor: Any, channel: str = "ui") -> bool:
    """Erasure, retention rules and runs, purposes."""
    return is_system(actor, channel) or access.can(actor, "administer")
