"""Inbound leads and tickets: /v1/inbound/leads, /v1/inbound/tickets."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body
from crm_core.http.api_docs import answers
from crm_core.http.app import request_context
from crm_core.http.responses import json_response
from crm_core.models.inbound_lead import InboundLeadResult, InboundTicketResult
from crm_core.services.inbound_tickets import InboundTicket, receive_ticket
from crm_core.services.leads import InboundLead, receive_lead
from crm_core.validation import set_fields

PATH = "/v1/inbound"
router = Router()


LEAD_ANSWERS = answers(201, InboundLeadResult, 400, 403, 413, 415, 422, description="Created")
LEAD_ANSWERS[200] = {**LEAD_ANSWERS[201], "description": "The contact with this email, updated"}


@router.post(
    "/leads",
    tags=["inbound"],
    summary="A lead from a web form or a partner",
    description="Creates a contact (lifecycle stage lead, source inbound), or updates the contact that has "
    "this email: one contact however often the same lead arrives. 201 when created, 200 when updated.",
    responses=LEAD_ANSWERS,
)
def inbound_lead(body: Annotated[InboundLead, Body()]) -> Response[str]:
    outcome, contact = receive_lead(request_context(router), set_fields(body))
    return json_response({"result": outcome, "contact": contact}, 201 if outcome == "created" else 200)


TICKET_ANSWERS = answers(201, InboundTicketResult, 400, 403, 413, 415, 422, description="Created")
TICKET_ANSWERS[200] = {**TICKET_ANSWERS[201], "description": "The ticket this external_ref opened before"}


@router.post(
    "/tickets",
    tags=["inbound"],
    summary="A ticket from a web form or a mail gateway",
    description="Opens an unassigned ticket (channel web unless named) for the contact with this email, "
    "created (source inbound) when there is none; the contact's company is the ticket's. With "
    "`external_ref`, the same submission again answers the ticket it opened (200), opening no other.",
    responses=TICKET_ANSWERS,
)
def inbound_ticket(body: Annotated[InboundTicket, Body()]) -> Response[str]:
    outcome, ticket, contact = receive_ticket(request_context(router), set_fields(body))
    answer = {"result": outcome, "ticket": ticket, "contact": contact}
    return json_response(answer, 201 if outcome == "created" else 200)
