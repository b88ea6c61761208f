"""Contacts: /v1/contacts."""

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
    Sort,
    TeamFilter,
    UpdatedSince,
    add_record_routes,
    list_description,
    list_extensions,
    list_response,
    with_related,
)
from crm_core.ids import utc_text
from crm_core.models.contact import Contact, ContactCreate, ContactUpdate, LifecycleStage
from crm_core.services.contacts import CONTACTS

PATH = "/v1/contacts"
router = Router()


@router.get(
    "/",
    tags=["contacts"],
    summary="List or search contacts",
    description=list_description(CONTACTS),
    openapi_extensions=list_extensions(CONTACTS),
    responses=answers(200, list_page_model("ContactPage", with_related(Contact, CONTACTS)), 400, 422),
)
def list_contacts(
    limit: Limit = 25,
    cursor: Cursor = None,
    archived: Annotated[bool, Query(description="List archived contacts instead of active ones.")] = False,
    q: Annotated[
        str | None,
        Query(max_length=100, description="Type-ahead prefix over name, email, phone and company name."),
    ] = None,
    owner_id: OwnerFilter = None,
    team_id: TeamFilter = None,
    company_id: IdFilter = None,
    lifecycle_stage: Annotated[LifecycleStage | None, Query()] = None,
    tag: Annotated[str | None, Query(max_length=50)] = None,
    updated_since: UpdatedSince = None,
    sort: Sort = None,
    expand: Expand = None,
) -> Response[str]:
    filters = {
        "owner_id": owner_id,
        "team_id": team_id,
        "company_id": company_id,
        "lifecycle_stage": lifecycle_stage,
        "tag": tag,
        "updated_since": utc_text(updated_since) if updated_since else None,
    }
    return list_response(
        CONTACTS,
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


add_record_routes(router, CONTACTS, PATH, ContactCreate, ContactUpdate, Contact)
