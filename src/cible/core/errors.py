"""Domain errors. Every app names its own under `CibleError`; views and the API turn them into
form messages and 4xx answers in one place (`cible.api` and `core.views_helpers`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class CibleError(Exception):
    """Base of every domain error."""

    status_code = 400

    def __init__(self, message: str = "", errors: list[FieldError] | None = None) -> None:
        self.errors = errors or ([FieldError("", message)] if message else [])
        super().__init__(message or "; ".join(f"{e.field}: {e.message}" for e in self.errors))


class ValidationFailed(CibleError):
    """Input that cannot be stored; `errors` names each field and its problem."""

    status_code = 422


class ConflictError(CibleError):
    """Somebody else changed the record since it was read (optimistic concurrency)."""

    status_code = 409


class TokenRefused(CibleError):
    """An API token that is unknown, revoked, expired, or whose account is disabled."""

    status_code = 401


class PermissionDenied(CibleError):
    status_code = 403


class NotFound(CibleError):
    status_code = 404
