"""Typed readers for settings taken from the environment.

They fail loudly at start-up on a malformed value: a server that starts with a silently
ignored setting is worse than one that refuses to start.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


class EnvError(ValueError):
    """A CIBLE_* variable holds a value that cannot be used."""


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default).strip() or default


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise EnvError(f"{name} must be true or false, not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise EnvError(f"{name} must be a whole number, not {raw!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def secret_key(name: str, keep_in: Path) -> str:
    """The secret key from the environment, else one generated on first run and kept on disk."""
    if value := os.environ.get(name, "").strip():
        return value
    if keep_in.exists():
        return keep_in.read_text().strip()
    keep_in.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(50)
    keep_in.write_text(value)
    keep_in.chmod(0o600)
    return value
