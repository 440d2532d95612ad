"""Every write to organisations, contacts, teams and profiles (SPEC C1).

Views, the API, the CLI, imports and the demo generator call these functions; each checks the
access policy, normalises its input, writes in one transaction and leaves an audit entry.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cible.core import access
from cible.core import normalisers as norm
from cible.core.audit import audit_context
from cible.core.cleaning import Cleaned
from cible.core.concurrency import save_versioned
from cible.core.errors import FieldError, PermissionDenied, ValidationFailed
from cible.core.roles import Role
from cible.people.hooks import check_duplicates, stage_kept_by
from cible.people.models import Contact, Organisation, Team, UserProfile
from cible.people.normalise import (
    CONTACT_BLANKS,
    CONTACT_SPECS,
    ORGANISATION_BLANKS,
    ORGANISATION_SPECS,
    clean_contact,
    clean_organisation,
    derive_contact,
    derive_organisation,
)
from cible.people.references import resolve_owner, resolve_products, resolve_visible

User = get_user_model()


def _current_values(obj: Any, specs: Mapping[str, Any]) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in specs}


def _split(
    data: Mapping[str, Any], references: Iterable[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    refs = {k: v for k, v in data.items() if k in references}
    plain = {k: v for k, v in data.items() if k not in references and k not in ("id", "version")}
    return plain, refs


# --- organisations ----------------------------------------------------------------------------

ORGANISATION_REFERENCES = ("owner", "parent", "installed_products")


def _prepare_organisation(
    *, organisation: Organisation | None, actor: Any, data: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any], Cleaned]:
    plain, refs = _split(data, ORGANISATION_REFERENCES)
    cleaned = clean_organisation(plain)
    base = (
        _current_values(organisation, ORGANISATION_SPECS)
        if organisation
        else dict(ORGANISATION_BLANKS)
    )
    merged = {**base, **cleaned.values}
    cleaned.add_errors(derive_organisation(merged))
    resolved: dict[str, Any] = {}
    if "owner" in refs:
        resolved["owner"] = resolve_owner(refs["owner"], cleaned.errors)
    if "parent" in refs:
        parent = resolve_visible(Organisation, refs["parent"], "parent", actor, cleaned.errors)
        if (
            parent is not None
            and organisation is not None
            and _is_own_ancestor(organisation, parent)
        ):
            cleaned.errors.append(
                FieldError("parent", _("an organisation cannot be its own parent"))
            )
        resolved["parent"] = parent
    if "installed_products" in refs:
        resolved["installed_products"] = resolve_products(
            refs["installed_products"], cleaned.errors
        )
    return merged, resolved, cleaned


def _is_own_ancestor(organisation: Organisation, parent: Organisation) -> bool:
    seen: set[int] = set()
    node: Organisation | None = parent
    while node is not None and node.pk not in seen:
        if node.pk == organisation.pk:
            return True
        seen.add(node.pk)
        node = node.parent
    return False


def _assign(obj: Any, merged: Mapping[str, Any], resolved: Mapping[str, Any]) -> None:
    for name, value in merged.items():
        setattr(obj, name, value)
    for name, value in resolved.items():
        if name != "installed_products":
            setattr(obj, name, value)


@transaction.atomic
def organisation_create(
    *, actor: Any, channel: str, data: Mapping[str, Any], allow_duplicate: bool = True
) -> Organisation:
    """Create an organisation from raw input; raises ValidationFailed naming each bad field.

    With `allow_duplicate=False` (forms and the API, until the person confirms), raises
    `hooks.DuplicateSuspected` if it looks like an organisation the actor can already see."""
    if not access.can(actor, "change"):
        raise PermissionDenied(_("You may not create organisations."))
    merged, resolved, cleaned = _prepare_organisation(organisation=None, actor=actor, data=data)
    cleaned.raise_errors()
    if not allow_duplicate:
        check_duplicates("organisation", {**merged, **resolved}, actor)
    organisation = Organisation()
    _assign(organisation, merged, resolved)
    if resolved.get("owner") is None and getattr(actor, "pk", None):  # creator owns by default
        organisation.owner = actor
    with audit_context(actor=actor, channel=channel):
        organisation.save()
        if resolved.get("installed_products"):
            organisation.installed_products.set(resolved["installed_products"])
    return organisation


@transaction.atomic
def organisation_update(
    *,
    organisation: Organisation,
    actor: Any,
    channel: str,
    data: Mapping[str, Any],
    expected_version: int | None = None,
) -> Organisation:
    """Change the fields given in `data`; refuses if the record moved past `expected_version`."""
    if not access.can(actor, "change", organisation):
        raise PermissionDenied(_("You may not change this organisation."))
    merged, resolved, cleaned = _prepare_organisation(
        organisation=organisation, actor=actor, data=data
    )
    cleaned.raise_errors()
    expected = organisation.version if expected_version is None else expected_version
    _assign(organisation, merged, resolved)
    with audit_context(actor=actor, channel=channel):
        save_versioned(organisation, expected_version=expected)
        if "installed_products" in resolved:
            organisation.installed_products.set(resolved["installed_products"])
    return organisation


@transaction.atomic
def organisation_delete(*, organisation: Organisation, actor: Any, channel: str) -> None:
    if not access.can(actor, "delete", organisation):
        raise PermissionDenied(_("You may not delete this organisation."))
    if organisation.opportunities.exists():
        raise ValidationFailed(
            _("This organisation has opportunities; close or move them before deleting it.")
        )
    with audit_context(actor=actor, channel=channel):
        organisation.delete()


def organisation_mark_verified(
    *, organisation: Organisation, actor: Any, channel: str
) -> Organisation:
    """Someone checked the record against reality today (seed 004: data goes stale)."""
    return organisation_update(
        organisation=organisation,
        actor=actor,
        channel=channel,
        data={"last_verified_at": timezone.now()},
    )


# --- contacts ---------------------------------------------------------------------------------

CONTACT_REFERENCES = ("owner", "organisation", "reports_to")


def _prepare_contact(
    *, contact: Contact | None, actor: Any, data: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any], Cleaned]:
    plain, refs = _split(data, CONTACT_REFERENCES)
    cleaned = clean_contact(plain)
    base = _current_values(contact, CONTACT_SPECS) if contact else dict(CONTACT_BLANKS)
    merged = {**base, **cleaned.values}
    cleaned.add_errors(derive_contact(merged))
    resolved: dict[str, Any] = {}
    if "owner" in refs:
        resolved["owner"] = resolve_owner(refs["owner"], cleaned.errors)
    if "organisation" in refs:
        resolved["organisation"] = resolve_visible(
            Organisation, refs["organisation"], "organisation", actor, cleaned.errors
        )
    if "reports_to" in refs:
        manager = resolve_visible(Contact, refs["reports_to"], "reports_to", actor, cleaned.errors)
        if manager is not None and contact is not None and manager.pk == contact.pk:
            cleaned.errors.append(
                FieldError("reports_to", _("a contact cannot report to themselves"))
            )
        resolved["reports_to"] = manager
    if merged.get("email_opt_out") and contact is not None and not contact.email_opt_out:
        merged["opted_out_at"] = timezone.now()
    return merged, resolved, cleaned


@transaction.atomic
def contact_create(
    *, actor: Any, channel: str, data: Mapping[str, Any], allow_duplicate: bool = True
) -> Contact:
    """Create a contact; `allow_duplicate=False` checks for look-alikes first (as above)."""
    if not access.can(actor, "change"):
        raise PermissionDenied(_("You may not create contacts."))
    merged, resolved, cleaned = _prepare_contact(contact=None, actor=actor, data=data)
    cleaned.raise_errors()
    if not allow_duplicate:
        check_duplicates("contact", {**merged, **resolved}, actor)
    contact = Contact()
    _assign(contact, merged, resolved)
    if merged.get("email_opt_out"):
        contact.opted_out_at = timezone.now()
    if resolved.get("owner") is None and getattr(actor, "pk", None):  # creator owns by default
        contact.owner = actor
    with audit_context(actor=actor, channel=channel):
        contact.save()
    return contact


@transaction.atomic
def contact_update(
    *,
    contact: Contact,
    actor: Any,
    channel: str,
    data: Mapping[str, Any],
    expected_version: int | None = None,
) -> Contact:
    if not access.can(actor, "change", contact):
        raise PermissionDenied(_("You may not change this contact."))
    if contact.anonymised_at is not None:  # GDPR erasure is final (quality.privacy)
        raise ValidationFailed(
            _(
                "Contact #%(id)s was anonymised at the person's request or by a retention rule; "
                "it can no longer be changed."
            )
            % {"id": contact.pk}
        )
    merged, resolved, cleaned = _prepare_contact(contact=contact, actor=actor, data=data)
    cleaned.raise_errors()
    stage = merged.get("lifecycle_stage", contact.lifecycle_stage)
    if stage != contact.lifecycle_stage and (kept := stage_kept_by(contact)):
        raise ValidationFailed(errors=[FieldError("lifecycle_stage", kept)])
    expected = contact.version if expected_version is None else expected_version
    _assign(contact, merged, resolved)
    with audit_context(actor=actor, channel=channel):
        save_versioned(contact, expected_version=expected)
    return contact


def contact_mark_verified(*, contact: Contact, actor: Any, channel: str) -> Contact:
    """Someone checked the person's details today."""
    return contact_update(
        contact=contact, actor=actor, channel=channel, data={"last_verified_at": timezone.now()}
    )


