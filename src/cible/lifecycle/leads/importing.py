"""Leads as an importable entity (SPEC C2, C5): history from another system, with each lead's
source, behaviour and outcome, through the same wizard, `cible import` and API as contacts.

- **Fields**: external id; the contact (by email, or by its external id in the same source) or
  none (an anonymous lead known by its external id); the organisation (SIREN, domain, name or
  external id); the source as free text mapped to `Source` (French and English synonyms, the raw
  text kept in `source_detail`); the stage by its French or English label *or* an outcome
  ("Converted" 1/0, yes/no, won/lost → Customer, or Disqualified with the reason "did not buy");
  the arrival date; BANT by their labels; the owner's email; the campaign (name or
  utm_campaign). Any other column may be kept in `properties` under its header, typed
  (`quality.imports.extras`).
- **Keys**: the external id per source; the contact's email.
- **History**: in each batch's transaction, `record_stages` writes one `StageTransition`
  (channel "import") per lead created (from "" to its stage, at its arrival) or whose stage the
  file changed (from the old stage, at the import time), and the contacts' `lifecycle_stage`
  mirror: set-based, a fixed number of queries per batch.
- **Presets**: "X Education" (the public lead-scoring export): Prospect ID → external id, Lead
  Source → source, Converted → outcome, every other column → properties, "Select" read as empty.

**Properties known only after contact.** Some columns are filled in by Sales *after* talking to
the lead and so leak the outcome (X Education's Tags, Lead Quality, Last Notable Activity). That
knowledge is declared per preset in `AFTER_CONTACT` and read per property name, whatever file
brought it, through two functions the predictive model uses:

- `known_after_contact(name) -> bool` (names compared without case, accents or punctuation);
- `lead_properties(leads=None) -> list[LeadProperty]`: every property the leads hold, with its
  kind ("number", "boolean", "text"; "text" when values of several kinds are met), whether it is
  known only after contact, and how many leads have it. Read from the leads' `properties` with
  one aggregate query, so it is current after every import without a table to keep in step.

`register()` adds the entity to the import registry (the leads app's `ready()` calls it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache, partial
from typing import Any

from django.db import connection, models
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cible.core import bulk, values
from cible.core import normalisers as norm
from cible.core.cleaning import Normaliser
from cible.core.errors import FieldError
from cible.lifecycle.leads import road
from cible.lifecycle.leads.models import (
    FINAL,
    Authority,
    Budget,
    DisqualifyReason,
    Lead,
    Need,
    RecycleReason,
    Stage,
    StageTransition,
    Timing,
    TransitionChannel,
)
from cible.lifecycle.leads.transitions import mirror_contact_stage
from cible.people.models import Source
from cible.quality.imports import registry
from cible.quality.imports.extras import Written
from cible.quality.imports.registry import ImportableEntity, ImportField, MatchKey, Preset

CHUNK = 10_000
PROPERTIES = "properties"

# --- values ---------------------------------------------------------------------------------------

# seed 004 §2 speaks of won and lost leads; CRMs export them as 1/0, yes/no or words.
_WON = ("1", "yes", "oui", "true", "vrai", "won", "gagne", "converted", "converti", "customer")
_LOST = ("0", "no", "non", "false", "faux", "lost", "perdu", "not converted", "non converti")
_STAGE_WORDS = {
    "opportunite": Stage.OPPORTUNITY,
    "client": Stage.CUSTOMER,
    "recycle": Stage.RECYCLED,
    "disqualifie": Stage.DISQUALIFIED,
}
# Free-text sources as CRMs and web analytics name them → Source (unknown ones: "other").
_SOURCES: dict[str, tuple[str, ...]] = {
    Source.WEBSITE: (
        "site web", "site internet", "site", "web", "direct traffic", "trafic direct",
        "organic search", "recherche organique", "seo", "olark chat", "live chat", "chat",
        "welingak website", "landing page", "formulaire", "form", "web form", "inbound",
    ),
    Source.ADVERTISING: (
        "google", "google ads", "adwords", "bing", "pay per click ads", "ppc", "sea", "ads",
        "paid search", "publicite", "display", "advertising", "campagne payante",
    ),
    Source.REFERRAL: (
        "reference", "referral", "referral sites", "recommandation", "bouche a oreille",
        "word of mouth", "parrainage",
    ),
    Source.SOCIAL: (
        "facebook", "linkedin", "twitter", "instagram", "youtube", "youtubechannel",
        "social media", "reseaux sociaux", "social",
    ),
    Source.INBOUND_CALL: ("click2call", "appel entrant", "inbound call", "telephone", "phone"),
    Source.EVENT: ("salon", "trade show", "tradeshow", "evenement", "event"),
    Source.WEBINAR: ("webinaire", "webinar"),
    Source.PARTNER: ("partenaire", "partner"),
    Source.PURCHASED_LIST: ("liste achetee", "fichier achete", "purchased list"),
    Source.OUTBOUND: ("prospection", "outbound", "cold call", "cold email", "phoning"),
}  # fmt: skip


@cache
def _labels(choices: type[models.TextChoices]) -> dict[str, str]:
    """search key of each value and label (English and French) → value."""
    found: dict[str, str] = {}
    for lang in ("en", "fr"):
        with translation.override(lang):
            for value, label in choices.choices:
                for text in (value, str(label)):
                    if key := norm.search_key(text):
                        found.setdefault(key, value)
    return found


def labelled(raw: Any, *, field: str, choices: type[models.TextChoices]) -> str | None:
    """A choice by its value or its English or French label; blank gives None."""
    text = norm.tidy_text(None if raw is None else str(raw))
    if text is None:
        return None
    value = _labels(choices).get(norm.search_key(text))
    if value is None:
        return values.choice(text, field=field, choices=choices.choices)  # its message
    return value


def stage_or_outcome(raw: Any) -> str | None:
    """A stage by its label, or an outcome: won → Customer, lost → Disqualified."""
    text = norm.tidy_text(None if raw is None else str(raw))
    if text is None:
        return None
    key = norm.search_key(text)
    if key in _WON:
        return Stage.CUSTOMER
    if key in _LOST:
        return Stage.DISQUALIFIED
    value = _labels(Stage).get(key) or _STAGE_WORDS.get(key)
    if value is None:
        raise norm.NormalisationError(
            "stage",
            _(
                "“%(value)s” is neither a stage (%(stages)s) nor an outcome (1 or 0, yes or "
                "no, won or lost)"
            )
            % {"value": text[:60], "stages": ", ".join(Stage.values)},
        )
    return str(value)


@cache
def _source_table() -> dict[str, str]:
    table = {norm.search_key(word): source for source, words in _SOURCES.items() for word in words}
    for key, value in _labels(Source).items():
        table.setdefault(key, value)
    return table


def source_for(text: str) -> str:
    """The `Source` a free-text source stands for; "other" when it is not known."""
    key = norm.search_key(text)
    return _source_table().get(key) or _source_table().get(key.replace(" ", "")) or Source.OTHER


def _properties(raw: Any) -> dict[str, Any] | None:
    """Properties given whole (a mapping, e.g. through the API); files fill them by column."""
    if raw is None or raw == "":
        return None
    if not isinstance(raw, Mapping):
        raise norm.NormalisationError(PROPERTIES, _("must be a set of named values"))
    return {str(k): v for k, v in raw.items() if v not in (None, "")}


def _choice(field: str, choices: type[models.TextChoices]) -> Normaliser:
    return partial(labelled, field=field, choices=choices)


SPECS: dict[str, Normaliser] = {
    "external_id": partial(norm.tidy_text, max_length=100, field="external_id"),
    "stage": stage_or_outcome,
    "arrived_at": partial(values.moment, field="arrived_at"),
    "source": partial(norm.tidy_text, max_length=100, field="source"),
    "source_detail": partial(norm.tidy_text, max_length=100, field="source_detail"),
    "disqualify_reason": _choice("disqualify_reason", DisqualifyReason),
    "budget": _choice("budget", Budget),
    "authority": _choice("authority", Authority),
    "need": _choice("need", Need),
    "timing": _choice("timing", Timing),
    PROPERTIES: _properties,
}
# `arrived_at` has no blank on purpose: see `derive`.
BLANKS: dict[str, Any] = {name: "" for name in SPECS if name not in ("arrived_at", PROPERTIES)}
BLANKS.update(stage=Stage.SUSPECT, properties={})


def derive(row: dict[str, Any]) -> list[FieldError]:
    """The source as a `Source` with its raw text kept, the reasons a stage off the road needs.

    The arrival: a row without the column arrives now; a row whose cell is empty leaves the key
    out, so that a blank cell never replaces a stored date (a new lead then gets the run's
    default, "now" when the run started)."""
    if "arrived_at" not in row:
        row["arrived_at"] = timezone.now()
    elif row["arrived_at"] is None:
        del row["arrived_at"]
    raw = row.get("source") or ""
    if raw and raw not in Source.values:  # free text: mapped, and kept as written
        row["source_detail"] = row.get("source_detail") or raw
        row["source"] = source_for(raw)
    stage = row.get("stage") or Stage.SUSPECT
    reason = row.get("disqualify_reason") or ""
    row["disqualify_reason"] = (
        (reason or DisqualifyReason.LOST) if stage == Stage.DISQUALIFIED else ""
    )
    row["recycle_reason"] = (
        (row.get("recycle_reason") or RecycleReason.OTHER) if stage == Stage.RECYCLED else ""
    )
    return []


# --- the entity --------------------------------------------------------------------------------

_LABELS: dict[str, Any] = {
    "external_id": gettext_lazy("external ID"),
    "contact_email": gettext_lazy("contact's email"),
    "contact_external_id": gettext_lazy("contact's external ID"),
    "organisation_siren": gettext_lazy("organisation's SIREN"),
    "organisation_domain": gettext_lazy("organisation's domain or website"),
    "organisation_name": gettext_lazy("organisation's name"),
    "organisation_external_id": gettext_lazy("organisation's external ID"),
    "source": gettext_lazy("source"),
    "source_detail": gettext_lazy("source detail"),
    "stage": gettext_lazy("stage or outcome (won / lost)"),
    "disqualify_reason": gettext_lazy("disqualification reason"),
    "arrived_at": gettext_lazy("arrived"),
    "budget": gettext_lazy("budget"),
    "authority": gettext_lazy("authority"),
    "need": gettext_lazy("need"),
    "timing": gettext_lazy("timing"),
    "owner_email": gettext_lazy("owner's email"),
    "campaign_name": gettext_lazy("campaign"),
    "campaign_utm_campaign": gettext_lazy("campaign's utm_campaign"),
    PROPERTIES: gettext_lazy("other detail (kept under the column's name)"),
}
# Header names people use, "|"-separated, compared by search key. "Prospect ID" is left to the
# X Education preset: a header no synonym has is what lets `detect_preset` recognise a file.
_SYNONYMS = {
    "external_id": "external id|id externe|lead id|id lead|identifiant|référence",
    "contact_email": "email|e-mail|mail|courriel|adresse email|contact email|email du contact",
    "contact_external_id": "contact id|id contact|identifiant du contact",
    "organisation_siren": "siren|siren société",
    "organisation_domain": "domaine|domain|site web|website",
    "organisation_name": "société|entreprise|company|company name|organisation|raison sociale",
    "organisation_external_id": "account id|id société|company id",
    "source": "source|origine|provenance|canal|canal d'acquisition|lead source|source du lead",
    "source_detail": "source detail|détail de la source|sous-source",
    "stage": "stage|étape|lifecycle stage|cycle de vie|lead status|statut du lead|outcome|"
             "résultat|converted|converti|won|gagné",
    "disqualify_reason": "disqualification reason|lost reason|motif de disqualification|"
                         "motif de perte|raison de la perte",
    "arrived_at": "arrived|arrived at|created|created date|create date|date de création|"
                  "date d'arrivée|arrivé le",
    "budget": "budget",
    "authority": "authority|autorité|décideur|pouvoir de décision",
    "need": "need|besoin",
    "timing": "timing|délai|échéance|horizon d'achat",
    "owner_email": "owner email|email du propriétaire|email du commercial|lead owner email",
    "campaign_name": "campaign|campaign name|campagne|nom de la campagne",
    "campaign_utm_campaign": "utm_campaign|utm campaign",
}  # fmt: skip
_LINKS = {
    name
    for name in _LABELS
    if name.startswith(("contact_", "organisation_", "owner_", "campaign_"))
}
FIELDS = tuple(
    ImportField(
        name, label, tuple(filter(None, _SYNONYMS.get(name, "").split("|"))), link=name in _LINKS
    )
    for name, label in _LABELS.items()
)

X_EDUCATION = Preset(
    "x_education",
    gettext_lazy("X Education (lead-scoring export)"),
    {"Prospect ID": "external_id", "Lead Source": "source", "Converted": "stage"},
    others=PROPERTIES,
    blanks=("Select",),
)
# Per preset: the columns Sales fills in after talking to the lead (they leak the outcome).
AFTER_CONTACT: dict[str, tuple[str, ...]] = {
    X_EDUCATION.name: ("Tags", "Lead Quality", "Last Notable Activity"),
}


def leads() -> ImportableEntity:
    return ImportableEntity(
        name="leads",
        label=Lead._meta.verbose_name_plural or gettext_lazy("leads"),
        model=Lead,
        fields=FIELDS,
        keys=(
            MatchKey("external_id", gettext_lazy("external ID (per source)"), "external_id"),
            MatchKey(
                "email",
                gettext_lazy("contact's email"),
                "contact_email",
                column="contact__email_key",
            ),
        ),
        specs=SPECS,
        blanks=BLANKS,
        derive=derive,
        presets=(X_EDUCATION,),
        lookup_indexes=("lead_external", "lead_organisation", "lead_campaign"),
        extras=PROPERTIES,
        after_write=record_stages,
        vet=vet,
    )


def register() -> None:
    """Make leads importable (called by LeadsConfig.ready)."""
    registry.register(leads())


# --- history written with the batch -------------------------------------------------------------

TRANSITION_COLUMNS = [
    "lead_id", "from_stage", "to_stage", "occurred_at", "actor_id", "channel", "reason", "note",
]  # fmt: skip


def _reason(stage: str, disqualify: str, recycle: str) -> str:
    if stage == Stage.DISQUALIFIED:
        return disqualify
    return recycle if stage == Stage.RECYCLED else ""


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def record_stages(written: Written) -> None:
    """One transition per lead created or moved by the batch, and the contacts' mirror."""
    now = timezone.now()
    actor_id = getattr(written.actor, "pk", None)
    note = _("Imported from “%(source)s”") % {"source": written.run.source}
    rows: list[tuple[Any, ...]] = []
    contacts: set[int] = set()
    created = [pk for pk, _values in written.created]
    for pk, row in written.created:
        stage = row.get("stage") or Stage.SUSPECT
        reason = _reason(stage, row.get("disqualify_reason", ""), row.get("recycle_reason", ""))
        arrived = row.get("arrived_at") or now
        rows.append(
            (pk, "", stage, arrived, actor_id, TransitionChannel.IMPORT, reason, note[:1000])
        )
        if row.get("contact_id"):
            contacts.add(row["contact_id"])
    for chunk in _chunks(created):  # a created lead has been in its stage since it arrived
        Lead.objects.filter(pk__in=chunk).update(stage_entered_at=F("arrived_at"))
    previous = {
        pk: before.get("stage") or ""
        for pk, changed, before in written.updated
        if "stage" in changed and changed["stage"] != before.get("stage")
    }
    moved = sorted(previous)
    for chunk in _chunks(moved):
        Lead.objects.filter(pk__in=chunk).update(stage_entered_at=now)
        for pk, stage, disqualify, recycle, contact in Lead.objects.filter(
            pk__in=chunk
        ).values_list("pk", "stage", "disqualify_reason", "recycle_reason", "contact_id"):
            reason = _reason(stage, disqualify, recycle)
            rows.append(
                (pk, previous[pk], stage, now, actor_id, TransitionChannel.IMPORT, reason, note)
            )
            if contact is not None:
                contacts.add(contact)
    if rows:
        bulk.bulk_insert(StageTransition, TRANSITION_COLUMNS, rows)
        road.mark((row[0], row[2], row[3]) for row in rows)
    if contacts:
        mirror_contact_stage(contacts)


