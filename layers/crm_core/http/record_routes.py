"""The routes every record type has (API.md section 2), made once for each type.

A type's own module adds its list route (its filters differ) and anything particular to it.
No ``from __future__ import annotations`` here: the route signatures use the type's models, which
Powertools reads at definition time to validate requests and to write the OpenAPI document.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from pydantic import BaseModel, Field, create_model

from crm_core.context import RequestContext
from crm_core.http.api_docs import (
    TimelineEntry,
    answers,
    batch_results_model,
    duplicate_pair_model,
    list_page_model,
    merge_result_model,
    page_model,
)
from crm_core.http.app import CUSTOM_FILTERS, request_context
from crm_core.http.responses import (
    json_response,
    list_page_response,
    page_response,
    parse_if_match,
    record_response,
)
from crm_core.models.common import ULID_PATTERN, Instant, StrictModel
from crm_core.record_types import record_type
from crm_core.services.custom_values import custom_filters
from crm_core.services.records import MAX_BATCH, MAX_MOVED_BY_MERGE, ListFilters, RecordService
from crm_core.validation import set_fields

Limit = Annotated[int, Query(ge=1, le=100, description="Page size, 1 to 100.")]
Cursor = Annotated[str | None, Query(description="The `next_cursor` of the previous page.")]
RecordIdPath = Annotated[str, Path(pattern=ULID_PATTERN, description="The record's id.")]
IdFilter = Annotated[str | None, Query(pattern=ULID_PATTERN)]  # a list filter by another record's id
OwnerFilter = Annotated[
    str | None,
    Query(pattern=f"^me$|{ULID_PATTERN}", description="A user's id, or `me` for the caller's own records."),
]
TeamFilter = Annotated[
    str | None, Query(pattern=ULID_PATTERN, description="Records owned by the users of this team.")
]
# A list filter by a time: RFC 3339 with its offset (a time without one names no instant), compared in UTC.
UpdatedSince = Annotated[
    Instant | None, Query(description="RFC 3339 time with its offset: records changed since then.")
]
BatchAction = Literal["create", "update", "upsert", "read", "archive"]
Sort = Annotated[
    str | None,
    Query(
        pattern=r"^-?[a-z_]{1,40}$",
        description="The field to sort by (the operation's description names them); a leading - sorts "
        "descending. Without it: oldest first.",
    ),
]
Expand = Annotated[
    str | None,
    Query(
        pattern=r"^[a-z_]{1,40}(,[a-z_]{1,40}){0,5}$",
        description="Related records to show inline, comma-separated (named in the operation's description).",
    ),
]


def list_extensions(service: RecordService) -> dict[str, Any] | None:
    """The OpenAPI extensions of a type's list (``openapi_extensions=``): a type with custom properties
    takes ``custom.<name>=value`` filters, which the query parameter check lets through."""
    return {CUSTOM_FILTERS: "custom.<name>"} if service.spec.custom_object else None


def list_description(service: RecordService, own: str | None = None) -> str:
    """What a type's list offers, from its spec: the sorts, the expansions, and how a page is read."""
    spec = service.spec
    said = [own] if own else []
    said.append(f"Sorts by {', '.join(service.sortable())}.")
    if spec.expansions:
        said.append(f"Expands {', '.join(spec.expansions)} (one batch read per page).")
    if spec.custom_object:
        said.append(
            f"Filters by custom properties with `custom.<name>=value` (defined under /v1/properties/"
            f"{spec.custom_object}; a multi_enum matches one of its values), matched while reading."
        )
    said.append(
        "A page holds `limit` records unless the list ends there (then `next_cursor` is null). A filter that "
        "no index serves (any beyond the first, and text compared without regard to case) is applied while "
        "reading, in at most 4 bounded reads per page: a page of a very sparse filter may then be short, "
        "with a cursor to continue. `total` is the count of the unfiltered list."
    )
    return " ".join(said)


