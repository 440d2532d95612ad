"""The error file: the rejected rows as they were, plus why, ready to fix and import again.

The original columns come in their original order with the original cells, then one "error"
column ("Téléphone: not a phone number; SIREN: …"). The delimiter is the source file's (for a
workbook, the one spreadsheets expect in the user's language), the encoding UTF-8 with a BOM so
that Excel reads accents right, and cells a spreadsheet would run as formulas are neutralised
(core.csv_export). Imported again as it is, the "error" column is left unmapped and the apostrophe
of neutralised cells is taken off (preparing._unquote).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from django.utils import translation
from django.utils.translation import gettext as _

from cible.core.csv_export import neutralise
from cible.quality.imports import registry
from cible.quality.imports.models import ImportRejection, ImportRun

ERROR_HEADER = "error"


def delimiter_of(run: ImportRun) -> str:
    if run.delimiter:
        return run.delimiter
    return ";" if (translation.get_language() or "").startswith("fr") else ","


def error_header(columns: list[str]) -> str:
    return ERROR_HEADER if ERROR_HEADER not in columns else "import error"


def build(run: ImportRun, *, dry_run: bool) -> tuple[str, bytes]:
    """(file name, CSV bytes) of the run's rejected rows (those of its dry run if `dry_run`)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter_of(run), lineterminator="\r\n")
    writer.writerow([neutralise(c) for c in [*run.columns, error_header(run.columns)]])
    rejections = (
        ImportRejection.objects.filter(run=run, dry_run=dry_run)
        .order_by("row")
        .values_list("cells", "errors")
    )
    width = len(run.columns)
    labels = field_labels(run)
    for cells, errors in rejections.iterator(chunk_size=5_000):
        cells = list(cells)[:width] + [""] * (width - len(cells))
        writer.writerow([neutralise(c) for c in cells] + [neutralise(message(errors, labels))])
    stem = Path(run.filename).stem or "import"
    name = _("%(name)s-errors.csv") % {"name": stem}
    return name, ("\ufeff" + buffer.getvalue()).encode("utf-8")


def field_labels(run: ImportRun) -> dict[str, str]:
    entity = registry.get(run.entity)
    return {f.name: str(f.label) for f in entity.fields} if entity else {}


def message(errors: list[dict[str, str]], labels: dict[str, str] | None = None) -> str:
    """ "column X: message; column Y: message" (a field's label when no column holds it)."""
    labels = labels or {}
    parts = []
    for error in errors:
        field = error.get("field") or ""
        where = error.get("column") or labels.get(field) or field
        parts.append(f"{where}: {error['message']}" if where else error["message"])
    return "; ".join(parts)