def vet(creates: list[Any], updates: list[Any]) -> dict[int, list[FieldError]]:
    """A contact has one live lead at a time (`lead_one_live_per_contact`): a row that would give
    one a second is refused, naming the lead the contact has, instead of failing the batch."""
    wanted: list[tuple[int, int, int | None]] = []  # (row, contact, the lead itself if stored)
    for create in creates:
        contact = create.values.get("contact_id")
        if contact and (create.values.get("stage") or Stage.SUSPECT) not in FINAL:
            wanted.append((create.row, contact, None))
    touched = [u for u in updates if "stage" in u.values or "contact_id" in u.values]
    stored = {
        pk: (stage, contact)
        for pk, stage, contact in Lead.objects.filter(pk__in=[u.id for u in touched]).values_list(
            "pk", "stage", "contact_id"
        )
    }
    for update in touched:
        stage, contact = stored.get(update.id, ("", None))
        stage = update.values.get("stage", stage)
        contact = update.values.get("contact_id", contact)
        if contact and stage not in FINAL:
            wanted.append((update.row, contact, update.id))
    if not wanted:
        return {}
    live: dict[int, int] = dict(
        Lead.objects.filter(contact_id__in={c for _r, c, _l in wanted})
        .exclude(stage__in=FINAL)
        .values_list("contact_id", "pk")
    )
    refused: dict[int, list[FieldError]] = {}
    for row, contact, itself in wanted:
        other = live.get(contact)
        if other is not None and other != itself:
            message = _(
                "contact %(contact)s already has a live lead (id %(lead)s): import with the "
                "contact's email as the key to update it, or close that lead first"
            ) % {"contact": contact, "lead": other}
            refused[row] = [FieldError("contact_email", message)]
        elif other is None:
            live[contact] = itself or -row  # the batch's first row for the contact goes in
    return refused


