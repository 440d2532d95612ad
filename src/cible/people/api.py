"""REST endpoints of organisations and contacts: thin over the selectors and services."""

from __future__ import annotations

from typing import Any, Literal

from django.db.models import Model
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Status

from cible.core import access, nace
from cible.core import normalisers as norm
from cible.core.api_kit import (
    BULK_ERRORS,
    ERRORS,
    WRITE_ERRORS,
    BulkOut,
    BulkSpec,
    Id,
    paginate,
    raise_query_errors,
    run_bulk,
    viewer,
)
from cible.core.audit import Channel
from cible.core.errors import FieldError, ValidationFailed
from cible.people import selectors, services
from cible.people.models import Contact, Organisation
from cible.people.schemas import (
    ContactBulkIn,
    ContactCreateIn,
    ContactOut,
    ContactPage,
    ContactPatch,
    ContactQuery,
    OrganisationBulkIn,
    OrganisationCreateIn,
    OrganisationOut,
    OrganisationPage,
    OrganisationPatch,
    OrganisationQuery,
    contact_out,
    organisation_out,
)

router = Router()


def _find_by_key(
    user: Any, model: type[Any], field: str, raw: Any, *, lookup: str, key: Any
) -> Any:
    """The one visible record whose `lookup` equals `key`; two or more is ambiguous."""
    if field == "id":
        return access.visible(user, model.objects.all()).filter(pk=raw).first()
    found = list(access.visible(user, model.objects.all()).filter(**{lookup: key})[:5])
    if len(found) > 1:
        ids = ", ".join(str(r.pk) for r in found)
        raise ValidationFailed(
            errors=[
                FieldError(
                    field,
                    _("matches several records (ids %(ids)s); send the id of the one to update")
                    % {"ids": ids},
                )
            ]
        )
    return found[0] if found else None


def _normalised_key(normaliser: Any, field: str, raw: Any) -> Any:
    try:
        return normaliser(raw)
    except norm.NormalisationError as error:
        raise ValidationFailed(errors=[FieldError(field, error.message)]) from None


# --- organisations ------------------------------------------------------------------------------


@router.get("/organisations", response={200: OrganisationPage, **ERRORS}, tags=["organisations"])
def list_organisations(request: HttpRequest, params: Query[OrganisationQuery]) -> Any:
    """Visible organisations matching the filters of the list page, one page at a time."""
    try:
        qs, query = selectors.organisation_list(viewer=viewer(request), params=request.GET)
    except nace.NaceCodeInvalid as error:
        # The naf_code filter raises where the other filters report; until it reports like
        # them (see listing.parse), a bad code is still the client's 422, not our 500.
        raise ValidationFailed(errors=[FieldError("naf_code", str(error))]) from None
    raise_query_errors(query.errors)
    qs = qs.select_related(None).prefetch_related("installed_products")
    return paginate(
        qs,
        cursor=params.cursor,
        limit=params.limit,
        serialize=organisation_out,
        with_count=params.count,
    )


@router.post(
    "/organisations", response={201: OrganisationOut, **WRITE_ERRORS}, tags=["organisations"]
)
def create_organisation(request: HttpRequest, payload: OrganisationCreateIn) -> Any:
    """Create an organisation; 409 with `candidates` if it looks like one you can see, unless
    `allow_duplicate` is true."""
    data = payload.data()
    allow_duplicate = bool(data.pop("allow_duplicate", False))
    organisation = services.organisation_create(
        actor=viewer(request), channel=Channel.API, data=data, allow_duplicate=allow_duplicate
    )
    return Status(201, organisation_out(organisation))


def _organisation_keys(field: str, raw: Any) -> tuple[str, Any]:
    if field == "siren":
        return "siren", _normalised_key(norm.siren, "siren", raw)
    if field == "domain":
        return "domain", _normalised_key(norm.domain, "domain", raw)
    return "pk", raw


@router.post("/organisations/bulk", response={200: BulkOut, **BULK_ERRORS}, tags=["organisations"])
def bulk_organisations(
    request: HttpRequest,
    payload: OrganisationBulkIn,
    match: Literal["id", "siren", "domain"] = "id",
) -> Any:
    """Create or update up to 1,000 organisations, all or nothing.

    An item with an `id` updates that organisation; otherwise `match=siren` or `match=domain`
    updates the organisation you can see with the same SIREN or domain, and anything else is
    created. If one item is refused nothing is written, and the 422 lists every refused item.
    """
    user = viewer(request)

    def find(field: str, raw: Any) -> Model | None:
        lookup, key = _organisation_keys(field, raw)
        return _find_by_key(user, Organisation, field, raw, lookup=lookup, key=key)

    spec = BulkSpec.for_services(
        actor=user,
        model=Organisation,
        find=find,
        create=services.organisation_create,
        update=services.organisation_update,
    )
    items = [item.model_dump(exclude_unset=True) for item in payload.items]
    return run_bulk(items, match=match, spec=spec)


