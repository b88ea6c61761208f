"""The resolver every API function builds on, and the gate each request passes before its route.

Order matters and is the contract's: a missing or bad credential is 401 before anything about the body;
then the tenant's rate limit (429; every answer after this point carries the RateLimit headers); then the
body's size (413), media type (415) and, for a POST with ``Idempotency-Key``, the replay of a
first answer; then the route, whose validation names every bad field (422, or 400 for malformed JSON).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.utilities.typing import LambdaContext

from crm_core import rate_limits
from crm_core.auth import Principal, Role
from crm_core.errors import FieldError, ProblemError, unauthorized, validation_failed
from crm_core.http.responses import problem_response, problem_result
from crm_core.rate_limits import PLAN_LIMITS
from crm_core.services.records import RequestContext
from crm_core.validation import field_errors

logger = Logger()

MAX_BODY_BYTES = 1024 * 1024
API_TITLE = "CRM API"
API_VERSION = "1.0.0"


def build_app() -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver(enable_validation=True)

    @app.exception_handler(ProblemError)
    def _problem(error: ProblemError) -> Response[str]:
        return problem_response(error)

    @app.exception_handler(RequestValidationError)
    def _invalid(error: RequestValidationError) -> Response[str]:
        errors = list(error.errors())
        if any(e.get("type") == "json_invalid" for e in errors):
            return problem_response(
                ProblemError(
                    400,
                    "Bad Request",
                    "The body is not valid JSON.",
                    [FieldError("body", "is not valid JSON")],
                )
            )
        found = field_errors(errors, drop_locations=("body", "query", "path", "header"))
        return problem_response(validation_failed(found, "; ".join(f"{e.field}: {e.message}" for e in found)))

    @app.not_found
    def _no_route(error: NotFoundError) -> Response[str]:
        return problem_response(ProblemError(404, "Not Found", "No such resource."))

    return app


def request_context(app: Any) -> RequestContext:
    """The caller and correlation id of the request being served (an app or one of its routers)."""
    principal: Principal = app.context["principal"]
    return RequestContext(principal=principal, correlation_id=app.context.get("request_id"))


def _principal_from(event: dict[str, Any]) -> Principal | None:
    claims = ((event.get("requestContext") or {}).get("authorizer") or {}).get("lambda") or {}
    if not claims.get("tenant_id"):
        return None
    return Principal(
        tenant_id=claims["tenant_id"],
        user_id=claims["user_id"],
        role=Role(claims["role"]),
        credential=claims.get("credential", "api_key"),
        credential_id=claims.get("credential_id", ""),
        rate_limit=int(claims.get("rate_limit") or PLAN_LIMITS["free"]),
    )


def _header(event: dict[str, Any], name: str) -> str | None:
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name:
            return str(value)
    return None


def _body_bytes(event: dict[str, Any]) -> int:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        return len(body) * 3 // 4
    return len(body.encode())


def serve(app: APIGatewayHttpResolver, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request_id = ((event.get("requestContext") or {}).get("requestId")) or ""
    logger.set_correlation_id(request_id)
    try:
        response = _gate_and_resolve(app, event, context, request_id)
    except Exception:
        # Logged with the request id; the caller gets problem details it can quote, never a stack trace.
        logger.exception("unhandled error")
        response = problem_result(
            ProblemError(
                500, "Internal Server Error", f"Something went wrong on our side (request {request_id})."
            )
        )
    headers = response.setdefault("headers", {}) or {}
    headers["X-Request-Id"] = request_id
    response["headers"] = headers
    return response


def _gate_and_resolve(
    app: APIGatewayHttpResolver, event: dict[str, Any], context: LambdaContext, request_id: str
) -> dict[str, Any]:
    principal = _principal_from(event)
    if principal is None:
        return problem_result(unauthorized())
    decision = rate_limits.take(principal.tenant_id, principal.rate_limit)
    if not decision.allowed:
        response = problem_result(
            ProblemError(429, "Too Many Requests", f"Over {decision.limit} requests a minute; retry later.")
        )
    else:
        response = _resolve(app, event, context, request_id, principal)
    response["headers"] = {**(response.get("headers") or {}), **decision.headers()}
    return response


def _resolve(
    app: APIGatewayHttpResolver,
    event: dict[str, Any],
    context: LambdaContext,
    request_id: str,
    principal: Principal,
) -> dict[str, Any]:
    method = ((event.get("requestContext") or {}).get("http") or {}).get("method", "GET")
    if method in ("POST", "PUT", "PATCH"):
        if _body_bytes(event) > MAX_BODY_BYTES:
            return problem_result(
                ProblemError(413, "Content Too Large", f"The body is over {MAX_BODY_BYTES} bytes.")
            )
        content_type = (_header(event, "content-type") or "").split(";", 1)[0].strip().lower()
        if event.get("body") and content_type != "application/json":
            return problem_result(
                ProblemError(
                    415,
                    "Unsupported Media Type",
                    "Send the body as application/json.",
                    [FieldError("Content-Type", "must be application/json")],
                )
            )
    app.append_context(principal=principal, request_id=request_id)
    key = _header(event, "idempotency-key")
    if method == "POST" and key:
        from crm_core.http.idempotency import resolve_once  # lazy: only idempotent POSTs pay for it

        return resolve_once(app, event, context, principal, key)
    return app.resolve(event, context)
