"""Which stage moves a lead may make, decided once (pure: no database).

The graph (seed 004 §2–4, seed 003):

- **Forward along the road** Suspect → Prospect → MQL → SAL → SQL, skipping allowed (a demo
  request may jump from Suspect to MQL), by hand or by an agreed definition.
- **SQL → Opportunity** only by converting the lead (`pipeline.conversion.convert_lead`), which
  also accepts a SAL whose SQL definition holds. **Opportunity → Customer** only when its
  opportunity is won; **Opportunity → Recycled** (reason "opportunity lost") only when it is lost.
  Nobody moves a lead in or out of Opportunity by hand: the deal decides.
- **Off the road**: any stage from Suspect to SQL → Recycled (a reason and a re-qualification
  date are required: "back to Marketing", seed 004 §4; MQL → Recycled is Sales rejecting the
  lead) or → Disqualified (a reason is required).
- **Back from Recycled** → Prospect or MQL (re-qualification by Marketing), or → Disqualified.
- **Disqualified → Prospect** only by reopening it with a note saying why.
- **Customer** is final: a returning customer opens a new lead.
- Everything else is refused, in particular any backward move along the road (SQL → MQL): the
  way back is Recycled, with its reason and date.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from cible.lifecycle.leads.models import RANK, ROAD, Stage

# Stages people and definitions move leads between along the road (Opportunity and Customer
# belong to the deal).
QUALIFYING = (Stage.SUSPECT, Stage.PROSPECT, Stage.MQL, Stage.SAL, Stage.SQL)
# Stages a definition can be written for: the ones Marketing and Sales must agree on.
DEFINABLE = (Stage.PROSPECT, Stage.MQL, Stage.SAL, Stage.SQL)
# Where a lead opens: a hot lead (a demo request) may open straight at MQL.
OPENING = (Stage.SUSPECT, Stage.PROSPECT, Stage.MQL)


class Via:
    """Who may make a move besides a person's `move`: the deal's conversion and closing."""

    HAND = "hand"
    CONVERSION = "conversion"
    CLOSING = "closing"


@dataclass(frozen=True)
class MoveCheck:
    """The verdict on one move: allowed, or why not (naming both stages), and what it needs."""

    allowed: bool
    message: str = ""
    needs_reason: bool = False
    needs_date: bool = False
    needs_note: bool = False


def _label(stage: str) -> str:
    return str(Stage(stage).label) if stage in Stage.values else stage


def _refused(from_stage: str, to_stage: str, why: str) -> MoveCheck:
    return MoveCheck(
        False,
        _("A lead cannot move from %(from)s to %(to)s: %(why)s")
        % {"from": _label(from_stage), "to": _label(to_stage), "why": why},
    )


def check_move(from_stage: str, to_stage: str, *, via: str = Via.HAND) -> MoveCheck:
    """Whether a lead at `from_stage` may move to `to_stage` through `via`, and what it needs."""
    if to_stage not in Stage.values:
        return MoveCheck(False, _("%(stage)s is not a stage.") % {"stage": to_stage[:40]})
    if from_stage == to_stage:
        return _refused(from_stage, to_stage, _("it is already there"))
    if from_stage == Stage.CUSTOMER:
        return _refused(from_stage, to_stage, _("a customer's lead is over; open a new one"))
    if to_stage == Stage.OPPORTUNITY:
        if via != Via.CONVERSION:
            return _refused(from_stage, to_stage, _("convert it into an opportunity instead"))
        if from_stage in (Stage.SQL, Stage.SAL):
            return MoveCheck(True)
        return _refused(from_stage, to_stage, _("only a SQL (or a SAL that meets it) converts"))
    if from_stage == Stage.OPPORTUNITY:
        if via != Via.CLOSING:
            return _refused(from_stage, to_stage, _("close its opportunity instead"))
        if to_stage == Stage.CUSTOMER:
            return MoveCheck(True)
        if to_stage == Stage.RECYCLED:
            return MoveCheck(True, needs_reason=True)
        return _refused(from_stage, to_stage, _("a closed deal makes a customer or a recycle"))
    if to_stage == Stage.CUSTOMER:
        return _refused(from_stage, to_stage, _("only a won opportunity makes a customer"))
    if to_stage == Stage.RECYCLED:
        if from_stage in QUALIFYING:
            return MoveCheck(True, needs_reason=True, needs_date=True)
        return _refused(from_stage, to_stage, _("only a lead on the road can be recycled"))
    if to_stage == Stage.DISQUALIFIED:
        if from_stage in (*QUALIFYING, Stage.RECYCLED):
            return MoveCheck(True, needs_reason=True)
        return _refused(from_stage, to_stage, _("it is not live"))
    if from_stage == Stage.RECYCLED:
        if to_stage in (Stage.PROSPECT, Stage.MQL):
            return MoveCheck(True)
        return _refused(from_stage, to_stage, _("a recycled lead comes back as Prospect or MQL"))
    if from_stage == Stage.DISQUALIFIED:
        if to_stage == Stage.PROSPECT:
            return MoveCheck(True, needs_note=True)
        return _refused(from_stage, to_stage, _("a disqualified lead reopens as Prospect"))
    if RANK[Stage(to_stage)] < RANK[Stage(from_stage)]:
        return _refused(from_stage, to_stage, _("the way back is Recycled, with a reason"))
    return MoveCheck(True)


def allowed_targets(from_stage: str, *, via: str = Via.HAND) -> list[str]:
    """Every stage `check_move` lets a lead at `from_stage` reach, in display order."""
    order = [*ROAD, Stage.RECYCLED, Stage.DISQUALIFIED]
    return [s.value for s in order if check_move(from_stage, s, via=via).allowed]


def rule_target(stage: str, ruled: set[str], gates: set[str]) -> str | None:
    """The stage an agreed definition would move a lead at `stage` to, or None.

    `ruled` are the stages whose agreed definition has criteria (rules), `gates` those whose
    agreed definition has none (a person decides, e.g. SAL: "accepted by Sales"). A lead moves to
    the first ruled stage ahead of it, skipping stages nobody defined, but never over a gate:
    a definition never does Sales' accepting for them. A recycled lead starts again from Prospect.
    """
    if stage == Stage.RECYCLED:
        ahead: list[str] = [Stage.PROSPECT, Stage.MQL]
    elif stage in QUALIFYING:
        ahead = [s for s in QUALIFYING if RANK[s] > RANK[Stage(stage)]]
    else:
        return None
    for candidate in ahead:
        if candidate in ruled:
            return candidate
        if candidate in gates:
            return None
    return None
