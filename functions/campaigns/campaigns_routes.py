"""Email campaigns: /v1/campaigns, their sending (/send, /schedule, /cancel) and their /stats."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body
from crm_core.http.api_docs import answers
from crm_core.http.app import request_context
from crm_core.http.record_routes import RecordIdPath, add_record_routes
from crm_core.http.responses import json_response, record_response
from crm_core.models.campaign import Campaign, CampaignCreate, CampaignStats, CampaignUpdate, ScheduleRequest
from crm_core.services import campaigns
from crm_core.services.campaigns import CAMPAIGNS

PATH = "/v1/campaigns"
router = Router()
TAGS = ["campaigns"]
MOVE = (
    "A campaign already sending or sent (or cancelled) is 409 and nothing changes; a campaign without its "
    "segment_id, subject, from or body is 422 naming them. Who may change the campaign may send it (its "
    "owner, its owner's manager, an admin; API.md roles)."
)


@router.post(
    "/<record_id>/send",
    tags=TAGS,
    summary="Send a campaign now",
    description="Its status becomes sending (campaign.sending); its segment's members with granted email "
    "consent who are not suppressed get the email, each once however often this is asked. " + MOVE,
    responses=answers(200, Campaign, 403, 404, 409, 422, etag=True),
)
def send_campaign(record_id: RecordIdPath) -> Response[str]:
    return record_response(CAMPAIGNS.send(request_context(router), record_id))


@router.post(
    "/<record_id>/schedule",
    tags=TAGS,
    summary="Schedule a campaign (or reschedule a scheduled one)",
    description="Its status becomes scheduled (campaign.scheduled) and at send_at it is sent as by /send. "
    + MOVE,
    responses=answers(200, Campaign, 400, 403, 404, 409, 413, 415, 422, etag=True),
)
def schedule_campaign(record_id: RecordIdPath, body: Annotated[ScheduleRequest, Body()]) -> Response[str]:
    return record_response(CAMPAIGNS.schedule(request_context(router), record_id, body.send_at))


@router.post(
    "/<record_id>/cancel",
    tags=TAGS,
    summary="Cancel a campaign",
    description="A draft, scheduled or sending campaign is cancelled (campaign.cancelled): what has not gone "
    "is not sent. A sent or cancelled one is 409.",
    responses=answers(200, Campaign, 403, 404, 409, 422, etag=True),
)
def cancel_campaign(record_id: RecordIdPath) -> Response[str]:
    return record_response(CAMPAIGNS.cancel(request_context(router), record_id))


@router.get(
    "/<record_id>/stats",
    tags=TAGS,
    summary="A campaign's sending, tracking and attribution counters",
    responses=answers(200, CampaignStats, 404, 422),
)
def campaign_stats(record_id: RecordIdPath) -> Response[str]:
    return json_response(campaigns.stats(request_context(router), record_id))


add_record_routes(
    router,
    CAMPAIGNS,
    PATH,
    CampaignCreate,
    CampaignUpdate,
    Campaign,
    routes=frozenset({"list", "create", "read", "update", "archive", "restore", "timeline"}),
    descriptions={
        "update": "Only a draft changes (409 otherwise); status follows /send, /schedule and /cancel.",
        "archive": "A scheduled or sending campaign is 409: cancel it first.",
    },
)
