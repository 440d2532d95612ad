"""Pages of organisations and contacts: thin wrappers over services and selectors."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse_lazy
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from cible.core import access
from cible.core.forms import record_form
from cible.core.normalisers import country_label
from cible.core.records import RecordPages, TableColumn
from cible.people import selectors, services
from cible.people.models import Contact, Organisation
from cible.people.normalise import CONTACT_SPECS, ORGANISATION_SPECS

ORGANISATION_FIELDS = [
    "legal_name",
    "trade_name",
    "siren",
    "siret",
    "vat_number",
    "website",
    "phone",
    "street",
    "postal_code",
    "city",
    "region",
    "country",
    "naf_code",
    "headcount",
    "headcount_band",
    "annual_revenue",
    "sales_team_size",
    "installed_products",
    "parent",
    "owner",
    "status",
    "tier",
    "source",
    "description",
]
OrganisationForm = record_form(
    Organisation,
    ORGANISATION_FIELDS,
    required=["legal_name"],
    choices={"owner": selectors.user_choices},
    multiple={"installed_products": selectors.product_choices},
    lookups={"parent": ("people:organisation_lookup", Organisation)},
    validate_url=reverse_lazy("people:organisation_validate"),
    validated=list(ORGANISATION_SPECS),
)


def _organisation_initial(organisation: Organisation) -> dict[str, Any]:
    initial = {
        name: getattr(organisation, name)
        for name in ORGANISATION_FIELDS
        if name not in ("installed_products", "parent", "owner")
    }
    initial["installed_products"] = [
        str(pk) for pk in organisation.installed_products.values_list("pk", flat=True)
    ]
    initial["parent"] = organisation.parent_id or ""
    initial["owner"] = organisation.owner_id or ""
    return {k: ("" if v is None else v) for k, v in initial.items()}


def _organisation_detail(viewer: Any, organisation: Organisation) -> dict[str, Any]:
    from django.utils.translation import get_language

    # pipeline sits above people: its opportunities are fetched through a hook it registers.
    from cible.people.hooks import related_sections

    return {
        "contacts": selectors.organisation_contacts(viewer=viewer, organisation=organisation)[:200],
        "subsidiaries": selectors.organisation_subsidiaries(
            viewer=viewer, organisation=organisation
        )[:200],
        "sector": organisation.sector_label(get_language() or "fr"),
        "country_name": country_label(organisation.country) if organisation.country else "",
        "products": organisation.installed_products.all(),
        "sections": related_sections(viewer, organisation),
    }


ORGANISATION_PAGES = RecordPages(
    model=Organisation,
    namespace="people",
    prefix="organisation",
    title=_("Organisations"),
    list_selector=selectors.organisation_list,
    filters=lambda viewer: selectors.ORGANISATION_FILTERS,
    columns=[
        TableColumn("name", _("Name"), lambda o: o.display_name, sort="name", link=True),
        TableColumn("siren", _("SIREN"), lambda o: o.siren),
        TableColumn("city", _("City"), lambda o: o.city, sort="city"),
        TableColumn("region", _("Region"), lambda o: o.region_label),
        TableColumn("country", _("Country"), lambda o: o.country),
        TableColumn("size", _("Size"), lambda o: o.size_short),
        TableColumn("headcount", _("Headcount"), lambda o: o.headcount, sort="headcount"),
        TableColumn("status", _("Status"), lambda o: o.get_status_display(), sort="status"),
        TableColumn("owner", _("Owner"), lambda o: o.owner.get_full_name() if o.owner else ""),
        TableColumn("domain", _("Domain"), lambda o: o.domain),
    ],
    form_class=OrganisationForm,
    form_fields=ORGANISATION_FIELDS,
    create=services.organisation_create,
    update=services.organisation_update,
    delete=services.organisation_delete,
    detail_context=_organisation_detail,
    initial=_organisation_initial,
    detail_template="people/organisation_detail.html",
    export_name="organisations",
    specs=ORGANISATION_SPECS,
    verify=services.organisation_mark_verified,
    create_options=lambda request: {"allow_duplicate": request.POST.get("allow_duplicate") == "1"},
)

CONTACT_FIELDS = [
    "first_name",
    "last_name",
    "email",
    "secondary_email",
    "phone",
    "mobile",
    "job_title",
    "function",
    "seniority",
    "buying_role",
    "organisation",
    "reports_to",
    "language",
    "linkedin_url",
    "email_consent",
    "email_opt_out",
    "phone_opt_out",
    "lifecycle_stage",
    "source",
    "has_left",
    "owner",
]
ContactForm = record_form(
    Contact,
    CONTACT_FIELDS,
    required=["last_name"],
    choices={"owner": selectors.user_choices},
    lookups={
        "organisation": ("people:organisation_lookup", Organisation),
        "reports_to": ("people:contact_lookup", Contact),
    },
    validate_url=reverse_lazy("people:contact_validate"),
    validated=list(CONTACT_SPECS),
)


def _contact_initial(contact: Contact) -> dict[str, Any]:
    initial = {
        name: getattr(contact, name)
        for name in CONTACT_FIELDS
        if name not in ("organisation", "reports_to", "owner")
    }
    initial.update(
        organisation=contact.organisation_id or "",
        reports_to=contact.reports_to_id or "",
        owner=contact.owner_id or "",
    )
    return {k: ("" if v is None else v) for k, v in initial.items()}


def _contact_detail(viewer: Any, contact: Contact) -> dict[str, Any]:
    from cible.people.hooks import related_sections

    organisation = contact.organisation if contact.organisation_id else None
    if organisation is not None and not access.can(viewer, "view", organisation):
        organisation = None
    return {
        "organisation": organisation,
        "manager": contact.reports_to
        if contact.reports_to_id and access.can(viewer, "view", contact.reports_to)
        else None,
        "reports": access.visible(viewer, contact.reports.all())[:100],
        "sections": related_sections(viewer, contact),
    }


CONTACT_PAGES = RecordPages(
    model=Contact,
    namespace="people",
    prefix="contact",
    title=_("Contacts"),
    list_selector=selectors.contact_list,
    filters=lambda viewer: selectors.CONTACT_FILTERS,
    columns=[
        TableColumn("name", _("Name"), lambda c: c.full_name, sort="name", link=True),
        TableColumn("job_title", _("Job title"), lambda c: c.job_title),
        TableColumn(
            "organisation",
            _("Organisation"),
            lambda c: c.organisation.display_name if c.organisation else "",
            sort="organisation",
        ),
        TableColumn("email", _("Email"), lambda c: c.email),
        TableColumn("phone", _("Phone"), lambda c: c.phone or c.mobile),
        TableColumn(
            "stage", _("Lifecycle stage"), lambda c: c.get_lifecycle_stage_display(), sort="stage"
        ),
        TableColumn("owner", _("Owner"), lambda c: c.owner.get_full_name() if c.owner else ""),
    ],
    form_class=ContactForm,
    form_fields=CONTACT_FIELDS,
    create=services.contact_create,
    update=services.contact_update,
    delete=services.contact_delete,
    detail_context=_contact_detail,
    initial=_contact_initial,
    detail_template="people/contact_detail.html",
    export_name="contacts",
    specs=CONTACT_SPECS,
    verify=services.contact_mark_verified,
    create_options=lambda request: {"allow_duplicate": request.POST.get("allow_duplicate") == "1"},
)


def _lookup_options(request: HttpRequest, rows: list[tuple[int, str, str]]) -> HttpResponse:
    target = request.GET.get("target", "")
    return render(request, "core/widgets/_lookup_options.html", {"options": rows, "target": target})


@login_required
def organisation_lookup(request: HttpRequest) -> HttpResponse:
    """Options for a lookup widget: visible organisations whose name starts with `q`."""
    params = {"name": request.GET.get("q", "")}
    qs, _query = selectors.organisation_list(viewer=request.user, params=params)
    return _lookup_options(request, [(o.pk, o.display_name, o.city) for o in qs[:10]])


@login_required
def contact_lookup(request: HttpRequest) -> HttpResponse:
    """Options for a lookup widget: visible contacts whose name starts with `q`."""
    params = {"name": request.GET.get("q", "")}
    qs, _query = selectors.contact_list(viewer=request.user, params=params)
    return _lookup_options(request, [(c.pk, c.full_name, c.job_title) for c in qs[:10]])


@require_POST
def language_view(request: HttpRequest) -> HttpResponse:
    """Switch the interface language; remembered on the profile and in a cookie."""
    language = request.POST.get("language", "")
    if language not in dict(settings.LANGUAGES):
        language = "fr"
    if request.user.is_authenticated and hasattr(request.user, "profile"):
        services.profile_set_language(user=request.user, language=language)
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    response = HttpResponseRedirect(target)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME, language, max_age=365 * 24 * 3600, samesite="Lax"
    )
    translation.activate(language)
    return response