def with_related(record: type[BaseModel], service: RecordService) -> type[BaseModel]:
    """The record as answered, with the related records ``?expand=`` may add (absent otherwise)."""
    spec = service.spec
    if not spec.expansions:
        return record
    fields: dict[str, Any] = {}
    for name, expansion in spec.expansions.items():
        other = record_type(expansion.object_type).record_model()
        many = expansion.field.endswith("_ids")
        kind = (list[other] if many else other) | None  # type: ignore[valid-type]
        fields[name] = (kind, Field(None, description=f"With ?expand={name}: the {name} it refers to."))
    model: type[BaseModel] = create_model(f"{record.__name__}WithRelated", __base__=record, **fields)
    return model


def list_response(
    service: RecordService,
    ctx: RequestContext,
    *,
    filters: ListFilters,
    q: str | None = None,
    archived: bool,
    limit: int,
    cursor: str | None,
    sort: str | None,
    expand: str | None = None,
    query: Mapping[str, str] | None = None,
) -> Response[str]:
    """A page of a type's list: sorted, its related records inline, with the list's total when it is
    unfiltered (one Query of its counts). ``query``: the request's query string, whose
    ``custom.<name>=value`` filters a type with custom properties takes."""
    service.expand(ctx, [], expand)  # an unknown expansion is refused before anything is read
    if service.spec.custom_object is not None and query:
        filters = {**filters, **custom_filters(ctx.tenant_id, service.spec.custom_object, query)}
    page = service.list_records(
        ctx, filters=filters, q=q, archived=archived, limit=limit, cursor=cursor, sort=sort
    )
    service.expand(ctx, page.items, expand)
    filtered = bool(q) or any(value not in (None, "") for value in filters.values())
    total = None if filtered else service.total(ctx, archived=archived)
    return list_page_response(page.items, page.next_cursor, total)


class MergeRequest(StrictModel):
    duplicate_id: str = Field(pattern=ULID_PATTERN, description="The record to fold into this one.")


class BatchRequest(StrictModel):
    inputs: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_BATCH)


# API.md "roles": an admin alone manages the settings. Each write of a setting says so in the OpenAPI
# document, so that a client (and tests/integration/test_roles_over_openapi.py) reads who may call it
# from the document rather than from a list of paths kept beside it.
ADMIN_ONLY: dict[str, Any] = {"x-crm-required-role": "admin"}


def write_extensions(service: RecordService) -> dict[str, Any] | None:
    """The OpenAPI extensions of a write of ``service``'s records (``openapi_extensions=`` of a route)."""
    return dict(ADMIN_ONLY) if service.spec.admin_only else None


RECORD_ROUTES = frozenset(
    {"create", "duplicates", "batch", "read", "update", "archive", "restore", "merge", "timeline"}
)


def add_record_routes(
    router: Router,
    service: RecordService,
    path: str,
    create_model: type[BaseModel],
    update_model: type[BaseModel],
    record: type[BaseModel],
    *,
    routes: frozenset[str] = RECORD_ROUTES,
    descriptions: dict[str, str] | None = None,
) -> None:
    """The shared routes of a record type under ``path`` (e.g. /v1/contacts): by default CRUD,
    archive/restore, timeline, merge, duplicates and batch; ``routes`` picks some of them, plus "list" for a
    type whose list has no filters of its own. ``descriptions`` adds a type's own words to a route."""
    kind = service.spec.object_type
    noun = kind.replace("_", " ")  # "event source"
    shared = _TypeRoutes(
        router=router,
        service=service,
        path=path,
        create_model=create_model,
        update_model=update_model,
        record=record,
        said=descriptions or {},
        tag=path.rsplit("/", 1)[-1],
        name=record.__name__,
        noun=noun,
        a_noun=f"{'an' if noun[0] in 'aeiou' else 'a'} {noun}",  # "an activity"
        shown=with_related(record, service),
        pair=duplicate_pair_model(f"{record.__name__}DuplicatePair", record_type(kind).collection, record),
    )
    for route, add in _ROUTE_ADDERS:
        if route in routes:
            add(shared)


@dataclass(frozen=True)
class _TypeRoutes:
    """What the shared routes of one type are made from, and the words their documentation uses."""

    router: Router
    service: RecordService
    path: str
    create_model: type[BaseModel]
    update_model: type[BaseModel]
    record: type[BaseModel]
    said: dict[str, str]  # a type's own words for a route
    tag: str
    name: str
    noun: str
    a_noun: str
    shown: type[BaseModel]  # the record with what ?expand= may add
    pair: type[BaseModel]


