"""Signals of the axes app, for apps that depend on segment membership (fit scores, targets).

`memberships_changed(sender=Membership, organisation_ids=…)` is sent after membership was
written: by a refresh or a hand change (`organisation_ids`: the organisations whose segments
changed), or by a rebuild (`organisation_ids=None`: anything may have changed). Rule membership
is written set-based, without model signals; this is the one notice.
"""

from __future__ import annotations

from django.dispatch import Signal

memberships_changed = Signal()
