"""What every app's REST endpoints share: the error and page shapes, lenient input types, cursor
pagination and the all-or-nothing bulk upsert runner.

The API stays thin (ARCHITECTURE.md): schemas only check the *shape* of a request (known
fields, JSON types); the services normalise and validate values, so "1 200" is a headcount
through the API exactly as it is in a form or an import.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.core import signing
from django.db import DatabaseError, transaction
from django.db.models import F, Model, Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import BeforeValidator, ConfigDict, Field, WithJsonSchema, field_validator

from cible.core.audit import Channel
from cible.core.errors import CibleError, ConflictError, FieldError, ValidationFailed

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
BULK_MAX_ITEMS = 1000

# --- shapes -------------------------------------------------------------------------------------


class ErrorItem(Schema):
    field: str
    message: str


class ErrorOut(Schema):
    """The one error shape of the API, whatever the status (400, 401, 403, 404, 409, 413, 422)."""

    detail: str
    errors: list[ErrorItem] = []


class BulkItemErrors(Schema):
    index: int
    errors: list[ErrorItem]


class BulkErrorOut(ErrorOut):
    """A refused bulk call: `errors` lists every problem as `items.<index>.<field>`, and `items`
    groups them by the index of the record in the request."""

    items: list[BulkItemErrors] = []


# Every answer an endpoint may give besides success, for the OpenAPI schema.
ERRORS: dict[int, Any] = {status: ErrorOut for status in (400, 401, 403, 404, 413, 422)}
WRITE_ERRORS: dict[int, Any] = {**ERRORS, 409: ErrorOut}
BULK_ERRORS: dict[int, Any] = {**ERRORS, 422: BulkErrorOut}


class BulkItemResult(Schema):
    index: int
    id: int
    action: Literal["created", "updated"]


class BulkOut(Schema):
    created: int
    updated: int
    items: list[BulkItemResult]


# --- lenient input types ------------------------------------------------------------------------


def _number_to_text(value: Any) -> Any:
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return str(value)
    return value


# A value the services parse from text ("1 200", "1 234,56 €", "25/12/2026"); JSON numbers are
# accepted too and handed over as their text.
Loose = Annotated[
    str | None,
    BeforeValidator(_number_to_text),
    WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "number"}, {"type": "null"}]}),
]
# A yes/no: JSON booleans, or the words the normalisers know ("oui", "no", "1"…).
LooseBool = Annotated[
    bool | str | None,
    WithJsonSchema({"anyOf": [{"type": "boolean"}, {"type": "string"}, {"type": "null"}]}),
]
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]


def _check_text(value: Any) -> Any:
    if isinstance(value, str) and "\x00" in value:
        raise ValueError(_("must not contain NUL characters"))
    if isinstance(value, list):
        for item in value:
            _check_text(item)
    return value


class InputSchema(Schema):
    """Base of request bodies: unknown fields are refused, not silently dropped."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        return _check_text(value)

    def data(self) -> dict[str, Any]:
        """The fields the client sent (a field sent as null clears it)."""
        return self.model_dump(exclude_unset=True)


class ListParams(Schema):
    """Paging parameters of every list endpoint (filters come from each app's schema)."""

    sort: str | None = Field(None, description="A sort key; prefix with '-' for descending.")
    cursor: str | None = Field(None, description="The next_cursor of the previous page.")
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    count: bool = Field(False, description="Also return the number of matching records.")


# --- cursor pagination --------------------------------------------------------------------------

_CURSOR_SALT = "cible.api.cursor"


def _encode_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"t": value.isoformat()}
    if isinstance(value, dt.date):
        return {"D": value.isoformat()}
    if isinstance(value, Decimal):
        return {"d": str(value)}
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        if "t" in value:
            return dt.datetime.fromisoformat(value["t"])
        if "D" in value:
            return dt.date.fromisoformat(value["D"])
        if "d" in value:
            return Decimal(value["d"])
        raise ValueError("unknown value")
    return value


def _bad_cursor(message: str) -> ValidationFailed:
    return ValidationFailed(_("Invalid cursor."), errors=[FieldError("cursor", message)])


def _ordering(qs: QuerySet[Any]) -> list[str]:
    order = [o for o in qs.query.order_by if isinstance(o, str)]
    if len(order) != len(qs.query.order_by):
        return ["id"]  # an expression we cannot page through: fall back to the id
    if not order or order[-1].lstrip("-") not in ("id", "pk"):
        order.append("id")
    return order


