"""REST endpoints of leads: thin over the selectors and services."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["leads"])
