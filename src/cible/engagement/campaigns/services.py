"""Every write to campaigns and their members (responses from interactions: `responses.py`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cible.core import access, bulk
from cible.core.audit import Channel, audit_context
from cible.core.concurrency import save_versioned
from cible.core.errors import (
    ConflictError,
    FieldError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from cible.core.values import is_id
from cible.engagement.campaigns import selectors
from cible.engagement.campaigns.models import (
    MEMBER_RANK,
    RESPONDED_FROM,
    Campaign,
    CampaignMember,
    CampaignStatus,
    MemberStatus,
)
from cible.engagement.campaigns.normalise import (
    CAMPAIGN_BLANKS,
    CAMPAIGN_SPECS,
    REFERENCES,
    check_campaign,
    clean_campaign,
)
from cible.people.models import Contact
from cible.people.references import resolve_owner
from cible.segments.targets.models import Target
from cible.segments.targets.selectors import target_get

# Where a campaign may go from each status. A finished campaign is reopened (completed →
# active) or re-planned (cancelled → planned) before anything else, so that its history reads
# in order.
TRANSITIONS: dict[str, frozenset[str]] = {
    CampaignStatus.PLANNED: frozenset(
        {CampaignStatus.ACTIVE, CampaignStatus.COMPLETED, CampaignStatus.CANCELLED}
    ),
    CampaignStatus.ACTIVE: frozenset(
        {CampaignStatus.PLANNED, CampaignStatus.COMPLETED, CampaignStatus.CANCELLED}
    ),
    CampaignStatus.COMPLETED: frozenset({CampaignStatus.ACTIVE}),
    CampaignStatus.CANCELLED: frozenset({CampaignStatus.PLANNED}),
}
CLOSED = (CampaignStatus.COMPLETED, CampaignStatus.CANCELLED)
MAX_CONTACTS_PER_CALL = 10_000


class CampaignInUse(ConflictError):
    """Records refer to the campaign: deleting it would silently lose their attribution."""


# --- the campaign itself ------------------------------------------------------------------------


def _resolve_target(raw: Any, actor: Any, errors: list[FieldError]) -> Target | None:
    if raw in (None, ""):
        return None
    if isinstance(raw, Target):
        raw = raw.pk
    try:
        return target_get(viewer=actor, pk=raw)
    except NotFound:
        errors.append(
            FieldError("target", _("no target #%(id)s shared with you") % {"id": str(raw)[:20]})
        )
        return None


def _status_errors(before: str | None, after: str) -> list[FieldError]:
    if before is None or before == after or after in TRANSITIONS.get(before, frozenset()):
        return []
    return [
        FieldError(
            "status",
            _("a campaign cannot go from “%(before)s” to “%(after)s”")
            % {"before": CampaignStatus(before).label, "after": CampaignStatus(after).label},
        )
    ]


def _prepare(
    *, campaign: Campaign | None, actor: Any, data: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Normalised values merged over the stored ones, and resolved references; raises
    ValidationFailed naming every problem at once."""
    refs = {k: v for k, v in data.items() if k in REFERENCES}
    plain = {k: v for k, v in data.items() if k not in REFERENCES and k not in ("id", "version")}
    cleaned = clean_campaign(plain)
    base = {n: getattr(campaign, n) for n in CAMPAIGN_SPECS} if campaign else dict(CAMPAIGN_BLANKS)
    merged = {**base, **cleaned.values}
    for name in ("goal", "status"):  # a blank choice keeps what was there (or the default)
        merged[name] = merged[name] or base[name] or CAMPAIGN_BLANKS[name]
    cleaned.add_errors(check_campaign(merged))
    if merged.get("status"):
        cleaned.add_errors(_status_errors(campaign.status if campaign else None, merged["status"]))
    resolved: dict[str, Any] = {}
    if "target" in refs:
        resolved["target"] = _resolve_target(refs["target"], actor, cleaned.errors)
    if "owner" in refs:
        resolved["owner"] = resolve_owner(refs["owner"], cleaned.errors)
    cleaned.raise_errors()
    return merged, resolved


def _require(actor: Any, action: str, campaign: Campaign | None = None) -> None:
    if not access.can(actor, action, campaign):  # type: ignore[arg-type]
        messages = {
            "change": _("You may not change this campaign."),
            "delete": _("You may not delete this campaign: only its owner or their manager may."),
        }
        raise PermissionDenied(messages.get(action, _("You may not do this.")))


@transaction.atomic
def campaign_create(*, actor: Any, channel: str, data: Mapping[str, Any]) -> Campaign:
    _require(actor, "change")
    merged, resolved = _prepare(campaign=None, actor=actor, data=data)
    campaign = Campaign(**merged, **resolved)
    if campaign.owner_id is None and getattr(actor, "pk", None):
        campaign.owner = actor  # whoever sets a campaign up runs it, until told otherwise
    with audit_context(actor=actor, channel=channel):
        campaign.save()
    return campaign


