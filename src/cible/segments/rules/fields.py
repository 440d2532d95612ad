"""The fields a rule may test, by level, and the hooks higher apps use to add theirs.

A field has a kind (text, number, date, datetime, choice, boolean, reference, list, segment), and
the kind decides its operators (`operators.OPERATORS`). Fields reached through a relation carry
its name in `relation`:

- to-many relations of an organisation (`contacts.function`, `opportunities.stage`) mean
  "has at least one contact (opportunity) such that" — negated operators included: `contacts.
  function not_in [sales]` is "has a contact whose function is not Sales";
- list fields (`installed_products`) test the set as a whole: `any_of`, `none_of`, empty or not;
- a contact's `organisation.<name>` means "has an organisation such that": every such condition is
  false for a contact without organisation.

The organisation's and the contact's own fields are declared here from people's models; the
pipeline app registers its opportunity fields from its `ready()` with `register_field`; the axes
app registers the `segment` pseudo-field's resolver with `register_resolver`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Literal, Protocol

from django.db.models import Q
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

Level = Literal["organisation", "contact"]
LEVELS: tuple[Level, ...] = ("organisation", "contact")

Kind = Literal[
    "text", "number", "date", "datetime", "choice", "boolean", "reference", "list", "segment"
]
TextMode = Literal["fold", "exact"]
Choices = Sequence[tuple[str, Any]] | Callable[[], Sequence[tuple[str, Any]]]


@dataclass(frozen=True, eq=False)
class RuleField:
    """A field rules can test at one level.

    `lookup` is the ORM path from the level's model (`"contacts__function"`); `relation` names
    the to-many or to-one relation it goes through ("" for the model's own columns).
    Text fields compare folded (`mode="fold"`) or exactly after normalising the rule's value
    (`mode="exact"`, with `normalise` for whole values and `fragment` for parts of one).
    Numbers carry their `decimal_places` (0: whole numbers) and bounds.
    """

    name: str
    label: Any  # str or lazy translation
    kind: Kind
    level: Level
    lookup: str
    choices: Choices | None = None
    help: Any = ""
    relation: str = ""
    mode: TextMode = "fold"
    normalise: Callable[[str], str] | None = None
    fragment: Callable[[str], str] | None = None
    decimal_places: int = 0
    minimum: Decimal = Decimal(-(2**31))
    maximum: Decimal = Decimal(2**31 - 1)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, RuleField)
            and (self.level, self.name) == (other.level, other.name)
            and self.lookup == other.lookup
        )

    def __hash__(self) -> int:
        return hash((self.level, self.name))

    @property
    def many(self) -> bool:
        """True when the field is reached through a to-many relation of the level's model."""
        return bool(self.relation) and self.relation != "organisation"

    def choice_list(self) -> list[tuple[str, str]]:
        """(value, label) pairs, labels in the active language."""
        if self.choices is None:
            return []
        pairs = self.choices() if callable(self.choices) else self.choices
        return [(str(value), str(label)) for value, label in pairs]

    def choice_values(self) -> frozenset[str]:
        """The stored values of the choices (they do not depend on the language: cached)."""
        key = (self.level, self.name, self.lookup)
        values = _choice_values.get(key)
        if values is None:
            pairs = self.choices() if callable(self.choices) else (self.choices or ())
            values = frozenset(str(value) for value, _label in pairs)
            _choice_values[key] = values
        return values

    def choice_label(self, value: str) -> str:
        return dict(self.choice_list()).get(value, value)

    @property
    def label_text(self) -> str:
        return str(self.label)


class Resolver(Protocol):
    """How a pseudo-field (`segment`) is checked, turned into SQL and described.

    `unknown(ids)` returns the ids that name nothing; `q(op, ids, path)` filters the level's
    model, `path` being the ORM path to the organisation's id (`"pk"` for organisations);
    `label(id)` names one id for `describe`.
    """

    def unknown(self, ids: Sequence[int]) -> list[int]: ...

    def q(self, op: str, ids: Sequence[int], path: str) -> Q: ...

    def label(self, id_: int) -> str: ...


@dataclass
class _Registry:
    own: dict[Level, dict[str, RuleField]] = field(default_factory=dict)
    extra: dict[str, RuleField] = field(default_factory=dict)  # registered by higher apps
    resolvers: dict[str, Resolver] = field(default_factory=dict)


_registry = _Registry()
_choice_values: dict[tuple[str, str, str], frozenset[str]] = {}


def register_field(rule_field: RuleField) -> None:
    """Add (or replace, by level and name) a field; higher apps call this from `ready()`."""
    _registry.extra[f"{rule_field.level}:{rule_field.name}"] = rule_field
    _cached_fields.clear()
    _choice_values.clear()
    for watcher in _watchers:
        watcher(rule_field)


FieldWatcher = Callable[["RuleField"], None]
_watchers: list[FieldWatcher] = []


def watch_fields(watcher: FieldWatcher) -> None:
    """Call `watcher` with every field of both levels, built in or registered, now and as higher
    apps register theirs: receivers connect to the models behind the fields sender by sender
    (a receiver without a sender would slow every save and stop Django's fast deletes)."""
    _watchers.append(watcher)
    seen: set[int] = set()
    for level in LEVELS:
        for rule_field in fields_for(level):
            if id(rule_field) not in seen:
                seen.add(id(rule_field))
                watcher(rule_field)


def register_resolver(name: str, resolver: Resolver) -> None:
    """Give the pseudo-field `name` (only "segment" today) its resolver."""
    _registry.resolvers[name] = resolver
    _cached_fields.clear()


def resolver_for(name: str) -> Resolver | None:
    return _registry.resolvers.get(name)


_cached_fields: dict[Level, dict[str, RuleField]] = {}


def _own_fields(level: Level) -> dict[str, RuleField]:
    if level not in _registry.own:
        from cible.segments.rules import builtin

        _registry.own[level] = {
            f.name: f for f in (builtin.organisation_fields() if level == "organisation" else ())
        }
        if level == "contact":
            _registry.own[level] = {f.name: f for f in builtin.contact_fields()}
    return _registry.own[level]


def _segment_field(level: Level) -> RuleField:
    return RuleField(
        name="segment",
        label=_("segment"),
        kind="segment",
        level=level,
        lookup="segment",
        help=(
            _("The organisation is (or is not) in one of these segments.")
            if level == "organisation"
            else _(
                "The contact's organisation is (or is not) in one of these segments; false for "
                "a contact without organisation."
            )
        ),
        relation="" if level == "organisation" else "organisation",
    )


def _build(level: Level) -> dict[str, RuleField]:
    fields: dict[str, RuleField] = dict(_own_fields(level))
    if level == "organisation":
        for contact_field in _own_fields("contact").values():
            if contact_field.kind in ("list", "segment"):
                continue
            fields[f"contacts.{contact_field.name}"] = replace(
                contact_field,
                name=f"contacts.{contact_field.name}",
                label=format_lazy(_("contact: {}"), contact_field.label),
                level="organisation",
                lookup=f"contacts__{contact_field.lookup}",
                relation="contacts",
                help=_(
                    "True when at least one contact of the organisation passes the test "
                    "(a negated test too: “has a contact whose … is not …”)."
                ),
            )
    else:
        for org_field in _own_fields("organisation").values():
            fields[f"organisation.{org_field.name}"] = replace(
                org_field,
                name=f"organisation.{org_field.name}",
                label=format_lazy(_("organisation: {}"), org_field.label),
                level="contact",
                lookup=f"organisation__{org_field.lookup}",
                relation="organisation",
                help=_(
                    "Tests the contact's organisation; false for a contact without organisation."
                ),
            )
    for key, extra in _registry.extra.items():
        if key.startswith(f"{level}:"):
            fields[extra.name] = extra
    if "segment" in _registry.resolvers:
        fields["segment"] = _segment_field(level)
    return fields


def fields_for(level: Level) -> list[RuleField]:
    """Every field a rule at `level` may test, in a stable order (own fields first)."""
    return list(_fields(level).values())


def _fields(level: Level) -> dict[str, RuleField]:
    if level not in _cached_fields:
        _cached_fields[level] = _build(level)
    return _cached_fields[level]


def field_for(level: Level, name: str) -> RuleField | None:
    return _fields(level).get(name)
