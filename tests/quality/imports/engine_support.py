"""Helpers of the engine's tests: files written as people write them, runs driven through the
services exactly as the wizard, the API and the command line drive them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cible.quality.imports import services
from cible.quality.imports.models import ImportRun


@pytest.fixture(autouse=True)
def var_dir(settings: Any, tmp_path: Path) -> Path:
    """Uploaded files go to a temporary directory, not to the checkout's var/."""
    settings.VAR_DIR = tmp_path / "var"
    return settings.VAR_DIR


def csv_bytes(rows: list[list[str]], *, delimiter: str = ";", encoding: str = "utf-8") -> bytes:
    lines = []
    for row in rows:
        cells = []
        for cell in row:
            if any(c in cell for c in (delimiter, '"', "\n")):
                cell = '"' + cell.replace('"', '""') + '"'
            cells.append(cell)
        lines.append(delimiter.join(cells))
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def upload(
    actor: Any,
    rows: list[list[str]] | bytes,
    *,
    entity: str = "organisations",
    source: str = "Salon VivaTech 2026",
    filename: str = "file.csv",
    channel: str = "ui",
) -> ImportRun:
    content = rows if isinstance(rows, bytes) else csv_bytes(rows)
    return services.upload(
        actor=actor, entity=entity, source=source, file=content, filename=filename, channel=channel
    )


def imported(
    actor: Any,
    rows: list[list[str]] | bytes,
    *,
    key: str,
    policy: str = "fill_empty",
    mapping: dict[str, str | None] | None = None,
    dry_run: bool = False,
    **options: Any,
) -> ImportRun:
    """Upload, map (the suggested mapping unless given), then dry-run or import."""
    run = upload(actor, rows, **options)
    services.configure(
        run,
        actor=actor,
        mapping=mapping if mapping is not None else run.mapping,
        key=key,
        policy=policy,
    )
    if dry_run:
        return services.check(run, actor=actor)
    return services.start(run, actor=actor)