@transaction.atomic
def campaign_update(
    *,
    campaign: Campaign,
    actor: Any,
    channel: str,
    data: Mapping[str, Any],
    expected_version: int | None = None,
) -> Campaign:
    """Change the fields in `data`; refused (ConflictError) if the campaign moved past
    `expected_version` since the caller read it."""
    _require(actor, "change", campaign)
    expected = campaign.version if expected_version is None else expected_version
    merged, resolved = _prepare(campaign=campaign, actor=actor, data=data)
    for name, value in {**merged, **resolved}.items():
        setattr(campaign, name, value)
    with audit_context(actor=actor, channel=channel):
        save_versioned(campaign, expected_version=expected)
    return campaign


def campaign_set_status(
    *,
    campaign: Campaign,
    status: str,
    actor: Any,
    channel: str,
    expected_version: int | None = None,
) -> Campaign:
    """Move the campaign to `status` (see TRANSITIONS)."""
    return campaign_update(
        campaign=campaign,
        actor=actor,
        channel=channel,
        data={"status": status},
        expected_version=expected_version,
    )


def _references(campaign: Campaign) -> list[str]:
    """ "12 interactions", "3 leads"…: the rows of other apps that point at the campaign (their
    foreign keys say SET_NULL, which would quietly erase the attribution)."""
    found = []
    for relation in Campaign._meta.related_objects:
        if relation.related_model is CampaignMember:
            continue
        model = relation.related_model
        count = model._default_manager.filter(**{relation.field.name: campaign}).count()
        if count:
            found.append(f"{count} {model._meta.verbose_name_plural}")
    return found


@transaction.atomic
def campaign_delete(*, campaign: Campaign, actor: Any, channel: str) -> None:
    """Delete a campaign nothing refers to yet (one created by mistake). One with interactions,
    leads or forms is refused: its figures feed funnels and cost per lead, so it is completed or
    cancelled instead, and its history stays true."""
    _require(actor, "delete", campaign)
    used = _references(campaign)
    if used:
        raise CampaignInUse(
            _(
                "This campaign cannot be deleted: %(records)s refer to it, and would lose their "
                "campaign. Set its status to Cancelled or Completed instead."
            )
            % {"records": ", ".join(used)}
        )
    with audit_context(actor=actor, channel=channel):
        campaign.delete()


# --- members ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MembersAdded:
    """What an addition did: how many contacts became members and how many were skipped, why."""

    added: int
    already_members: int
    opted_out: int
    no_email: int
    named: int  # contacts considered (those the actor sees)

    @property
    def skipped(self) -> int:
        return self.already_members + self.opted_out + self.no_email


def _open_for_members(campaign: Campaign, actor: Any) -> None:
    _require(actor, "change", campaign)
    if campaign.status in CLOSED:
        raise ValidationFailed(
            errors=[
                FieldError(
                    "campaign",
                    _("This campaign is %(status)s: reopen it before adding members.")
                    % {"status": campaign.get_status_display().lower()},
                )
            ]
        )


def _lock(campaign: Campaign) -> None:
    """Serialise additions to one campaign: the row's write lock, taken by a no-op UPDATE on
    both databases, makes a second concurrent addition wait and then see the first's members
    (otherwise both would insert the same contacts and one would fail on the unique key)."""
    Campaign.objects.filter(pk=campaign.pk).update(updated_at=timezone.now())


def _insert(
    *, campaign: Campaign, contacts: Any, actor: Any, channel: str, source: str
) -> MembersAdded:
    """Add the addable ones of `contacts` (a visible Contact queryset), set-based."""
    _lock(campaign)
    split = selectors.split_contacts(campaign=campaign, contacts=contacts)
    ids = list(
        selectors.addable(campaign=campaign, contacts=contacts)
        .order_by()
        .values_list("pk", flat=True)
    )
    now = timezone.now()
    rows = ((campaign.pk, pk, MemberStatus.TARGETED.value, now, now) for pk in ids)
    added = bulk.bulk_insert(
        CampaignMember,
        ["campaign_id", "contact_id", "status", "added_at", "status_changed_at"],
        rows,
        batch=5000,
    )
    if added:
        bulk.log_bulk(
            actor=actor,
            channel=channel,
            model=CampaignMember,
            rows=added,
            summary=f"{added} members added to campaign #{campaign.pk} from {source}"[:200],
            details={"campaign": campaign.pk, "source": source[:200]},
        )
    return MembersAdded(
        added=added,
        already_members=split.already_members,
        opted_out=split.opted_out,
        no_email=split.no_email,
        named=split.named,
    )


@transaction.atomic
def add_members_from_target(
    *, campaign: Campaign, target: Target, actor: Any, channel: str = Channel.UI
) -> MembersAdded:
    """Make the target's contacts (a contact target's own, an organisation target's people)
    members, among those the actor sees. Skips members already there and, for an email
    campaign, contacts who opted out of emails or have no address."""
    _open_for_members(campaign, actor)
    contacts = selectors.target_contacts(viewer=actor, target=target)
    return _insert(
        campaign=campaign,
        contacts=contacts,
        actor=actor,
        channel=channel,
        source=f"target #{target.pk} “{target.name}”",
    )


