"""The task forms: a new task (from the task list or a record's page) and "done" with its
outcome. Lenient fields: the services decide what is valid, as they do for the API."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cible.core.forms import StyledForm
from cible.engagement.tasks.models import TaskKind


class TaskForm(StyledForm):
    title = forms.CharField(label=_("What to do"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=TaskKind.choices, initial=TaskKind.CALL)
    due_at = forms.DateTimeField(
        label=_("Due"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
    )
    assignee = forms.TypedChoiceField(label=_("For"), coerce=int)
    note = forms.CharField(
        label=_("Note"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, users: list[Any], me: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.users = {u.pk: u for u in users}
        assignee = self.fields["assignee"]
        assert isinstance(assignee, forms.ChoiceField)
        assignee.choices = [(u.pk, u.get_full_name() or u.get_username()) for u in users]
        self.fields["assignee"].initial = me.pk

    def service_arguments(self) -> dict[str, Any]:
        """What `services.create_task` takes (besides the actor, channel and record)."""
        data = self.cleaned_data
        return {
            "assignee": self.users.get(data["assignee"]),
            "title": data["title"],
            "kind": data["kind"],
            "due_at": data.get("due_at"),  # aware: Django applies the current time zone
            "note": data.get("note") or "",
        }


class CompleteForm(forms.Form):
    outcome = forms.CharField(required=False, max_length=2000)
    happened = forms.BooleanField(required=False)
