"""Deals: /v1/deals."""

import datetime as dt
from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from crm_core.http.api_docs import answers, list_page_model
from crm_core.http.app import request_context
from crm_core.http.record_routes import (
    Cursor,
    Expand,
    IdFilter,
    Limit,
    OwnerFilter,
    Sort,
    TeamFilter,
    add_record_routes,
    list_description,
    list_extensions,
    list_response,
    with_related,
)
from crm_core.models.deal import Deal, DealCreate, DealUpdate
from crm_core.models.pipeline import StageId
from crm_core.services.deals import DEALS

PATH = "/v1/deals"
router = Router()


@router.get(
    "/",
    tags=["deals"],
    summary="List or search deals",
    description=list_description(DEALS),
    openapi_extensions=list_extensions(DEALS),
    responses=answers(200, list_page_model("DealPage", with_related(Deal, DEALS)), 400, 422),
)
def list_deals(
    limit: Limit = 25,
    cursor: Cursor = None,
    archived: Annotated[bool, Query(description="List archived deals instead of active ones.")] = False,
    q: Annotated[
        str | None, Query(max_length=100, description="Type-ahead prefix over the deal's name.")
    ] = None,
    pipeline_id: IdFilter = None,
    stage_id: Annotated[StageId | None, Query()] = None,
    owner_id: OwnerFilter = None,
    team_id: TeamFilter = None,
    company_id: IdFilter = None,
    contact_id: IdFilter = None,
    status: Annotated[Literal["open", "won", "lost"] | None, Query()] = None,
    close_before: Annotated[dt.date | None, Query(description="close_date on or before this day.")] = None,
    close_after: Annotated[dt.date | None, Query(description="close_date on or after this day.")] = None,
    sort: Sort = None,
    expand: Expand = None,
) -> Response[str]:
    filters = {
        "pipeline_id": pipeline_id,
        "stage_id": stage_id,
        "owner_id": owner_id,
        "team_id": team_id,
        "company_id": company_id,
        "contact_ids": contact_id,
        "status": status,
        "close_date__lte": close_before.isoformat() if close_before else None,
        "close_date__gte": close_after.isoformat() if close_after else None,
    }
    return list_response(
        DEALS,
        request_context(router),
        filters=filters,
        q=q,
        archived=archived,
        limit=limit,
        cursor=cursor,
        sort=sort,
        query=router.current_event.query_string_parameters,
        expand=expand,
    )


add_record_routes(router, DEALS, PATH, DealCreate, DealUpdate, Deal)