def _add_read(t: _TypeRoutes) -> None:
    """A type with related records reads them inline on request (?expand=)."""
    if t.service.spec.expansions:
        _add_read_expanding(t)
    else:
        _add_read_plain(t)


def _add_list(t: _TypeRoutes) -> None:
    @t.router.get(
        "/",
        tags=[t.tag],
        summary=f"List {t.tag.replace('-', ' ')}",
        description=list_description(t.service, t.said.get("list")),
        responses=answers(200, list_page_model(f"{t.name}Page", t.shown), 400, 422),
    )
    def list_all(
        limit: Limit = 25,
        cursor: Cursor = None,
        archived: Annotated[bool, Query(description="List archived ones instead.")] = False,
        sort: Sort = None,
    ) -> Response[str]:
        return list_response(
            t.service,
            request_context(t.router),
            filters={},
            archived=archived,
            limit=limit,
            cursor=cursor,
            sort=sort,
        )


def _add_create(t: _TypeRoutes) -> None:
    create_model = t.create_model  # a name: Powertools reads the body's model from the annotation

    @t.router.post(
        "/",
        openapi_extensions=write_extensions(t.service),
        status_code=201,
        tags=[t.tag],
        summary=f"Create {t.a_noun}",
        description=t.said.get("create"),
        responses=answers(201, t.record, 400, 403, 409, 413, 415, 422, description="Created", etag=True),
    )
    def create(body: Annotated[create_model, Body()]) -> Response[str]:  # type: ignore[valid-type]
        record = t.service.create(request_context(t.router), set_fields(body))
        return record_response(record, 201, location=f"{t.path}/{record['id']}")


def _add_duplicates(t: _TypeRoutes) -> None:
    @t.router.get(
        "/duplicates",
        tags=[t.tag],
        summary=f"Pairs of {t.noun} records that look like duplicates",
        responses=answers(200, page_model(f"{t.name}DuplicatePage", t.pair), 400, 422),
    )
    def duplicates(limit: Limit = 25, cursor: Cursor = None) -> Response[str]:
        items, next_cursor = t.service.duplicates(request_context(t.router), limit=limit, cursor=cursor)
        return page_response(items, next_cursor)


def _add_batch(t: _TypeRoutes) -> None:
    @t.router.post(
        "/batch/<action>",
        openapi_extensions=write_extensions(t.service),
        tags=[t.tag],
        summary="Create, update, upsert, read or archive up to 100",
        description="One result per input, in order. With all_or_none=true every input commits in one "
        "transaction or none does (then a 422 or 409 names the input).",
        responses=answers(
            200, batch_results_model(f"{t.name}BatchResults", t.record), 400, 403, 404, 409, 413, 415, 422
        ),
    )
    def batch(
        action: Annotated[BatchAction, Path()],
        body: Annotated[BatchRequest, Body()],
        all_or_none: Annotated[
            bool, Query(description="Apply every input in one transaction or none.")
        ] = False,
    ) -> Response[str]:
        results = t.service.batch(request_context(t.router), action, body.inputs, all_or_none=all_or_none)
        return json_response({"results": [result.body() for result in results]})


def _add_read_expanding(t: _TypeRoutes) -> None:
    @t.router.get(
        "/<record_id>",
        tags=[t.tag],
        summary=f"Read {t.a_noun}",
        description=f"Expands {', '.join(t.service.spec.expansions)}.",
        responses=answers(200, t.shown, 404, 422, etag=True),
    )
    def read_expanding(
        record_id: RecordIdPath,
        archived: Annotated[bool, Query(description="Also find an archived record.")] = False,
        expand: Expand = None,
    ) -> Response[str]:
        ctx = request_context(t.router)
        t.service.expand(ctx, [], expand)
        record = t.service.get(ctx, record_id, archived=archived)
        t.service.expand(ctx, [record], expand)
        return record_response(record)


def _add_read_plain(t: _TypeRoutes) -> None:
    @t.router.get(
        "/<record_id>",
        tags=[t.tag],
        summary=f"Read {t.a_noun}",
        responses=answers(200, t.record, 404, 422, etag=True),
    )
    def read(
        record_id: RecordIdPath,
        archived: Annotated[bool, Query(description="Also find an archived record.")] = False,
    ) -> Response[str]:
        return record_response(t.service.get(request_context(t.router), record_id, archived=archived))


