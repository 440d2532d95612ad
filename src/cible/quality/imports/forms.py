"""Forms of the import wizard: they collect raw choices; the services decide what is valid.

The mapping form is built per run (one select per column of the file), so its field names are
positional (`column_0`, `column_1`, …) and `mapping()` turns them back into column → field.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from cible.core.errors import CibleError
from cible.core.forms import StyledForm
from cible.quality.imports.registry import ImportableEntity

SOURCE_MAX_LENGTH = 200

# One line per choice, shown under it: what the choice does to records already in Cible.
KEY_HELP: dict[str, Any] = {
    "external_id": _(
        "The record's identifier in the source system; matched within this source only."
    ),
    "siren": _("The 9-digit company number: one organisation per company."),
    "siret": _("The 14-digit number of an establishment: one organisation per site."),
    "domain": _("The website's domain (example.fr), taken from the website column."),
    "email": _("The contact's email address, compared without case."),
}
POLICY_HELP: dict[str, Any] = {
    "fill_empty": _(
        "Existing records keep what they have; only their empty fields are filled from the file."
    ),
    "overwrite": _("Values from the file replace those of existing records."),
    "skip": _("Existing records are left untouched; only new records are created."),
}


def title(label: Any) -> str:
    """A field's or entity's label with a capital, in the active language."""
    return capfirst(str(label))


class UploadForm(StyledForm):
    entity = forms.ChoiceField(label=_("What the file holds"))
    source = forms.CharField(
        label=_("Source"),
        max_length=SOURCE_MAX_LENGTH,
        help_text=_(
            "Where the file comes from, e.g. “Salesforce export” or “Salon VivaTech 2026”. "
            "The column mapping is remembered per source."
        ),
        widget=forms.TextInput(attrs={"list": "source-options", "autocomplete": "off"}),
    )
    file = forms.FileField(
        label=_("File"),
        allow_empty_file=True,  # the service says what is wrong with it, empty or not
        help_text=_("CSV (any delimiter, UTF-8 or Windows encodings) or Excel (.xlsx)."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.tsv,.xlsx"}),
    )

    def __init__(self, *args: Any, entities: Sequence[ImportableEntity], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(e.name, title(e.label)) for e in entities]
        self.fields["entity"].choices = choices  # type: ignore[attr-defined]


class MappingForm(StyledForm):
    """One select per file column, the match key and the policy for existing records."""

    def __init__(
        self,
        *args: Any,
        entity: ImportableEntity,
        columns: Sequence[str],
        policies: Sequence[tuple[str, Any]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.entity = entity
        self.columns = list(columns)
        targets: list[tuple[str, Any]] = [("", _("Ignore this column"))]
        targets += [(f.name, title(f.label)) for f in entity.fields]
        for index, column in enumerate(self.columns):
            self.fields[f"column_{index}"] = forms.ChoiceField(
                label=column,
                choices=targets,
                required=False,
                widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
            )
        self.fields["key"] = forms.ChoiceField(
            label=_("Find existing records by"),
            choices=[(k.name, title(k.label)) for k in entity.keys],
            widget=forms.RadioSelect,
        )
        self.fields["policy"] = forms.ChoiceField(
            label=_("Records that already exist"), choices=list(policies), widget=forms.RadioSelect
        )
        self.required_fields = [f for f in entity.fields if f.required]
        if self.required_fields:
            self.fields["update_only"] = forms.BooleanField(
                label=_("This file only completes existing records"),
                help_text=_("Rows that match no existing record will then be rejected."),
                required=False,
                widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
            )

    @classmethod
    def initial_for(cls, run: Any, entity: ImportableEntity) -> dict[str, Any]:
        """The run's current (or suggested) mapping, key and policy."""
        initial: dict[str, Any] = {
            f"column_{i}": run.mapping.get(column) or "" for i, column in enumerate(run.columns)
        }
        initial["key"] = run.key or (entity.keys[0].name if entity.keys else "")
        initial["policy"] = run.policy
        return initial

    def clean(self) -> dict[str, Any]:
        """A file without the fields a new record needs can only update: say so before the dry
        run rejects every new row, unless the user says that is the point."""
        cleaned = super().clean() or {}
        mapped = {cleaned.get(f"column_{i}") for i in range(len(self.columns))}
        missing = [f for f in self.required_fields if f.name not in mapped]
        if missing and not cleaned.get("update_only"):
            for field in missing:
                self.add_error(
                    None,
                    _(
                        "%(field)s is not mapped: no record can be created without it. Choose "
                        "the column that holds it, or tick “%(option)s”."
                    )
                    % {"field": title(field.label), "option": self.fields["update_only"].label},
                )
        return cleaned

    def column_field(self, column: str) -> str:
        return f"column_{self.columns.index(column)}"

    def rows(self) -> list[tuple[str, forms.BoundField]]:
        """(column, its select) in file order, for the template."""
        return [(c, self[f"column_{i}"]) for i, c in enumerate(self.columns)]

    def key_choices(self) -> list[dict[str, Any]]:
        return _described(self["key"], KEY_HELP)

    def policy_choices(self) -> list[dict[str, Any]]:
        return _described(self["policy"], POLICY_HELP)

    def mapping(self) -> dict[str, str | None]:
        """Column → field name, None for the columns to ignore (after `is_valid()`)."""
        return {
            column: self.cleaned_data.get(f"column_{i}") or None
            for i, column in enumerate(self.columns)
        }

    def show_errors(self, error: CibleError) -> None:
        """Place the service's messages: next to a column's select when they name a column or a
        target field mapped from one, next to the key or the policy, else above the form."""
        mapped: dict[str, list[str]] = {}
        if self.is_bound and hasattr(self, "cleaned_data"):
            for column, target in self.mapping().items():
                if target:
                    mapped.setdefault(target, []).append(column)
        for item in error.errors:
            message = capfirst(item.message)
            if item.field in ("key", "policy"):
                self.add_error(item.field, message)
            elif item.field in self.columns:
                self.add_error(self.column_field(item.field), message)
            elif item.field in mapped:
                for column in mapped[item.field]:
                    self.add_error(self.column_field(column), message)
            else:
                self.add_error(None, _label_message(self.entity, item.field, item.message))


def _label_message(entity: ImportableEntity, field: str, message: str) -> str:
    """A message about a field no column holds, prefixed with its label."""
    label = next((title(f.label) for f in entity.fields if f.name == field), "")
    return f"{label}: {message}" if label else capfirst(message)


def _described(bound: forms.BoundField, help_texts: dict[str, Any]) -> list[dict[str, Any]]:
    current = bound.value()
    return [
        {
            "value": value,
            "label": label,
            "help": help_texts.get(str(value), ""),
            "checked": str(value) == str(current),
            "id": f"{bound.auto_id}_{value}",
        }
        for value, label in bound.field.choices  # type: ignore[attr-defined]
    ]
