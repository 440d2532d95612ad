"""Connection arguments for PostgreSQL's client tools, from Django's database settings."""

from __future__ import annotations

import os
from typing import Any


def pg_environment(db: dict[str, Any], tool: str) -> tuple[list[str], dict[str, str]]:
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    command = [tool, "--dbname", str(db["NAME"])]
    if db.get("HOST"):
        command += ["--host", str(db["HOST"])]
    if db.get("PORT"):
        command += ["--port", str(db["PORT"])]
    if db.get("USER"):
        command += ["--username", str(db["USER"])]
    return command, env
