"""A target's definition: JSON in, a checked `Definition` out, or `DefinitionInvalid` naming
every problem by its path (`definition.segments.geography.1`, `definition.organisation.
conditions.0.value`).

The JSON, as stored (`Definition.to_json`):

    {"segments": {"<axis code>": [segment ids]},   # OR within an axis, AND across axes
     "organisation": <rule group or null>,          # `rules` at organisation level
     "contact": <rule group or null>}               # `rules` at contact level: contact targets

`segments` may also be given as a flat list of ids: they are grouped by their axis. A definition
with nothing in it is refused when a target is saved, and allowed for a live count while editing
(it counts everything the viewer sees).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from cible.core.errors import FieldError, ValidationFailed
from cible.core.values import is_id
from cible.segments import rules
from cible.segments.axes.models import Axis, Segment

MAX_SEGMENTS = 500
KEYS = ("segments", "organisation", "contact")


class DefinitionInvalid(ValidationFailed):
    """A target definition that cannot be used; one FieldError per problem, by path."""


@dataclass(frozen=True)
class Definition:
    """A checked definition. `segments` keeps the axes in the order given, ids sorted."""

    level: rules.Level
    segments: tuple[tuple[str, tuple[int, ...]], ...] = ()
    organisation: rules.Group | None = None
    contact: rules.Group | None = None

    @property
    def empty(self) -> bool:
        return not self.segments and self.organisation is None and self.contact is None

    @property
    def organisation_part_empty(self) -> bool:
        """Nothing narrows the organisations (a contact target may then reach every contact)."""
        return not self.segments and self.organisation is None

    def segment_ids(self) -> set[int]:
        """Every segment the definition names, in its segments part or inside its rules."""
        ids = {i for _code, group in self.segments for i in group}
        for group in (self.organisation, self.contact):
            if group is not None:
                ids |= group.segment_ids()
        return ids

    def to_json(self) -> dict[str, Any]:
        return {
            "segments": {code: list(ids) for code, ids in self.segments},
            "organisation": self.organisation.to_json() if self.organisation else None,
            "contact": self.contact.to_json() if self.contact else None,
        }


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return _("yes/no")
    if isinstance(value, int | float):
        return _("a number")
    if isinstance(value, str):
        return _("text")
    if isinstance(value, list):
        return _("a list")
    if isinstance(value, dict):
        return _("an object")
    return _("nothing")


def _echo(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 60 else text[:59] + "…"


class _Parser:
    def __init__(self, level: rules.Level, prefix: str, resolve: bool) -> None:
        self.level = level
        self.prefix = prefix
        self.resolve = resolve
        self.errors: list[FieldError] = []

    def path(self, *parts: Any) -> str:
        return ".".join(str(p) for p in (self.prefix, *parts) if p not in ("", None))

    def fail(self, message: str, *parts: Any) -> None:
        self.errors.append(FieldError(self.path(*parts), message))

    # --- segments -------------------------------------------------------------------------------

    def segment_id(self, raw: Any, *parts: Any) -> int | None:
        if isinstance(raw, int) and not isinstance(raw, bool) and 1 <= raw <= 2**63 - 1:
            return raw
        if isinstance(raw, str) and is_id(raw.strip()) and int(raw.strip()) >= 1:
            return int(raw.strip())
        self.fail(
            _("segments are given by their id (a whole number): “%(value)s” is not one")
            % {"value": _echo(raw)},
            *parts,
        )
        return None

    def segments(self, raw: Any) -> tuple[tuple[str, tuple[int, ...]], ...]:
        if raw in (None, {}, []):
            return ()
        # (axis code or None for a flat list, index or None, id) of every id given
        given: list[tuple[str | None, int, int]] = []
        if isinstance(raw, list):
            for index, item in enumerate(raw):
                number = self.segment_id(item, "segments", index)
                if number is not None:
                    given.append((None, index, number))
        elif isinstance(raw, dict):
            for code, ids in raw.items():
                if not isinstance(ids, list) or not ids:
                    self.fail(
                        _(
                            "list the ids of the segments of this axis (at least one), or leave "
                            "the axis out"
                        ),
                        "segments",
                        code,
                    )
                    continue
                for index, item in enumerate(ids):
                    number = self.segment_id(item, "segments", code, index)
                    if number is not None:
                        given.append((str(code), index, number))
        else:
            self.fail(
                _(
                    "“segments” maps axis codes to lists of segment ids (or is a list of "
                    "segment ids), not %(type)s"
                )
                % {"type": _type_name(raw)},
                "segments",
            )
            return ()
        if len(given) > MAX_SEGMENTS:
            self.fail(_("at most %(max)s segments") % {"max": MAX_SEGMENTS}, "segments")
            return ()
        return self.group_by_axis(raw, given)

    def group_by_axis(
        self, raw: Any, given: list[tuple[str | None, int, int]]
    ) -> tuple[tuple[str, tuple[int, ...]], ...]:
        found = {
            s.pk: s
            for s in Segment.objects.filter(pk__in={i for _c, _x, i in given}).select_related(
                "axis"
            )
        }
        axes: dict[str, Axis] = {}
        if isinstance(raw, dict):
            named = {str(code) for code in raw}
            axes = {a.code: a for a in Axis.objects.filter(code__in=named)}
            for code in raw:
                if str(code) not in axes and self.resolve:
                    self.fail(
                        _("no axis has the code “%(code)s”") % {"code": _echo(code)},
                        "segments",
                        code,
                    )
        grouped: dict[str, set[int]] = {}
        for code, index, number in given:
            segment = found.get(number)
            where = ("segments", index) if code is None else ("segments", code, index)
            if segment is None:
                if self.resolve:
                    self.fail(_("no segment has the id %(id)s") % {"id": number}, *where)
                    continue
                if code is None:
                    continue  # a deleted segment of a stored flat list: nothing to group it by
            elif code is not None and code in axes and segment.axis_id != axes[code].pk:
                self.fail(
                    _(
                        "segment %(id)s (“%(segment)s”) is on the axis “%(axis)s”, not on "
                        "“%(wanted)s”"
                    )
                    % {
                        "id": number,
                        "segment": segment.display_name,
                        "axis": segment.axis.display_name,
                        "wanted": axes[code].display_name,
                    },
                    *where,
                )
                continue
            key = code if code is not None else segment.axis.code  # type: ignore[union-attr]
            grouped.setdefault(key, set()).add(number)
        return tuple((code, tuple(sorted(ids))) for code, ids in grouped.items())

    # --- rules ----------------------------------------------------------------------------------

    def rule(self, raw: Any, part: rules.Level) -> rules.Group | None:
        if raw in (None, {}, ""):
            return None
        if part == "contact" and self.level != "contact":
            self.fail(
                _(
                    "a rule on contacts belongs to a contact-level target; to keep organisations "
                    "that have such a contact, use the contacts.… fields in the organisation rule"
                ),
                part,
            )
            return None
        try:
            return rules.parse(raw, level=part, resolve=self.resolve)
        except rules.RuleInvalid as error:
            for e in error.errors:
                self.errors.append(FieldError(self.path(part, e.field), e.message))
            return None


def parse(
    data: Any,
    *,
    level: str,
    allow_empty: bool = False,
    prefix: str = "definition",
    resolve: bool = True,
) -> Definition:
    """Check a definition (JSON, or its text) for a target at `level`.

    `resolve=False` reads a stored definition: ids that name nothing any more (a segment deleted
    since) are kept, and match nobody, rather than refused."""
    if level not in rules.LEVELS:
        raise DefinitionInvalid(
            errors=[
                FieldError(
                    "level",
                    _("“%(value)s” is not a level: use organisation or contact")
                    % {"value": _echo(level)},
                )
            ]
        )
    level = str(level)
    parser = _Parser(level, prefix, resolve)  # type: ignore[arg-type]
    if isinstance(data, str):
        try:
            data = json.loads(data) if data.strip() else {}
        except ValueError:
            raise DefinitionInvalid(
                errors=[FieldError(prefix, _("the definition is not valid JSON"))]
            ) from None
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise DefinitionInvalid(
            errors=[
                FieldError(
                    prefix,
                    _(
                        "a definition is an object with “segments”, “organisation” and "
                        "“contact”, not %(type)s"
                    )
                    % {"type": _type_name(data)},
                )
            ]
        )
    for key in data:
        if key not in KEYS:
            parser.fail(
                _("“%(key)s” is not part of a definition (segments, organisation, contact)")
                % {"key": _echo(key)},
                key,
            )
    definition = Definition(
        level=level,  # type: ignore[arg-type]
        segments=parser.segments(data.get("segments")),
        organisation=parser.rule(data.get("organisation"), "organisation"),
        contact=parser.rule(data.get("contact"), "contact"),
    )
    if not parser.errors and definition.empty and not allow_empty:
        parser.fail(_("a target needs at least one segment or one condition"))
    if parser.errors:
        raise DefinitionInvalid(errors=parser.errors)
    return definition


def build(
    *,
    level: str,
    segment_ids: Any = (),
    organisation: Any = None,
    contact: Any = None,
    allow_empty: bool = False,
) -> Definition:
    """A definition from a form's parts: ticked segment ids (grouped by axis here) and the rule
    groups of the two rule editors."""
    return parse(
        {"segments": list(segment_ids), "organisation": organisation, "contact": contact},
        level=level,
        allow_empty=allow_empty,
    )


def from_stored(data: Any, level: str) -> Definition:
    """A saved definition (`Definition.to_json`) read back as it was saved, without a query:
    for pages that describe many targets (`describe_texts` names what vanished since).
    Raises DefinitionInvalid when it is not in the saved shape."""
    try:
        segments = tuple(
            (str(code), tuple(sorted(int(i) for i in ids)))
            for code, ids in (data.get("segments") or {}).items()
        )
        return Definition(
            level=level,  # type: ignore[arg-type]
            segments=segments,
            organisation=_stored_rule(data.get("organisation"), "organisation"),
            contact=_stored_rule(data.get("contact"), "contact"),
        )
    except (AttributeError, TypeError, ValueError, rules.RuleInvalid) as error:
        raise DefinitionInvalid(
            errors=[FieldError("definition", _("a definition that can no longer be used"))]
        ) from error


def _stored_rule(raw: Any, level: rules.Level) -> rules.Group | None:
    return None if raw is None else rules.parse(raw, level=level, resolve=False)


@dataclass(frozen=True)
class DescribedPart:
    """One line of a definition in words: "Geography: Lille or Paris / Île-de-France"."""

    label: str
    text: str


@dataclass(frozen=True)
class _Names:
    """The segments and axes some definitions name, read once for all of them."""

    segments: dict[int, Segment]
    axes: dict[str, Axis]

    @classmethod
    def of(cls, definitions: Sequence[Definition]) -> _Names:
        ids = {i for d in definitions for _code, group in d.segments for i in group}
        codes = {code for d in definitions for code, _ids in d.segments}
        return cls(
            segments={s.pk: s for s in Segment.objects.filter(pk__in=ids).select_related("axis")},
            axes={a.code: a for a in Axis.objects.filter(code__in=codes)},
        )


def describe(definition: Definition, names: _Names | None = None) -> list[DescribedPart]:
    """The definition in words, in the active language: one line per axis, then the rules."""
    names = names or _Names.of([definition])
    parts: list[DescribedPart] = []
    for code, group in definition.segments:
        axis = names.axes.get(code)
        said = [
            names.segments[i].display_name
            if i in names.segments
            else _("deleted segment #%(id)s") % {"id": i}
            for i in group
        ]
        parts.append(
            DescribedPart(
                label=axis.display_name if axis else code,
                text=f" {_('or')} ".join(said),
            )
        )
    if definition.organisation is not None:
        parts.append(
            DescribedPart(label=_("Organisations"), text=rules.describe(definition.organisation))
        )
    if definition.contact is not None:
        parts.append(DescribedPart(label=_("Contacts"), text=rules.describe(definition.contact)))
    return parts


def describe_texts(definitions: Sequence[Definition]) -> list[str]:
    """`describe_text` of each definition, with two queries for all of them (a list page)."""
    names = _Names.of(definitions)
    return [_one_line(describe(d, names), d) for d in definitions]


def describe_text(definition: Definition) -> str:
    """The definition in one line ("Geography: Lille or Paris; Size: PME")."""
    return _one_line(describe(definition), definition)


def _one_line(parts: list[DescribedPart], definition: Definition) -> str:
    if definition.empty:
        return _("everything")
    return "; ".join(f"{p.label}: {p.text}" for p in parts)
