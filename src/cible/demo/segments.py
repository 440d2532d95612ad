"""Demo step of segmentation (issue 5; seeds 002 and 001): segments filled, two ideal customer
profiles scored, four personas, and seed 002's shared targets.

- Segments: the axes seeded by `segments/0002_seed_axes` (geography, size, sales-team size,
  installed CRM, target sectors) are rebuilt once the organisations, the pipeline and the
  freshness step (closed organisations) are written — set-based, by the axes app's rebuild.
  The pipeline step made one segment lose every deal (`pipeline.is_doomed`: Salesforce, 11–20
  salespeople, Lille); the cross-tab explorer finds it in these memberships.
- Ideal customer profiles (seed 001: a conquest ICP differs from a retention ICP), made through
  the profiles app's services by a marketer, with weighted criteria, then scored in bulk.
- Personas: sales director, marketing director, IT / CRM manager (contact functions and
  seniorities of `reference.TITLES`), and the sales decision maker (a sales director or executive
  whose buying role is decision maker or economic buyer, `reference.buying_role_weights`).
- Targets: seed 002's "equipped with Salesforce, sales team 11–20 or > 20, in Lille or Paris" —
  its sales directors, and its accounts — and the conquest ICP's heart as a target, shared by
  the sales manager.

Nothing here is drawn at random: the definitions are fixed, and what they select follows from the
rows the earlier steps drew. The step is idempotent: a profile, persona or target that already
exists (by code, or by name for targets) is kept as it is — people may have changed it — and
every active profile is scored again.

Demo data speaks French (like the retention rule of `consents.py`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from django.utils import timezone

from cible.core.audit import Channel
from cible.demo.generator import DemoContext, Step, register
from cible.segments.axes import services as axes_services
from cible.segments.axes.models import Membership, Segment
from cible.segments.profiles import services as profile_services
from cible.segments.profiles.models import FitScore, IdealCustomerProfile, Persona, Purpose
from cible.segments.targets import services as target_services
from cible.segments.targets.models import Target

Rule = dict[str, Any]


def all_of(*conditions: Rule) -> Rule:
    return {"match": "all", "conditions": list(conditions)}


def any_of(*conditions: Rule) -> Rule:
    return {"match": "any", "conditions": list(conditions)}


def cond(field: str, op: str, value: Any = None) -> Rule:
    data: Rule = {"field": field, "op": op}
    if value is not None:
        data["value"] = value
    return data


def segment_ids(axis: str, codes: list[str] | None = None) -> list[int]:
    """Ids of the segments of the seeded axis `axis` (all of them, or those of `codes`), in
    order; empty when someone removed them."""
    segments = Segment.objects.filter(axis__code=axis)
    if codes is not None:
        segments = segments.filter(code__in=codes)
    return list(segments.order_by("position", "pk").values_list("pk", flat=True))


# --- ideal customer profiles ----------------------------------------------------------------


# (label, weight, rule) of the conquest profile. Only the organisation's own fields and installed
# products: a criterion on contacts, on opportunities or on segments makes the profiles app
# re-score an organisation after each transaction that saves or deletes such rows (its
# receivers), which the retention profile needs for its deals but the conquest one can do
# without. The target sectors are the NAF codes of the seeded "target sectors" axis.
CONQUEST_CRITERIA: list[tuple[str, int, Rule]] = [
    ("PME ou ETI", 3, all_of(cond("size_class", "in", ["pme", "eti"]))),
    (
        "Équipe commerciale de 4 à 20 personnes",
        3,
        all_of(cond("sales_team_size", "between", [4, 20])),
    ),
    (
        "Pas de CRM moderne : aucun CRM, SugarCRM ou Sage CRM",
        4,
        any_of(
            cond("installed_product_categories", "none_of", ["CRM"]),
            cond("installed_products", "any_of", ["SugarCRM", "Sage CRM"]),
        ),
    ),
    (
        "Secteur cible (logiciel, conseil, ingénierie, formation, industrie)",
        2,
        any_of(
            cond("naf_division", "in", ["62", "63", "71", "85"]),
            cond("naf_code", "starts_with", "58.2"),
            cond("naf_code", "starts_with", "70.2"),
            cond("naf_section", "in", ["C"]),
        ),
    ),
    ("Pas encore client", 2, all_of(cond("status", "in", ["suspect", "prospect"]))),
    (
        "Venu à nous (site web, appel entrant, événement, webinaire, recommandation)",
        1,
        all_of(cond("source", "in", ["website", "inbound_call", "event", "webinar", "referral"])),
    ),
    (
        "Fiche vérifiée depuis moins de deux ans",
        1,
        all_of(cond("last_verified_at", "in_last_days", 730)),
    ),
]


RETENTION_CRITERIA: list[tuple[str, int, Rule]] = [
    ("Client", 5, all_of(cond("status", "in", ["customer"]))),
    ("Client or ou argent", 3, all_of(cond("tier", "in", ["gold", "silver"]))),
    (
        "Extension déjà proposée ou signée (montée en gamme, vente croisée, renouvellement)",
        2,
        all_of(cond("opportunities.type", "in", ["upsell", "cross_sell", "renewal"])),
    ),
    (
        "Une affaire conclue dans les 12 derniers mois",
        2,
        all_of(cond("opportunities.closed_on", "in_last_days", 365)),
    ),
    (
        "Équipe commerciale de plus de 10 personnes",
        1,
        all_of(cond("sales_team_size", "gt", 10)),
    ),
    (
        "Fiche vérifiée depuis moins d'un an",
        1,
        all_of(cond("last_verified_at", "in_last_days", 365)),
    ),
]


PROFILES: list[dict[str, Any]] = [
    {
        "code": "conquete",
        "name": "Conquête : équipes commerciales de taille moyenne sans CRM moderne",
        "purpose": Purpose.CONQUEST,
        "description": (
            "Les comptes à aller chercher : des PME et ETI dont l'équipe commerciale compte de 4 "
            "à 20 personnes, encore sur tableur ou sur un CRM vieillissant, de préférence dans "
            "les secteurs où nous avons déjà des références."
        ),
        "criteria": CONQUEST_CRITERIA,
    },
    {
        "code": "fidelisation",
        "name": "Fidélisation : les clients à garder",
        "purpose": Purpose.RETENTION,
        "description": (
            "Les clients qui comptent : ceux qui paient le plus, qui étendent déjà leur usage, "
            "avec qui une affaire s'est conclue récemment et dont la fiche est à jour. Un ICP "
            "de fidélisation n'est pas un ICP de conquête (graine 001)."
        ),
        "criteria": RETENTION_CRITERIA,
    },
]


def create_profiles(marketer: Any) -> list[IdealCustomerProfile]:
    profiles = []
    for spec in PROFILES:
        profile = IdealCustomerProfile.objects.filter(code=spec["code"]).first()
        if profile is None:
            profile = profile_services.profile_create(
                actor=marketer,
                channel=Channel.CLI,
                name=spec["name"],
                code=spec["code"],
                purpose=spec["purpose"],
                description=spec["description"],
                criteria=[
                    {"label": label, "weight": weight, "rule": rule}
                    for label, weight, rule in spec["criteria"]
                ],
            )
        profiles.append(profile)
    return profiles


def score_profiles(ctx: DemoContext, since: Any) -> int:
    """Every active profile scored over the whole base, once. `profile_create` queues a full
    computation after its commit; when tasks run inline it has already happened (scored since
    the step began), otherwise it is done here rather than left to a consumer."""
    rows = 0
    for profile in IdealCustomerProfile.objects.filter(is_active=True).order_by("pk"):
        if profile.scored_at is not None and profile.scored_at >= since:
            rows += FitScore.objects.filter(profile=profile).count()
            continue
        result = profile_services.fit_scores_compute(
            profile=profile, channel=Channel.CLI, progress=lambda m: ctx.progress(f"  {m}")
        )
        rows += result.rows
    return rows


# --- personas -------------------------------------------------------------------------------

PERSONAS: list[dict[str, Any]] = [
    {
        "code": "directeur-commercial",
        "name": "Directeur commercial",
        "description": (
            "Dirige l'équipe commerciale et porte ses objectifs : c'est lui qui choisit le CRM "
            "et qui en attend un pipeline fiable et des prévisions justes."
        ),
        "rule": all_of(
            cond("function", "in", ["sales"]), cond("seniority", "in", ["director", "executive"])
        ),
    },
    {
        "code": "directeur-marketing",
        "name": "Directeur marketing",
        "description": (
            "Répond des leads transmis aux ventes : segmentation, campagnes, scoring ; veut "
            "voir ce que chaque campagne rapporte."
        ),
        "rule": all_of(
            cond("function", "in", ["marketing"]),
            cond("seniority", "in", ["director", "executive"]),
        ),
    },
    {
        "code": "responsable-si-crm",
        "name": "Responsable informatique / CRM",
        "description": (
            "DSI ou responsable informatique : juge l'intégration, la sécurité, la reprise des "
            "données de l'outil en place ; souvent prescripteur, parfois décideur."
        ),
        "rule": all_of(
            cond("function", "in", ["it"]),
            cond("seniority", "in", ["executive", "director", "manager"]),
        ),
    },
    {
        "code": "decideur-commercial",
        "name": "Décideur commercial",
        "description": (
            "Directeur commercial ou dirigeant qui décide de l'achat ou en tient le budget : "
            "c'est lui qu'il faut convaincre pour signer."
        ),
        "rule": all_of(
            cond("function", "in", ["sales"]),
            cond("seniority", "in", ["director", "executive"]),
            cond("buying_role", "in", ["decision_maker", "economic_buyer"]),
        ),
    },
]


def create_personas(marketer: Any) -> list[Persona]:
    personas = []
    for position, spec in enumerate(PERSONAS):
        persona = Persona.objects.filter(code=spec["code"]).first()
        if persona is None:
            persona = profile_services.persona_create(
                actor=marketer, channel=Channel.CLI, position=position, **spec
            )
        personas.append(persona)
    return personas


# --- targets --------------------------------------------------------------------------------

SEED_002_SEGMENTS = {
    "installed-crm": ["salesforce"],
    "sales-team": ["11-20", "over-20"],
    "geography": ["lille", "paris"],
}


def _segments(wanted: Mapping[str, list[str] | None]) -> dict[str, list[int]] | None:
    """{axis code: segment ids} of `wanted` (None: every segment of the axis), or None when one
    of them is missing (someone removed it): the target is then not made."""
    found = {}
    for axis, codes in wanted.items():
        ids = segment_ids(axis, codes)
        if not ids or (codes is not None and len(ids) != len(codes)):
            return None
        found[axis] = ids
    return found


TARGETS: list[dict[str, Any]] = [
    {
        "name": "Salesforce, équipe commerciale 11–20 ou > 20, Lille ou Paris : directeurs "
        "commerciaux",
        "description": (
            "Graine 002 : les comptes équipés de Salesforce, avec une équipe commerciale de 11 à "
            "20 ou de plus de 20 personnes, à Lille ou à Paris — et, chez eux, les directeurs "
            "commerciaux à qui écrire."
        ),
        "level": "contact",
        "segments": SEED_002_SEGMENTS,
        "organisation": None,
        "contact": all_of(
            cond("function", "in", ["sales"]), cond("seniority", "in", ["director", "executive"])
        ),
    },
    {
        "name": "Salesforce, équipe commerciale 11–20 ou > 20, Lille ou Paris : les comptes",
        "description": "Graine 002 : les mêmes comptes, sans choisir les personnes.",
        "level": "organisation",
        "segments": SEED_002_SEGMENTS,
        "organisation": None,
        "contact": None,
    },
    {
        "name": "PME et ETI sans CRM des secteurs cibles, à prospecter",
        "description": (
            "Le cœur de l'ICP de conquête : PME et ETI sans CRM, dans nos secteurs cibles, "
            "avec une équipe commerciale de 4 à 20 personnes, pas encore clientes."
        ),
        "level": "organisation",
        "segments": {
            "size": ["pme", "eti"],
            "installed-crm": ["no-crm"],
            "target-sectors": None,
        },
        "organisation": all_of(
            cond("status", "in", ["suspect", "prospect"]),
            cond("sales_team_size", "between", [4, 20]),
        ),
        "contact": None,
    },
]


def create_targets(ctx: DemoContext, owner: Any) -> list[Target]:
    """Seed 002's targets, shared by the sales manager (kept if one of that name exists)."""
    targets = []
    for spec in TARGETS:
        target = Target.objects.filter(name=spec["name"]).first()
        if target is None:
            segments = _segments(spec["segments"])
            if segments is None:
                ctx.progress(f"  target not made (a segment is missing): {spec['name']}")
                continue
            target = target_services.target_create(
                actor=owner,
                channel=Channel.CLI,
                data={
                    "name": spec["name"],
                    "description": spec["description"],
                    "level": spec["level"],
                    "shared": True,
                    "definition": {
                        "segments": segments,
                        "organisation": spec["organisation"],
                        "contact": spec["contact"],
                    },
                },
            )
        targets.append(target)
    return targets


