"""The caller: /v1/me."""

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from crm_core.http.api_docs import answers
from crm_core.http.app import request_context
from crm_core.http.responses import json_response
from crm_core.models.user import Me
from crm_core.services.users import me

PATH = "/v1/me"
router = Router()


@router.get(
    "/",
    tags=["users"],
    summary="Who the caller is",
    description="The user this credential acts as, the role it acts with (a key may be restricted below "
    "its user's), the credential, and the tenant with its seats in use.",
    responses=answers(200, Me, 422),
)
def read_me() -> Response[str]:
    return json_response(me(request_context(router)))