@transaction.atomic
def contact_delete(*, contact: Contact, actor: Any, channel: str) -> None:
    if not access.can(actor, "delete", contact):
        raise PermissionDenied(_("You may not delete this contact."))
    with audit_context(actor=actor, channel=channel):
        contact.delete()


# --- users and teams --------------------------------------------------------------------------


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str | None,
    role: str,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    teams: Iterable[Team] = (),
    language: str = "fr",
    sees_deal_amounts: bool = False,
    password_hash: str | None = None,
) -> AbstractBaseUser:
    """A user with a profile. `password_hash` (from `make_password`) stands in for `password`
    when many users share one known password, as demo users do: hashing costs ~0.4 s each."""
    if role not in Role.values:
        raise ValidationFailed(
            errors=[FieldError("role", _("unknown role %(role)s") % {"role": role})]
        )
    user = User.objects.create_user(
        username=username,
        password=password,
        email=email,
        first_name=first_name,
        last_name=last_name,
        is_superuser=role == Role.ADMIN,
        is_staff=role == Role.ADMIN,
    )
    if password_hash is not None:
        user.password = password_hash
        user.save(update_fields=["password"])
    profile = UserProfile.objects.create(
        user=user, role=role, language=language, sees_deal_amounts=sees_deal_amounts
    )
    profile.teams.set(list(teams))
    return user


