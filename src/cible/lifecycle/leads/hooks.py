"""The pipeline turns a lead into a deal; leads sits below it (ARCHITECTURE.md layers), so the
pipeline registers its converter here and the lead page and API call it through `convert`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _

from cible.core.errors import ValidationFailed

Converter = Callable[..., Any]
_converters: list[Converter] = []


def register_converter(converter: Converter) -> None:
    """`converter(lead=, actor=, channel=, name=, one_time_amount=, recurring_amount=,
    expected_close_date=, owner=, version=)` returns the opportunity it created."""
    _converters[:] = [converter]


def convert(**kwargs: Any) -> Any:
    if not _converters:
        raise ValidationFailed(_("Leads cannot be converted: the pipeline is not installed."))
    return _converters[0](**kwargs)
