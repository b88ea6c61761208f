"""CSV imports: /v1/imports (admins only)."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from crm_core.http.api_docs import answers, page_model
from crm_core.http.app import request_context
from crm_core.http.record_routes import Cursor, Limit
from crm_core.http.responses import json_response, page_response
from crm_core.models.common import ULID_PATTERN
from crm_core.models.import_job import ImportCreate, ImportCreated, ImportJob
from crm_core.services import imports

PATH = "/v1/imports"
router = Router()


@router.post(
    "/",
    status_code=201,
    tags=["imports"],
    summary="Start a CSV import",
    description="Answers the import, `pending`, with a URL to PUT the file to (presigned, for an hour). "
    "Once uploaded, the file is read and its rows written in chunks in the background, each row validated "
    "as an API write of it is; read the import for its counters.",
    responses=answers(201, ImportCreated, 400, 403, 413, 415, 422, description="Waiting for its file"),
)
def create_import(body: Annotated[ImportCreate, Body()]) -> Response[str]:
    created = imports.create_import(
        request_context(router),
        object_name=body.object,
        mapping=body.mapping,
        on_duplicate=body.on_duplicate,
    )
    return json_response(created, 201, {"Location": f"{PATH}/{created['id']}"})


@router.get(
    "/",
    tags=["imports"],
    summary="The tenant's imports, newest first",
    responses=answers(200, page_model("ImportPage", ImportJob), 400, 403, 422),
)
def list_imports(limit: Limit = 25, cursor: Cursor = None) -> Response[str]:
    page = imports.list_imports(request_context(router), limit=limit, cursor=cursor)
    return page_response(page.items, page.next_cursor)


@router.get(
    "/<import_id>",
    tags=["imports"],
    summary="An import: its status, counters and rejected rows",
    responses=answers(200, ImportJob, 403, 404, 422),
)
def get_import(import_id: Annotated[str, Path(pattern=ULID_PATTERN)]) -> Response[str]:
    return json_response(imports.get_import(request_context(router), import_id))