def team_create(*, name: str, manager: Any = None, description: str = "") -> Team:
    return Team.objects.create(name=name, manager=manager, description=description)


def profile_set_language(*, user: Any, language: str) -> None:
    if language not in {code for code, _name in settings.LANGUAGES}:
        raise ValidationFailed(errors=[FieldError("language", _("unknown language"))])
    UserProfile.objects.filter(user=user).update(language=language)


def _require_admin(actor: Any) -> None:
    if not access.can(actor, "administer"):
        raise PermissionDenied(_("Only administrators may manage users and teams."))


def _team_errors(name: str, team: Team | None = None) -> list[FieldError]:
    errors = []
    if not name:
        errors.append(FieldError("name", _("is required")))
    elif Team.objects.filter(name__iexact=name).exclude(pk=team.pk if team else -1).exists():
        errors.append(FieldError("name", _("another team already has this name")))
    return errors


@transaction.atomic
def user_invite(
    *,
    actor: Any,
    channel: str,
    username: str,
    password: str,
    role: str,
    teams: Iterable[Team] = (),
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    language: str = "fr",
) -> AbstractBaseUser:
    """An administrator adds a colleague with a role and teams."""
    _require_admin(actor)
    errors = []
    username = (username or "").strip()
    if not username:
        errors.append(FieldError("username", _("is required")))
    elif User.objects.filter(username__iexact=username).exists():
        errors.append(FieldError("username", _("this username is taken")))
    if len(password or "") < 8:
        errors.append(FieldError("password", _("must have at least 8 characters")))
    if email:
        try:
            email = norm.email(email) or ""
        except norm.NormalisationError as error:
            errors.append(FieldError("email", error.message))
    if errors:
        raise ValidationFailed(errors=errors)
    with audit_context(actor=actor, channel=channel):
        return user_create(
            username=username,
            password=password,
            role=role,
            teams=teams,
            language=language,
            first_name=norm.person_name(first_name) or "",
            last_name=norm.person_name(last_name) or "",
            email=email,
        )


@transaction.atomic
def user_update(
    *,
    actor: Any,
    channel: str,
    user: Any,
    role: str,
    teams: Iterable[Team],
    is_active: bool,
    sees_deal_amounts: bool,
) -> Any:
    """Change a colleague's role, teams, grants or access (an admin cannot lock themselves out)."""
    _require_admin(actor)
    if role not in Role.values:
        raise ValidationFailed(
            errors=[FieldError("role", _("unknown role %(role)s") % {"role": role})]
        )
    if user.pk == actor.pk and (not is_active or role != Role.ADMIN):
        raise ValidationFailed(
            errors=[FieldError("role", _("you cannot remove your own administrator access"))]
        )
    with audit_context(actor=actor, channel=channel):
        profile, _created = UserProfile.objects.get_or_create(user=user, defaults={"role": role})
        profile.role = role
        profile.sees_deal_amounts = sees_deal_amounts
        profile.save()
        profile.teams.set(list(teams))
        User.objects.filter(pk=user.pk).update(
            is_active=is_active, is_superuser=role == Role.ADMIN, is_staff=role == Role.ADMIN
        )
    return user


@transaction.atomic
def team_save(
    *,
    actor: Any,
    channel: str,
    name: str,
    manager: Any = None,
    description: str = "",
    team: Team | None = None,
) -> Team:
    """Create a team, or rename it and change its manager."""
    _require_admin(actor)
    name = " ".join((name or "").split())[:100]
    errors = _team_errors(name, team)
    if errors:
        raise ValidationFailed(errors=errors)
    with audit_context(actor=actor, channel=channel):
        team = team or Team()
        team.name, team.manager, team.description = name, manager, (description or "")[:255]
        team.save()
    return team