# --- what the properties hold ---------------------------------------------------------------------


@dataclass(frozen=True)
class LeadProperty:
    name: str
    label: str
    kind: str  # "number", "boolean" or "text"
    known_after_contact: bool
    seen: int  # leads that have it


@cache
def _after_contact_keys() -> frozenset[str]:
    return frozenset(norm.search_key(n) for names in AFTER_CONTACT.values() for n in names)


def known_after_contact(name: str) -> bool:
    """Whether the property `name` is filled in only after contact (a likely leak)."""
    return norm.search_key(name) in _after_contact_keys()


_JSON_KINDS = {
    "integer": "number", "real": "number", "number": "number",
    "true": "boolean", "false": "boolean", "boolean": "boolean",
}  # fmt: skip


def lead_properties(leads: models.QuerySet[Lead] | None = None) -> list[LeadProperty]:
    """Every property of `leads` (all leads by default; pass `access.visible(user, …)` for a
    person), most common first: one aggregate query over the JSON of the leads."""
    table = connection.ops.quote_name(Lead._meta.db_table)
    if connection.vendor == "postgresql":
        each, kind = "jsonb_each(l.properties)", "jsonb_typeof(p.value)"
    else:
        each, kind = "json_each(l.properties)", "p.type"
    where, params = "", ()
    if leads is not None:
        subquery, params = leads.values("pk").query.sql_with_params()
        where = f"WHERE l.id IN ({subquery})"
    sql = (
        f"SELECT p.key, {kind}, COUNT(*) FROM {table} AS l, {each} AS p "
        f"{where} GROUP BY p.key, {kind}"
    )
    kinds: dict[str, set[str]] = {}
    seen: dict[str, int] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for key, json_kind, count in cursor.fetchall():
            kinds.setdefault(key, set()).add(_JSON_KINDS.get(json_kind, "text"))
            seen[key] = seen.get(key, 0) + count
    return [
        LeadProperty(
            name=name,
            label=name,
            kind=next(iter(kinds[name])) if len(kinds[name]) == 1 else "text",
            known_after_contact=known_after_contact(name),
            seen=count,
        )
        for name, count in sorted(seen.items(), key=lambda item: (-item[1], item[0]))
    ]
