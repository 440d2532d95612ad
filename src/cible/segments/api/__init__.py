"""The REST API of segmentation (SPEC C3): axes and segments, targets, ideal customer profiles.

One router per part, assembled here and mounted by `cible.api` under /api/v1/.
"""

from __future__ import annotations

from ninja import Router

from cible.segments.api.axes import router as axes_router
from cible.segments.api.profiles import router as profiles_router
from cible.segments.api.targets import router as targets_router

router = Router()
router.add_router("", axes_router)
router.add_router("", targets_router)
router.add_router("", profiles_router)

__all__ = ["router"]
