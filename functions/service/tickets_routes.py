"""Tickets: /v1/tickets, and a ticket's replies."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from crm_core.http.api_docs import answers, list_page_model, page_model
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
from crm_core.http.responses import json_response, page_response
from crm_core.ids import utc_text
from crm_core.models.ticket import (
    Category,
    Priority,
    Reply,
    ReplyCreate,
    Status,
    Ticket,
    TicketCreate,
    TicketUpdate,
)
from crm_core.services.tickets import TICKETS

PATH = "/v1/tickets"
router = Router()


@router.get(
    "/",
    tags=["tickets"],
    summary="List or search tickets (the queue)",
    description=list_description(
        TICKETS,
        "The queue: `sort=due_at` orders open tickets by the next due time still to meet (breached ones "
        "first, tickets without due times last); `assignee_id=me` is the caller's own.",
    ),
    openapi_extensions=list_extensions(TICKETS),
    responses=answers(200, list_page_model("TicketPage", with_related(Ticket, TICKETS)), 400, 422),
)
def list_tickets(
    limit: Limit = 25,
    cursor: Cursor = None,
    archived: Annotated[bool, Query(description="List archived tickets instead of active ones.")] = False,
    q: Annotated[str | None, Query(max_length=100, description="Type-ahead prefix over the subject.")] = None,
    status: Annotated[Status | None, Query()] = None,
    priority: Annotated[Priority | None, Query()] = None,
    category: Annotated[Category | None, Query()] = None,
    assignee_id: OwnerFilter = None,
    team_id: IdFilter = None,
    contact_id: IdFilter = None,
    company_id: IdFilter = None,
    deal_id: IdFilter = None,
    breached: Annotated[
        bool | None, Query(description="true: a due time was missed; false: none was (yet).")
    ] = None,
    tag: Annotated[str | None, Query(max_length=50)] = None,
    updated_since: UpdatedSince = None,
    sort: Sort = None,
    expand: Expand = None,
) -> Response[str]:
    filters = {
        "status": status,
        "priority": priority,
        "category": category,
        "assignee_id": assignee_id,
        "team_id": team_id,
        "contact_id": contact_id,
        "company_id": company_id,
        "deal_id": deal_id,
        "sla_breached": True if breached else None,
        "sla_breached__exists": False if breached is False else None,
        "tag": tag,
        "updated_since": utc_text(updated_since) if updated_since else None,
    }
    return list_response(
        TICKETS,
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
    "/<record_id>/replies",
    status_code=201,
    tags=["tickets"],
    summary="Reply to a ticket, or add an internal note",
    description="`public: true` answers the customer (an agent's first public reply is the ticket's first "
    "response, and opens a new ticket); `public: false` is an internal note. `author: customer` records "
    "what the customer wrote: it reopens a pending or resolved ticket. A closed ticket takes internal notes "
    "only (409). The caller must be allowed to change the ticket.",
    responses=answers(201, Reply, 400, 403, 404, 409, 413, 415, 422, description="Added"),
)
def add_reply(record_id: RecordIdPath, body: Annotated[ReplyCreate, Body()]) -> Response[str]:
    reply = TICKETS.reply(
        request_context(router), record_id, body=body.body, public=body.public, author=body.author
    )
    return json_response(reply, 201)


@router.get(
    "/<record_id>/replies",
    tags=["tickets"],
    summary="A ticket's replies and notes, oldest first",
    responses=answers(200, page_model("ReplyPage", Reply), 400, 404, 422),
)
def list_replies(
    record_id: RecordIdPath,
    limit: Limit = 25,
    cursor: Cursor = None,
    public: Annotated[
        bool, Query(description="true: public replies only (what the customer saw), no internal notes.")
    ] = False,
) -> Response[str]:
    items, next_cursor = TICKETS.replies(
        request_context(router), record_id, public_only=public, limit=limit, cursor=cursor
    )
    return page_response(items, next_cursor)


add_record_routes(router, TICKETS, PATH, TicketCreate, TicketUpdate, Ticket)
