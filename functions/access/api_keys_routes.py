"""API keys: /v1/api-keys. Issued and revoked by an admin; each acts as its user, never above its role."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body
from crm_core.http.api_docs import answers
from crm_core.http.app import request_context
from crm_core.http.record_routes import add_record_routes, write_extensions
from crm_core.http.responses import record_response
from crm_core.models.api_key import ApiKey, ApiKeyCreate, ApiKeyIssued, ApiKeyUpdate
from crm_core.services.api_keys import API_KEYS
from crm_core.validation import set_fields

PATH = "/v1/api-keys"
router = Router()


@router.post(
    "/",
    openapi_extensions=write_extensions(API_KEYS),
    status_code=201,
    tags=["api-keys"],
    summary="Issue an API key",
    description="For `user_id` (default: the caller), acting with the lower of that user's current role and "
    "`role`; refused from `expires_at` on. `key` is in this answer only: the CRM keeps its hash.",
    responses=answers(201, ApiKeyIssued, 400, 403, 409, 413, 415, 422, description="Issued", etag=True),
)
def issue_api_key(body: Annotated[ApiKeyCreate, Body()]) -> Response[str]:
    issued = API_KEYS.create(request_context(router), set_fields(body))
    return record_response(issued, 201, location=f"{PATH}/{issued['id']}")


add_record_routes(
    router,
    API_KEYS,
    PATH,
    ApiKeyCreate,
    ApiKeyUpdate,
    ApiKey,
    routes=frozenset({"list", "read", "archive", "timeline"}),
    descriptions={
        "archive": "Revokes the key: it is refused from its very next request. A revoked key "
        "is listed with ?archived=true."
    },
)
