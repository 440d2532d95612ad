"""The template language: errors for the editor, safe rendering, missing fields recorded."""

from __future__ import annotations

from typing import Any

import pytest

from cible.core.errors import PermissionDenied, ValidationFailed
from cible.nurture.mailing import services, templating
from cible.nurture.mailing.models import OutboundMessage
from cible.nurture.mailing.templating import Compiled, check, compile_text, render

AXES = ["size", "installed_crm"]


def _render(subject: str, body: str, data: dict[str, Any], **kwargs: Any) -> templating.Rendered:
    compiled = Compiled("fr", compile_text(subject), compile_text(body))
    return render(compiled, data, **kwargs)


def test_check_names_the_line_of_a_syntax_error_and_unknown_fields() -> None:
    body = "Bonjour,\n\n{% if contact.first_name %}\nSalut {{ contact.first_name }}\n{% endfi %}"
    [error] = check(body, field="body_fr", axis_keys=AXES)
    assert error.field == "body_fr"
    assert error.message.startswith("line 5:")
    assert "endfi" in error.message

    unknown = check("{{ contact.frist_name }} {% if segments.size %}x{% endif %}", axis_keys=AXES)
    assert [e.message.split(";")[0] for e in unknown] == [
        "unknown merge field “contact.frist_name”"
    ]
    assert "contact.first_name" in unknown[0].message  # the list of known fields helps fix it

    # No tag or filter outside the small safe set: loading libraries or templates is refused.
    assert "'load'" in check("{% load static %}", axis_keys=AXES)[0].message
    assert check("{% include 'base.html' %}", axis_keys=AXES)
    assert check("{{ contact.first_name|safe }}", axis_keys=AXES)
    assert check('{{ segments.size|default:"votre taille" }}', axis_keys=AXES) == []


def test_missing_values_render_safely_and_are_recorded() -> None:
    data = {
        "contact": {"first_name": "", "last_name": "Roy"},
        "organisation": {"trade_name": "Acme", "city": ""},
        "segments": {},
    }
    rendered = _render(
        "Pour {{ organisation.trade_name }}",
        'Bonjour {{ contact.first_name|default:"à vous" }} {{ contact.last_name }},\n'
        "{% if organisation.city %}À {{ organisation.city }}.{% endif %}\n"
        "Taille : {{ segments.size }}.",
        data,
    )
    assert rendered.subject == "Pour Acme"
    assert rendered.text == "Bonjour à vous Roy,\n\nTaille : ."
    # Printed empty fields are flagged; a condition that tests a field is not a missing value.
    assert rendered.missing == ["contact.first_name", "segments.size"]


def test_html_part_escapes_everything_and_links_are_numbered_once() -> None:
    data = {"contact": {"first_name": '<script>alert("x")</script>'}, "organisation": {}}
    rendered = _render(
        "x",
        "Hi {{ contact.first_name }} & co\n\nhttps://a.example/one, https://b.example/two "
        "and https://a.example/one again.",
        data,
        track=lambda index, url: f"https://t.example/{index}",
    )
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co" in rendered.html
    assert rendered.links == ["https://a.example/one", "https://b.example/two"]
    assert rendered.html.count('href="https://t.example/0"') == 2
    assert "https://t.example/1 and https://t.example/0 again." in rendered.text


@pytest.mark.django_db
def test_saving_a_template_with_errors_is_refused_field_by_field(cast: Any) -> None:
    with pytest.raises(ValidationFailed) as refused:
        services.template_create(
            actor=cast.marketer,
            channel="api",
            data={"name": "Broken", "subject_en": "{% if contact.first_name %}Hi", "body_en": "x"},
        )
    assert [e.field for e in refused.value.errors] == ["subject_en"]
    with pytest.raises(PermissionDenied):
        services.template_create(actor=cast.ae, channel="ui", data={"name": "Mine", "body_fr": "x"})


@pytest.mark.django_db
def test_a_message_records_the_merge_fields_it_had_no_value_for(
    template: Any, people: dict[str, Any], always_open: Any, smtp_server: Any
) -> None:
    nameless = people["nameless"]  # no first name, no organisation, no language
    services.queue_messages(
        template=template, recipients=[(nameless.pk, "m:1")], origin="t", channel="job"
    )
    services.send_due()
    message = OutboundMessage.objects.get()
    assert message.missing_fields == ["contact.first_name", "organisation.trade_name"]
    assert smtp_server.messages[0].text().startswith("Bonjour à vous,")
