"""Demo step of the privacy app: the consent history behind the contacts' summary fields, and a
retention rule to try (inactive: it only runs when someone asks).

The organisations step draws each contact's email consent and opt-outs; this step writes the
events that stand behind them — a newsletter sign-up on the website for a granted consent, an
unsubscribe link for an email opt-out, a refusal by phone for a phone opt-out — in one
`INSERT … SELECT` per kind (set-based: seconds at 3 million contacts).
"""

from __future__ import annotations

from django.db import connection, transaction
from django.db.models import Max

from cible.core.audit import Channel
from cible.core.bulk import log_bulk
from cible.demo.generator import DemoContext, Step, register
from cible.people.models import Contact
from cible.quality.privacy.models import ConsentEvent, Purpose, RetentionRule

SIGN_UP_FORM = "Newsletter sign-up (website footer)"
SIGN_UP_TEXT = "I agree to receive the monthly newsletter. I can unsubscribe at any time."

# (condition on the contact, channel, purpose code or None, status, source, date column,
#  proof form, proof text, whether the proof keeps the email the person used)
KINDS = [
    (
        "c.email_consent = 'granted' AND c.email_opt_out = %s",
        "email",
        "marketing",
        "granted",
        "form",
        "c.created_at",
        SIGN_UP_FORM,
        SIGN_UP_TEXT,
        True,
    ),
    (
        "c.email_opt_out = %s",
        "email",
        None,
        "withdrawn",
        "email_unsubscribe",
        "COALESCE(c.opted_out_at, c.created_at)",
        "Unsubscribe link of a newsletter",
        "",
        True,
    ),
    (
        "c.phone_opt_out = %s",
        "phone",
        None,
        "refused",
        "ui",
        "c.created_at",
        "Outbound call",
        "",
        False,
    ),
]
FLAGS = (False, True, True)  # the %s of each condition above


def _insert_events(first: int, last: int) -> int:
    quote = connection.ops.quote_name
    events = quote(ConsentEvent._meta.db_table)
    contacts = quote("people_contact")
    purposes = dict(Purpose.objects.values_list("code", "pk"))
    written = 0
    with connection.cursor() as cursor:
        for (condition, channel, purpose, status, source, moment, form, text, email), flag in zip(
            KINDS, FLAGS, strict=True
        ):
            used_email = "c.email" if email else "''"
            cursor.execute(
                f"INSERT INTO {events} (contact_id, channel, purpose_id, status, source, "
                "occurred_at, recorded_at, proof_form, proof_text, proof_email, proof_reference, "
                "note) "
                f"SELECT c.id, %s, %s, %s, %s, {moment}, {moment}, %s, %s, {used_email}, '', '' "
                f"FROM {contacts} c WHERE c.id >= %s AND c.id < %s AND {condition}",
                [
                    channel,
                    purposes.get(purpose) if purpose else None,
                    status,
                    source,
                    form,
                    text,
                    first,
                    last,
                    flag,
                ],
            )
            written += max(cursor.rowcount, 0)
    return written


def create_consents(ctx: DemoContext) -> None:
    # Up to the last contact written, including look-alikes a later step may have added.
    first = ctx.contact_ids.start
    last = (Contact.objects.aggregate(top=Max("id"))["top"] or 0) + 1
    with transaction.atomic():
        events = _insert_events(first, last)
        RetentionRule.objects.get_or_create(
            name="Sans consentement ni activité depuis 36 mois",  # demo data speaks French
            defaults={"inactive_months": 36, "consent": "none_granted", "is_active": False},
        )
    ctx.count("consent events", events)
    ctx.shared.setdefault("bulk_models", []).append(ConsentEvent)
    log_bulk(actor=None, channel=Channel.CLI, model=ConsentEvent, rows=events)
    ctx.progress(f"  consent events {events:>10,}")


register(Step("consents", 60, create_consents, "consent history behind the contacts' opt-ins"))
