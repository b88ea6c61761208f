"""Tenant exports: /v1/exports (admins only)."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from crm_core.http.api_docs import answers, page_model
from crm_core.http.app import request_context
from crm_core.http.record_routes import ADMIN_ONLY, Cursor, Limit
from crm_core.http.responses import json_response, page_response
from crm_core.models.common import ULID_PATTERN
from crm_core.models.export_job import ExportAnswer, ExportCreate
from crm_core.services import exports

PATH = "/v1/exports"
router = Router()


@router.post(
    "/",
    status_code=202,
    tags=["exports"],
    summary="Export the whole tenant",
    description="Answers the export, `pending`: every record of every type is then written in the "
    "background to one zip of JSON Lines; read the export for its progress and, once `completed`, its "
    "`download_url`. Takes no body, or an empty JSON object (there is nothing to choose yet). "
    "`Idempotency-Key` makes a retry answer the first export instead of starting another.",
    responses=answers(202, ExportAnswer, 400, 403, 413, 415, 422, description="Queued"),
    openapi_extensions=dict(ADMIN_ONLY),
)
def create_export(body: Annotated[ExportCreate | None, Body()] = None) -> Response[str]:
    created = exports.create_export(request_context(router))
    return json_response(created, 202, {"Location": f"{PATH}/{created['id']}"})


@router.get(
    "/",
    tags=["exports"],
    summary="The tenant's exports, newest first",
    responses=answers(200, page_model("ExportPage", ExportAnswer), 400, 403, 422),
)
def list_exports(limit: Limit = 25, cursor: Cursor = None) -> Response[str]:
    page = exports.list_exports(request_context(router), limit=limit, cursor=cursor)
    return page_response(page.items, page.next_cursor)


@router.get(
    "/<export_id>",
    tags=["exports"],
    summary="An export: its status, progress and download link",
    responses=answers(200, ExportAnswer, 403, 404, 422),
)
def get_export(export_id: Annotated[str, Path(pattern=ULID_PATTERN)]) -> Response[str]:
    return json_response(exports.get_export(request_context(router), export_id))
