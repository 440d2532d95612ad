"""Forms of the mailing pages: lenient text in, the services validate (core.forms)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cible.core.calendars import DAY_NAMES
from cible.core.forms import StyledForm
from cible.nurture.mailing.models import MessageStatus


class TemplateForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=200)
    description = forms.CharField(label=_("Purpose"), max_length=255, required=False)
    subject_fr = forms.CharField(label=_("Subject"), max_length=2000, required=False)
    body_fr = forms.CharField(
        label=_("Body"), required=False, widget=forms.Textarea(attrs={"rows": 14})
    )
    subject_en = forms.CharField(label=_("Subject"), max_length=2000, required=False)
    body_en = forms.CharField(
        label=_("Body"), required=False, widget=forms.Textarea(attrs={"rows": 14})
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        for name in ("subject_fr", "body_fr", "subject_en", "body_en"):
            self.fields[name].widget.attrs["spellcheck"] = "true"
            self.fields[name].strip = False  # type: ignore[attr-defined]


def _days() -> list[tuple[str, str]]:
    # Monday = 0, as `SendPolicy.days` stores them; in the user's language.
    return [(str(day), str(name)) for day, name in enumerate(DAY_NAMES)]


class PolicyForm(StyledForm):
    days = forms.MultipleChoiceField(
        label=_("Sending days"), choices=_days, widget=forms.CheckboxSelectMultiple
    )
    start_hour = forms.CharField(label=_("From (hour)"))
    end_hour = forms.CharField(label=_("Until (hour)"))
    time_zone = forms.CharField(label=_("Time zone"))
    per_domain_per_minute = forms.CharField(label=_("Messages per minute per recipient domain"))
    max_attempts = forms.CharField(label=_("Attempts before giving up"))
    backoff_seconds = forms.CharField(label=_("First retry after (seconds)"))
    claim_timeout_seconds = forms.CharField(
        label=_("Take back unfinished sends after (seconds)"),
        help_text=_(
            "If sending stops abruptly (a crash, a restart) while emails are going out, those "
            "emails stay “Sending”. After this many seconds the next sending round takes them "
            "back and sends them again, which counts as one attempt. Keep it longer than a "
            "sending round can last, or an email still on its way could go out twice. "
            "From 60 (one minute) to 86,400 (one day)."
        ),
        error_messages={
            "required": _("“Take back unfinished sends after” needs a number of seconds.")
        },
    )


STATUS_CHOICES = [("", _("All")), *MessageStatus.choices]