# --- the step -------------------------------------------------------------------------------


def _user(ctx: DemoContext, username: str) -> Any:
    user = ctx.users.get(username)
    if user is None:
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.get(username=username)
    return user


def create_segmentation(ctx: DemoContext) -> None:
    began = time.perf_counter()
    since = timezone.now()
    run = axes_services.membership_rebuild(
        channel=Channel.CLI, progress=lambda message: ctx.progress(f"  {message}")
    )
    memberships = Membership.objects.count()
    ctx.count("segment memberships", memberships)
    ctx.shared.setdefault("bulk_models", []).append(Membership)
    ctx.progress(
        f"  segments rebuilt: {run.segments_done} segments, {memberships:,} memberships in "
        f"{run.seconds:.1f} s"
    )
    marketer = _user(ctx, "marketing")
    profiles = create_profiles(marketer)
    personas = create_personas(marketer)
    scores = score_profiles(ctx, since)
    ctx.count("ideal customer profiles", len(profiles))
    ctx.count("fit scores", scores)
    ctx.count("personas", len(personas))
    targets = create_targets(ctx, _user(ctx, "manager"))
    ctx.count("targets", len(targets))
    ctx.progress(f"  segmentation done in {time.perf_counter() - began:.1f} s")


register(
    Step(
        "segments",
        80,
        create_segmentation,
        "segment membership, ideal customer profiles and their fit scores, personas, targets",
    )
)
