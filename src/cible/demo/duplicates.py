"""Demo step of the duplicates app: a labelled set of duplicates and of look-alikes that are not.

Real bases hold the same company twice: typed again with a typo, under an abbreviation, with or
without its legal form, without accents, with half the fields missing, with another website. And
they hold companies that look alike but are not the same: namesakes in other cities, subsidiaries
of a group. This step rewrites a few percent of the generated organisations and contacts into
exactly those, and records the truth in `duplicates.DuplicateLabel`, so that detection can be
measured (precision and recall, `quality.duplicates.evaluation`) on any size, 1m included.

Rows are rewritten rather than added: the base keeps the size its `SizeSpec` promises, and the
rewritten organisations keep their contacts (and get opportunities from the pipeline step, which
runs later), as a second record of a company does in real life. Deterministic per seed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from random import Random
from typing import Any

from auditlog.models import LogEntry
from django.db import connection, transaction

from cible.core import normalisers as norm
from cible.core.audit import Channel
from cible.core.bulk import log_bulk
from cible.demo import reference as ref
from cible.demo.generator import DemoContext, Step, register
from cible.demo.organisations import planted_every
from cible.demo.people import Pools, landline, slug, street_address
from cible.demo.typos import mutate_name, mutate_person, split_form
from cible.people.models import Contact, Organisation
from cible.quality.duplicates.detect import run_detection
from cible.quality.duplicates.models import DuplicateLabel, Entity

# Shares of the base turned into each kind of pair.
ORGANISATION_DUPLICATES = 0.03
ORGANISATION_LOOK_ALIKES = 0.012
CONTACT_DUPLICATES = 0.012
CONTACT_NAMESAKES = 0.005

ORGANISATION_FIELDS = (
    "id",
    "legal_name",
    "trade_name",
    "siren",
    "siret",
    "vat_number",
    "website",
    "domain",
    "phone",
    "street",
    "postal_code",
    "city",
    "region",
    "country",
    "naf_code",
    "naf_division",
    "naf_section",
    "headcount",
    "headcount_band",
    "size_class",
    "annual_revenue",
    "currency",
    "sales_team_size",
    "parent_id",
)
REWRITTEN = (*tuple(f for f in ORGANISATION_FIELDS if f != "id"), "name_key")
CONTACT_FIELDS = (
    "id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "mobile",
    "job_title",
    "function",
    "seniority",
    "buying_role",
    "organisation_id",
    "linkedin_url",
)
CONTACT_REWRITTEN = (*tuple(f for f in CONTACT_FIELDS if f != "id"), "name_key", "email_key")

CITIES_BY_NAME = {city.name: city for city in ref.CITIES}
SUFFIXES = ("Services", "Solutions", "Distribution", "Sud", "Ouest", "Nord", "Est", "Invest")


@dataclass
class Planned:
    labels: list[tuple[str, int, int, bool, str]]
    org_rows: dict[int, dict[str, Any]]  # victim id -> its new values
    contact_rows: dict[int, dict[str, Any]]


# --- organisations ----------------------------------------------------------------------------


class Planner:
    def __init__(self, ctx: DemoContext) -> None:
        self.ctx = ctx
        self.rng = ctx.rng_for("duplicates")
        self.pools = Pools(ctx.seed)
        self.used: set[int] = set()
        stride, count = planted_every(ctx.size.organisations)
        start = ctx.org_ids.start
        # The planted segment (seed 002's pattern) is left alone.
        self.used.update(
            start + index
            for index in range(ctx.size.organisations)
            if index % stride == stride // 2 and index // stride < count
        )

    def pick(self, count: int) -> list[int]:
        ids = self.ctx.org_ids
        chosen: list[int] = []
        while len(chosen) < count and len(self.used) < len(ids):
            candidate = self.rng.randrange(ids.start, ids.stop)
            if candidate not in self.used:
                self.used.add(candidate)
                chosen.append(candidate)
        return chosen

    def duplicate(
        self, source: dict[str, Any], victim: dict[str, Any]
    ) -> tuple[dict[str, Any], str]:
        """`victim` rewritten as a second record of `source`; returns (values, kind)."""
        rng = self.rng
        country = source["country"]
        row = {name: source[name] for name in REWRITTEN if name in source}
        row["parent_id"] = source["parent_id"]
        row["legal_name"], kind = mutate_name(rng, source["legal_name"], country)
        row["trade_name"] = source["trade_name"] if rng.random() < 0.6 else ""
        kept = set()
        if source["siren"] and rng.random() < 0.55:
            kept.add("siren")
            row["siret"] = source["siret"] if rng.random() < 0.6 else ""
            row["vat_number"] = source["vat_number"] if rng.random() < 0.5 else ""
        else:
            row["siren"] = row["siret"] = row["vat_number"] = ""
        city = CITIES_BY_NAME.get(source["city"])
        draw = rng.random()
        if draw < 0.25:
            kind += "+changed_domain"
            head = slug(split_form(source["legal_name"], country)[0]) or "societe"
            tld = rng.choice(["com", "eu", "net", "fr"] if country == "FR" else ["com", "eu"])
            domain = f"{head}-{rng.choice(['groupe', 'france', 'online', 'web'])}.{tld}"
            row["domain"], row["website"] = domain, f"https://www.{domain}"
        elif draw < 0.7:
            kept.add("domain")
        else:
            row["domain"] = row["website"] = ""
        draw = rng.random()
        if draw < 0.55:
            kept.add("phone")
        elif draw < 0.85 or city is None:
            row["phone"] = ""
        else:
            row["phone"] = landline(rng, city)
        draw = rng.random()
        if draw < 0.6:
            kept.add("street")
            if rng.random() < 0.3:
                row["street"] = row["street"].replace(" rue ", ", rue ").replace("Rue", "rue")
        elif draw < 0.9 or city is None:
            row["street"] = ""
        else:
            row["street"] = street_address(rng, self.pools, city)
        if not kept & {"siren", "domain", "phone", "street"} and rng.random() < 0.9:
            # Duplicates come from sources that describe the same company: something besides
            # the name is nearly always there. A few are left with the name alone.
            field = rng.choice(
                ["domain", "phone", "street"] + (["siren"] if source["siren"] else [])
            )
            for name in ("siren", "siret", "domain", "website", "phone", "street"):
                if name == field or (field == "domain" and name == "website"):
                    row[name] = source[name]
            kind += "+missing_fields"
        elif len(kept) < 3:
            kind += "+missing_fields"
        if rng.random() < 0.5:  # the size band stays: registers give it without the headcount
            row.update(headcount=None, annual_revenue=None, sales_team_size=None)
        if rng.random() < 0.5:
            row.update(naf_code="", naf_division="", naf_section="")
        return _derived(row), kind

    def look_alike(
        self, source: dict[str, Any], victim: dict[str, Any]
    ) -> tuple[dict[str, Any], str]:
        """`victim` renamed after `source` but still another company; returns (values, kind)."""
        rng = self.rng
        row = {name: victim[name] for name in REWRITTEN if name in victim}
        core, _form = split_form(source["legal_name"], source["country"])
        _victim_core, victim_form = split_form(victim["legal_name"], victim["country"])
        form = victim_form or rng.choice([f for f, _w in ref.LEGAL_FORMS[victim["country"]]])
        draw = rng.random()
        if draw < 0.4:
            kind = "same_name_other_city"
            row["legal_name"] = f"{core} {form}"
        elif draw < 0.75:
            kind = "subsidiary"
            place = victim["city"] or rng.choice(SUFFIXES)
            row["legal_name"] = f"{core} {place} {form}"
            row["parent_id"] = source["id"]
            if rng.random() < 0.5:  # the group's website
                row["domain"], row["website"] = source["domain"], source["website"]
        else:
            kind = "same_group_name"
            row["legal_name"] = f"{core} {rng.choice(SUFFIXES)} {form}"
            if rng.random() < 0.5:  # in the same city, at another address
                for name in ("postal_code", "city", "region", "country"):
                    row[name] = source[name]
                city = CITIES_BY_NAME.get(source["city"])
                if city is not None:
                    row["phone"] = landline(rng, city)
                    row["street"] = street_address(rng, self.pools, city)
                if source["country"] != "FR":
                    row["siren"] = row["siret"] = row["vat_number"] = ""
        row["trade_name"] = ""
        return _derived(row), kind


def _derived(row: dict[str, Any]) -> dict[str, Any]:
    """name_key and region follow the rewritten name and postal code, as the ORM path derives."""
    row["name_key"] = norm.search_key(row.get("trade_name") or row["legal_name"])[:255]
    if row.get("country") == "FR":
        row["region"] = norm.french_region_from_postal_code(row.get("postal_code") or "") or ""
    return row


def _fetch(model: Any, fields: Sequence[str], ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    ids = list(ids)
    found: dict[int, dict[str, Any]] = {}
    for start in range(0, len(ids), 900):
        for row in model.objects.filter(pk__in=ids[start : start + 900]).values(*fields):
            found[row["id"]] = row
    return found


def _department(row: dict[str, Any]) -> str:
    postal = (row.get("postal_code") or "").replace(" ", "")
    return f"{row.get('country')}:{postal[:2]}"


def plan_organisations(
    ctx: DemoContext, planner: Planner, planned: Planned
) -> list[tuple[int, int]]:
    """Rewrite organisations into duplicates and look-alikes; returns (source, duplicate) ids."""
    total = ctx.size.organisations
    duplicates = max(3, round(total * ORGANISATION_DUPLICATES))
    look_alikes = max(2, round(total * ORGANISATION_LOOK_ALIKES))
    sources = planner.pick(duplicates + look_alikes)
    victims = planner.pick(duplicates + look_alikes * 3)  # spares: look-alikes need another place
    rows = _fetch(Organisation, ORGANISATION_FIELDS, sources + victims)
    pairs: list[tuple[int, int]] = []
    spare = iter(victims[duplicates:])
    for source_id, victim_id in zip(sources[:duplicates], victims[:duplicates], strict=True):
        values, kind = planner.duplicate(rows[source_id], rows[victim_id])
        planned.org_rows[victim_id] = values
        planned.labels.append((Entity.ORGANISATION, source_id, victim_id, True, kind))
        pairs.append((source_id, victim_id))
    for source_id in sources[duplicates:]:
        source = rows[source_id]
        spare_id = next(spare, None)
        while spare_id is not None and _department(rows[spare_id]) == _department(source):
            spare_id = next(spare, None)
        if spare_id is None:
            break
        values, kind = planner.look_alike(source, rows[spare_id])
        planned.org_rows[spare_id] = values
        planned.labels.append((Entity.ORGANISATION, source_id, spare_id, False, kind))
    return pairs


# --- contacts ---------------------------------------------------------------------------------


def _contacts_of(org_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = {}
    for start in range(0, len(org_ids), 900):
        rows = (
            Contact.objects.filter(organisation_id__in=org_ids[start : start + 900])
            .order_by("id")
            .values(*CONTACT_FIELDS)
        )
        for row in rows:
            found.setdefault(row["organisation_id"], []).append(row)
    return found


def _contact_copy(
    rng: Random, source: dict[str, Any], victim: dict[str, Any]
) -> tuple[dict[str, Any], str]:
    first, last, kind = mutate_person(rng, source["first_name"], source["last_name"])
    row = {
        "first_name": first,
        "last_name": last,
        "job_title": source["job_title"] if rng.random() < 0.7 else victim["job_title"],
        "function": source["function"],
        "seniority": source["seniority"],
        "buying_role": source["buying_role"],
        "organisation_id": victim["organisation_id"],
        "linkedin_url": source["linkedin_url"] if rng.random() < 0.5 else "",
        "phone": victim["phone"],
        "mobile": source["mobile"] if rng.random() < 0.6 else "",
    }
    draw = rng.random()
    if draw < 0.6:
        row["email"] = source["email"]
    elif draw < 0.85:
        row["email"] = ""
        kind += "+missing_email"
        if not row["mobile"] and source["mobile"]:
            row["mobile"] = source["mobile"]
    else:
        local = slug(f"{source['first_name']}.{source['last_name']}").replace("-", ".") or "contact"
        row["email"] = f"{local}@{rng.choice(['gmail.com', 'outlook.fr', 'yahoo.fr'])}"
        kind += "+personal_email"
    if source["phone"] and rng.random() < 0.5:
        row["phone"] = source["phone"]
    return row, kind


def plan_contacts(
    ctx: DemoContext, planner: Planner, planned: Planned, org_pairs: list[tuple[int, int]]
) -> None:
    """Second records of people: at the same organisation, or at a duplicate organisation; and
    namesakes elsewhere, who are other people."""
    rng = planner.rng
    total = max(1, len(ctx.contact_ids))
    wanted = max(3, round(total * CONTACT_DUPLICATES))
    namesakes = max(2, round(total * CONTACT_NAMESAKES))
    # Contacts of a duplicate organisation: the same person, recorded under each record.
    contacts = _contacts_of([org for pair in org_pairs for org in pair])
    done = 0
    taken: set[int] = set()
    for source_org, duplicate_org in org_pairs:
        if done >= wanted // 3:
            break
        people, others = contacts.get(source_org, []), contacts.get(duplicate_org, [])
        if not people or not others or rng.random() < 0.5:
            continue
        source, victim = people[0], others[0]
        row, kind = _contact_copy(rng, source, victim)
        planned.contact_rows[victim["id"]] = row
        taken.update((source["id"], victim["id"]))
        planned.labels.append(
            (Entity.CONTACT, source["id"], victim["id"], True, "other_organisation_record+" + kind)
        )
        done += 1
    # The same person twice at one organisation.
    organisations = planner.pick((wanted - done) * 2 + namesakes * 2)
    contacts = _contacts_of(organisations)
    crowded = [org for org in organisations if len(contacts.get(org, [])) >= 2]
    several = set(crowded)
    for org in crowded:
        if done >= wanted:
            break
        source, victim = contacts[org][0], contacts[org][-1]
        if source["id"] in taken or victim["id"] in taken:
            continue
        row, kind = _contact_copy(rng, source, victim)
        planned.contact_rows[victim["id"]] = row
        taken.update((source["id"], victim["id"]))
        planned.labels.append((Entity.CONTACT, source["id"], victim["id"], True, kind))
        done += 1
    # Namesakes: another person with the same name at another organisation.
    singles = [org for org in organisations if contacts.get(org) and org not in several]
    for left, right in zip(singles[::2], singles[1::2], strict=False):
        if namesakes <= 0:
            break
        source, victim = contacts[left][0], contacts[right][0]
        if source["id"] in taken or victim["id"] in taken:
            continue
        domain = (victim["email"] or "@example.com").split("@", 1)[1]
        local = slug(f"{source['first_name']}.{source['last_name']}").replace("-", ".") or "contact"
        planned.contact_rows[victim["id"]] = {
            "first_name": source["first_name"],
            "last_name": source["last_name"],
            "email": f"{local}@{domain}",
        }
        taken.update((source["id"], victim["id"]))
        planned.labels.append((Entity.CONTACT, source["id"], victim["id"], False, "namesake"))
        namesakes -= 1


# --- writing ----------------------------------------------------------------------------------


def _update(model: Any, rows: dict[int, dict[str, Any]], fields: Sequence[str]) -> int:
    """One UPDATE per row through `executemany`; only the fields each row sets."""
    table = connection.ops.quote_name(model._meta.db_table)
    by_shape: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
    for pk, values in rows.items():
        shape = tuple(f for f in fields if f in values)
        by_shape.setdefault(shape, []).append((*(values[f] for f in shape), pk))
    with connection.cursor() as cursor:
        for shape, params in by_shape.items():
            columns = ", ".join(
                f"{connection.ops.quote_name(model._meta.get_field(f).column)} = %s" for f in shape
            )
            cursor.executemany(f"UPDATE {table} SET {columns} WHERE id = %s", params)
    return len(rows)


def _contact_keys(row: dict[str, Any]) -> dict[str, Any]:
    if "last_name" in row:
        row["name_key"] = norm.search_key(f"{row['last_name']} {row.get('first_name', '')}")[:255]
    if "email" in row:
        row["email_key"] = (row["email"] or "").lower()
    return row


def inject_duplicates(ctx: DemoContext) -> None:
    """Rewrite a few percent of the base into labelled duplicates and look-alikes."""
    if len(ctx.org_ids) < 20:
        return
    planner = Planner(ctx)
    planned = Planned(labels=[], org_rows={}, contact_rows={})
    org_pairs = plan_organisations(ctx, planner, planned)
    plan_contacts(ctx, planner, planned, org_pairs)
    contact_rows = {pk: _contact_keys(row) for pk, row in planned.contact_rows.items()}
    with transaction.atomic():
        _update(Organisation, planned.org_rows, REWRITTEN)
        _update(Contact, contact_rows, CONTACT_REWRITTEN)
        DuplicateLabel.objects.bulk_create(
            [
                DuplicateLabel(
                    entity=entity,
                    record_a=min(a, b),
                    record_b=max(a, b),
                    duplicate=duplicate,
                    kind=kind[:40],
                )
                for entity, a, b, duplicate, kind in planned.labels
            ],
            batch_size=500,
            ignore_conflicts=True,
        )
        log_bulk(
            actor=None,
            channel=Channel.CLI,
            model=Organisation,
            rows=len(planned.org_rows) + len(contact_rows),
            action=LogEntry.Action.UPDATE,
            summary=(
                f"labelled duplicates: {len(planned.org_rows)} organisations and "
                f"{len(contact_rows)} contacts rewritten"
            ),
        )
    ctx.count("duplicate labels", len(planned.labels))
    ctx.shared["duplicates"] = {
        f"{entity} {'duplicates' if duplicate else 'look-alikes'}": sum(
            1 for label in planned.labels if label[0] == entity and label[3] == duplicate
        )
        for entity in (Entity.ORGANISATION, Entity.CONTACT)
        for duplicate in (True, False)
    }
    ctx.shared.setdefault("bulk_models", []).append(DuplicateLabel)


def detect_duplicates(ctx: DemoContext) -> None:
    """Run detection once, as the nightly job would, so that the demo's review queue and quality
    dashboard show real pairs. Not at 1m: it takes minutes there, and bench_duplicates times it."""
    if ctx.size.name == "1m":
        return
    for entity in (Entity.ORGANISATION, Entity.CONTACT):
        run = run_detection(entity=entity, channel=Channel.CLI)
        ctx.count(f"{entity} duplicate pairs", run.pairs)


register(Step("duplicates", 40, inject_duplicates, "labelled duplicates and look-alikes"))
register(Step("detection", 65, detect_duplicates, "likely duplicates found for the review queue"))
