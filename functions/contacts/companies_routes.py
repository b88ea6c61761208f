"""Companies: /v1/companies, and the contacts of a company."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from crm_core.http.api_docs import answers, list_page_model, page_model
from crm_core.http.app import request_context
from crm_core.http.record_routes import (
    Cursor,
    Limit,
    OwnerFilter,
    RecordIdPath,
    Sort,
    TeamFilter,
    UpdatedSince,
    add_record_routes,
    list_description,
    list_extensions,
    list_response,
    with_related,
)
from crm_core.http.responses import json_response, page_response
from crm_core.ids import utc_text
from crm_core.models.company import Company, CompanyCreate, CompanyUpdate
from crm_core.models.contact import Contact
from crm_core.models.contract import CompanyReceivablesPage
from crm_core.models.deal import Deal
from crm_core.services.companies import COMPANIES, company_records
from crm_core.services.contacts import CONTACTS
from crm_core.services.deals import DEALS

PATH = "/v1/companies"
router = Router()


@router.get(
    "/",
    tags=["companies"],
    summary="List or search companies",
    description=list_description(COMPANIES),
    openapi_extensions=list_extensions(COMPANIES),
    responses=answers(200, list_page_model("CompanyPage", with_related(Company, COMPANIES)), 400, 422),
)
def list_companies(
    limit: Limit = 25,
    cursor: Cursor = None,
    archived: Annotated[bool, Query(description="List archived companies instead of active ones.")] = False,
    q: Annotated[
        str | None, Query(max_length=100, description="Type-ahead prefix over name and domain.")
    ] = None,
    owner_id: OwnerFilter = None,
    team_id: TeamFilter = None,
    industry: Annotated[str | None, Query(max_length=200)] = None,
    tag: Annotated[str | None, Query(max_length=50)] = None,
    updated_since: UpdatedSince = None,
    sort: Sort = None,
) -> Response[str]:
    filters = {
        "owner_id": owner_id,
        "team_id": team_id,
        "industry": industry,
        "tag": tag,
        "updated_since": utc_text(updated_since) if updated_since else None,
    }
    return list_response(
        COMPANIES,
        request_context(router),
        filters=filters,
        q=q,
        archived=archived,
        limit=limit,
        cursor=cursor,
        sort=sort,
        query=router.current_event.query_string_parameters,
    )


@router.get(
    "/<record_id>/contacts",
    tags=["companies"],
    summary="The company's contacts",
    responses=answers(200, page_model("CompanyContactPage", Contact), 400, 404, 422),
)
def company_contacts(record_id: RecordIdPath, limit: Limit = 25, cursor: Cursor = None) -> Response[str]:
    items, next_cursor = company_records(
        request_context(router), CONTACTS, record_id, limit=limit, cursor=cursor
    )
    return page_response(items, next_cursor)


@router.get(
    "/<record_id>/deals",
    tags=["companies"],
    summary="The company's deals",
    responses=answers(200, page_model("CompanyDealPage", Deal), 400, 404, 422),
)
def company_deals(record_id: RecordIdPath, limit: Limit = 25, cursor: Cursor = None) -> Response[str]:
    items, next_cursor = company_records(
        request_context(router), DEALS, record_id, limit=limit, cursor=cursor
    )
    return page_response(items, next_cursor)


@router.get(
    "/<record_id>/receivables",
    tags=["companies"],
    summary="What the company's contracts are worth, and what is paid, outstanding and overdue",
    description="One row per currency, summing the company's contracts that are not drafts nor archived "
    "(`paid`, `outstanding`, `overdue` as on each contract; kept in each contract's transaction).",
    responses=answers(200, CompanyReceivablesPage, 400, 404, 422),
)
def company_receivables(record_id: RecordIdPath) -> Response[str]:
    from crm_core.services.contracts import CONTRACTS  # the contracts' rules, loaded when asked for

    return json_response({"items": CONTRACTS.receivables(request_context(router), record_id)})


add_record_routes(router, COMPANIES, PATH, CompanyCreate, CompanyUpdate, Company)
