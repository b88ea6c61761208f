"""Segments: /v1/segments, their members, and what a segment's filter may name."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from crm_core.http.api_docs import answers, list_page_model, page_model
from crm_core.http.app import request_context
from crm_core.http.record_routes import Cursor, Limit, RecordIdPath, add_record_routes
from crm_core.http.responses import json_response, list_page_response, page_response
from crm_core.models.common import Closed
from crm_core.models.contact import Contact
from crm_core.models.segment import (
    Segment,
    SegmentCreate,
    SegmentPreviewRequest,
    SegmentProperty,
    SegmentUpdate,
)
from crm_core.services import segments
from crm_core.services.segment_filters import segment_properties
from crm_core.services.segments import SEGMENTS
from pydantic import Field

PATH = "/v1/segments"
router = Router()


class SegmentPreview(Closed):
    """What a filter selects now: its member count and its first members."""

    count: int = Field(description="How many active contacts the filter selects.")
    items: list[Contact]  # type: ignore[valid-type]


@router.get(
    "/properties",
    tags=["segments"],
    summary="What a segment's conditions may name",
    description="The contact fields, the company fields (`company.<field>`) and the tenant's active custom "
    "contact properties (`custom.<name>`), each with its type, the operators it takes and its options.",
    responses=answers(200, page_model("SegmentPropertyPage", SegmentProperty), 422),
)
def list_properties() -> Response[str]:
    ctx = request_context(router)
    return page_response(segment_properties(ctx.tenant_id), None)


@router.post(
    "/preview",
    tags=["segments"],
    summary="Count and show the members of a filter not saved yet",
    description="The segment builder's live count: the filter is checked as a segment's is (422 naming "
    "`filter.any[0].all[1].value` and the like), nothing is written. `limit` (0 to 100, default 10) members "
    "are shown, in id order. A viewer, who cannot save a segment, is refused (403).",
    responses=answers(200, SegmentPreview, 400, 403, 413, 415, 422),
)
def preview(body: Annotated[SegmentPreviewRequest, Body()]) -> Response[str]:
    ctx = request_context(router)
    ctx.principal.require_create(ctx.principal.user_id)  # building a segment is for those who may save one
    count, members = segments.preview(ctx.tenant_id, body.model_dump(mode="json")["filter"], body.limit)
    return json_response({"count": count, "items": members})


@router.get(
    "/<record_id>/members",
    tags=["segments"],
    summary="The segment's member contacts",
    description="Active contacts that meet every condition of at least one of the filter's groups, in id "
    "order, evaluated now. With `count=true`, `total` is how many members there are (read to the end: "
    "its cost grows with the tenant's contacts); else null. A page reads a bounded number of index keys, "
    "so a page of a sparse filter may be short with a cursor to continue.",
    responses=answers(200, list_page_model("SegmentMemberPage", Contact), 400, 404, 422),
)
def members(
    record_id: RecordIdPath,
    limit: Limit = 25,
    cursor: Cursor = None,
    count: Annotated[bool, Query(description="Also count every member (`total`).")] = False,
) -> Response[str]:
    ctx = request_context(router)
    SEGMENTS.get(ctx, record_id)  # 404 for an archived segment, another tenant's or none
    items, next_cursor = segments.segment_member_page(ctx.tenant_id, record_id, cursor, limit)
    total = segments.count_segment_members(ctx.tenant_id, record_id) if count else None
    return list_page_response(items, next_cursor, total)


add_record_routes(
    router,
    SEGMENTS,
    PATH,
    SegmentCreate,
    SegmentUpdate,
    Segment,
    routes=frozenset({"list", "create", "read", "update", "archive", "restore", "timeline", "batch"}),
    descriptions={
        "create": "Anyone but a viewer creates segments; the creator owns it. The filter is an OR (`any`) of "
        "AND groups (`all`) of conditions `{property, operator, value}` (GET /v1/segments/properties).",
    },
)
