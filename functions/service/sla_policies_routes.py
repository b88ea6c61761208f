"""SLA policies: /v1/sla-policies (an admin's setting)."""

from aws_lambda_powertools.event_handler.api_gateway import Router
from crm_core.http.record_routes import add_record_routes
from crm_core.models.sla_policy import SlaPolicy, SlaPolicyCreate, SlaPolicyUpdate
from crm_core.services.sla_policies import SLA_POLICIES

PATH = "/v1/sla-policies"
router = Router()

add_record_routes(
    router,
    SLA_POLICIES,
    PATH,
    SlaPolicyCreate,
    SlaPolicyUpdate,
    SlaPolicy,
    routes=frozenset({"list", "create", "read", "update", "archive", "restore", "timeline", "batch"}),
    descriptions={
        "create": "Targets per priority, counted in business hours. A ticket follows the oldest active "
        "policy naming its category, else the oldest naming none; its due times are set when it is "
        "created and when its priority or category changes.",
    },
)
