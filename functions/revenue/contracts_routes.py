"""Contracts: /v1/contracts, and a contract's renewal."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
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
    UpdatedSince,
    add_record_routes,
    list_description,
    list_extensions,
    list_response,
    with_related,
)
from crm_core.http.responses import record_response
from crm_core.ids import utc_text
from crm_core.models.contract import Contract, ContractCreate, ContractStatus, ContractUpdate, RenewalInput
from crm_core.services.contracts import CONTRACTS
from crm_core.validation import set_fields

PATH = "/v1/contracts"
router = Router()


@router.get(
    "/",
    tags=["contracts"],
    summary="List or search contracts",
    description=list_description(
        CONTRACTS,
        "`q` is a prefix of the number (`C-2026-0001` or `0001`) or the name; `sort=end_date` lists the "
        "renewals to come first.",
    ),
    openapi_extensions=list_extensions(CONTRACTS),
    responses=answers(200, list_page_model("ContractPage", with_related(Contract, CONTRACTS)), 400, 422),
)
def list_contracts(
    limit: Limit = 25,
    cursor: Cursor = None,
    archived: Annotated[bool, Query(description="List archived contracts instead of active ones.")] = False,
    q: Annotated[str | None, Query(max_length=100, description="Prefix of the number or name.")] = None,
    status: Annotated[ContractStatus | None, Query()] = None,
    owner_id: OwnerFilter = None,
    company_id: IdFilter = None,
    deal_id: IdFilter = None,
    tag: Annotated[str | None, Query(max_length=50)] = None,
    updated_since: UpdatedSince = None,
    sort: Sort = None,
    expand: Expand = None,
) -> Response[str]:
    filters = {
        "status": status,
        "owner_id": owner_id,
        "company_id": company_id,
        "deal_id": deal_id,
        "tag": tag,
        "updated_since": utc_text(updated_since) if updated_since else None,
    }
    return list_response(
        CONTRACTS,
        request_context(router),
        filters=filters,
        q=q,
        archived=archived,
        limit=limit,
        cursor=cursor,
        sort=sort,
        expand=expand,
        query=router.current_event.query_string_parameters,
    )


@router.post(
    "/<record_id>/renew",
    status_code=201,
    tags=["contracts"],
    summary="Renew a contract: its next term as a new contract",
    description="Makes the next term as a new contract linked to this one (`renewed_from`; this one gets "
    "`renewed_to` and `contract.renewed`), in one transaction. What the body leaves out follows from this "
    "contract: the day after its end, as long, the same value, the instalments as far into the term. An "
    "active or expired contract, once (409 otherwise). The caller must be allowed to change it.",
    responses=answers(201, Contract, 400, 403, 404, 409, 413, 415, 422, description="Renewed", etag=True),
)
def renew(record_id: RecordIdPath, body: Annotated[RenewalInput, Body()]) -> Response[str]:
    record = CONTRACTS.renew(request_context(router), record_id, set_fields(body))
    return record_response(record, 201, location=f"{PATH}/{record['id']}")


add_record_routes(
    router,
    CONTRACTS,
    PATH,
    ContractCreate,
    ContractUpdate,
    Contract,
    routes=frozenset({"create", "read", "update", "archive", "restore", "timeline"}),
    descriptions={
        "create": "`number` is given per tenant and year without gaps. `payment_plan` must sum exactly to "
        "`value` (422 naming `payment_plan`); without one, the whole value is due on `start_date`.",
    },
)
