"""API shapes of axes, segments, targets and ideal customer profiles.

Inputs only check the JSON shape (unknown fields are refused); the services check the values
and name the field of every problem — a rule or a definition is any JSON object here, and comes
back as a 422 listing its problems by path (`rule.conditions.0.value`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema
from pydantic import Field

from cible.core.api_kit import Id, InputSchema, ListParams, Loose, LooseBool
from cible.people.schemas import ContactOut, OrganisationOut

Json = dict[str, Any]

# --- rule fields ---------------------------------------------------------------------------------


class ChoiceOut(Schema):
    value: str
    label: str


class RuleFieldOut(Schema):
    name: str
    label: str
    kind: str
    operators: list[str]
    choices: list[ChoiceOut]
    help: str


# --- axes and segments --------------------------------------------------------------------------


class AxisIn(InputSchema):
    code: str | None = Field(None, description="Small letters, digits and dashes; from the name.")
    name: str | None = None
    description: str | None = None
    exclusive: LooseBool = Field(
        None, description="Each organisation in at most one segment of the axis (default true)."
    )
    position: Loose = None
    is_active: LooseBool = None


class SegmentOut(Schema):
    id: int
    version: int
    axis: int
    axis_code: str
    code: str
    name: str
    description: str
    kind: str
    rule: Json | None
    rule_text: str = Field(description="The rule in words, in the language of the request.")
    position: int
    count: int = Field(description="Members the caller may see.")
    rebuilt_at: dt.datetime | None


class AxisOut(Schema):
    id: int
    code: str
    name: str
    description: str
    exclusive: bool
    position: int
    is_active: bool
    segments: list[SegmentOut]


class SegmentIn(InputSchema):
    code: str | None = None
    name: str | None = None
    description: str | None = None
    kind: str | None = Field(None, description="rule (default) or manual.")
    rule: Json | None = Field(
        None,
        description='A rule group at organisation level: {"match": "all", "conditions": '
        '[{"field": "headcount", "op": "between", "value": [10, 249]}]}.',
    )
    position: Loose = None


class SegmentCreateIn(SegmentIn):
    axis: Id = Field(description="The axis id.")


class SegmentPatch(SegmentIn):
    version: int = Field(..., description="The version you read; a newer one gives 409.")


class SegmentQuery(Schema):
    axis: Id | None = Field(None, description="Only the segments of this axis.")


class MembersIn(InputSchema):
    organisations: list[Loose] = Field(..., max_length=10_000, description="Organisation ids.")


class MembershipChangeOut(Schema):
    """Memberships added and removed, in this segment and in the other segments of its axis
    (an exclusive axis moves an organisation placed by hand out of its rule segment)."""

    added: int
    removed: int


class OrganisationPage(Schema):
    items: list[OrganisationOut]
    next_cursor: str | None
    count: int | None = None


class RebuildIn(InputSchema):
    segments: list[Id] | None = Field(
        None,
        max_length=1000,
        description="Rebuild these segments (and those that depend on them); all if absent.",
    )


class RebuildRunOut(Schema):
    id: int
    status: str
    segments_total: int
    segments_done: int
    percent: int
    rows_added: int
    rows_removed: int
    seconds: float | None
    started_at: dt.datetime
    finished_at: dt.datetime | None
    error: str


# --- targets ------------------------------------------------------------------------------------


DEFINITION_HELP = (
    'Segments by axis code (OR within an axis, AND across axes) and rule groups: {"segments": '
    '{"installed-crm": [16], "geography": [2, 4]}, "organisation": {"match": "all", '
    '"conditions": [...]}, "contact": {...}}. `contact` needs level "contact".'
)


class TargetIn(InputSchema):
    name: str | None = None
    description: str | None = None
    level: str | None = Field(None, description="organisation (default) or contact.")
    definition: Json | None = Field(None, description=DEFINITION_HELP)
    shared: LooseBool = Field(None, description="Visible to everyone (default: only to you).")


class TargetPatch(TargetIn):
    version: int = Field(..., description="The version you read; a newer one gives 409.")


class DefinitionPartOut(Schema):
    label: str
    text: str


class TargetOut(Schema):
    id: int
    version: int
    name: str
    description: str
    level: str
    definition: Json
    described: list[DefinitionPartOut] = Field(description="The definition in words.")
    owner: int | None
    shared: bool
    can_change: bool = Field(description="Whether the caller may change or delete it.")
    created_at: dt.datetime
    updated_at: dt.datetime


class TargetPage(Schema):
    items: list[TargetOut]
    next_cursor: str | None
    count: int | None = None


class CountIn(InputSchema):
    level: str = Field("organisation", description="organisation or contact.")
    definition: Json | None = Field(None, description=DEFINITION_HELP)
    timeout_ms: int = Field(
        1500, ge=50, le=10_000, description="Give up after this long (count null, finished false)."
    )


class CountOut(Schema):
    count: int | None = Field(description="Records the caller may see; null when it took too long.")
    finished: bool
    level: str
    milliseconds: float
    message: str


class CountQuery(Schema):
    timeout_ms: int = Field(1500, ge=50, le=10_000)


class DuplicateIn(InputSchema):
    name: str | None = Field(None, description="Default: “Copy of <name>”.")


class MembersQuery(ListParams):
    pass


class TargetMembersPage(Schema):
    level: str
    organisations: list[OrganisationOut] = Field(
        default_factory=list, description="The page, for an organisation target."
    )
    contacts: list[ContactOut] = Field(
        default_factory=list, description="The page, for a contact target."
    )
    next_cursor: str | None
    count: int | None = None


# --- ideal customer profiles --------------------------------------------------------------------


class CriterionOut(Schema):
    id: int
    label: str
    weight: int
    position: int
    rule: Json
    rule_text: str


class ProfileOut(Schema):
    id: int
    version: int
    code: str
    name: str
    purpose: str
    description: str
    is_active: bool
    scored_at: dt.datetime | None = Field(description="Null while scores are being computed.")
    criteria: list[CriterionOut]


class ProfileQuery(Schema):
    active: bool | None = Field(None, description="Only active (true) or inactive (false) ones.")


class ScoreQuery(ListParams):
    min_score: int | None = Field(None, ge=0, le=100)
    max_score: int | None = Field(None, ge=0, le=100)


class FitScoreOut(Schema):
    organisation: int
    organisation_name: str
    score: int
    matched: list[int] = Field(description="Ids of the criteria the organisation meets.")
    computed_at: dt.datetime


class FitScorePage(Schema):
    items: list[FitScoreOut]
    next_cursor: str | None
    count: int | None = None


class ContributionOut(Schema):
    criterion: int
    label: str
    weight: int
    matched: bool
    points: int = Field(description="What it adds to the score (0 when not met).")
    worth: float = Field(description="What it would add when met.")


class ProfileBriefOut(Schema):
    id: int
    code: str
    name: str
    purpose: str


class ProfileFitOut(Schema):
    profile: ProfileBriefOut
    score: int = Field(description="The fit now, from the current record.")
    stored_score: int | None = Field(description="The stored score (may lag a recomputation).")
    computed_at: dt.datetime | None
    text: str
    contributions: list[ContributionOut]


class OrganisationFitOut(Schema):
    organisation: int
    profiles: list[ProfileFitOut]