def _nullable(model: type[Model], path: str, computed: Collection[str]) -> bool:
    """Whether `path` may hold NULL. A computed sort key (an annotation: a count, a sum) is
    taken as nullable: the NULL branches of `_after` are then merely never true."""
    if path in computed:
        return True
    nullable = False
    for name in path.split("__"):
        field = model._meta.get_field(name)
        nullable = nullable or bool(getattr(field, "null", False))
        if field.related_model is not None and field.is_relation:
            model = field.related_model  # type: ignore[assignment]
    return nullable


def _value_of(obj: Any, path: str) -> Any:
    for name in path.split("__"):
        if obj is None:
            return None
        obj = getattr(obj, name)
    return obj


def _after(
    model: type[Model], order: Sequence[str], values: Sequence[Any], computed: Collection[str]
) -> Q:
    """Rows strictly after `values` in `order`; NULLs sort after every value (before in reverse)."""
    term, *rest = order
    descending = term.startswith("-")
    path = term.lstrip("-")
    value = values[0]
    if not rest:
        return Q(**{f"{path}__{'lt' if descending else 'gt'}": value})
    if value is None:
        beyond = Q(**{f"{path}__isnull": False}) if descending else Q(pk__in=[])
        same = Q(**{f"{path}__isnull": True})
    else:
        beyond = Q(**{f"{path}__{'lt' if descending else 'gt'}": value})
        if not descending and _nullable(model, path, computed):
            beyond |= Q(**{f"{path}__isnull": True})
        same = Q(**{path: value})
    return beyond | (same & _after(model, rest, values[1:], computed))


def _order_with_nulls(
    model: type[Model], order: Sequence[str], computed: Collection[str]
) -> list[Any]:
    result: list[Any] = []
    for term in order:
        path = term.lstrip("-")
        if path not in ("id", "pk") and _nullable(model, path, computed):
            field = F(path)
            result.append(
                field.desc(nulls_first=True) if term.startswith("-") else field.asc(nulls_last=True)
            )
        else:
            result.append(term)
    return result


def viewer(request: HttpRequest) -> Any:
    """The user the request authenticated as (ninja sets `request.auth`)."""
    return request.auth  # type: ignore[attr-defined]


