"""Every write of the import framework: upload, map, check (dry run), import, cancel.

The wizard, `cible import` and the API call these functions. Long work (the dry run, the import)
runs in a Huey task (`tasks.py`) so that it keeps going when the web request ends; the command
line runs the same code in the foreground (`inline=True`). The batch loop and the workers that
run it are in `pipeline.py`.
"""

from __future__ import annotations

import logging
import re
import shutil
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cible.core import access
from cible.core import normalisers as norm
from cible.core.errors import FieldError, NotFound, PermissionDenied, ValidationFailed
from cible.quality.imports import pipeline, registry
from cible.quality.imports.models import (
    ImportRejection,
    ImportRun,
    MappingMemory,
    source_key,
)
from cible.quality.imports.registry import ImportableEntity

logger = logging.getLogger(__name__)

Status = ImportRun.Status
# The mapping may change until a batch has gone in.
MAPPABLE = (Status.UPLOADED, Status.MAPPED, Status.CHECKED, Status.FAILED, Status.CANCELLED)
STARTABLE = (Status.MAPPED, Status.CHECKED, Status.FAILED, Status.CANCELLED)
# A run whose worker has not reported for this long was killed (a batch takes seconds).
STALE_AFTER = timedelta(minutes=3)
# Headers of the column the error file adds: never mapped when that file comes back.
ERROR_HEADERS = frozenset({"error", "errors", "erreur", "erreurs", "import error"})
SAMPLE_VALUES = 5

Progress = Callable[[ImportRun], None]
Stop = Callable[[], bool]


# --- helpers ------------------------------------------------------------------------------------


def imports_dir() -> Path:
    directory = Path(settings.VAR_DIR) / "imports"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def entity_of(name: str) -> ImportableEntity:
    entity = registry.get(name)
    if entity is None:
        known = ", ".join(e.name for e in registry.entities())
        raise ValidationFailed(
            errors=[
                FieldError(
                    "entity",
                    _("unknown kind of record “%(name)s” (one of: %(known)s)")
                    % {"name": name, "known": known},
                )
            ]
        )
    return entity


def may_import(actor: Any, entity: ImportableEntity) -> bool:
    """Importing creates records: only those who may create them may import them."""
    return access.can(actor, "change")


def _require_importer(actor: Any, entity: ImportableEntity) -> None:
    if not may_import(actor, entity):
        raise PermissionDenied(
            _("You may not import %(records)s.")
            % {"records": entity.model._meta.verbose_name_plural}
        )


def sees_run(actor: Any, run: ImportRun) -> bool:
    """A run is visible to the person who uploaded it and to administrators."""
    if access.role_of(actor) is None:
        return False
    return run.created_by_id == getattr(actor, "pk", None) or access.is_admin(actor)


def _require_run(actor: Any, run: ImportRun) -> ImportableEntity:
    if not sees_run(actor, run):
        raise NotFound(_("Not found, or not visible to you."))
    entity = entity_of(run.entity)
    _require_importer(actor, entity)
    return entity


def _is_stale(run: ImportRun) -> bool:
    beat = run.heartbeat_at or run.started_at or run.created_at
    return beat is None or timezone.now() - beat > STALE_AFTER


def _store(file: Any, target: Path) -> None:
    if isinstance(file, str | Path):
        shutil.copyfile(file, target)
        return
    with target.open("wb") as out:
        if isinstance(file, bytes | bytearray):
            out.write(file)
        elif hasattr(file, "chunks"):  # Django's UploadedFile
            for chunk in file.chunks():
                out.write(chunk)
        else:
            if hasattr(file, "seek"):
                file.seek(0)
            shutil.copyfileobj(file, out, 1024 * 1024)


def _suffix(filename: str) -> str:
    suffix = Path(filename).suffix.lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix) else ""


# --- upload and mapping -------------------------------------------------------------------------


