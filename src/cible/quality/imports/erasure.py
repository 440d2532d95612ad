"""What an erasure (privacy app, GDPR art. 17) takes out of the imports app's own tables and files.

An import keeps the original cells of the rows it rejected (`ImportRejection.cells`, and the
messages quoting them), a few values of each column for the mapping step (`ImportRun.samples`),
one example per field the normalisers rewrote (`ImportRun.change_samples`), and the uploaded
file itself (`ImportRun.stored_path`, under VAR_DIR/imports). When a person is anonymised:

- a rejected row is the person's when one of its cells holds one of the values that identify
  them on their own — an email, a phone number (compared by its digits, however it was typed),
  a full name (in one cell, or first and last name in two cells of the row) — compared without
  regard to case. Every cell of that row holding one of their values is then redacted whole,
  and the row's messages lose the values they quoted;
- an import is the person's when its samples hold such a value, when one of its rejected rows
  is theirs, or when it created or updated their record (its batches' audit entries name the
  ids). Its samples and normaliser examples holding one of their values are redacted, and its
  stored file is deleted once the erasure commits: the run stays as the record of what was
  imported, but cannot be checked or resumed again (it says so).

Stored files of finished imports are also deleted after `IMPORT_FILE_RETENTION_DAYS` (see
`retention.py` and docs/operations.md). Registered with `privacy.hooks` in `ImportsConfig.ready`.
"""

from __future__ import annotations

import ipaddress
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import phonenumbers
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q, TextField, Value
from django.db.models.functions import Cast, Replace

from cible.core.values import is_id
from cible.people.models import Contact
from cible.quality.imports.models import ImportRejection, ImportRun
from cible.quality.privacy.personal_data import REDACTED, Scrubber, variants

MIN_PHONE_DIGITS = 8
# Characters people put between the digits of a phone number (taken out before comparing).
PHONE_SEPARATORS = (" ", ".", "-", "(", ")", "/", "\u00a0")
_PHONE_SHAPE = re.compile(r"^\+?[\d\s.\-()/\u00a0]+$")
_EMAIL = re.compile(r"[^\s<>\"';,()\[\]]+@[^\s<>\"';,()\[\]]+")
_NOT_DIGIT = re.compile(r"\D")
# Up to this many identifying values, rejected rows are first narrowed down in the database
# (substring tests); beyond (a retention batch), every row is read and compared in memory.
PREFILTER_LIMIT = 60
# Up to this many values, a cell is also searched for them inside longer text ("Mme Jeanne
# Martin"); beyond, only whole cells and the emails within them are compared.
CONTAINED_LIMIT = 200
CHAIN_DEPTH = 10


def _normal(value: Any) -> str:
    return " ".join(str(value or "").split()).casefold()


def _national_digits(value: str) -> str | None:
    """The national significant number of a phone value ("+33 2 98 44 12 34" → "298441234")."""
    digits = _NOT_DIGIT.sub("", value)
    if len(digits) < MIN_PHONE_DIGITS:
        return None
    try:
        number = phonenumbers.parse(value if value.startswith("+") else f"+{digits}", None)
    except phonenumbers.NumberParseException:
        return digits.lstrip("0") or None
    national = str(number.national_number)
    return national if len(national) >= MIN_PHONE_DIGITS else None


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


