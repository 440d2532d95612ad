"""Turn references given by id (or by name, for products) into records, checking the viewer
may see them; problems are appended to the caller's error list rather than raised one by one."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _

from cible.core import access
from cible.core.errors import FieldError
from cible.core.values import is_id
from cible.people.models import CompetitorProduct, Contact, Organisation

User = get_user_model()


def resolve_owner(raw: Any, errors: list[FieldError]) -> Any:
    if raw in (None, ""):
        return None
    if isinstance(raw, User):
        return raw
    try:
        return User.objects.get(pk=int(raw), is_active=True)
    except (TypeError, ValueError, User.DoesNotExist):
        errors.append(
            FieldError("owner", _("no active user with id %(id)s") % {"id": str(raw)[:20]})
        )
        return None


def resolve_visible(
    model: type[Organisation] | type[Contact],
    raw: Any,
    field: str,
    actor: Any,
    errors: list[FieldError],
) -> Any:
    if raw in (None, ""):
        return None
    if isinstance(raw, model):
        raw = raw.pk
    try:
        return access.visible(actor, model.objects.all()).get(pk=int(raw))
    except (TypeError, ValueError, model.DoesNotExist):
        errors.append(
            FieldError(
                field,
                _("no %(what)s with id %(id)s")
                % {"what": model._meta.verbose_name, "id": str(raw)[:20]},
            )
        )
        return None


def resolve_products(raw: Any, errors: list[FieldError]) -> list[CompetitorProduct]:
    if raw in (None, ""):
        return []
    items = [part.strip() for part in raw.split(",")] if isinstance(raw, str) else list(raw)
    items = [item for item in items if item not in ("", None)]
    ids = {int(item) for item in items if is_id(item)}
    names = {str(item).lower() for item in items if not (is_id(item))}
    found = [p for p in CompetitorProduct.objects.all() if p.pk in ids or p.name.lower() in names]
    missing = (ids - {p.pk for p in found}) | (names - {p.name.lower() for p in found})
    if missing:
        errors.append(
            FieldError(
                "installed_products",
                _("unknown products: %(names)s")
                % {"names": ", ".join(sorted(str(m) for m in missing))[:200]},
            )
        )
    return found
