"""The program settings form: carries what was typed to `services` (which validate) and shows
their errors beside the fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cible.core.errors import CibleError
from cible.core.forms import StyledForm, show_errors
from cible.lifecycle.leads.models import Stage
from cible.nurture.programs.models import NurtureProgram, TargetExit

FLAGS = ("exit_on_mql", "exit_on_reply", "exit_on_opt_out", "exit_on_bounce")


class ProgramForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=150)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    exit_on_mql = forms.BooleanField(label=_("becomes an MQL"), required=False, initial=True)
    exit_on_reply = forms.BooleanField(label=_("replies"), required=False, initial=True)
    exit_on_opt_out = forms.BooleanField(label=_("opts out"), required=False, initial=True)
    exit_on_bounce = forms.BooleanField(label=_("bounces"), required=False, initial=True)
    exit_target_when = forms.ChoiceField(
        label=_("Custom exit: when the contact"), choices=TargetExit.choices, required=False
    )
    exit_target = forms.CharField(label=_("target"), required=False)
    enrol_on_stage = forms.ChoiceField(
        label=_("Enrol leads entering the stage"),
        choices=[("", "—"), *Stage.choices],
        required=False,
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    @classmethod
    def for_program(cls, program: NurtureProgram) -> ProgramForm:
        initial: dict[str, Any] = {
            "name": program.name,
            "description": program.description,
            "exit_target_when": program.exit_target_when,
            "exit_target": program.exit_target_id or "",
            "enrol_on_stage": program.enrol_on_stage,
            "version": program.version,
        }
        initial.update({flag: getattr(program, flag) for flag in FLAGS})
        return cls(initial=initial)

    def service_data(self) -> dict[str, Any]:
        data = {
            name: self.cleaned_data.get(name)
            for name in ("name", "description", "exit_target_when", "exit_target", "enrol_on_stage")
        }
        data.update({flag: bool(self.cleaned_data.get(flag)) for flag in FLAGS})
        return data

    def show(self, error: CibleError) -> None:
        show_errors(self, error)