def suggest_mapping(
    entity: ImportableEntity, source: str, columns: list[str]
) -> tuple[dict[str, str], str]:
    """(column -> field, where it came from): the source's remembered mapping, else a preset
    recognised from the headers, else suggestions from the header names. Each field once."""
    from cible.quality.imports.mapping import detect_preset, preset_mapping, suggest

    fields = {f.name for f in entity.fields}
    proposals: list[dict[str, str | None]] = []
    origin = "headers"
    memory = MappingMemory.objects.filter(entity=entity.name, source=source_key(source)).first()
    if memory is not None:
        remembered = {c: f for c, f in memory.mapping.items() if c in columns and f in fields}
        if remembered:
            proposals.append(dict(remembered))
            origin = "memory"
    if origin == "headers":
        preset = detect_preset(entity, columns)
        if preset is not None:
            proposals.append(preset_mapping(preset, columns))
            origin = f"preset:{preset.name}"
    proposals.append(suggest(entity, columns))
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for proposal in proposals:
        for column in columns:
            target = proposal.get(column)
            if (
                column in mapping
                or not target
                or (target in taken and target != entity.extras)
                or target not in fields
                or norm.search_key(column) in ERROR_HEADERS
            ):
                continue
            mapping[column] = target
            taken.add(target)
    return {c: mapping[c] for c in columns if c in mapping}, origin


def upload(
    *, actor: Any, entity: str, source: str, file: Any, filename: str, channel: str = "ui"
) -> ImportRun:
    """Keep the file, check it (encoding, delimiter, header, every row's shape) and suggest
    a mapping. Raises ValidationFailed naming the problem of the file (row, column)."""
    from cible.quality.imports.reading import ImportFileError, open_table, read_batches

    kind = entity_of(entity)
    _require_importer(actor, kind)
    source = " ".join((source or "").split())
    errors = []
    if not source:
        errors.append(
            FieldError(
                "source",
                _("is required: say where the file comes from, e.g. “Salesforce export”"),
            )
        )
    elif len(source) > 200:
        errors.append(FieldError("source", _("is too long (at most 200 characters)")))
    if errors:
        raise ValidationFailed(errors=errors)
    run = ImportRun(entity=kind.name, source=source, filename=Path(filename).name[:255])
    target = imports_dir() / f"{run.uuid}{_suffix(filename)}"
    try:
        _store(file, target)
        table = open_table(target, filename=filename)
        first = next(read_batches(table, batch_size=200), None)
    except ImportFileError as error:
        target.unlink(missing_ok=True)
        raise ValidationFailed(str(error), errors=[FieldError("file", str(error))]) from None
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    mapping, origin = suggest_mapping(kind, source, table.columns)
    run.stored_path = str(target.relative_to(Path(settings.VAR_DIR)))
    run.format = table.format
    run.encoding = table.encoding or ""
    run.delimiter = table.delimiter or ""
    run.columns = table.columns
    run.rows_total = table.rows
    run.mapping = mapping
    run.suggested_from = origin
    run.samples = _samples(first, table.columns)
    run.key = _default_key(kind, mapping)
    run.channel = str(channel)
    run.created_by = actor if getattr(actor, "pk", None) else None
    run.save()
    return run


def _samples(frame: Any, columns: list[str]) -> dict[str, list[str]]:
    if frame is None:
        return {}
    samples = {}
    for column in columns:
        values = [v for v in frame.get_column(column).drop_nulls().head(50).to_list() if v]
        samples[column] = [v[:80] for v in dict.fromkeys(values)][:SAMPLE_VALUES]
    return samples


def _key_fields(key: str) -> set[str]:
    """The fields that give a key its value (the SIREN also comes from a SIRET…)."""
    return {"siren": {"siren", "siret"}, "domain": {"domain", "website"}}.get(key, {key})


def _default_key(entity: ImportableEntity, mapping: Mapping[str, str | None]) -> str:
    mapped = set(mapping.values())
    for key in entity.keys:
        if (_key_fields(key.field) | {key.name}) & mapped:
            return key.name
    return entity.keys[0].name if entity.keys else ""