@transaction.atomic
def add_members(
    *, campaign: Campaign, contact_ids: Iterable[Any], actor: Any, channel: str
) -> MembersAdded:
    """Add contacts by id, all of which must exist and be visible to the actor (otherwise
    nothing is added and the unknown ids are named)."""
    _open_for_members(campaign, actor)
    raw = list(contact_ids)
    if len(raw) > MAX_CONTACTS_PER_CALL:
        raise ValidationFailed(
            errors=[
                FieldError(
                    "contacts",
                    _("at most %(max)s contacts per call (got %(count)s); use a target")
                    % {"max": MAX_CONTACTS_PER_CALL, "count": len(raw)},
                )
            ]
        )
    bad = [str(v)[:20] for v in raw if not is_id(v)]
    wanted = {int(v) for v in raw if is_id(v)}
    contacts = selectors.visible_contacts(actor).filter(pk__in=wanted, anonymised_at__isnull=True)
    missing = sorted(wanted - set(contacts.values_list("pk", flat=True)))
    unknown = bad + [str(pk) for pk in missing]
    if unknown:
        raise ValidationFailed(
            errors=[
                FieldError(
                    "contacts",
                    _("no contact you may see with id %(ids)s")
                    % {"ids": ", ".join(unknown[:20]) + (" …" if len(unknown) > 20 else "")},
                )
            ]
        )
    return _insert(
        campaign=campaign, contacts=contacts, actor=actor, channel=channel, source="contact ids"
    )


def _visible_contact(actor: Any, contact: Any) -> Contact:
    pk = contact.pk if isinstance(contact, Contact) else contact
    found = selectors.visible_contacts(actor).filter(pk=pk).first() if is_id(pk) else None
    if found is None:
        raise ValidationFailed(
            errors=[
                FieldError(
                    "contact",
                    _("no contact you may see with id %(id)s") % {"id": str(pk)[:20]},
                )
            ]
        )
    return found


@transaction.atomic
def add_member(
    *, campaign: Campaign, contact: Contact | int | str, actor: Any, channel: str
) -> CampaignMember:
    """Add one contact, or say why not (already a member, opted out of an email campaign)."""
    _open_for_members(campaign, actor)
    found = _visible_contact(actor, contact)
    problem = ""
    if found.anonymised_at is not None:
        problem = _("this contact was anonymised")
    elif campaign.members.filter(contact=found).exists():
        problem = _("%(name)s is already a member of this campaign") % {"name": found}
    elif campaign.type in selectors.EMAILED_TYPES:
        if found.email_opt_out or found.email_consent == "withdrawn":
            problem = _("%(name)s opted out of emails") % {"name": found}
        elif not found.email:
            problem = _("%(name)s has no email address") % {"name": found}
    if problem:
        raise ValidationFailed(errors=[FieldError("contact", problem)])
    with audit_context(actor=actor, channel=channel):
        return CampaignMember.objects.create(campaign=campaign, contact=found)


@transaction.atomic
def remove_member(
    *, campaign: Campaign, contact: Contact | int | str, actor: Any, channel: str
) -> None:
    _require(actor, "change", campaign)
    found = _visible_contact(actor, contact)
    member = campaign.members.filter(contact=found).first()
    if member is None:
        raise NotFound(_("%(name)s is not a member of this campaign.") % {"name": found})
    with audit_context(actor=actor, channel=channel):
        member.delete()


@transaction.atomic
def set_member_status(
    *, campaign: Campaign, contact: Contact | int | str, status: str, actor: Any, channel: str
) -> CampaignMember:
    """Set a member's status by hand (e.g. "attended" after an event, from the sign-in sheet).

    A person may also correct a mistake and move a member back; the first response time is
    kept once set, as the date they first answered."""
    _require(actor, "change", campaign)
    found = _visible_contact(actor, contact)
    if status not in MemberStatus.values:
        raise ValidationFailed(
            errors=[
                FieldError(
                    "status",
                    _("“%(value)s” is not one of: %(choices)s")
                    % {"value": str(status)[:40], "choices": ", ".join(MemberStatus.values)},
                )
            ]
        )
    member = campaign.members.select_for_update().filter(contact=found).first()
    if member is None:
        raise NotFound(_("%(name)s is not a member of this campaign.") % {"name": found})
    if member.status != status:
        now = timezone.now()
        member.status = status
        member.status_changed_at = now
        if (
            member.responded_at is None
            and MEMBER_RANK[MemberStatus(status)] >= MEMBER_RANK[RESPONDED_FROM]
        ):
            member.responded_at = now
        with audit_context(actor=actor, channel=channel):
            member.save()
    return member
