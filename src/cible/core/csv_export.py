"""CSV exports that are safe to open in a spreadsheet.

Cells starting with = + - @ (or a tab/carriage return) are prefixed with an apostrophe so that
Excel or LibreOffice never evaluates them as formulas (CSV injection). Rows are streamed: an
export of a million rows never sits in memory.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.http import StreamingHttpResponse
from django.utils import timezone

_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> str:
    """The cell as text, defused if a spreadsheet would read it as a formula."""
    if value is None:
        return ""
    text = str(value)
    if text.startswith(_DANGEROUS):
        # A plain negative number is data, not a formula.
        if text.startswith("-") and text[1:].replace(".", "", 1).isdigit():
            return text
        return "'" + text
    return text


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[Any], Any]


class _Echo:
    def write(self, value: str) -> str:
        return value


def rows(columns: Sequence[Column], records: Iterable[Any]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"  # BOM: Excel then reads the file as UTF-8
    yield writer.writerow([c.header for c in columns])
    for record in records:
        yield writer.writerow([neutralise(c.value(record)) for c in columns])


def response(
    filename: str, columns: Sequence[Column], records: Iterable[Any]
) -> StreamingHttpResponse:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    result = StreamingHttpResponse(rows(columns, records), content_type="text/csv; charset=utf-8")
    result["Content-Disposition"] = f'attachment; filename="{filename}-{stamp}.csv"'
    return result
