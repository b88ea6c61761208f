"""Pipelines: /v1/pipelines, and each pipeline's board."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from crm_core.http.api_docs import answers
from crm_core.http.app import request_context
from crm_core.http.record_routes import RecordIdPath, add_record_routes
from crm_core.http.responses import json_response
from crm_core.models.board import Board
from crm_core.models.pipeline import Pipeline, PipelineCreate, PipelineUpdate
from crm_core.services.board import board
from crm_core.services.pipelines import PIPELINES

PATH = "/v1/pipelines"
router = Router()
TAGS = ["pipelines"]


@router.get(
    "/<record_id>/board",
    tags=TAGS,
    summary="The pipeline's open stages with their counts, totals and first deals",
    description="Totals are kept with every deal change, so the board costs one read for the totals and one "
    "per stage however many deals there are. Page further into one stage with "
    "GET /v1/deals?stage_id=...&cursor=<the stage's next_cursor>.",
    responses=answers(200, Board, 404, 422),
)
def pipeline_board(
    record_id: RecordIdPath,
    deals_per_stage: Annotated[int, Query(ge=1, le=100, description="Deals shown in each stage.")] = 25,
) -> Response[str]:
    return json_response(board(request_context(router), record_id, deals_per_stage=deals_per_stage))


add_record_routes(
    router,
    PIPELINES,
    PATH,
    PipelineCreate,
    PipelineUpdate,
    Pipeline,
    routes=frozenset({"list", "create", "read", "update", "archive", "restore", "timeline"}),
    descriptions={
        "update": "Sending stages replaces the list: keep a stage by sending its id. A stage that still "
        "holds deals cannot be left out (409).",
        "archive": "Only a pipeline with no open deals (409 otherwise).",
    },
)
