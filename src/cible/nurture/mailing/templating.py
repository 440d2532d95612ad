"""Email templates: a small, safe template language and the rendering of one message.

Templates are written as plain text with merge fields (`{{ contact.first_name }}`,
`{{ organisation.trade_name }}`, `{{ segments.<axis code> }}`) and conditions (`{% if %}`).
They run on a dedicated `django.template.Engine` — no loaders, no `{% load %}`, only the tags
and filters of `template_library` — over plain dicts, never model instances, so a template can
reach nothing but the fields offered here.

The HTML alternative is built from the rendered text: every character of it is escaped (the
author's words as much as the contact's values), paragraphs and line breaks become `<p>` and
`<br>`, and web addresses become links. A template therefore cannot inject markup, and the two
parts always say the same thing.

A merge field without a value renders empty (or as its `|default:"…"`) and is *recorded*: the
outbox and the preview show which fields were missing. Syntax errors and unknown fields are found
by `check()` when the template is saved, never at send time.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from django.template import Context, Engine, Template, TemplateSyntaxError
from django.template.base import (
    FilterExpression,
    Node,
    NodeList,
    Variable,
    VariableDoesNotExist,
    VariableNode,
)
from django.template.defaulttags import IfNode
from django.utils.html import escape
from django.utils.translation import gettext as _

from cible.core.errors import FieldError


class _MailEngine(Engine):
    # Engine adds Django's default tags and filters to `builtins`; an email gets none of them.
    default_builtins: ClassVar[list[str]] = []


ENGINE = _MailEngine(
    debug=True,  # keeps the line of a syntax error (exception.template_debug)
    loaders=[],
    libraries={},
    builtins=["cible.nurture.mailing.template_library"],
    autoescape=False,  # renders text; the HTML part escapes it whole (see the docstring)
    string_if_invalid="",
)

CONTACT_FIELDS = ("first_name", "last_name", "full_name", "job_title", "email")
ORGANISATION_FIELDS = (
    "trade_name",
    "legal_name",
    "city",
    "region",
    "website",
    "sector",
    "size_class",
    "headcount",
)
TOP_LEVEL = ("unsubscribe_url",)
MISSING = "missing fields"  # a context key no template can name (it holds a space)

_URL = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}»"
_PARAGRAPHS = re.compile(r"\n[ \t]*\n+")
_BLANK_LINES = re.compile(r"\n(?:[ \t]*\n){2,}")  # left by a false {% if %} on its own line


def axis_key(code: str) -> str:
    """An axis code as a template can name it (template variables allow no hyphens)."""
    return code.replace("-", "_")


def merge_field_names(axis_keys: Iterable[str]) -> list[str]:
    """Every merge field an author may use, for the editor's help and `check()`."""
    return [
        *(f"contact.{name}" for name in CONTACT_FIELDS),
        *(f"organisation.{name}" for name in ORGANISATION_FIELDS),
        *(f"segments.{key}" for key in sorted(axis_keys)),
        *TOP_LEVEL,
    ]


class _RecordingVariableNode(VariableNode):
    """`{{ field }}` that notes its field in the context's MISSING set when it has no value."""

    def render(self, context: Context) -> str:
        var = self.filter_expression.var
        if isinstance(var, Variable) and var.lookups:
            try:
                value = var.resolve(context)
            except VariableDoesNotExist:
                value = None
            if value is None or value == "":
                missing = context.get(MISSING)
                if missing is not None:
                    missing.add(".".join(var.lookups))
        return super().render(context)


def _walk(nodelist: NodeList) -> Iterator[Node]:
    for node in nodelist:
        yield node
        if isinstance(node, IfNode):
            for _condition, nodes in node.conditions_nodelists:
                yield from _walk(nodes)
        else:
            for attr in node.child_nodelists:
                child = getattr(node, attr, None)
                if child:
                    yield from _walk(child)


def _expression_fields(expression: FilterExpression) -> Iterator[str]:
    var = expression.var
    if isinstance(var, Variable) and var.lookups:
        yield ".".join(var.lookups)
    for _func, args in expression.filters:
        for lookup, arg in args:
            if lookup and isinstance(arg, Variable) and arg.lookups:
                yield ".".join(arg.lookups)


def _condition_fields(condition: Any) -> Iterator[str]:
    value = getattr(condition, "value", None)
    if isinstance(value, FilterExpression):
        yield from _expression_fields(value)
    for attr in ("first", "second"):
        part = getattr(condition, attr, None)
        if part is not None:
            yield from _condition_fields(part)


