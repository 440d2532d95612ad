"""Forms that collect raw input for the services, which normalise and validate it.

Form fields are deliberately lenient (text in, text out): the one normaliser module decides what
is valid, so a form can never accept what the API refuses or the other way round. Domain errors
come back as `FieldError`s and are placed next to their fields by `show_errors`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django import forms
from django.db import models
from django.utils.text import capfirst

from cible.core.errors import CibleError
from cible.core.values import is_id

ChoicesFactory = Callable[[], Sequence[tuple[Any, Any]]]


class LookupWidget(forms.TextInput):
    """An id field with a search box that asks `lookup_url` for matching records (HTMX)."""

    template_name = "core/widgets/lookup.html"

    def __init__(
        self, lookup_url: str, model: type[models.Model], attrs: dict[str, Any] | None = None
    ) -> None:
        super().__init__(attrs)
        self.lookup_url = lookup_url
        self.model = model

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        context["widget"]["lookup_url"] = self.lookup_url
        chosen = None
        if value not in (None, "") and is_id(value):
            chosen = self.model._default_manager.filter(pk=int(value)).first()
        context["widget"]["label_text"] = str(chosen) if chosen else ""
        return context


class StyledForm(forms.Form):
    """A form whose widgets carry Bootstrap's classes, and the invalid state after a failed save."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxSelectMultiple):
                continue
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)
        if field and field in self.fields:
            widget = self.fields[field].widget
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()
            widget.attrs["aria-invalid"] = "true"


def _field_for(model_field: models.Field, *, required: bool) -> forms.Field:  # type: ignore[type-arg]
    label = capfirst(model_field.verbose_name)  # lazy: translated when the form is shown
    common: dict[str, Any] = {
        "label": label,
        "required": required,
        "help_text": model_field.help_text,
    }
    if isinstance(model_field, models.BooleanField):
        return forms.BooleanField(**{**common, "required": False})
    if model_field.choices:
        return forms.ChoiceField(choices=[("", "—"), *model_field.choices], **common)
    if isinstance(model_field, models.DateField) and not isinstance(
        model_field, models.DateTimeField
    ):
        return forms.CharField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if isinstance(model_field, models.TextField):
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), **common)
    attrs: dict[str, Any] = {}
    if isinstance(model_field, models.EmailField):
        attrs["inputmode"] = "email"
    if isinstance(model_field, models.IntegerField | models.DecimalField):
        attrs["inputmode"] = "decimal"
    return forms.CharField(widget=forms.TextInput(attrs=attrs), strip=False, **common)


def record_form(
    model: type[models.Model],
    fields: Sequence[str],
    *,
    required: Sequence[str] = (),
    choices: dict[str, ChoicesFactory] | None = None,
    lookups: dict[str, tuple[str, type[models.Model]]] | None = None,
    multiple: dict[str, ChoicesFactory] | None = None,
    validate_url: Any = None,
    validated: Sequence[str] = (),
) -> type[forms.Form]:
    """A form class with one lenient field per model field, plus a hidden `version`.

    Fields in `validated` are checked as the user leaves them: HTMX posts the value to
    `validate_url`, which answers with the problem or the value as it will be stored.
    """
    choices = choices or {}
    lookups = lookups or {}
    multiple = multiple or {}
    attributes: dict[str, Any] = {
        "version": forms.IntegerField(widget=forms.HiddenInput, required=False)
    }
    dynamic: dict[str, tuple[str, ChoicesFactory]] = {}
    for name in fields:
        model_field = model._meta.get_field(name)
        label = capfirst(getattr(model_field, "verbose_name", name))
        if name in multiple:
            attributes[name] = forms.MultipleChoiceField(
                label=label, required=False, widget=forms.CheckboxSelectMultiple
            )
            dynamic[name] = ("multiple", multiple[name])
        elif name in choices:
            attributes[name] = forms.ChoiceField(label=label, required=name in required)
            dynamic[name] = ("single", choices[name])
        elif name in lookups:
            attributes[name] = forms.CharField(
                label=label, required=name in required, widget=LookupWidget(*lookups[name])
            )
        else:
            attributes[name] = _field_for(model_field, required=name in required)  # type: ignore[arg-type]
        if name in validated and validate_url is not None:
            attributes[name].widget.attrs.update(
                {
                    "hx-post": validate_url,
                    "hx-trigger": "change",
                    "hx-target": f"#feedback-{name}",
                    "hx-vals": f'{{"field": "{name}"}}',
                    "hx-swap": "innerHTML",
                }
            )

    def __init__(self: StyledForm, *args: Any, **kwargs: Any) -> None:
        StyledForm.__init__(self, *args, **kwargs)
        for name, (kind, factory) in dynamic.items():
            options = [(str(k), v) for k, v in factory()]
            field = self.fields[name]
            field.choices = options if kind == "multiple" else [("", "—"), *options]  # type: ignore[attr-defined]

    attributes["__init__"] = __init__
    return type(f"{model.__name__}Form", (StyledForm,), attributes)


def show_errors(form: forms.Form, error: CibleError) -> None:
    """Put each domain error next to its field (or at the top of the form)."""
    for item in error.errors:
        field = item.field if item.field in form.fields else None
        message = (
            item.message
            if field
            else (f"{item.field}: {item.message}" if item.field else item.message)
        )
        form.add_error(field, message)


def raw_data(form: forms.Form, fields: Sequence[str]) -> dict[str, Any]:
    """The submitted values of `fields`, as the user typed them, for the services."""
    data: dict[str, Any] = {}
    for name in fields:
        value = form.cleaned_data.get(name)
        data[name] = list(value) if isinstance(value, list | tuple) else value
    return data
