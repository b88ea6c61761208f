"""Activities: /v1/activities."""

from typing import Annotated

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
    RecordIdPath,
    Sort,
    TeamFilter,
    add_record_routes,
    list_description,
    list_response,
    with_related,
)
from crm_core.http.responses import record_response
from crm_core.ids import utc_text
from crm_core.models.activity import Activity, ActivityCreate, ActivityType, ActivityUpdate
from crm_core.models.common import Instant
from crm_core.services.activities import ACTIVITIES

PATH = "/v1/activities"
router = Router()


@router.get(
    "/",
    tags=["activities"],
    summary="List or search activities",
    description=list_description(ACTIVITIES),
    responses=answers(200, list_page_model("ActivityPage", with_related(Activity, ACTIVITIES)), 400, 422),
)
def list_activities(
    limit: Limit = 25,
    cursor: Cursor = None,
    archived: Annotated[bool, Query(description="List archived activities instead of active ones.")] = False,
    q: Annotated[str | None, Query(max_length=100, description="Type-ahead prefix over the subject.")] = None,
    owner_id: OwnerFilter = None,
    team_id: TeamFilter = None,
    type: Annotated[ActivityType | None, Query()] = None,
    open: Annotated[bool | None, Query(description="true: not completed; false: completed.")] = None,
    due_before: Annotated[
        Instant | None, Query(description="RFC 3339 time with its offset: due_at at or before it.")
    ] = None,
    contact_id: IdFilter = None,
    company_id: IdFilter = None,
    deal_id: IdFilter = None,
    sort: Sort = None,
    expand: Expand = None,
) -> Response[str]:
    filters = {
        "owner_id": owner_id,
        "team_id": team_id,
        "type": type,
        "completed_at__exists": None if open is None else not open,
        "due_at__lte": utc_text(due_before) if due_before else None,
        "contact_id": contact_id,
        "company_id": company_id,
        "deal_id": deal_id,
    }
    return list_response(
        ACTIVITIES,
        request_context(router),
        filters=filters,
        q=q,
        archived=archived,
        limit=limit,
        cursor=cursor,
        sort=sort,
        expand=expand,
    )


@router.post(
    "/<record_id>/complete",
    tags=["activities"],
    summary="Complete an activity (again: no change)",
    responses=answers(200, Activity, 403, 404, 422, etag=True),
)
def complete_activity(record_id: RecordIdPath) -> Response[str]:
    return record_response(ACTIVITIES.complete(request_context(router), record_id))


add_record_routes(router, ACTIVITIES, PATH, ActivityCreate, ActivityUpdate, Activity)