class Identity:
    """The values that identify the people being erased, and how a cell or a row is theirs."""

    def __init__(self, identifying: Iterable[str]) -> None:
        self.exact: set[str] = set()  # whole cells: emails, full names, URLs, phones as stored
        self.phones: set[str] = set()  # national significant numbers
        self.partners: dict[str, set[str]] = defaultdict(set)  # "jeanne" -> {"martin"}
        self.contained: list[str] = []  # searched inside longer cells
        for raw in identifying:
            value = _normal(raw)
            if len(value) < 3:
                continue
            self.exact.add(value)
            if _PHONE_SHAPE.match(value) and not _is_ip(value):
                national = _national_digits(value)
                if national:
                    self.phones.add(national)
                continue
            self.contained.append(value)
            if " " in value and "@" not in value and "/" not in value:
                words = value.split(" ")
                for cut in range(1, len(words)):
                    first, last = " ".join(words[:cut]), " ".join(words[cut:])
                    self.partners[first].add(last)
                    self.partners[last].add(first)
        self.phone_lengths = sorted({len(p) for p in self.phones})
        self._pattern = (
            re.compile(
                "|".join(re.escape(v) for v in sorted(self.contained, key=len, reverse=True))
            )
            if self.contained and len(self.contained) <= CONTAINED_LIMIT
            else None
        )

    def __bool__(self) -> bool:
        return bool(self.exact)

    @property
    def parts(self) -> set[str]:
        return set(self.partners)

    def cell(self, value: Any) -> bool:
        """The cell names the person on its own."""
        text = _normal(value)
        if len(text) < 3:
            return False
        if text in self.exact:
            return True
        if "@" in text and any(found in self.exact for found in _EMAIL.findall(text)):
            return True
        if self.phones:
            digits = _NOT_DIGIT.sub("", text)
            if len(digits) >= MIN_PHONE_DIGITS and any(
                digits[-n:] in self.phones for n in self.phone_lengths if n <= len(digits)
            ):
                return True
        return self._pattern is not None and self._pattern.search(text) is not None

    def row(self, cells: Iterable[Any]) -> bool:
        """The row is about the person: a cell names them, or two cells hold their first and
        last names."""
        seen: set[str] = set()
        for cell in cells:
            if self.cell(cell):
                return True
            seen.add(_normal(cell))
        return any(self.partners[part] & seen for part in seen & self.parts)

    def redact(self, cells: Sequence[Any], scrubber: Any) -> tuple[list[Any], list[str]]:
        """The cells of one of the person's rows with each of their values redacted whole, and
        the values taken out."""
        parts = self.parts
        out: list[Any] = []
        taken: list[str] = []
        for cell in cells:
            text = "" if cell is None else str(cell)
            if (
                text.strip()
                and text != REDACTED
                and (self.cell(text) or _normal(text) in parts or scrubber.mentions(text))
            ):
                out.append(REDACTED)
                taken.append(text)
            else:
                out.append(cell)
        return out, taken

    def prefilter(self) -> Q | None:
        """A database condition every row of the person meets (a superset), or None when there
        are too many values for one query."""
        if len(self.exact) + len(self.partners) > PREFILTER_LIMIT:
            return None
        query = Q()
        for value in self.contained:
            query |= _text_contains(value)
        for national in self.phones:
            query |= Q(erasure_digits__contains=national)
        for first, lasts in self.partners.items():
            for last in lasts:
                query |= _text_contains(first) & _text_contains(last)
        return query


def _text_contains(value: str) -> Q:
    query = Q()
    for variant in variants([value]):
        query |= Q(erasure_text__icontains=variant)
    return query


def _digits_of(expression: Any) -> Any:
    for separator in PHONE_SEPARATORS:
        expression = Replace(expression, Value(separator), Value(""), output_field=TextField())
    return expression


# --- the eraser ---------------------------------------------------------------------------------


def erase_people(contact_ids: Sequence[int], scrubber: Any) -> int:
    """The eraser (see `privacy.hooks`): returns how many rejected rows and imports it changed."""
    identity = Identity(getattr(scrubber, "identifying", ()))
    changed, runs = _erase_rejections(identity, scrubber)
    runs |= runs_that_wrote(merged_into(contact_ids))
    changed += _erase_runs(identity, scrubber, runs)
    return changed


