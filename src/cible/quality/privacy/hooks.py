"""Where other apps plug into an erasure.

Most of a person's data is found generically (the contact's own columns, their audit entries,
the audit entries of records related to them). An app that keeps personal text elsewhere — raw
rows of an import file, say — registers an eraser: it receives the ids of the contacts being
anonymised and a `Scrubber` that knows their values, removes what it holds, and returns how many
rows it changed. It runs inside the erasure's transaction, after the contacts were blanked: the
values are the scrubber's (`strings`, every value to take out; `identifying`, those that name
the person on their own — emails, phones, full names, including past ones — to find the rows
that are about them).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

Eraser = Callable[[Sequence[int], Any], int]
_erasers: list[Eraser] = []


def register_eraser(eraser: Eraser) -> None:
    if eraser not in _erasers:
        _erasers.append(eraser)


def erasers() -> list[Eraser]:
    return list(_erasers)
