"""Payments received against contracts: /v1/payments."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from crm_core.http.api_docs import answers, list_page_model
from crm_core.http.app import request_context
from crm_core.http.record_routes import (
    Cursor,
    IdFilter,
    Limit,
    OwnerFilter,
    Sort,
    add_record_routes,
    list_description,
    list_response,
)
from crm_core.models.payment import Method, Payment, PaymentCreate, PaymentUpdate
from crm_core.services.payments import PAYMENTS

PATH = "/v1/payments"
router = Router()


@router.get(
    "/",
    tags=["payments"],
    summary="List payments received",
    description=list_description(PAYMENTS, "`contract_id` lists one contract's payments; `q` a reference."),
    responses=answers(200, list_page_model("PaymentPage", Payment), 400, 422),
)
def list_payments(
    limit: Limit = 25,
    cursor: Cursor = None,
    archived: Annotated[bool, Query(description="List voided payments instead.")] = False,
    q: Annotated[str | None, Query(max_length=100, description="Prefix of the reference.")] = None,
    contract_id: IdFilter = None,
    method: Annotated[Method | None, Query()] = None,
    owner_id: OwnerFilter = None,
    sort: Sort = None,
) -> Response[str]:
    return list_response(
        PAYMENTS,
        request_context(router),
        filters={"contract_id": contract_id, "method": method, "owner_id": owner_id},
        q=q,
        archived=archived,
        limit=limit,
        cursor=cursor,
        sort=sort,
    )


add_record_routes(
    router,
    PAYMENTS,
    PATH,
    PaymentCreate,
    PaymentUpdate,
    Payment,
    routes=frozenset({"create", "read", "update", "archive", "timeline"}),
    descriptions={
        "create": "Applied to the contract's oldest open instalments first, in the same transaction as the "
        "contract's new `paid` (`payment.received`). At most what the contract has outstanding, in its "
        "currency (422 naming `amount` or `currency`); the caller must be allowed to change the contract.",
        "archive": "Voids the payment (`payment.voided`): its amount is taken off its contract's `paid` in "
        "the same transaction. A voided payment is not restored: record it again.",
    },
)