@router.get(
    "/organisations/{pk}", response={200: OrganisationOut, **ERRORS}, tags=["organisations"]
)
def get_organisation(request: HttpRequest, pk: Path[Id]) -> Any:
    return organisation_out(
        selectors.get_visible(viewer=viewer(request), model=Organisation, pk=pk)
    )


@router.patch(
    "/organisations/{pk}", response={200: OrganisationOut, **WRITE_ERRORS}, tags=["organisations"]
)
def update_organisation(request: HttpRequest, pk: Path[Id], payload: OrganisationPatch) -> Any:
    """Change the fields sent; `version` must be the one you read (409 if it moved since)."""
    organisation = selectors.get_visible(viewer=viewer(request), model=Organisation, pk=pk)
    data = payload.data()
    version = data.pop("version")
    organisation = services.organisation_update(
        organisation=organisation,
        actor=viewer(request),
        channel=Channel.API,
        data=data,
        expected_version=version,
    )
    return organisation_out(organisation)


@router.delete("/organisations/{pk}", response={204: None, **WRITE_ERRORS}, tags=["organisations"])
def delete_organisation(request: HttpRequest, pk: Path[Id]) -> Any:
    organisation = selectors.get_visible(viewer=viewer(request), model=Organisation, pk=pk)
    services.organisation_delete(
        organisation=organisation, actor=viewer(request), channel=Channel.API
    )
    return Status(204, None)


# --- contacts -----------------------------------------------------------------------------------


@router.get("/contacts", response={200: ContactPage, **ERRORS}, tags=["contacts"])
def list_contacts(request: HttpRequest, params: Query[ContactQuery]) -> Any:
    """Visible contacts matching the filters of the list page, one page at a time."""
    qs, query = selectors.contact_list(viewer=viewer(request), params=request.GET)
    raise_query_errors(query.errors)
    return paginate(
        qs.select_related(None),
        cursor=params.cursor,
        limit=params.limit,
        serialize=contact_out,
        with_count=params.count,
    )


@router.post("/contacts", response={201: ContactOut, **WRITE_ERRORS}, tags=["contacts"])
def create_contact(request: HttpRequest, payload: ContactCreateIn) -> Any:
    """Create a contact; 409 with `candidates` if it looks like one you can see, unless
    `allow_duplicate` is true."""
    data = payload.data()
    allow_duplicate = bool(data.pop("allow_duplicate", False))
    contact = services.contact_create(
        actor=viewer(request), channel=Channel.API, data=data, allow_duplicate=allow_duplicate
    )
    return Status(201, contact_out(contact))


@router.post("/contacts/bulk", response={200: BulkOut, **BULK_ERRORS}, tags=["contacts"])
def bulk_contacts(
    request: HttpRequest, payload: ContactBulkIn, match: Literal["id", "email"] = "id"
) -> Any:
    """Create or update up to 1,000 contacts, all or nothing.

    An item with an `id` updates that contact; otherwise `match=email` updates the contact you
    can see with the same email address, and anything else is created.
    """
    user = viewer(request)

    def find(field: str, raw: Any) -> Model | None:
        if field == "email":
            key = _normalised_key(lambda value: norm.email(value, field="email"), "email", raw)
            return _find_by_key(user, Contact, field, raw, lookup="email_key", key=key)
        return _find_by_key(user, Contact, field, raw, lookup="pk", key=raw)

    spec = BulkSpec.for_services(
        actor=user,
        model=Contact,
        find=find,
        create=services.contact_create,
        update=services.contact_update,
    )
    items = [item.model_dump(exclude_unset=True) for item in payload.items]
    return run_bulk(items, match=match, spec=spec)


@router.get("/contacts/{pk}", response={200: ContactOut, **ERRORS}, tags=["contacts"])
def get_contact(request: HttpRequest, pk: Path[Id]) -> Any:
    return contact_out(selectors.get_visible(viewer=viewer(request), model=Contact, pk=pk))


@router.patch("/contacts/{pk}", response={200: ContactOut, **WRITE_ERRORS}, tags=["contacts"])
def update_contact(request: HttpRequest, pk: Path[Id], payload: ContactPatch) -> Any:
    """Change the fields sent; `version` must be the one you read (409 if it moved since)."""
    contact = selectors.get_visible(viewer=viewer(request), model=Contact, pk=pk)
    data = payload.data()
    version = data.pop("version")
    contact = services.contact_update(
        contact=contact,
        actor=viewer(request),
        channel=Channel.API,
        data=data,
        expected_version=version,
    )
    return contact_out(contact)


@router.delete("/contacts/{pk}", response={204: None, **WRITE_ERRORS}, tags=["contacts"])
def delete_contact(request: HttpRequest, pk: Path[Id]) -> Any:
    contact = selectors.get_visible(viewer=viewer(request), model=Contact, pk=pk)
    services.contact_delete(contact=contact, actor=viewer(request), channel=Channel.API)
    return Status(204, None)