def configure(
    run: ImportRun, *, actor: Any, mapping: Mapping[str, str | None], key: str, policy: str
) -> ImportRun:
    """Set the mapping (column -> field or None), the match key and the policy; remembered for
    the next file of the same source. Refused once a batch has gone in."""
    entity = _require_run(actor, run)
    if run.is_active:
        raise ValidationFailed(
            _("This file is being checked or imported: wait for the end, or cancel first.")
        )
    if run.status not in MAPPABLE or run.batches.exists():
        raise ValidationFailed(
            _("This import has already started: its mapping can no longer change.")
        )
    fields = {f.name: f for f in entity.fields}
    errors: list[FieldError] = []
    clean: dict[str, str] = {}
    by_field: dict[str, list[str]] = {}
    for column, target in mapping.items():
        if column not in run.columns:
            errors.append(
                FieldError(
                    "mapping",
                    _("the file has no column “%(column)s”") % {"column": column},
                )
            )
            continue
        if not target:
            continue
        if target not in fields:
            errors.append(
                FieldError(
                    column,
                    _("“%(field)s” is not a field of %(records)s")
                    % {"field": target, "records": entity.model._meta.verbose_name_plural},
                )
            )
            continue
        clean[column] = target
        by_field.setdefault(target, []).append(column)
    for target, columns in by_field.items():
        if len(columns) > 1 and target != entity.extras:  # extras keep many columns
            message = _("%(field)s is chosen for several columns (%(columns)s): keep one") % {
                "field": fields[target].label,
                "columns": ", ".join(f"“{c}”" for c in columns),
            }
            errors.extend(FieldError(column, message) for column in columns[1:])
    if not clean and not errors:
        errors.append(FieldError("mapping", _("choose the field of at least one column")))
    match = next((k for k in entity.keys if k.name == key), None)
    if match is None:
        known = ", ".join(k.name for k in entity.keys)
        errors.append(
            FieldError(
                "key",
                _("unknown match key “%(key)s” (one of: %(known)s)") % {"key": key, "known": known},
            )
        )
    elif not (_key_fields(match.field) | {match.name}) & set(clean.values()):
        errors.append(
            FieldError(
                "key",
                _("no column is mapped to %(key)s: map one, or find records by another key")
                % {"key": match.label},
            )
        )
    if policy not in ImportRun.Policy.values:
        errors.append(
            FieldError(
                "policy",
                _("unknown policy “%(policy)s” (one of: %(known)s)")
                % {"policy": policy, "known": ", ".join(ImportRun.Policy.values)},
            )
        )
    if errors:
        raise ValidationFailed(errors=errors)
    with transaction.atomic():
        run.mapping = clean
        run.key = key
        run.policy = policy
        run.status = Status.MAPPED
        run.dry_run_counts = {}
        run.error_message = ""
        run.save(
            update_fields=["mapping", "key", "policy", "status", "dry_run_counts", "error_message"]
        )
        run.rejections.filter(dry_run=True).delete()
        MappingMemory.objects.update_or_create(
            entity=run.entity, source=source_key(run.source), defaults={"mapping": clean}
        )
    return run


def discard(run: ImportRun, *, actor: Any) -> None:
    """Forget a run that never wrote anything, and its stored file."""
    _require_run(actor, run)
    if run.batches.exists():
        raise ValidationFailed(_("This import has written records: it is kept as their record."))
    if run.stored_path:
        run.stored_file.unlink(missing_ok=True)
    run.delete()


# --- dry run, import, cancel --------------------------------------------------------------------


def _claim(run: ImportRun, allowed: tuple[str, ...], **changes: Any) -> bool:
    """Move the run to a new status only from an allowed one (two clicks start one task)."""
    moved = ImportRun.objects.filter(pk=run.pk, status__in=allowed).update(**changes)
    if moved:
        run.refresh_from_db()
    return bool(moved)


def check(
    run: ImportRun,
    *,
    actor: Any,
    inline: bool = False,
    progress: Progress | None = None,
    stop: Stop | None = None,
) -> ImportRun:
    """The dry run, in the background: what would be created, updated, unchanged, rejected."""
    _require_run(actor, run)
    allowed: tuple[str, ...] = (Status.MAPPED, Status.CHECKED, Status.FAILED, Status.CANCELLED)
    if run.status == Status.CHECKING and _is_stale(run):
        allowed = (*allowed, Status.CHECKING)
    if run.batches.exists() or not _claim(
        run,
        allowed,
        status=Status.CHECKING,
        rows_checked=0,
        dry_run_counts={},
        cancel_requested=False,
        error_message="",
        heartbeat_at=timezone.now(),
    ):
        run.refresh_from_db()
        raise ValidationFailed(
            _("This import cannot be checked now (it is %(status)s).")
            % {"status": run.get_status_display()}
        )
    if inline:
        return pipeline.run_check(
            run.pk, actor_id=getattr(actor, "pk", None), progress=progress, stop=stop
        )
    from cible.quality.imports import tasks

    tasks.check_run(run.pk, getattr(actor, "pk", None))
    run.refresh_from_db()
    return run


