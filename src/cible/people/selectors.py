"""Reads of organisations and contacts, always through the viewer's access rights."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Prefetch, QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from cible.core import access, listing, nace
from cible.core import normalisers as norm
from cible.core.errors import NotFound
from cible.core.listing import Filter, ListQuery, Sort
from cible.core.search import Hit, SearchQuery
from cible.people.models import (
    CompetitorProduct,
    Consent,
    Contact,
    ContactBuyingRole,
    ContactFunction,
    HeadcountBand,
    LifecycleStage,
    Organisation,
    OrganisationStatus,
    Seniority,
    SizeClass,
    Source,
    Team,
    Tier,
    UserProfile,
)

User = get_user_model()


def user_choices() -> list[tuple[Any, str]]:
    return [
        (u.pk, u.get_full_name() or u.username)
        for u in User.objects.filter(is_active=True).order_by("first_name", "last_name")
    ]


def _sections() -> list[tuple[str, str]]:
    from django.utils.translation import get_language

    return nace.section_choices(get_language() or "fr")


def product_choices() -> list[tuple[Any, str]]:
    return list(CompetitorProduct.objects.values_list("pk", "name"))


ORGANISATION_FILTERS: tuple[Filter, ...] = (
    Filter("name", _("Name starts with"), "prefix", path="name_key"),
    Filter("region", _("Region"), "choice", choices=norm.french_region_choices),
    Filter("size_class", _("Size"), "choice", choices=lambda: SizeClass.choices),
    Filter("status", _("Status"), "choice", choices=lambda: OrganisationStatus.choices),
    Filter("owner", _("Owner"), "reference", choices=user_choices),
    Filter("naf_section", _("Sector"), "choice", choices=_sections),
    Filter(
        "installed_product",
        _("Installed product"),
        "reference",
        path="installed_products",
        choices=product_choices,
    ),
    Filter("city", _("City"), "contains"),
    Filter("legal_name", _("Legal name contains"), "contains"),
    Filter("siren", _("SIREN"), "exact", normalise=lambda raw: raw.replace(" ", "")),
    Filter("siret", _("SIRET"), "exact", normalise=lambda raw: raw.replace(" ", "")),
    Filter(
        "vat_number", _("VAT number"), "exact", normalise=lambda raw: raw.replace(" ", "").upper()
    ),
    Filter("domain", _("Domain"), "exact", normalise=lambda raw: norm.domain(raw) or ""),
    Filter("phone", _("Phone"), "exact", normalise=lambda raw: norm.phone(raw) or ""),
    Filter(
        "postal_code",
        _("Postal code"),
        "prefix",
        path="postal_code",
        normalise=lambda raw: raw.strip().upper(),
    ),
    Filter("country", _("Country"), "choice", choices=norm.country_choices),
    Filter("naf_code", _("NAF code"), "exact", normalise=lambda raw: nace.parse_naf(raw).code),
    Filter("headcount_band", _("Headcount band"), "choice", choices=lambda: HeadcountBand.choices),
    Filter("headcount", _("Headcount"), "number"),
    Filter("annual_revenue", _("Annual revenue"), "number"),
    Filter("sales_team_size", _("Sales team size"), "number"),
    Filter("parent", _("Parent organisation id"), "reference", hidden=True),
    Filter("tier", _("Tier"), "choice", choices=lambda: Tier.choices),
    Filter("source", _("Source"), "choice", choices=lambda: Source.choices),
    Filter("created_at", _("Created"), "date", path="created_at__date"),
    Filter("last_verified_at", _("Last verified"), "date", path="last_verified_at__date"),
)

ORGANISATION_SORTS: tuple[Sort, ...] = (
    Sort("name", _("Name"), ("name_key",)),
    Sort("city", _("City"), ("city",)),
    Sort("headcount", _("Headcount"), ("headcount",)),
    Sort("annual_revenue", _("Revenue"), ("annual_revenue",)),
    Sort("status", _("Status"), ("status",)),
    Sort("created", _("Created"), ("created_at",)),
    Sort("verified", _("Last verified"), ("last_verified_at",)),
)

CONTACT_FILTERS: tuple[Filter, ...] = (
    Filter("name", _("Name starts with"), "prefix", path="name_key"),
    Filter(
        "email", _("Email"), "exact", path="email_key", normalise=lambda raw: raw.strip().lower()
    ),
    Filter(
        "phone",
        _("Phone or mobile"),
        "exact",
        path="phone|mobile",
        normalise=lambda raw: norm.phone(raw) or "",
    ),
    Filter("job_title", _("Job title contains"), "contains"),
    Filter("function", _("Function"), "choice", choices=lambda: ContactFunction.choices),
    Filter("seniority", _("Seniority"), "choice", choices=lambda: Seniority.choices),
    Filter("buying_role", _("Buying role"), "choice", choices=lambda: ContactBuyingRole.choices),
    Filter("organisation", _("Organisation id"), "reference", hidden=True),
    Filter(
        "organisation_name", _("Organisation starts with"), "prefix", path="organisation__name_key"
    ),
    Filter(
        "lifecycle_stage", _("Lifecycle stage"), "choice", choices=lambda: LifecycleStage.choices
    ),
    Filter("email_consent", _("Email consent"), "choice", choices=lambda: Consent.choices),
    Filter("email_opt_out", _("Opted out of emails"), "boolean"),
    Filter("has_left", _("Has left"), "boolean"),
    Filter("source", _("Source"), "choice", choices=lambda: Source.choices),
    Filter("owner", _("Owner"), "reference", choices=user_choices),
    Filter("created_at", _("Created"), "date", path="created_at__date"),
    Filter("last_verified_at", _("Last verified"), "date", path="last_verified_at__date"),
)
CONTACT_SORTS: tuple[Sort, ...] = (
    Sort("name", _("Name"), ("name_key",)),
    Sort("organisation", _("Organisation"), ("organisation__name_key",)),
    Sort("stage", _("Stage"), ("lifecycle_stage",)),
    Sort("created", _("Created"), ("created_at",)),
    Sort("verified", _("Last verified"), ("last_verified_at",)),
)


def organisation_list(
    *, viewer: Any, params: Mapping[str, Any]
) -> tuple[QuerySet[Organisation], ListQuery]:
    """Visible organisations matching the query string, sorted; errors are reported, not raised."""
    query = listing.parse(params, ORGANISATION_FILTERS, ORGANISATION_SORTS)
    qs = access.visible(viewer, Organisation.objects.all())
    qs = listing.apply(qs, query, ORGANISATION_FILTERS, ORGANISATION_SORTS, default_sort="name")
    return qs.select_related("owner"), query


def contact_list(*, viewer: Any, params: Mapping[str, Any]) -> tuple[QuerySet[Contact], ListQuery]:
    query = listing.parse(params, CONTACT_FILTERS, CONTACT_SORTS)
    qs = access.visible(viewer, Contact.objects.all())
    qs = listing.apply(qs, query, CONTACT_FILTERS, CONTACT_SORTS, default_sort="name")
    return qs.select_related("organisation", "owner"), query


def get_visible(*, viewer: Any, model: type[Any], pk: Any) -> Any:
    """One record the viewer may see, or NotFound (the same answer as for a missing record)."""
    try:
        return access.visible(viewer, model.objects.all()).get(pk=pk)
    except (model.DoesNotExist, ValueError, TypeError):
        raise NotFound(str(_("Not found, or not visible to you."))) from None


def organisation_contacts(*, viewer: Any, organisation: Organisation) -> QuerySet[Contact]:
    return access.visible(viewer, organisation.contacts.all()).order_by("name_key")


def organisation_subsidiaries(*, viewer: Any, organisation: Organisation) -> QuerySet[Organisation]:
    return access.visible(viewer, organisation.subsidiaries.all()).order_by("name_key")


def user_directory() -> QuerySet[Any]:
    """Every user with role and teams, for the team directory (names and roles are not private)."""
    return (
        User.objects.select_related("profile")
        .prefetch_related("profile__teams")
        .order_by("-is_active", "first_name", "last_name")
    )


def team_list() -> QuerySet[Team]:
    members = Prefetch(
        "members", queryset=UserProfile.objects.select_related("user"), to_attr="member_list"
    )
    return Team.objects.select_related("manager").prefetch_related(members).order_by("name")


# --- global search ----------------------------------------------------------------------------


def _organisation_hits(viewer: Any, query: SearchQuery, limit: int) -> list[Hit]:
    qs = access.visible(viewer, Organisation.objects.all())
    if query.siret:
        qs = qs.filter(siret=query.siret)
    elif query.siren:
        qs = qs.filter(siren=query.siren)
    elif query.phone:
        qs = qs.filter(phone=query.phone)
    elif query.email:
        qs = qs.filter(domain=query.email.rsplit("@", 1)[-1]) if "." in query.email else qs.none()
    elif query.domain:
        qs = qs.filter(domain=query.domain)
    else:
        qs = qs.filter(name_key__gte=query.key, name_key__lt=query.key + "\uffff").order_by(
            "name_key", "id"
        )
    return [
        Hit(
            "organisation",
            o.display_name,
            " · ".join(filter(None, [o.city, o.siren])),
            reverse("people:organisation_detail", args=[o.pk]),
        )
        for o in qs[:limit]
    ]


def _contact_hits(viewer: Any, query: SearchQuery, limit: int) -> list[Hit]:
    base = access.visible(viewer, Contact.objects.all())
    if query.email:
        searches = [base.filter(email_key__gte=query.email, email_key__lt=query.email + "\uffff")]
    elif query.phone:
        searches = [base.filter(phone=query.phone), base.filter(mobile=query.phone)]
    elif query.siren or query.siret or query.domain:
        return []
    else:
        keys = [query.key]
        words = query.key.split()
        if len(words) == 2:  # "jean dupont" finds Dupont Jean as well as "dupont jean"
            keys.append(f"{words[1]} {words[0]}")
        searches = [
            base.filter(name_key__gte=key, name_key__lt=key + "\uffff").order_by("name_key", "id")
            for key in keys
        ]
    contacts: dict[int, Contact] = {}
    for qs in searches:
        for contact in qs[:limit]:
            contacts.setdefault(contact.pk, contact)
    found = list(contacts.values())[:limit]
    organisations = Organisation.objects.in_bulk(
        [c.organisation_id for c in found if c.organisation_id]
    )
    return [
        Hit(
            "contact",
            c.full_name,
            " · ".join(
                filter(
                    None,
                    [
                        c.job_title,
                        getattr(organisations.get(c.organisation_id), "display_name", ""),
                    ],
                )
            ),
            reverse("people:contact_detail", args=[c.pk]),
        )
        for c in found
    ]


def register_search() -> None:
    from cible.core import search

    search.register("organisation", _organisation_hits)
    search.register("contact", _contact_hits)
