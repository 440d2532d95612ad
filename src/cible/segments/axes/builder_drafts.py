"""The rule builder's draft: reading what the page posts, structural edits, errors by path.

A draft is a rule group as JSON, possibly incomplete. `draft_from` reads it from the hidden input
(or an initial dict), `edit` applies one structural edit (add a condition or a group, remove one,
change a field or an operator) and `settle` keeps each condition's operator in its field's kind;
`error_key`, `where` and `path_errors` turn `RuleInvalid` paths ("conditions.0.value") into the
node keys the builder shows them on. No rendering here (`builder_display`), no form (`builder`).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from cible.core.values import is_id
from cible.segments import rules
from cible.segments.rules.operators import MAX_DEPTH, shape_of

Draft = dict[str, Any]  # a rule group as JSON, possibly incomplete


# --- reading what the page posts ------------------------------------------------------------------


def draft_from(raw: Any) -> Draft | None:
    """The rule posted by the builder (JSON text), a dict (initial values), or None."""
    if raw in (None, ""):
        return None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return None
    return raw if isinstance(raw, dict) else None


def is_blank(draft: Draft | None) -> bool:
    """True when the builder holds no condition at all (an optional rule left empty)."""
    if not draft:
        return True
    items = draft.get("conditions")
    if not isinstance(items, list):
        return False
    return all(isinstance(item, dict) and "conditions" in item and is_blank(item) for item in items)


def _node_at(draft: Draft, path: Sequence[int]) -> Any:
    node: Any = draft
    for index in path:
        items = node.get("conditions") if isinstance(node, dict) else None
        if not isinstance(items, list) or not 0 <= index < len(items):
            return None
        node = items[index]
    return node


def parse_path(text: str) -> tuple[int, ...] | None:
    """ "0.2.1" → (0, 2, 1); "" → () (the root group); anything else → None."""
    if text == "":
        return ()
    parts = text.split(".")
    if len(parts) > MAX_DEPTH + 1 or not all(is_id(p) and len(p) < 4 for p in parts):
        return None
    return tuple(int(p) for p in parts)


def default_op(kind: str) -> str:
    return {"text": "equals", "number": "equals"}.get(kind, rules.OPERATORS[kind][0])


def _value_fits(op: str, value: Any) -> bool:
    shape = shape_of(op)
    if shape == "none":
        return False
    if shape == "many":
        return isinstance(value, list)
    if shape == "pair":
        return isinstance(value, list) and len(value) == 2
    return not isinstance(value, list | dict)


def settle(condition: dict[str, Any], level: rules.Level) -> None:
    """Give a condition whose field changed an operator of the field's kind (the page may post
    the old operator while the builder is being redrawn)."""
    rule_field = rules.field_for(level, str(condition.get("field") or ""))
    if rule_field is None:
        return
    allowed = rules.OPERATORS[rule_field.kind]
    if condition.get("op") not in allowed:
        condition["op"] = default_op(rule_field.kind)
        condition.pop("value", None)
    if shape_of(condition["op"]) == "none":
        condition.pop("value", None)


def settle_all(node: Any, level: rules.Level) -> None:
    if isinstance(node, dict) and isinstance(node.get("conditions"), list):
        for item in node["conditions"]:
            settle_all(item, level)
    elif isinstance(node, dict):
        settle(node, level)


def edit(draft: Draft | None, *, action: str, at: str, level: rules.Level) -> Draft:
    """The draft after one structural edit at path `at` (a group for add, a node otherwise)."""
    result: Draft = copy.deepcopy(draft) if draft else {"match": "all", "conditions": []}
    result.setdefault("match", "all")
    if not isinstance(result.get("conditions"), list):
        result["conditions"] = []
    path = parse_path(at)
    node = _node_at(result, path) if path is not None else None
    if action in ("add", "add_group") and isinstance(node, dict) and "conditions" in node:
        if not isinstance(node["conditions"], list):
            node["conditions"] = []
        if action == "add":
            node["conditions"].append({"field": "", "op": ""})
        elif len(path or ()) + 1 < MAX_DEPTH:
            node["conditions"].append({"match": "any", "conditions": [{"field": "", "op": ""}]})
    elif action == "remove" and path:
        parent = _node_at(result, path[:-1])
        items = parent.get("conditions") if isinstance(parent, dict) else None
        if isinstance(items, list) and 0 <= path[-1] < len(items):
            del items[path[-1]]
    elif action == "field" and isinstance(node, dict) and "field" in node:
        node.pop("value", None)
        node["op"] = ""
        settle(node, level)
    elif action == "op" and isinstance(node, dict) and "field" in node:
        if not _value_fits(str(node.get("op") or ""), node.get("value")):
            node.pop("value", None)
        settle(node, level)
    settle_all(result, level)
    return result


# --- errors by path -------------------------------------------------------------------------------


def error_key(path: str) -> tuple[str, str]:
    """A `RuleInvalid` path → (node key "0.1" — "" for the root group —, the part it names:
    field, op, value, match or conditions, "" for the node itself)."""
    tokens = [t for t in path.split(".") if t]
    nodes: list[str] = []
    while len(tokens) >= 2 and tokens[0] == "conditions" and is_id(tokens[1]):
        nodes.append(tokens[1])
        tokens = tokens[2:]
    return ".".join(nodes), tokens[0] if tokens else ""


def where(path: str) -> str:
    """A path said to a person: "condition 2 of group 1" — positions count from 1."""
    key, _part = error_key(path)
    if not key:
        return ""
    numbers = [int(n) + 1 for n in key.split(".")]
    text = pgettext("rule builder", "condition %(n)s") % {"n": numbers[-1]}
    for number in reversed(numbers[:-1]):
        text = _("%(inner)s of group %(n)s") % {"inner": text, "n": number}
    return text


def path_errors(errors: Sequence[Any], prefix: str = "") -> dict[str, list[str]]:
    """FieldErrors whose field starts with `prefix` → messages by node key."""
    found: dict[str, list[str]] = {}
    for error in errors:
        name = error.field or ""
        if prefix:
            if name != prefix and not name.startswith(f"{prefix}."):
                continue
            name = name[len(prefix) + 1 :]
        key, _part = error_key(name)
        found.setdefault(key, []).append(error.message)
    return found


__all__ = [
    "Draft",
    "default_op",
    "draft_from",
    "edit",
    "error_key",
    "is_blank",
    "parse_path",
    "path_errors",
    "settle",
    "settle_all",
    "where",
]
