from typing import Any

from django.http import HttpRequest

from cible.core import access


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    return {
        "is_admin": access.is_admin(user) if user is not None else False,
    }