def start(
    run: ImportRun,
    *,
    actor: Any,
    inline: bool = False,
    progress: Progress | None = None,
    stop: Stop | None = None,
    force: bool = False,
) -> ImportRun:
    """The real import, in the background (or `inline`, for the command line).

    A run that failed, was cancelled or was killed resumes after its last committed batch;
    `force` resumes a RUNNING run whose worker seems alive (the batches' own check still stops
    two workers from writing the same rows).
    """
    _require_run(actor, run)
    allowed: tuple[str, ...] = STARTABLE
    if run.status == Status.RUNNING and (force or _is_stale(run)):
        allowed = (*allowed, Status.RUNNING)
    resuming = run.batches.exists()
    reset: dict[str, Any] = {}
    if not resuming:
        reset = {"rows_done": 0, "counts": {}, "changes": {}, "change_samples": {}, "timings": {}}
    now = timezone.now()
    if not _claim(
        run,
        allowed,
        status=Status.RUNNING,
        cancel_requested=False,
        error_message="",
        finished_at=None,
        started_at=run.started_at if resuming and run.started_at else now,
        heartbeat_at=now,
        **reset,
    ):
        run.refresh_from_db()
        raise ValidationFailed(
            _("This import cannot be started now (it is %(status)s).")
            % {"status": run.get_status_display()}
        )
    if not resuming:
        ImportRejection.objects.filter(run=run, dry_run=False).delete()
    if inline:
        return pipeline.run_import(
            run.pk, actor_id=getattr(actor, "pk", None), progress=progress, stop=stop
        )
    from cible.quality.imports import tasks

    tasks.import_run(run.pk, getattr(actor, "pk", None))
    run.refresh_from_db()
    return run


def cancel(run: ImportRun, *, actor: Any) -> ImportRun:
    """Stop after the current batch; the batches already committed stay in."""
    _require_run(actor, run)
    if run.status == Status.DONE:
        raise ValidationFailed(_("This import has finished: there is nothing to cancel."))
    if run.is_active and not _is_stale(run):
        ImportRun.objects.filter(pk=run.pk).update(cancel_requested=True)
    elif run.status == Status.CHECKING:
        _claim(run, (Status.CHECKING,), status=Status.MAPPED, cancel_requested=False)
    else:
        _claim(
            run,
            tuple(s for s in Status.values if s != Status.DONE),
            status=Status.CANCELLED,
            finished_at=timezone.now(),
        )
    run.refresh_from_db()
    return run


def error_file(run: ImportRun, *, dry_run: bool) -> tuple[str, bytes]:
    """The rejected rows: the original columns, in their order, plus an error column."""
    from cible.quality.imports.errorfile import build

    return build(run, dry_run=dry_run)


def committed_rows(run: ImportRun) -> int:
    """The last row of the file that went in (0 if none): the mapping is frozen after it."""
    return pipeline.committed_rows(run)


def run_check(
    run_id: int, *, actor_id: int | None, progress: Progress | None = None, stop: Stop | None = None
) -> ImportRun:
    """The worker's side of `check` (Huey task or `inline`): see `pipeline.run_check`."""
    return pipeline.run_check(run_id, actor_id=actor_id, progress=progress, stop=stop)


def run_import(
    run_id: int, *, actor_id: int | None, progress: Progress | None = None, stop: Stop | None = None
) -> ImportRun:
    """The worker's side of `start` (Huey task or `inline`): see `pipeline.run_import`."""
    return pipeline.run_import(run_id, actor_id=actor_id, progress=progress, stop=stop)
