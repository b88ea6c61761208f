"""Quotes: /v1/quotes, a quote's PDF and its sending."""

from pathlib import Path
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from crm_core.http.api_docs import answers, list_page_model
from crm_core.http.app import request_context
from crm_core.http.record_routes import (
    Cursor,
    IdFilter,
    Limit,
    OwnerFilter,
    RecordIdPath,
    Sort,
    add_record_routes,
    list_description,
    list_response,
)
from crm_core.http.responses import record_response
from crm_core.models.quote import Quote, QuoteCreate, QuoteStatus, QuoteUpdate, SendRequest
from crm_core.services.quotes import QUOTES

PATH = "/v1/quotes"
router = Router()
# The PDFs' fonts, shipped in this function's code (infra/fonts.py makes them; docs/decisions/0033).
FONTS = Path(__file__).resolve().parent / "fonts"


@router.get(
    "/",
    tags=["quotes"],
    summary="List or search quotes",
    description=list_description(QUOTES, "`q` is a prefix of the number (`Q-2026-00`, or its digits)."),
    responses=answers(200, list_page_model("QuotePage", Quote), 400, 422),
)
def list_quotes(
    limit: Limit = 25,
    cursor: Cursor = None,
    archived: Annotated[bool, Query(description="List archived quotes instead.")] = False,
    q: Annotated[str | None, Query(max_length=100, description="Type-ahead prefix over the number.")] = None,
    deal_id: IdFilter = None,
    status: Annotated[QuoteStatus | None, Query()] = None,
    owner_id: OwnerFilter = None,
    sort: Sort = None,
) -> Response[str]:
    return list_response(
        QUOTES,
        request_context(router),
        filters={"deal_id": deal_id, "status": status, "owner_id": owner_id},
        q=q,
        archived=archived,
        limit=limit,
        cursor=cursor,
        sort=sort,
    )


@router.post(
    "/<record_id>/send",
    tags=["quotes"],
    summary="Send a quote to its contact",
    description="Emails the quote's contact a link to its public page `/q/{token}`, where they view, accept "
    "or decline it; a draft becomes `sent` (`quote.sent`) and expires after `valid_until`. A quote needs a "
    "contact with an email and at least one line (422 naming the field). Sending a sent quote again emails "
    "the link again and changes nothing; an answered or expired one is 409.",
    responses=answers(200, Quote, 400, 403, 404, 409, 413, 415, 422, 502, description="Sent", etag=True),
)
def send_quote(record_id: RecordIdPath, body: Annotated[SendRequest, Body()]) -> Response[str]:
    quote = QUOTES.send(request_context(router), record_id, body.from_, body.message)
    return record_response(quote)


@router.get(
    "/<record_id>/pdf",
    tags=["quotes"],
    summary="A quote as a PDF document",
    description=(
        "The quote's number, the tenant's and the contact's names, its lines and totals, as "
        "`application/pdf` (in any script: the fonts are embedded)."
    ),
    responses={
        **answers(200, None, 404, 422),
        200: {"description": "The PDF", "content": {"application/pdf": {"schema": {"type": "string"}}}},
    },
)
# No return annotation: Powertools validates an annotated answer's body as JSON, and a PDF is bytes.
def quote_pdf(record_id: RecordIdPath):  # type: ignore[no-untyped-def]
    quote, document = QUOTES.pdf(request_context(router), record_id, FONTS)
    return Response(
        status_code=200,
        content_type="application/pdf",
        body=document,
        headers={
            "Content-Disposition": f'inline; filename="{quote["number"]}.pdf"',
            "Cache-Control": "no-store",
        },
    )


add_record_routes(
    router,
    QUOTES,
    PATH,
    QuoteCreate,
    QuoteUpdate,
    Quote,
    routes=frozenset({"create", "read", "update", "archive", "restore", "timeline"}),
    descriptions={
        "create": "Line prices and tax rates default from the products (in the quote's currency); totals are "
        "derived exactly (each line rounded half-even to the currency's minor unit); `number` is the "
        "tenant's next of the year, without gaps.",
        "update": "Only a draft is changed (409 otherwise); `line_items` replaces every line.",
    },
)
