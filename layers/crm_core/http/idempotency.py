"""``Idempotency-Key`` on POST: a retry gets the first answer; the same key with another body is 422.

Powertools' idempotency utility does the work, with its records in the single table under the tenant
(``T#<tenant>#idempotency``), kept 24 hours. A key is the credential's own: the same key sent with
another credential of the tenant (another user, or another key of the same user) is another request,
so nobody is answered with what someone else was answered. Only a success is kept as the replay: an
error answer (4xx or 5xx) leaves nothing behind, and the next request with the key runs afresh.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig
from aws_lambda_powertools.utilities.idempotency.base import IdempotencyHandler
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from crm_core import aws
from crm_core.auth import Principal
from crm_core.config import settings
from crm_core.errors import FieldError, ProblemError
from crm_core.http.responses import problem_result
from crm_core.repositories import keys

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

KEEP_SECONDS = 24 * 60 * 60
_CONFIG = IdempotencyConfig(
    event_key_jmespath="[tenant, credential, method, path, key]",
    payload_validation_jmespath="body_sha256",
    expires_after_seconds=KEEP_SECONDS,
    raise_on_no_idempotency_key=True,
)


def _store(tenant_id: str) -> DynamoDBPersistenceLayer:
    return DynamoDBPersistenceLayer(
        table_name=settings().table_name,
        key_attr="PK",
        sort_key_attr="SK",
        static_pk_value=keys.idempotency_pk(tenant_id),
        expiry_attr="expires_at",
        boto3_client=aws.client("dynamodb"),
    )


class _ErrorAnswer(Exception):
    """Raised with an error answer so that Powertools deletes the in-progress record instead of keeping
    the answer as the replay (it does that for any exception the wrapped function raises)."""

    def __init__(self, response: dict[str, Any]) -> None:
        super().__init__(response.get("statusCode"))
        self.response = response


def resolve_once(
    app: APIGatewayHttpResolver,
    request: APIGatewayProxyEventV2,
    context: LambdaContext,
    principal: Principal,
    key: str,
) -> dict[str, Any]:
    if not 1 <= len(key) <= 255:
        return problem_result(
            ProblemError(
                400,
                "Bad Request",
                "Idempotency-Key must be 1 to 255 characters.",
                [FieldError("Idempotency-Key", "must be 1 to 255 characters")],
            )
        )
    payload = {
        "tenant": principal.tenant_id,
        "credential": f"{principal.credential}:{principal.credential_id}:{principal.user_id}",
        "method": request.http_method,
        "path": request.raw_path,
        "key": key,
        "body_sha256": hashlib.sha256((request.body or "").encode()).hexdigest(),
    }
    ran = False

    def first_time(payload: dict[str, Any]) -> dict[str, Any]:
        nonlocal ran
        ran = True
        response = app.resolve(request.raw_event, context)
        if int(response.get("statusCode", 200)) >= 400:
            raise _ErrorAnswer(response)
        return response

    _CONFIG.register_lambda_context(context)
    try:
        response: dict[str, Any] = IdempotencyHandler(
            function=first_time,
            function_payload=payload,
            config=_CONFIG,
            persistence_store=_store(principal.tenant_id),
            function_args=(payload,),
            function_kwargs={},
        ).handle()
    except _ErrorAnswer as answered:
        return answered.response
    except IdempotencyValidationError:
        return problem_result(
            ProblemError(
                422,
                "Unprocessable Content",
                "This Idempotency-Key was used with a different request body.",
                [FieldError("Idempotency-Key", "was used with a different request body")],
            )
        )
    except IdempotencyAlreadyInProgressError:
        return problem_result(
            ProblemError(
                409,
                "Conflict",
                "A request with this Idempotency-Key is still in progress.",
                headers={"Retry-After": "1"},
            )
        )
    if not ran:
        response = dict(response)
        response["headers"] = {**(response.get("headers") or {}), "Idempotent-Replayed": "true"}
    return response
