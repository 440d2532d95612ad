"""The web pages every business record has, written once: list with filters, sorting and
pagination; CSV export of the current filter; detail; create and edit forms with conflict
handling; delete; history. Each app describes its record with a `RecordPages` and gets the
same behaviour, access rules and audit as the others.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.formats import localize_input
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from cible.core import access, audit, csv_export
from cible.core.audit import Channel
from cible.core.errors import CibleError, ConflictError, NotFound, PermissionDenied
from cible.core.forms import raw_data, show_errors
from cible.core.listing import Filter, ListQuery
from cible.core.normalisers import NormalisationError

PAGE_SIZES = (25, 50, 100)
COUNT_CAP = 10_000


class CappedPaginator(Paginator):
    """Counts at most `cap` rows (a million-row COUNT costs more than the page itself).

    Past the cap the list says "more than 10,000" and fetches the exact figure in a second,
    separate request, so the page never waits for it. Pages stop at the cap: beyond it, people
    filter or sort rather than page.
    """

    def __init__(self, object_list: Any, per_page: int, cap: int = COUNT_CAP) -> None:
        super().__init__(object_list, per_page)
        self.cap = cap

    @cached_property
    def counted(self) -> int:
        """Rows counted, up to one past the cap (so that "more than the cap" is known). Without
        the ordering: kept in the limited subquery, it would sort every matching row."""
        rows = self.object_list
        if hasattr(rows, "order_by"):
            rows = rows.order_by()
        return int(rows[: self.cap + 1].count())  # type: ignore[attr-defined]

    @cached_property
    def count(self) -> int:
        return min(self.counted, self.cap)

    @property
    def capped(self) -> bool:
        return self.counted > self.cap


@dataclass(frozen=True)
class TableColumn:
    """A column of the list table and of the CSV export."""

    key: str
    label: Any
    value: Callable[[Any], Any]
    sort: str = ""
    amount: bool = False  # hidden from viewers who may not see deal amounts
    link: bool = False


@dataclass(frozen=True)
class RecordPages:
    model: type[Model]
    namespace: str
    prefix: str  # URL name prefix, e.g. "organisation"
    list_selector: Callable[..., tuple[QuerySet[Any], ListQuery]]
    filters: Callable[[Any], Sequence[Filter]]
    columns: Sequence[TableColumn]
    form_class: type[forms.Form]
    form_fields: Sequence[str]
    create: Callable[..., Any]
    update: Callable[..., Any]
    delete: Callable[..., Any]
    detail_context: Callable[[Any, Any], dict[str, Any]]
    initial: Callable[[Any], dict[str, Any]]
    detail_template: str
    title: Any = ""
    export_name: str = "export"
    specs: Mapping[str, Callable[[Any], Any]] = field(default_factory=dict)
    verify: Callable[..., Any] | None = None  # "checked today" action, for records that have it
    # Extra arguments of `create` read from the form's request (e.g. a "create anyway" box).
    create_options: Callable[[HttpRequest], dict[str, Any]] | None = None

    # --- helpers ------------------------------------------------------------------------------

    def url(self, name: str, *args: Any) -> str:
        return reverse(f"{self.namespace}:{self.prefix}_{name}", args=args)

    @property
    def url_list(self) -> str:
        return self.url("list")

    @property
    def url_create(self) -> str:
        return self.url("create")

    @property
    def url_export(self) -> str:
        return self.url("export")

    def visible_columns(self, viewer: Any) -> list[TableColumn]:
        show_amounts = access.amounts_visible(viewer)
        return [c for c in self.columns if show_amounts or not c.amount]

    def get(self, request: HttpRequest, pk: Any) -> Any:
        try:
            return access.visible(request.user, self.model._default_manager.all()).get(pk=pk)
        except (self.model.DoesNotExist, ValueError):  # type: ignore[attr-defined]
            raise Http404(_("Not found, or not visible to you.")) from None

    # --- views --------------------------------------------------------------------------------

    def list_view(self, request: HttpRequest) -> HttpResponse:
        qs, query = self.list_selector(viewer=request.user, params=request.GET)
        try:
            per_page = int(request.GET.get("per_page", 25))
        except ValueError:
            per_page = 25
        per_page = per_page if per_page in PAGE_SIZES else 25
        if request.GET.get("count") == "exact":
            return render(request, "core/_exact_count.html", {"count": qs.count()})
        page = CappedPaginator(qs, per_page).get_page(request.GET.get("page"))
        params = request.GET.copy()
        params.pop("page", None)
        params.pop("count", None)
        context = {
            "pages": self,
            "title": self.title,
            "page": page,
            "query": query,
            "filters": self.filters(request.user),
            "columns": self.visible_columns(request.user),
            "params": params.urlencode(),
            "get": request.GET,
            "per_page": per_page,
            "page_sizes": PAGE_SIZES,
            "active_filters": len(query.filters),
        }
        template = "core/_list_results.html" if request.htmx else "core/list.html"  # type: ignore[attr-defined]
        return render(request, template, context)

    def export_view(self, request: HttpRequest) -> HttpResponseBase:
        qs, query = self.list_selector(viewer=request.user, params=request.GET)
        columns = self.visible_columns(request.user)
        total = qs.count()
        audit.log_export(
            actor=request.user,
            channel=Channel.UI,
            model=self.model,
            rows=total,
            query=query.as_text(),
        )
        return csv_export.response(
            self.export_name,
            [csv_export.Column(str(c.label), c.value) for c in columns],
            qs.iterator(chunk_size=2000),
        )

    def detail_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        record = self.get(request, pk)
        context = {
            "pages": self,
            "record": record,
            "tab": request.GET.get("tab", "overview"),
            "can_change": access.can(request.user, "change", record),
            "can_delete": access.can(request.user, "delete", record),
            "show_amounts": access.can(request.user, "view_amounts", record),
            "can_verify": self.verify is not None and access.can(request.user, "change", record),
            **self.detail_context(request.user, record),
        }
        return render(request, self.detail_template, context)

    def history_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        record = self.get(request, pk)
        entries = list(audit.history(record)[:200])
        return render(request, "core/_history.html", {"record": record, "entries": entries})

    def _form_page(
        self,
        request: HttpRequest,
        form: forms.Form,
        record: Any,
        conflict: bool = False,
        panel: Mapping[str, Any] | None = None,
    ) -> HttpResponse:
        status = 409 if conflict or panel else (422 if form.is_bound and form.errors else 200)
        return render(
            request,
            "core/form.html",
            {
                "pages": self,
                "form": form,
                "record": record,
                "conflict": conflict,
                "title": self.title,
                "panel": panel,
            },
            status=status,
        )

    def create_view(self, request: HttpRequest) -> HttpResponse:
        if request.method != "POST":
            return self._form_page(
                request, self.form_class(initial=dict(request.GET.items())), None
            )
        form = self.form_class(request.POST)
        panel = None
        if form.is_valid():
            options = self.create_options(request) if self.create_options else {}
            try:
                record = self.create(
                    actor=request.user,
                    channel=Channel.UI,
                    data=raw_data(form, self.form_fields),
                    **options,
                )
            except CibleError as error:
                # An error may bring its own panel (e.g. the look-alikes of a new record, with a
                # "create anyway" box) instead of messages next to fields.
                panel = getattr(error, "panel", None)
                if panel is None:
                    show_errors(form, error)
            else:
                messages.success(request, _("%(record)s was created.") % {"record": record})
                return HttpResponseRedirect(self.url("detail", record.pk))
        return self._form_page(request, form, None, panel=panel)

    def edit_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        record = self.get(request, pk)
        if not access.can(request.user, "change", record):
            raise Http404(_("Not found, or not visible to you."))
        if request.method != "POST":
            initial = {"version": record.version, **self.initial(record)}
            # Numbers as the user writes them (4782000,00 in French): the parsers read both.
            initial = {
                k: localize_input(v) if isinstance(v, Decimal) else v for k, v in initial.items()
            }
            return self._form_page(request, self.form_class(initial=initial), record)
        form = self.form_class(request.POST)
        conflict = False
        if form.is_valid():
            data = raw_data(form, [f for f in self.form_fields if f in form.fields])
            try:
                self.update(
                    **{self.prefix: record},
                    actor=request.user,
                    channel=Channel.UI,
                    data=data,
                    expected_version=form.cleaned_data.get("version") or record.version,
                )
            except ConflictError as error:
                conflict = True
                show_errors(form, error)
            except CibleError as error:
                show_errors(form, error)
            else:
                messages.success(request, _("Your changes were saved."))
                return HttpResponseRedirect(self.url("detail", record.pk))
        return self._form_page(request, form, record, conflict=conflict)

    def delete_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        record = self.get(request, pk)
        try:
            self.delete(**{self.prefix: record}, actor=request.user, channel=Channel.UI)
        except (PermissionDenied, NotFound, CibleError) as error:
            messages.error(request, str(error))
            return HttpResponseRedirect(self.url("detail", pk))
        messages.success(request, _("%(record)s was deleted.") % {"record": record})
        return HttpResponseRedirect(self.url("list"))

    def validate_view(self, request: HttpRequest) -> HttpResponse:
        """One field checked by its normaliser as the user leaves it (inline validation)."""
        name = request.POST.get("field", "")
        spec = self.specs.get(name)
        raw = request.POST.get(name, "")
        context: dict[str, Any] = {"error": "", "stored": "", "field": name}
        if spec is not None and raw.strip():
            try:
                value = spec(raw)
            except NormalisationError as error:
                context["error"] = error.message
            else:
                if value not in (None, "") and str(value) != raw.strip():
                    context["stored"] = value
        return render(request, "core/_field_feedback.html", context)

    def verify_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        record = self.get(request, pk)
        if self.verify is None:
            raise Http404
        try:
            self.verify(**{self.prefix: record}, actor=request.user, channel=Channel.UI)
        except CibleError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Marked as verified today."))
        return HttpResponseRedirect(self.url("detail", pk))

    def urls(self) -> list[Any]:
        p = self.prefix
        return [
            path("", login_required(self.list_view), name=f"{p}_list"),
            path("export.csv", login_required(self.export_view), name=f"{p}_export"),
            path(
                "validate/", login_required(require_POST(self.validate_view)), name=f"{p}_validate"
            ),
            path(
                "new/",
                login_required(require_http_methods(["GET", "POST"])(self.create_view)),
                name=f"{p}_create",
            ),
            path("<int:pk>/", login_required(self.detail_view), name=f"{p}_detail"),
            path(
                "<int:pk>/edit/",
                login_required(require_http_methods(["GET", "POST"])(self.edit_view)),
                name=f"{p}_edit",
            ),
            path(
                "<int:pk>/delete/",
                login_required(require_POST(self.delete_view)),
                name=f"{p}_delete",
            ),
            path("<int:pk>/history/", login_required(self.history_view), name=f"{p}_history"),
            path(
                "<int:pk>/verify/",
                login_required(require_POST(self.verify_view)),
                name=f"{p}_verify",
            ),
        ]
