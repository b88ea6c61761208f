"""``Idempotency-Key`` on POST: a retry gets the first answer; the same key with another body is 422.

Powertools' idempotency utility does the work, with its records in the single table under the tenant
(``T#<tenant>#idempotency``), kept 24 hours.
"""

from __future__ import annotations

import hashlib
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig
from aws_lambda_powertools.utilities.idempotency.base import IdempotencyHandler
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from crm_core import aws
from crm_core.config import settings
from crm_core.errors import FieldError, ProblemError
from crm_core.http.responses import problem_result

KEEP_SECONDS = 24 * 60 * 60
_CONFIG = IdempotencyConfig(
    event_key_jmespath="[tenant, method, path, key]",
    payload_validation_jmespath="body_sha256",
    expires_after_seconds=KEEP_SECONDS,
    raise_on_no_idempotency_key=True,
)


def _store(tenant_id: str) -> DynamoDBPersistenceLayer:
    return DynamoDBPersistenceLayer(
        table_name=settings().table_name,
        key_attr="PK",
        sort_key_attr="SK",
        static_pk_value=f"T#{tenant_id}#idempotency",
        expiry_attr="expires_at",
        boto3_client=aws.client("dynamodb"),
    )


def resolve_once(
    app: APIGatewayHttpResolver, event: dict[str, Any], context: LambdaContext, tenant_id: str, key: str
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
    http = event.get("requestContext", {}).get("http", {})
    payload = {
        "tenant": tenant_id,
        "method": http.get("method"),
        "path": event.get("rawPath"),
        "key": key,
        "body_sha256": hashlib.sha256((event.get("body") or "").encode()).hexdigest(),
    }
    ran = False

    def first_time(payload: dict[str, Any]) -> dict[str, Any]:
        nonlocal ran
        ran = True
        return app.resolve(event, context)

    _CONFIG.register_lambda_context(context)
    try:
        response: dict[str, Any] = IdempotencyHandler(
            function=first_time,
            function_payload=payload,
            config=_CONFIG,
            persistence_store=_store(tenant_id),
            function_args=(payload,),
            function_kwargs={},
        ).handle()
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
