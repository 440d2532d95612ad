"""REST endpoints of routing: rules (CRUD, reorder, simulate), rotations, assignments, settings.
Thin over selectors and services; administrators and sales managers write, others read."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Status

from cible.core.api_kit import ERRORS, WRITE_ERRORS, Id, paginate, viewer
from cible.core.audit import Channel
from cible.core.errors import FieldError, PermissionDenied, ValidationFailed
from cible.people.models import Team
from cible.routing.assignment import drafts, selectors, services, simulator
from cible.routing.assignment.models import RoutingRule
from cible.routing.assignment.schemas import (
    AssignmentOut,
    AssignmentPage,
    AssignmentQuery,
    MemberIn,
    MemberOut,
    MemberPatch,
    ReorderIn,
    RouteIn,
    RuleIn,
    RuleOut,
    RulePatch,
    SettingsIn,
    SettingsOut,
    SimulateIn,
    SimulationOut,
    assignment_out,
    member_out,
    rule_out,
    simulation_out,
)
from cible.segments.targets.models import Target

router = Router(tags=["Routing"])


@router.get("/routing/rules", response={200: list[RuleOut], **ERRORS})
def list_rules(request: HttpRequest) -> Any:
    """Every rule, in the order they are tried."""
    return [rule_out(r) for r in selectors.rule_list(viewer=viewer(request))]


@router.post("/routing/rules", response={201: RuleOut, **WRITE_ERRORS})
def create_rule(request: HttpRequest, payload: RuleIn) -> Any:
    """Add a rule; 422 names each problem (`conditions.0.value`, `team` …)."""
    rule = services.rule_create(actor=viewer(request), channel=Channel.API, data=payload.data())
    rule.refresh_from_db()
    return Status(201, rule_out(rule))


@router.post("/routing/rules/reorder", response={200: list[RuleOut], **WRITE_ERRORS})
def reorder_rules(request: HttpRequest, payload: ReorderIn) -> Any:
    rules = services.rules_reorder(ids=payload.ids, actor=viewer(request), channel=Channel.API)
    return [rule_out(r) for r in rules]


@router.post("/routing/rules/simulate", response={200: SimulationOut, **ERRORS})
def simulate_rules(request: HttpRequest, payload: SimulateIn) -> Any:
    """Where a sample of leads would go under a draft (one rule in the saved set, or a whole
    set), compared with the saved rules; warnings for rules matching nothing or everything,
    or shadowed. Writes nothing."""
    user = viewer(request)
    if not services.may_edit(user):
        raise PermissionDenied(_("Only administrators and sales managers simulate rule changes."))
    ruleset: list[Any]
    if payload.rules is not None:
        ruleset = [drafts.clean(r.data(), prefix=f"rules.{i}") for i, r in enumerate(payload.rules)]
    elif payload.rule is not None:
        draft = drafts.clean(payload.rule.data(), pk=payload.replaces, prefix="rule")
        saved = list(RoutingRule.objects.order_by("position", "id"))
        if payload.replaces and all(r.pk != payload.replaces for r in saved):
            raise ValidationFailed(errors=[FieldError("replaces", _("no rule has this id"))])
        ruleset = [draft if r.pk == payload.replaces else r for r in saved]
        if payload.replaces is None:
            ruleset.append(draft)
    else:
        raise ValidationFailed(errors=[FieldError("rule", _("give a draft rule or rules"))])
    target = None
    if payload.target is not None:
        target = Target.objects.filter(pk=payload.target).first()
        if target is None:
            raise ValidationFailed(errors=[FieldError("target", _("no target has this id"))])
    ids = payload.lead_ids
    if ids is None:
        ids = simulator.sample_ids(viewer=user, target=target, size=payload.size)
    return simulation_out(simulator.simulate(viewer=user, drafts=ruleset, lead_ids=ids))


@router.get("/routing/rules/{pk}", response={200: RuleOut, **ERRORS})
def get_rule(request: HttpRequest, pk: Path[Id]) -> Any:
    return rule_out(selectors.rule_get(viewer=viewer(request), pk=pk))


@router.patch("/routing/rules/{pk}", response={200: RuleOut, **WRITE_ERRORS})
def update_rule(request: HttpRequest, pk: Path[Id], payload: RulePatch) -> Any:
    rule = selectors.rule_get(viewer=viewer(request), pk=pk)
    data = payload.data()
    version = data.pop("version")
    services.rule_update(
        rule=rule, actor=viewer(request), channel=Channel.API, data=data, expected_version=version
    )
    return rule_out(rule)


@router.delete("/routing/rules/{pk}", response={204: None, **WRITE_ERRORS})
def delete_rule(request: HttpRequest, pk: Path[Id]) -> Any:
    rule = selectors.rule_get(viewer=viewer(request), pk=pk)
    services.rule_delete(rule=rule, actor=viewer(request), channel=Channel.API)
    return Status(204, None)


@router.get("/routing/members", response={200: list[MemberOut], **ERRORS})
def list_members(request: HttpRequest) -> Any:
    """Each team's rotation with capacities, availability and current open leads."""
    return [member_out(row) for row in selectors.member_list(viewer=viewer(request))]


