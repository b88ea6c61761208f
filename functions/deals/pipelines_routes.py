"""Pipelines: /v1/pipelines, and each pipeline's board."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from crm_core.http.api_docs import answers, page_model, record_model
from crm_core.http.app import request_context
from crm_core.http.record_routes import Cursor, Limit, RecordIdPath
from crm_core.http.responses import json_response, page_response, parse_if_match, record_response
from crm_core.models.pipeline import PipelineCreate, PipelineFields, PipelineUpdate
from crm_core.services.pipelines import PIPELINES, board
from crm_core.validation import set_fields

PATH = "/v1/pipelines"
router = Router()
Pipeline = record_model("Pipeline", PipelineFields)
TAGS = ["pipelines"]


@router.get(
    "/",
    tags=TAGS,
    summary="List pipelines",
    responses=answers(200, page_model("PipelinePage", Pipeline), 400, 422),
)
def list_pipelines(limit: Limit = 25, cursor: Cursor = None) -> Response[str]:
    items, next_cursor = PIPELINES.list_records(
        request_context(router), filters={}, q=None, archived=False, limit=limit, cursor=cursor
    )
    return page_response(items, next_cursor)


@router.post(
    "/",
    status_code=201,
    tags=TAGS,
    summary="Create a pipeline",
    responses=answers(201, Pipeline, 403, 413, 415, 422, description="Created", etag=True),
)
def create_pipeline(body: Annotated[PipelineCreate, Body()]) -> Response[str]:
    record = PIPELINES.create(request_context(router), set_fields(body))
    return record_response(record, 201, location=f"{PATH}/{record['id']}")


@router.get(
    "/<record_id>",
    tags=TAGS,
    summary="Read a pipeline",
    responses=answers(200, Pipeline, 404, 422, etag=True),
)
def read_pipeline(record_id: RecordIdPath) -> Response[str]:
    return record_response(PIPELINES.get(request_context(router), record_id))


@router.patch(
    "/<record_id>",
    tags=TAGS,
    summary="Rename a pipeline or change its stages",
    description="Sending stages replaces the list: keep a stage by sending its id. A stage that still "
    "holds deals cannot be left out (409).",
    responses=answers(200, Pipeline, 400, 403, 404, 409, 412, 413, 415, 422, etag=True),
)
def update_pipeline(record_id: RecordIdPath, body: Annotated[PipelineUpdate, Body()]) -> Response[str]:
    if_match = parse_if_match(router.current_event.headers.get("if-match"))
    return record_response(PIPELINES.update(request_context(router), record_id, set_fields(body), if_match))


@router.delete(
    "/<record_id>",
    status_code=204,
    tags=TAGS,
    summary="Archive a pipeline with no open deals",
    responses=answers(204, None, 400, 403, 404, 409, 412, 422, description="Archived"),
)
def archive_pipeline(record_id: RecordIdPath) -> Response[str]:
    if_match = parse_if_match(router.current_event.headers.get("if-match"))
    PIPELINES.archive(request_context(router), record_id, if_match)
    return Response(status_code=204, body="")


@router.get(
    "/<record_id>/board",
    tags=TAGS,
    summary="The pipeline's open stages with their counts, totals and first deals",
    description="Totals are kept with every deal change, so the board costs one read for the totals and one "
    "per stage however many deals there are. Page further into one stage with "
    "GET /v1/deals?stage_id=...&cursor=<the stage's next_cursor>.",
    responses=answers(200, None, 404, 422),
)
def pipeline_board(
    record_id: RecordIdPath,
    deals_per_stage: Annotated[int, Query(ge=1, le=100, description="Deals shown in each stage.")] = 25,
) -> Response[str]:
    return json_response(board(request_context(router), record_id, deals_per_stage=deals_per_stage))
