"""Every write of web capture: building a form, and receiving what a visitor sends.

`submit` is the one way in for the public page, the embedded snippet and the JSON endpoint.
Whatever happens, the submission is stored with the data as it was sent and the outcome, so
Marketing can read what robots, hurried visitors and misconfigured websites posted.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cible.core import access
from cible.core.audit import audit_context
from cible.core.concurrency import save_versioned
from cible.core.errors import CibleError, FieldError, PermissionDenied, ValidationFailed
from cible.core.roles import Role
from cible.engagement.campaigns.models import Campaign, MemberStatus
from cible.engagement.campaigns.responses import advance_members
from cible.engagement.capture import fields, guard, matching
from cible.engagement.capture.models import FormSubmission, SubmissionOutcome, WebForm
from cible.engagement.interactions.models import InteractionChannel, InteractionKind
from cible.engagement.interactions.services import record_interaction
from cible.quality.privacy.models import ConsentSource
from cible.quality.privacy.services import consent_record

logger = logging.getLogger(__name__)

BUILDERS = (Role.ADMIN, Role.MARKETING)
# Kinds of interaction a form can record: what a visitor does by sending a form.
FORM_KINDS = (
    InteractionKind.FORM_SUBMISSION,
    InteractionKind.CONTENT_DOWNLOAD,
    InteractionKind.DEMO_REQUEST,
    InteractionKind.WEBINAR,
    InteractionKind.TRIAL_SIGNUP,
    InteractionKind.EVENT,
)
TEXT_LIMITS = {
    "name": 150,
    "title_fr": 200,
    "title_en": 200,
    "thank_you_fr": 500,
    "thank_you_en": 500,
    "consent_text_fr": 2000,
    "consent_text_en": 2000,
}


# --- the builder --------------------------------------------------------------------------------


def may_build(actor: Any) -> bool:
    return access.role_of(actor) in BUILDERS


def _require_builder(actor: Any) -> None:
    if not may_build(actor):
        raise PermissionDenied(_("Only Marketing and administrators build web forms."))


def _clean_form(data: Mapping[str, Any], actor: Any) -> tuple[dict[str, Any], list[FieldError]]:
    errors: list[FieldError] = []
    values: dict[str, Any] = {}
    for name, limit in TEXT_LIMITS.items():
        text = str(data.get(name) or "").strip()
        if len(text) > limit:
            errors.append(FieldError(name, _("at most %(max)s characters") % {"max": limit}))
        values[name] = text
    if not values["name"]:
        errors.append(FieldError("name", _("is required")))
    kind = str(data.get("interaction_kind") or InteractionKind.FORM_SUBMISSION)
    if kind not in FORM_KINDS:
        errors.append(FieldError("interaction_kind", _("is not something a form records")))
    values["interaction_kind"] = kind
    campaign = data.get("campaign")
    if isinstance(campaign, Campaign) and not access.can(actor, "view", campaign):
        errors.append(FieldError("campaign", _("is not a campaign you can see")))
    values["campaign"] = campaign if isinstance(campaign, Campaign) else None
    for name in ("redirect_url", "content_url"):
        url = str(data.get(name) or "").strip()
        if url and (fields.origin_of(url) is None or len(url) > 500):
            errors.append(FieldError(name, _("must be a web address starting with https://")))
        values[name] = url
    origins, origin_errors = fields.parse_origins(str(data.get("allowed_origins") or ""))
    errors.extend(origin_errors)
    values["allowed_origins"] = "\n".join(origins)
    spec, field_errors = fields.parse_fields(data.get("fields", fields.default_fields()))
    errors.extend(field_errors)
    values["fields"] = spec
    values["consent_required"] = bool(data.get("consent_required"))
    if values["consent_required"] and not (values["consent_text_fr"] or values["consent_text_en"]):
        errors.append(
            FieldError(
                "consent_text_en", _("a required consent needs the text the visitor agrees to")
            )
        )
    values["is_active"] = bool(data.get("is_active", True))
    return values, errors


@transaction.atomic
def webform_create(*, actor: Any, channel: str, data: Mapping[str, Any]) -> WebForm:
    """A new form, owned by whoever builds it (its submissions are recorded on their behalf)."""
    _require_builder(actor)
    values, errors = _clean_form(data, actor)
    if errors:
        raise ValidationFailed(errors=errors)
    form = WebForm(**values, owner=actor)
    with audit_context(actor=actor, channel=channel):
        form.save()
    return form


@transaction.atomic
def webform_update(
    *,
    form: WebForm,
    actor: Any,
    channel: str,
    data: Mapping[str, Any],
    expected_version: int | None = None,
) -> WebForm:
    """Change a form; refused with a conflict if someone saved it after `expected_version`.
    A form without a builder as owner is taken over by whoever saves it."""
    _require_builder(actor)
    values, errors = _clean_form(data, actor)
    if errors:
        raise ValidationFailed(errors=errors)
    expected = form.version if expected_version is None else expected_version
    for name, value in values.items():
        setattr(form, name, value)
    if not may_build(form.owner):
        form.owner = actor
    with audit_context(actor=actor, channel=channel):
        save_versioned(form, expected_version=expected)
    return form


# --- receiving a submission ---------------------------------------------------------------------


@dataclass(frozen=True)
class SubmitResult:
    """What to answer: `status` is the HTTP status (a robot gets the 200 a person gets)."""

    submission: FormSubmission
    status: int
    message: str
    errors: list[FieldError] = field(default_factory=list)
    replayed: bool = False

    @property
    def accepted(self) -> bool:
        return self.submission.outcome == SubmissionOutcome.ACCEPTED


def _thanks(form: WebForm, language: str) -> str:
    own = form.thank_you_en if language == "en" else form.thank_you_fr
    return (
        own or form.thank_you_fr or form.thank_you_en or _("Thank you, we received your message.")
    )


def consent_text(form: WebForm, language: str) -> str:
    own = form.consent_text_en if language == "en" else form.consent_text_fr
    return own or form.consent_text_fr or form.consent_text_en


def _store(
    form: WebForm, outcome: str, reason: str, common: dict[str, Any], **extra: Any
) -> FormSubmission:
    return FormSubmission.objects.create(
        form=form, outcome=outcome, reason=reason[:500], **common, **extra
    )


def _replay(form: WebForm, common: dict[str, Any], now: dt.datetime) -> FormSubmission | None:
    """The submission this one repeats: same sender, same data, a few seconds ago."""
    since = now - dt.timedelta(seconds=guard.REPLAY_WINDOW_SECONDS)
    recent = FormSubmission.objects.filter(
        form=form, sender_hash=common["sender_hash"], submitted_at__gte=since
    ).order_by("-pk")
    return next(
        (s for s in recent[:20] if s.data == common["data"] and s.utm == common["utm"]), None
    )


def _throttled(form: WebForm, sender: str, now: dt.datetime) -> bool:
    since = now - dt.timedelta(seconds=guard.RATE_WINDOW_SECONDS)
    sent = (
        FormSubmission.objects.filter(form=form, sender_hash=sender, submitted_at__gte=since)
        .exclude(outcome=SubmissionOutcome.THROTTLED)
        .count()
    )
    return sent >= guard.RATE_LIMIT


def _answer_of(submission: FormSubmission, form: WebForm, language: str) -> SubmitResult:
    """The answer a repeated post gets: the one its first copy got."""
    if submission.outcome == SubmissionOutcome.THROTTLED:
        return SubmitResult(submission, 429, _too_many(), replayed=True)
    if submission.outcome == SubmissionOutcome.INVALID:
        return SubmitResult(submission, 422, submission.reason, replayed=True)
    return SubmitResult(submission, 200, _thanks(form, language), replayed=True)


def _too_many() -> str:
    return _("Too many submissions from your address; please try again in %(minutes)s minutes.") % {
        "minutes": guard.RATE_WINDOW_SECONDS // 60
    }


@transaction.atomic
def submit(
    *,
    form: WebForm,
    data: Mapping[str, Any],
    utm: Mapping[str, Any],
    sender: str,
    page_url: str,
    language: str,
) -> SubmitResult:
    """Receive one post of `form` (`data`: the posted fields, honeypot and token included;
    `sender`: the client's address). Never raises for bad input: the outcome says what
    happened, and the submission is stored whatever it is."""
    # One submission of a form at a time: the double-click and rate checks count rows that a
    # concurrent post of the same form could otherwise be adding at the same moment.
    form = WebForm.objects.select_for_update().get(pk=form.pk)
    now = timezone.now()
    language = language if language in fields.LANGUAGES else "fr"
    common: dict[str, Any] = {
        "data": fields.stored(data),
        "utm": fields.clean_utm(utm),
        "sender_hash": guard.sender_hash(sender, form.key),
        "page_url": str(page_url or "")[:500],
        "submitted_at": now,
    }
    earlier = _replay(form, common, now)
    if earlier is not None:
        return _answer_of(earlier, form, language)
    if _throttled(form, common["sender_hash"], now):
        submission = _store(form, SubmissionOutcome.THROTTLED, "rate limit", common)
        return SubmitResult(submission, 429, _too_many())
    if not form.is_active:
        message = _("This form no longer accepts submissions.")
        submission = _store(form, SubmissionOutcome.INVALID, "form closed", common)
        return SubmitResult(submission, 410, message, [FieldError("", message)])
    if str(data.get(fields.HONEYPOT) or "").strip():
        submission = _store(form, SubmissionOutcome.SPAM, "hidden field filled in", common)
        return SubmitResult(submission, 200, _thanks(form, language))
    check = guard.check_token(data.get(fields.TOKEN), form.key)
    if check.robot:
        submission = _store(form, SubmissionOutcome.SPAM, check.reason, common)
        return SubmitResult(submission, 200, _thanks(form, language))
    if check.expired:
        message = _("This page was opened too long ago; please reload it and send the form again.")
        submission = _store(form, SubmissionOutcome.INVALID, check.reason, common)
        return SubmitResult(submission, 422, message, [FieldError("", message)])
    values, errors = fields.read(form.fields, data)
    text = consent_text(form, language)
    given = bool(text) and fields.consent_given(data.get(fields.CONSENT))
    if form.consent_required and text and not given:
        errors.append(FieldError(fields.CONSENT, _("your consent is required to send this form")))
    if errors:
        reason = "; ".join(f"{e.field}: {e.message}" for e in errors)
        submission = _store(
            form,
            SubmissionOutcome.INVALID,
            reason,
            common,
            consent_given=given,
            consent_text=text if given else "",
        )
        return SubmitResult(submission, 422, _("Please correct the fields marked."), errors)
    try:
        with transaction.atomic():
            submission = _accept(form, values, common, language, text if given else "")
    except CibleError as error:
        # Something Cible refuses (a contact erased at their request, a form without an owner):
        # the data is kept and the reason shown to Marketing; the visitor may not retry.
        logger.warning("Web form %s: submission refused: %s", form.pk, error)
        submission = _store(
            form, SubmissionOutcome.INVALID, str(error), common, consent_given=given
        )
        message = _("Your message could not be recorded; please contact us another way.")
        return SubmitResult(submission, 422, message, [FieldError("", message)])
    return SubmitResult(submission, 200, _thanks(form, language))


def _form_actor(form: WebForm) -> Any:
    """Interactions are recorded on behalf of the form's owner, a marketer or an administrator."""
    if not may_build(form.owner):
        raise PermissionDenied(
            _("The form has no owner in Marketing; open it in Cible and save it to take it over.")
        )
    return form.owner


def _accept(
    form: WebForm, values: dict[str, Any], common: dict[str, Any], language: str, consent: str
) -> FormSubmission:
    actor = _form_actor(form)
    organisation_match = matching.organisation_match(values)
    organisation = organisation_match.record if organisation_match else None
    contact_match = matching.contact_match(values, organisation, language)
    contact = contact_match.record
    notes: list[str] = [f"contact: {contact_match.how}"]
    if organisation_match:
        notes.append(f"organisation: {organisation_match.how}")
    if consent:
        notes.append(_record_consent(form, contact, consent, common))
    campaign = form.campaign or _campaign_of(common["utm"])
    properties = {"form": form.key, "page": common["page_url"], "utm": common["utm"]}
    if values.get("message"):
        properties["message"] = values["message"]
    interaction = record_interaction(
        kind=form.interaction_kind,
        contact=contact,
        organisation=contact.organisation,
        campaign=campaign,
        occurred_at=common["submitted_at"],
        subject=form.name[:255],
        notes=values.get("message", "")[:10_000],
        channel=InteractionChannel.FORM,
        source="webform",
        properties=properties,
        actor=actor,
    )
    if campaign is not None:
        advance_members(
            updates=[(campaign.pk, contact.pk, MemberStatus.RESPONDED, common["submitted_at"])]
        )
    return _store(
        form,
        SubmissionOutcome.ACCEPTED,
        "; ".join(n for n in notes if n),
        common,
        consent_given=bool(consent),
        consent_text=consent,
        contact=contact,
        organisation=contact.organisation,
        interaction=interaction,
        created_contact=contact_match.created,
        created_organisation=bool(organisation_match and organisation_match.created),
    )


def _record_consent(form: WebForm, contact: Any, text: str, common: dict[str, Any]) -> str:
    """Consent to emails, with the text shown as proof; never for someone who opted out."""
    if contact.email_opt_out:
        return "consent not recorded: the contact opted out of emails earlier"
    consent_record(
        contact=contact,
        actor=None,
        channel="job",  # the privacy app's system channel: no user records this consent
        contact_channel="email",
        purpose=None,
        status="granted",
        source=ConsentSource.FORM,
        occurred_at=common["submitted_at"],
        proof={
            "form": f"{form.name} ({form.key})"[:200],
            "text": text[:5000],
            "email": contact.email,
            "reference": common["page_url"][:255],
        },
    )
    return "consent recorded"


def _campaign_of(utm: Mapping[str, str]) -> Campaign | None:
    """A form that belongs to no campaign credits the one its UTM campaign names."""
    name = utm.get("utm_campaign")
    if not name:
        return None
    return Campaign.objects.filter(utm_campaign=name).order_by("-pk").first()


def submission_keep(
    *, form: WebForm, data: Mapping[str, Any], sender: str, page_url: str, reason: str
) -> FormSubmission:
    """Store what could not even be read (malformed JSON, a body too large, a wrong content
    type, a website not allowed to post) as refused, so that nothing sent is lost unseen."""
    return FormSubmission.objects.create(
        form=form,
        outcome=SubmissionOutcome.INVALID,
        reason=reason[:500],
        data=fields.stored(data),
        sender_hash=guard.sender_hash(sender, form.key),
        page_url=str(page_url or "")[:500],
    )
