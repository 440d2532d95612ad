"""The only tags and filters an email template may use.

Email templates are written by marketers, rendered for thousands of people in a background job:
no `{% load %}`, `{% include %}`, `{% url %}` or loops over querysets — just conditions, comments
and a few text filters. Anything else is a syntax error the editor shows.
"""

from __future__ import annotations

from django.template import Library, defaultfilters, defaulttags

register = Library()

for _name in ("if", "comment"):
    register.tags[_name] = defaulttags.register.tags[_name]

for _name in (
    "default",
    "default_if_none",
    "upper",
    "lower",
    "title",
    "capfirst",
    "truncatewords",
    "truncatechars",
    "yesno",
    "date",
):
    register.filters[_name] = defaultfilters.register.filters[_name]