def _add_update(t: _TypeRoutes) -> None:
    update_model = t.update_model  # a name: Powertools reads the body's model from the annotation

    @t.router.patch(
        "/<record_id>",
        openapi_extensions=write_extensions(t.service),
        tags=[t.tag],
        summary=f"Change some fields of {t.a_noun}",
        description=t.said.get(
            "update",
            "Only the fields sent change; null clears a field. Send If-Match with the ETag to change "
            "only the version you read.",
        ),
        responses=answers(200, t.record, 400, 403, 404, 409, 412, 413, 415, 422, etag=True),
    )
    def update(record_id: RecordIdPath, body: Annotated[update_model, Body()]) -> Response[str]:  # type: ignore[valid-type]
        if_match = parse_if_match(t.router.current_event.headers.get("if-match"))
        record = t.service.update(request_context(t.router), record_id, set_fields(body), if_match)
        return record_response(record)


def _add_archive(t: _TypeRoutes) -> None:
    @t.router.delete(
        "/<record_id>",
        openapi_extensions=write_extensions(t.service),
        status_code=204,
        tags=[t.tag],
        summary=f"Archive {t.a_noun} (restorable 30 days)",
        description=t.said.get("archive"),
        responses=answers(204, None, 400, 403, 404, 409, 412, 422, description="Archived"),
    )
    def archive(record_id: RecordIdPath) -> Response[str]:
        if_match = parse_if_match(t.router.current_event.headers.get("if-match"))
        t.service.archive(request_context(t.router), record_id, if_match)
        return Response(status_code=204, body="")


def _add_restore(t: _TypeRoutes) -> None:
    @t.router.post(
        "/<record_id>/restore",
        openapi_extensions=write_extensions(t.service),
        tags=[t.tag],
        summary=f"Restore an archived {t.noun}",
        responses=answers(200, t.record, 403, 404, 409, 422, etag=True),
    )
    def restore(record_id: RecordIdPath) -> Response[str]:
        return record_response(t.service.restore(request_context(t.router), record_id))


def _add_merge(t: _TypeRoutes) -> None:
    merged = merge_result_model(f"{t.name}MergeResult", t.record)

    @t.router.post(
        "/<record_id>/merge",
        openapi_extensions=write_extensions(t.service),
        tags=[t.tag],
        summary=f"Merge another {t.noun} into this one",
        description="This record keeps its values and takes the other's where it has none; the other is "
        "archived with merged_into, and its unique value then finds this one. What refers to the other "
        "(a contact's activities and deals; a company's contacts, deals and activities) is moved to this "
        "one, each record a change of its own: within the request when there are at most "
        f"{MAX_MOVED_BY_MERGE} of a kind, in the background after it otherwise (`pending_moves` names "
        "those kinds).",
        responses=answers(200, merged, 400, 403, 404, 409, 413, 415, 422, etag=True),
    )
    def merge(record_id: RecordIdPath, body: Annotated[MergeRequest, Body()]) -> Response[str]:
        merged_record = t.service.merge(request_context(t.router), record_id, body.duplicate_id)
        return record_response(merged_record.body())


def _add_timeline(t: _TypeRoutes) -> None:
    @t.router.get(
        "/<record_id>/timeline",
        tags=[t.tag],
        summary=f"The {t.noun}'s changes, newest first",
        responses=answers(200, page_model(f"{t.name}TimelinePage", TimelineEntry), 400, 404, 422),
    )
    def timeline(record_id: RecordIdPath, limit: Limit = 25, cursor: Cursor = None) -> Response[str]:
        items, next_cursor = t.service.timeline(
            request_context(t.router), record_id, limit=limit, cursor=cursor
        )
        return page_response(items, next_cursor)


_ROUTE_ADDERS: tuple[tuple[str, Callable[[_TypeRoutes], None]], ...] = (
    ("list", _add_list),
    ("create", _add_create),
    ("duplicates", _add_duplicates),
    ("batch", _add_batch),
    ("read", _add_read),
    ("update", _add_update),
    ("archive", _add_archive),
    ("restore", _add_restore),
    ("merge", _add_merge),
    ("timeline", _add_timeline),
)