def _erase_rejections(identity: Identity, scrubber: Any) -> tuple[int, set[int]]:
    if not identity:
        return 0, set()
    rejections = ImportRejection.objects.all()
    condition = identity.prefilter()
    if condition is not None:
        text = Cast("cells", TextField())
        rejections = rejections.annotate(erasure_text=text, erasure_digits=_digits_of(text)).filter(
            condition
        )
    found = [
        (pk, run_id, cells, errors)
        for pk, run_id, cells, errors in rejections.values_list(
            "pk", "run_id", "cells", "errors"
        ).iterator(chunk_size=2_000)
        if isinstance(cells, list) and identity.row(cells)
    ]
    runs: set[int] = set()
    for pk, run_id, cells, errors in found:
        redacted, taken = identity.redact(cells, scrubber)
        quoted = Scrubber(taken)
        ImportRejection.objects.filter(pk=pk).update(
            cells=redacted, errors=quoted.json(scrubber.json(errors))
        )
        runs.add(run_id)
    return len(found), runs


def merged_into(contact_ids: Iterable[int]) -> set[int]:
    """The contacts and the duplicates merged into them (the merge marks the deleted record's
    audit entry `merged_into`, as the privacy app reads it)."""
    contact_type = ContentType.objects.get_for_model(Contact)
    people = {int(pk) for pk in contact_ids}
    frontier = set(people)
    for _depth in range(CHAIN_DEPTH):
        merged = LogEntry.objects.filter(
            content_type=contact_type,
            action=LogEntry.Action.DELETE,
            additional_data__merged_into__in=sorted(frontier),
        ).values_list("object_pk", flat=True)
        frontier = {int(pk) for pk in merged if is_id(pk)} - people
        if not frontier:
            break
        people |= frontier
    return people


def runs_that_wrote(contact_ids: set[int]) -> set[int]:
    """The imports whose batches created or updated one of the contacts (their audit entries
    name the ids they wrote, as ranges)."""
    if not contact_ids:
        return set()
    contact_type = ContentType.objects.get_for_model(Contact)
    entries = LogEntry.objects.filter(
        content_type=contact_type, object_pk="", additional_data__bulk__has_key="import"
    ).values_list("additional_data", flat=True)
    uuids = set()
    for data in entries.iterator(chunk_size=2_000):
        bulk = (data or {}).get("bulk") or {}
        ranges = [*bulk.get("created_ids", []), *bulk.get("updated_ids", [])]
        if any(low <= pk <= high for low, high in ranges for pk in contact_ids):
            uuids.add(bulk["import"])
    if not uuids:
        return set()
    return set(ImportRun.objects.filter(uuid__in=uuids).values_list("pk", flat=True))


def _erase_runs(identity: Identity, scrubber: Any, runs: set[int]) -> int:
    """Samples and normaliser examples of the person's imports; their stored files."""
    changed = 0
    files: list[Path] = []
    fields = ("pk", "samples", "change_samples", "stored_path", "error_message")
    for run in ImportRun.objects.only(*fields):
        samples = run.samples if isinstance(run.samples, dict) else {}
        examples = run.change_samples if isinstance(run.change_samples, dict) else {}
        bag = [v for values in samples.values() if isinstance(values, list) for v in values]
        bag += [v for pair in examples.values() if isinstance(pair, list) for v in pair]
        if run.pk not in runs and not (identity and identity.row(bag)):
            continue
        new_samples = {
            column: identity.redact(values, scrubber)[0] if isinstance(values, list) else values
            for column, values in samples.items()
        }
        new_examples = {
            field: identity.redact(pair, scrubber)[0] if isinstance(pair, list) else pair
            for field, pair in examples.items()
        }
        update: dict[str, Any] = {}
        if new_samples != samples:
            update["samples"] = new_samples
        if new_examples != examples:
            update["change_samples"] = new_examples
        message = scrubber.text(run.error_message)
        if message != run.error_message:
            update["error_message"] = message
        if run.stored_path:
            files.append(run.stored_file)
            update["stored_path"] = ""
        if update:
            ImportRun.objects.filter(pk=run.pk).update(**update)
            changed += 1
    if files:
        transaction.on_commit(partial(_delete_files, files))
    return changed


def _delete_files(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)