def paginate(
    qs: QuerySet[Any],
    *,
    cursor: str | None,
    limit: int,
    serialize: Callable[[Any], Mapping[str, Any]],
    with_count: bool = False,
) -> dict[str, Any]:
    """One page of `qs` after `cursor`, in the queryset's order (its last key must be the id).

    Keyset pagination: each page is a `WHERE (sort key, id) > (last seen)` query, so pages stay
    fast deep into a large base and a record created or deleted meanwhile never makes another
    one appear twice or vanish. A sort key may be computed (an annotation of `qs`, such as a
    campaign's member count): its condition then goes where the database can test it. The
    cursor is signed, so a hand-made one cannot smuggle in values of the wrong type; it is
    refused with a 422 naming `cursor`.
    """
    model = qs.model
    order = _ordering(qs)
    computed = frozenset(qs.query.annotations)
    total = qs.count() if with_count else None
    page_qs = qs.order_by(*_order_with_nulls(model, order, computed))
    if cursor:
        try:
            payload = signing.loads(cursor, salt=_CURSOR_SALT)
            if payload.get("o") != order:
                raise _bad_cursor(_("was made for another sort order; start again without it"))
            values = [_decode_value(v) for v in payload["v"]]
            if len(values) != len(order):
                raise ValueError("length")
        except CibleError:
            raise
        except (signing.BadSignature, ValueError, KeyError, TypeError, AttributeError):
            raise _bad_cursor(_("is not a cursor this API gave out")) from None
        page_qs = page_qs.filter(_after(model, order, values, computed))
    rows = list(page_qs[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        payload = {"o": order, "v": [_encode_value(_value_of(last, t.lstrip("-"))) for t in order]}
        next_cursor = signing.dumps(payload, salt=_CURSOR_SALT, compress=True)
    return {"items": [serialize(row) for row in rows], "next_cursor": next_cursor, "count": total}


def raise_query_errors(errors: Sequence[FieldError]) -> None:
    """A list's query string that made no sense (bad filter value, unknown sort) is a 422."""
    if errors:
        raise ValidationFailed(_("Invalid query parameters."), errors=list(errors))


# --- bulk upsert --------------------------------------------------------------------------------


class BulkFailed(ValidationFailed):
    """Some records of a bulk call were refused; nothing was written."""

    def __init__(self, failures: list[tuple[int, list[FieldError]]]) -> None:
        self.item_errors = failures
        flat = [
            FieldError(f"items.{index}" + (f".{e.field}" if e.field else ""), e.message)
            for index, errors in failures
            for e in errors
        ]
        super().__init__(
            _("%(count)s of the records were refused; nothing was written.")
            % {"count": len(failures)},
            errors=flat,
        )


@dataclass(frozen=True)
class BulkSpec:
    """How one kind of record is found and written by a bulk upsert.

    `find(field, value)` returns the visible record whose `field` (an external key such as
    "siren", or "id") matches, or None; it raises ValidationFailed for an unusable key or an
    ambiguous match. `create(data)` and `update(record, data, expected_version)` call the
    services (which check access and write the audit log).
    """

    find: Callable[[str, Any], Any]
    create: Callable[[dict[str, Any]], Any]
    update: Callable[[Any, dict[str, Any], int | None], Any]
    verbose_name: str = ""  # the model's verbose name, as shown in messages ("record" if blank)

    @classmethod
    def for_services(
        cls,
        *,
        actor: Any,
        model: type[Model],
        find: Callable[[str, Any], Any],
        create: Callable[..., Any],
        update: Callable[..., Any],
    ) -> BulkSpec:
        """The usual spec: `create(actor=, channel=, data=)` and
        `update(<model_name>=record, actor=, channel=, data=, expected_version=)` via the API."""
        name = model._meta.model_name or "record"
        return cls(
            find=find,
            create=lambda data: create(actor=actor, channel=Channel.API, data=data),
            update=lambda record, data, version: update(
                **{name: record},
                actor=actor,
                channel=Channel.API,
                data=data,
                expected_version=version,
            ),
            verbose_name=str(model._meta.verbose_name),
        )


def _item_errors(error: CibleError) -> list[FieldError]:
    errors = list(error.errors) or [FieldError("", str(error))]
    if isinstance(error, ConflictError):
        return [FieldError(e.field or "version", e.message) for e in errors]
    return errors


def run_bulk(items: Sequence[Mapping[str, Any]], *, match: str, spec: BulkSpec) -> dict[str, Any]:
    """Create or update every item in one transaction, or none of them.

    An item with an `id` updates that record. Otherwise, when `match` names an external key
    and the item carries it, the visible record with that key is updated; failing that the item
    is created. Every item is tried, so the answer lists all the problems at once.
    """
    if len(items) > BULK_MAX_ITEMS:
        raise ValidationFailed(
            errors=[
                FieldError(
                    "items",
                    _("at most %(max)s records per call (got %(count)s); split the batch")
                    % {"max": BULK_MAX_ITEMS, "count": len(items)},
                )
            ]
        )
    results: list[dict[str, Any]] = []
    failures: list[tuple[int, list[FieldError]]] = []
    with transaction.atomic():
        for index, item in enumerate(items):
            data = dict(item)
            record_id = data.pop("id", None)
            version = data.pop("version", None)
            try:
                with transaction.atomic():
                    if record_id is not None:
                        record = spec.find("id", record_id)
                        if record is None:
                            raise ValidationFailed(
                                errors=[
                                    FieldError(
                                        "id",
                                        _("no %(what)s with id %(id)s")
                                        % {
                                            "what": spec.verbose_name or _("record"),
                                            "id": record_id,
                                        },
                                    )
                                ]
                            )
                    elif match != "id" and data.get(match) not in (None, ""):
                        record = spec.find(match, data[match])
                    else:
                        record = None
                    if record is None:
                        record = spec.create(data)
                        results.append({"index": index, "id": record.pk, "action": "created"})
                    else:
                        record = spec.update(record, data, version)
                        results.append({"index": index, "id": record.pk, "action": "updated"})
            except CibleError as error:
                failures.append((index, _item_errors(error)))
            except DatabaseError:
                failures.append((index, [FieldError("", _("could not be stored"))]))
        if failures:
            transaction.set_rollback(True)
    if failures:
        raise BulkFailed(failures)
    created = sum(1 for r in results if r["action"] == "created")
    return {"created": created, "updated": len(results) - created, "items": results}