def _fields_used(template: Template) -> Iterator[str]:
    for node in _walk(template.nodelist):
        if isinstance(node, VariableNode):
            yield from _expression_fields(node.filter_expression)
        elif isinstance(node, IfNode):
            for condition, _nodes in node.conditions_nodelists:
                if condition is not None:
                    yield from _condition_fields(condition)


def compile_text(text: str) -> Template:
    """Compile `text`; raises TemplateSyntaxError (checked at save time by `check`)."""
    template = ENGINE.from_string(text)
    for node in _walk(template.nodelist):
        if type(node) is VariableNode:
            node.__class__ = _RecordingVariableNode
    return template


def _line_of(error: TemplateSyntaxError, text: str) -> int | None:
    debug = getattr(error, "template_debug", None)
    if isinstance(debug, dict) and debug.get("line"):
        return int(debug["line"])
    return None


def check(
    text: str, *, field: str = "", axis_keys: Iterable[str] | None = None
) -> list[FieldError]:
    """Syntax errors (with their line) and unknown merge fields of `text`, for the editor."""
    try:
        template = compile_text(text)
    except TemplateSyntaxError as error:
        line = _line_of(error, text)
        message = str(error)
        if line is not None:
            message = _("line %(line)s: %(error)s") % {"line": line, "error": message}
        return [FieldError(field, message)]
    if axis_keys is None:
        from cible.nurture.mailing.merge import axis_keys as known_axes

        axis_keys = known_axes()
    known = set(merge_field_names(axis_keys))
    errors = []
    for name in dict.fromkeys(_fields_used(template)):
        if name not in known:
            errors.append(
                FieldError(
                    field,
                    _("unknown merge field “%(name)s”; use one of: %(known)s")
                    % {"name": name, "known": ", ".join(sorted(known))},
                )
            )
    return errors


# --- rendering ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Compiled:
    """One language of a template, compiled once per template version (see `merge.compiled`)."""

    language: str
    subject: Template
    body: Template


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    links: list[str]
    missing: list[str]


def _trim(url: str) -> tuple[str, str]:
    """A URL without the punctuation that ends the sentence around it."""
    end = len(url)
    while end and url[end - 1] in _TRAILING:
        end -= 1
    return url[:end], url[end:]


def _split_links(text: str) -> list[tuple[str, bool]]:
    """`text` as (piece, is_url) pieces."""
    pieces: list[tuple[str, bool]] = []
    position = 0
    for match in _URL.finditer(text):
        url, tail = _trim(match.group(0))
        if not url:
            continue
        pieces.append((text[position : match.start()], False))
        pieces.append((url, True))
        position = match.start() + len(url)
        if tail:
            pieces.append((tail, False))
            position += len(tail)
    pieces.append((text[position:], False))
    return [p for p in pieces if p[0]]


def _html(pieces: list[tuple[str, str | None, str]], footer_html: str) -> str:
    """Escaped paragraphs, with links, from (text, href or None, shown text) pieces."""
    out: list[str] = []
    for text, href, shown in pieces:
        if href is None:
            out.append(escape(text))
        else:
            out.append(f'<a href="{escape(href)}">{escape(shown)}</a>')
    body = "".join(out).strip()
    paragraphs = [p.strip() for p in _PARAGRAPHS.split(body) if p.strip()]
    html = "".join(f"<p>{p.replace(chr(10), '<br>' + chr(10))}</p>\n" for p in paragraphs)
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head>'
        f'<body style="font-family:sans-serif;line-height:1.5">\n{html}{footer_html}</body></html>'
    )


def render(
    compiled: Compiled,
    data: dict[str, Any],
    *,
    track: Callable[[int, str], str] | None = None,
    footer: str = "",
    footer_html: str = "",
) -> Rendered:
    """Render one message. `track(index, url)` gives the tracked address of the link numbered
    `index` (order of first appearance); without it links are left as written."""
    missing: set[str] = set()
    context = Context({**data, MISSING: missing}, autoescape=False)
    subject = " ".join(compiled.subject.render(context).split())
    text = _BLANK_LINES.sub("\n\n", compiled.body.render(context)).strip()
    links: list[str] = []
    plain: list[str] = []
    html_pieces: list[tuple[str, str | None, str]] = []
    for piece, is_url in _split_links(text):
        if not is_url:
            plain.append(piece)
            html_pieces.append((piece, None, piece))
            continue
        if piece not in links:
            links.append(piece)
        href = track(links.index(piece), piece) if track else piece
        plain.append(href)
        html_pieces.append(("", href, piece))
    body_text = "".join(plain)
    if footer:
        body_text = f"{body_text}\n\n-- \n{footer}"
    return Rendered(
        subject=subject,
        text=body_text,
        html=_html(html_pieces, footer_html),
        links=links,
        missing=sorted(missing),
    )