@router.post("/routing/members", response={201: MemberOut, **WRITE_ERRORS})
def add_member(request: HttpRequest, payload: MemberIn) -> Any:
    data = payload.data()
    team = Team.objects.filter(pk=data.pop("team")).first()
    user = services.user_named(data.pop("user"))
    errors = [FieldError("team", _("no team has this id"))] if team is None else []
    if user is None:
        errors.append(FieldError("user", _("no user has this id")))
    if team is None or errors:
        raise ValidationFailed(errors=errors)
    member = services.member_save(
        team=team, user=user, actor=viewer(request), channel=Channel.API, data=data
    )
    return Status(201, member_out(_row(request, member.pk)))


def _row(request: HttpRequest, pk: int) -> Any:
    member = selectors.member_get(viewer=viewer(request), pk=pk)
    return next(
        r
        for r in selectors.member_list(viewer=viewer(request), team=member.team)
        if r.member.pk == pk
    )


@router.patch("/routing/members/{pk}", response={200: MemberOut, **WRITE_ERRORS})
def update_member(request: HttpRequest, pk: Path[Id], payload: MemberPatch) -> Any:
    member = selectors.member_get(viewer=viewer(request), pk=pk)
    services.member_save(
        team=member.team,
        user=member.user,
        actor=viewer(request),
        channel=Channel.API,
        data=payload.data(),
    )
    return member_out(_row(request, pk))


@router.delete("/routing/members/{pk}", response={204: None, **WRITE_ERRORS})
def remove_member(request: HttpRequest, pk: Path[Id]) -> Any:
    member = selectors.member_get(viewer=viewer(request), pk=pk)
    services.member_remove(member=member, actor=viewer(request), channel=Channel.API)
    return Status(204, None)


@router.get("/routing/assignments", response={200: AssignmentPage, **ERRORS})
def list_assignments(request: HttpRequest, params: Query[AssignmentQuery]) -> Any:
    """Assignments of the leads you see, newest first."""
    qs = selectors.assignment_list(
        viewer=viewer(request),
        user_id=params.user,
        team_id=params.team,
        method=params.method or "",
        rule_id=params.rule,
    ).select_related(None)
    return paginate(
        qs,
        cursor=params.cursor,
        limit=params.limit,
        with_count=params.count,
        serialize=assignment_out,
    )


@router.post("/routing/route", response={200: list[AssignmentOut], **WRITE_ERRORS})
def route_leads(request: HttpRequest, payload: RouteIn) -> Any:
    """Route these leads now (administrators and sales managers)."""
    user = viewer(request)
    if not services.may_edit(user):
        raise PermissionDenied(_("Only administrators and sales managers route leads by hand."))
    done = services.route(
        lead_ids=payload.lead_ids, actor=user, channel=Channel.API, force=payload.force
    )
    return [assignment_out(a) for a in done]


@router.get("/routing/settings", response={200: SettingsOut, **ERRORS})
def get_settings(request: HttpRequest) -> Any:
    row = selectors.settings_get(viewer=viewer(request))
    return {
        "trigger_stages": row.trigger_stages,
        "on_arrival": row.on_arrival,
        "account_matching": row.account_matching,
    }


@router.patch("/routing/settings", response={200: SettingsOut, **WRITE_ERRORS})
def update_settings(request: HttpRequest, payload: SettingsIn) -> Any:
    row = services.settings_update(actor=viewer(request), channel=Channel.API, data=payload.data())
    return {
        "trigger_stages": row.trigger_stages,
        "on_arrival": row.on_arrival,
        "account_matching": row.account_matching,
    }
