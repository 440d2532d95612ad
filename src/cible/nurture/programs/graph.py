"""The shape of a program (pure: no database, unit-tested alone).

A program is an acyclic graph walked from its first step: each step goes on to `next`, a branch
to `yes` or `no`. Before a program runs, its shape must be sound (issue 7, Bad input): every step
reachable, no loop (a contact would walk it for ever), a branch with both exits, no program
enrolling contacts into itself. Each problem names its step.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

BRANCH = "branch"
EXIT = "exit"
ENROL = "enrol_program"


@dataclass(frozen=True)
class Node:
    id: int
    kind: str
    name: str
    next: int | None = None
    yes: int | None = None
    no: int | None = None
    config: Mapping[str, object] = field(default_factory=dict)

    def exits(self) -> list[int]:
        if self.kind == BRANCH:
            return [pk for pk in (self.yes, self.no) if pk is not None]
        if self.kind == EXIT:
            return []
        return [self.next] if self.next is not None else []


@dataclass(frozen=True)
class Problem:
    step: int | None  # None: the program as a whole
    message: str


def reachable(nodes: Mapping[int, Node], entry: int | None) -> set[int]:
    seen: set[int] = set()
    stack: list[int] = [entry] if entry is not None and entry in nodes else []
    while stack:
        pk = stack.pop()
        if pk in seen or pk not in nodes:
            continue
        seen.add(pk)
        stack.extend(nodes[pk].exits())
    return seen


def loop_closers(nodes: Mapping[int, Node]) -> list[tuple[int, int]]:
    """Edges (from, to) that close a loop, found by a depth-first walk (iterative: a program
    may be long). Each loop is reported once, at the edge going back."""
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(nodes, white)
    found: list[tuple[int, int]] = []
    for root in sorted(nodes):
        if colour[root] != white:
            continue
        colour[root] = grey
        stack: list[tuple[int, list[int]]] = [(root, list(nodes[root].exits()))]
        while stack:
            pk, pending = stack[-1]
            if not pending:
                colour[pk] = black
                stack.pop()
                continue
            child = pending.pop(0)
            if child not in nodes:
                continue
            if colour[child] == grey:
                found.append((pk, child))
            elif colour[child] == white:
                colour[child] = grey
                stack.append((child, list(nodes[child].exits())))
    return found


def check(nodes: Iterable[Node], *, entry: int | None, program_id: int | None) -> list[Problem]:
    """Every problem of the program's shape, in step order."""
    by_id = {node.id: node for node in nodes}
    if not by_id:
        return [Problem(None, _("The program has no steps yet."))]
    problems: list[Problem] = []
    if entry is None or entry not in by_id:
        problems.append(Problem(None, _("Choose the program's first step.")))
    else:
        seen = reachable(by_id, entry)
        for pk in sorted(set(by_id) - seen):
            problems.append(
                Problem(
                    pk,
                    _("%(step)s cannot be reached from the first step.") % {"step": by_id[pk].name},
                )
            )
    for source, target in loop_closers(by_id):
        problems.append(
            Problem(
                source,
                _("%(step)s leads back to %(target)s: an endless loop.")
                % {"step": by_id[source].name, "target": by_id[target].name},
            )
        )
    for node in sorted(by_id.values(), key=lambda n: n.id):
        if node.kind == BRANCH:
            for answer, onward in ((_("yes"), node.yes), (_("no"), node.no)):
                if onward is None:
                    problems.append(
                        Problem(
                            node.id,
                            _("%(step)s has no step for its “%(answer)s” answer.")
                            % {"step": node.name, "answer": answer},
                        )
                    )
        if node.kind == ENROL and program_id is not None:
            enrols_into = node.config.get("program")
            if enrols_into is not None and str(enrols_into) == str(program_id):
                problems.append(
                    Problem(
                        node.id,
                        _("%(step)s enrols contacts into this same program.") % {"step": node.name},
                    )
                )
    return sorted(problems, key=lambda p: (p.step is not None, p.step or 0))


def depths(nodes: Mapping[int, Node], entry: int | None) -> dict[int, int]:
    """How far each reachable step is from the first one, along the longest path (so a step
    where two branches meet is drawn after both). Bounded: a draft may still hold a loop."""
    depth: dict[int, int] = {entry: 0} if entry is not None and entry in nodes else {}
    for _round in range(len(nodes)):
        changed = False
        for pk, level in list(depth.items()):
            for child in nodes[pk].exits():
                if child in nodes and depth.get(child, -1) < level + 1 <= len(nodes):
                    depth[child] = level + 1
                    changed = True
        if not changed:
            break
    return depth
