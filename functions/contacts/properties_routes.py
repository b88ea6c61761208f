"""Custom property definitions: /v1/properties/{object} and /v1/properties/{object}/{name}
(docs/decisions/0012). Every role reads them; only an admin changes them."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from crm_core.http.api_docs import answers, list_page_model
from crm_core.http.app import request_context
from crm_core.http.record_routes import ADMIN_ONLY, Cursor, Limit
from crm_core.http.responses import list_page_response, parse_if_match, record_response
from crm_core.models.property import NAME_PATTERN, Property, PropertyCreate, PropertyObject, PropertyUpdate
from crm_core.services.properties import PROPERTIES
from crm_core.validation import set_fields

PATH = "/v1/properties"
router = Router()
TAG = "properties"

ObjectPath = Annotated[PropertyObject, Path(description="Whose properties: contacts, companies or deals.")]
NamePath = Annotated[str, Path(pattern=NAME_PATTERN, description="The property's name.")]


@router.get(
    "/<object>",
    tags=[TAG],
    summary="List an object's custom properties",
    description="Oldest first. Every role reads them.",
    responses=answers(200, list_page_model("PropertyPage", Property), 400, 404, 422),
)
def list_properties(
    object: ObjectPath,
    limit: Limit = 25,
    cursor: Cursor = None,
    archived: Annotated[bool, Query(description="List archived ones instead.")] = False,
) -> Response[str]:
    page = PROPERTIES.list_records(
        request_context(router),
        filters={"object": object},
        q=None,
        archived=archived,
        limit=limit,
        cursor=cursor,
    )
    return list_page_response(page.items, page.next_cursor, None)


@router.post(
    "/<object>",
    openapi_extensions=dict(ADMIN_ONLY),
    status_code=201,
    tags=[TAG],
    summary="Define a custom property",
    description="The name is unique per object (an archived property keeps its name: restore it) and, like "
    "the type, fixed. From the next write on, the object's records' `custom` is validated against it.",
    responses=answers(201, Property, 400, 403, 404, 409, 413, 415, 422, description="Created", etag=True),
)
def create_property(object: ObjectPath, body: Annotated[PropertyCreate, Body()]) -> Response[str]:
    record = PROPERTIES.create_property(request_context(router), object, set_fields(body))
    return record_response(record, 201, location=f"{PATH}/{object}/{record['name']}")


@router.get(
    "/<object>/<name>",
    tags=[TAG],
    summary="Read a custom property",
    responses=answers(200, Property, 404, 422, etag=True),
)
def read_property(
    object: ObjectPath,
    name: NamePath,
    archived: Annotated[bool, Query(description="Also find an archived property.")] = False,
) -> Response[str]:
    return record_response(PROPERTIES.get_property(request_context(router), object, name, archived=archived))


@router.patch(
    "/<object>/<name>",
    openapi_extensions=dict(ADMIN_ONLY),
    tags=[TAG],
    summary="Change a custom property's label, description, options or required",
    description="Only the fields sent change. Stored values stay as they are: a removed option or a "
    "property made required applies to the values written from now on. Send If-Match with the ETag to "
    "change only the version you read.",
    responses=answers(200, Property, 400, 403, 404, 409, 412, 413, 415, 422, etag=True),
)
def update_property(
    object: ObjectPath,
    name: NamePath,
    body: Annotated[PropertyUpdate, Body()],
) -> Response[str]:
    if_match = parse_if_match(router.current_event.headers.get("if-match"))
    record = PROPERTIES.update_property(request_context(router), object, name, set_fields(body), if_match)
    return record_response(record)


@router.delete(
    "/<object>/<name>",
    openapi_extensions=dict(ADMIN_ONLY),
    status_code=204,
    tags=[TAG],
    summary="Archive a custom property (restorable 30 days)",
    description="Records keep the values they hold; a write that sends one is refused from now on.",
    responses=answers(204, None, 400, 403, 404, 409, 412, 422, description="Archived"),
)
def archive_property(object: ObjectPath, name: NamePath) -> Response[str]:
    if_match = parse_if_match(router.current_event.headers.get("if-match"))
    PROPERTIES.archive_property(request_context(router), object, name, if_match)
    return Response(status_code=204, body="")


@router.post(
    "/<object>/<name>/restore",
    openapi_extensions=dict(ADMIN_ONLY),
    tags=[TAG],
    summary="Restore an archived custom property",
    responses=answers(200, Property, 403, 404, 409, 422, etag=True),
)
def restore_property(object: ObjectPath, name: NamePath) -> Response[str]:
    return record_response(PROPERTIES.restore_property(request_context(router), object, name))
