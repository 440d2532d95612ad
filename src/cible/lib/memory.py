"""Helpers for bulk work in memory."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def no_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while bulk work allocates millions of small, acyclic
    objects (a dict per row, lists per column): it would walk them again and again, for nothing
    (a third of the time of a batch). Reference counting still frees them; nests safely."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
