"""The rule language of segments, targets, ICP criteria and personas (SPEC C3). No database access.

A rule is JSON — groups (`{"match": "all"|"any", "conditions": [...]}`) of conditions
(`{"field": …, "op": …, "value": …}`) nesting up to five levels — at the organisation or the
contact level. `parse` checks it against the fields of its level and types its values (or raises
`RuleInvalid` naming each problem by its path); `to_q` turns it into a filter; `matches` tests one
record in Python with the same answer (property-based tests prove the two agree on SQLite and
PostgreSQL); `describe` says it in words.

Semantics worth knowing (they hold in SQL and in Python alike):
- free text compares case- and accent-insensitively through `fold`; normalised fields (codes,
  postal codes, domains, e-mails, the name key) compare exactly after normalising the rule's value;
- a negated operator (`not_equals`, `not_in`, `not_contains`, `not_in_last_days`, `is_not_empty`,
  `none_of`) is true exactly when its positive twin is false, a missing value included;
- on a to-many relation (`contacts.*`, `opportunities.*`) a condition means "at least one related
  row such that", each condition on its own; `organisation.*` at contact level means "has an
  organisation such that" (false without one); lists (`installed_products`) are tested whole.
"""

from cible.segments.rules.describe import describe
from cible.segments.rules.evaluate import matches, value_matches
from cible.segments.rules.fields import (
    LEVELS,
    Kind,
    Level,
    Resolver,
    RuleField,
    field_for,
    fields_for,
    register_field,
    register_resolver,
    resolver_for,
    watch_fields,
)
from cible.segments.rules.fold import Fold, fold
from cible.segments.rules.operators import NEGATIONS, OPERATORS, operator_label
from cible.segments.rules.parse import KIND_NAMES, RuleInvalid, parse
from cible.segments.rules.sql import to_q
from cible.segments.rules.tree import Condition, Group, Node

__all__ = [
    "KIND_NAMES",
    "LEVELS",
    "NEGATIONS",
    "OPERATORS",
    "Condition",
    "Fold",
    "Group",
    "Kind",
    "Level",
    "Node",
    "Resolver",
    "RuleField",
    "RuleInvalid",
    "describe",
    "field_for",
    "fields_for",
    "fold",
    "matches",
    "operator_label",
    "parse",
    "register_field",
    "register_resolver",
    "resolver_for",
    "to_q",
    "value_matches",
    "watch_fields",
]
