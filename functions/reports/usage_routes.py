"""The tenant's metered use: /v1/usage (admins only; docs/decisions/0026)."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from crm_core.http.api_docs import answers
from crm_core.http.app import request_context
from crm_core.http.record_routes import ADMIN_ONLY
from crm_core.http.responses import json_response
from crm_core.models.usage import UsageAnswer
from crm_core.services import usage

PATH = "/v1/usage"
router = Router()


@router.get(
    "/",
    tags=["usage"],
    summary="The tenant's metered use per day",
    description="One row per UTC day from `from` to `to` (at most 92 days; by default the last 30): API "
    "calls, the DynamoDB read and write units they consumed, events published, emails sent and storage. "
    "Use is counted from each request's log line and reaches this within about a minute (a few seconds "
    "locally). A bad date or range is `422` naming it. Admins only.",
    responses=answers(200, UsageAnswer, 403, 422),
    openapi_extensions=dict(ADMIN_ONLY),
)
def get_usage(
    from_: Annotated[str | None, Query(alias="from", description="First day, YYYY-MM-DD.")] = None,
    to: Annotated[str | None, Query(description="Last day, YYYY-MM-DD.")] = None,
) -> Response[str]:
    query = router.current_event.query_string_parameters or {}
    return json_response(usage.daily_usage(request_context(router), query))
