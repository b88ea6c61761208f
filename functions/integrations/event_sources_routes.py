"""Partner event sources a tenant accepts events from: /v1/event-sources."""

from aws_lambda_powertools.event_handler.api_gateway import Router
from crm_core.http.record_routes import add_record_routes
from crm_core.models.event_source import EventSource, EventSourceCreate, EventSourceUpdate
from crm_core.services.partner_events import EVENT_SOURCES

PATH = "/v1/event-sources"
router = Router()


add_record_routes(
    router,
    EVENT_SOURCES,
    PATH,
    EventSourceCreate,
    EventSourceUpdate,
    EventSource,
    routes=frozenset({"list", "create", "read", "update", "archive", "restore", "timeline"}),
    descriptions={
        "create": 'A partner puts events on the crm bus with this "source", the tenant id in '
        'detail.tenant_id, and (for detail-type "lead.submitted") the lead in detail.lead, from the AWS '
        "account in account_id (this CRM's own when empty); events of sources not registered here, or sent "
        "from another account, are refused.",
        "archive": "Its events are refused from now on.",
    },
)
