"""The resolver every API function builds on, and the gate each request passes before its route.

Order matters and is the contract's: a missing or bad credential is 401 before anything about the body;
then the tenant's rate limit (429; every answer after this point carries the RateLimit headers) and its share
of the functions (429 ``/problems/too-many-concurrent-requests``, crm_core.concurrency); then the
body's size (413), media type (415), bytes (400 unless UTF-8) and a query string that is not UTF-8 (400);
for a POST with ``Idempotency-Key``, the replay of a first answer; then the route: its body parsed as
strict JSON (``json_body``: 400 when malformed or too deep, 422 for a number out of range), its
validation naming every bad field and every query parameter it does not take (422). A method the
path has no route for is 405 with ``Allow``.

A function's routers are imported and included the first time a request reaches their path: a container
pays for the models and services of what it serves, and the contacts function answering /v1/contacts never
builds the companies' routes (the whole of a function's import is what every cold start waits for).
"""

from __future__ import annotations

import base64
import binascii
import importlib
import threading
import time
from collections.abc import Mapping
from contextlib import nullcontext
from typing import Any
from urllib.parse import unquote_to_bytes

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from aws_lambda_powertools.utilities.typing import LambdaContext

from crm_core import concurrency, rate_limits, tenant_access, usage
from crm_core.auth import Principal, Role
from crm_core.coldstart import long_lived_imports
from crm_core.context import RequestContext
from crm_core.errors import (
    FieldError,
    ProblemError,
    bad_request,
    tenant_suspended,
    unauthorized,
    validation_failed,
)
from crm_core.http import json_body
from crm_core.http.responses import problem_response, problem_result
from crm_core.rate_limits import PLAN_LIMITS
from crm_core.validation import field_errors

logger = Logger()

MAX_BODY_BYTES = 1024 * 1024
API_TITLE = "CRM API"
API_VERSION = "1.0.0"


class ApiResolver(APIGatewayHttpResolver):
    """Powertools' HTTP API resolver whose routers are included on first use.

    ``routers`` maps each path prefix (``/v1/contacts``) to the module whose ``router`` serves it (and whose
    ``PATH`` is that prefix). A request includes the router of its path before it is resolved; the OpenAPI
    document includes them all first (the order they were included in does not change it).
    """

    def __init__(self, routers: Mapping[str, str]) -> None:
        super().__init__(json_body_deserializer=json_body.parse)
        # Validation on, but its middlewares (and pydantic with them) are made by the first route that runs,
        # as Powertools does for a resolver without them, not by every cold start: a request refused at the
        # gate (401, 429, 413) never needs them.
        self._enable_validation = True
        self._pending: dict[str, str] = dict(routers)
        self._including = threading.Lock()  # the local runtime's threads may share a function

    def include_routers_for(self, path: str) -> None:
        """Include the router whose prefix ``path`` is under, if it is not included yet."""
        for prefix in list(self._pending):
            if path == prefix or path.startswith(f"{prefix}/"):
                self._include(prefix)

    def include_all_routers(self) -> None:
        for prefix in list(self._pending):
            self._include(prefix)

    def _include(self, prefix: str) -> None:
        with self._including:
            module_name = self._pending.get(prefix)
            if module_name is None:
                return
            with long_lived_imports():  # kept for the container's life, as the handler module's imports
                module = importlib.import_module(module_name)
            if prefix != module.PATH:
                raise ValueError(f"{module_name} serves {module.PATH}, not {prefix}")
            self.include_router(module.router, prefix=prefix)
            del self._pending[prefix]  # only once included: a failed import fails the next request too

    def get_openapi_schema(self, **kwargs: Any) -> Any:
        self.include_all_routers()
        return super().get_openapi_schema(**kwargs)


def build_app(routers: Mapping[str, str]) -> ApiResolver:
    """The resolver of an API function serving ``routers`` ({path prefix: module with its ``router``})."""
    app = ApiResolver(routers)

    @app.exception_handler(ProblemError)
    def _problem(error: ProblemError) -> Response[str]:
        return problem_response(error)

    @app.exception_handler(RequestValidationError)
    def _invalid(error: RequestValidationError) -> Response[str]:
        found = field_errors(error.errors(), drop_locations=("body", "query", "path", "header"))
        return problem_response(validation_failed(found, "; ".join(f"{e.field}: {e.message}" for e in found)))

    @app.not_found
    def _no_route(error: NotFoundError) -> Response[str]:
        allowed = _methods_for(app, app.current_event.path)
        if allowed:
            method = app.current_event.http_method
            return problem_response(
                ProblemError(
                    405,
                    "Method Not Allowed",
                    f"{method} is not an operation on this resource; it allows {', '.join(allowed)}.",
                    headers={"Allow": ", ".join(allowed)},
                )
            )
        return problem_response(ProblemError(404, "Not Found", "No such resource."))

    app.use([refuse_unknown_query_parameters])
    return app


# The OpenAPI extension of a list that filters by custom properties (``custom.<name>=value``): its query
# parameters are the tenant's, so the document names the pattern, not the parameters.
CUSTOM_FILTERS = "x-crm-custom-property-filters"


def refuse_unknown_query_parameters(
    app: APIGatewayHttpResolver, next_middleware: NextMiddleware
) -> Response[Any]:
    """A query parameter the route does not take is 422 naming it, as an unknown body field is: a
    misspelt filter (``?stage=...``) or an unsupported option (``?format=csv``) must not be silently
    ignored and answer as if it had worked."""
    route = app.context.get("_route")
    dependant = getattr(route, "dependant", None)
    given = app.current_event.query_string_parameters or {}
    if dependant is not None and given:
        known = {param.alias for param in dependant.query_params}
        unknown = sorted(set(given) - known)
        if CUSTOM_FILTERS in (getattr(route, "openapi_extensions", None) or {}):
            # a list of records with custom properties: custom_values.custom_filters checks their names
            unknown = [name for name in unknown if not name.startswith("custom.")]
        if unknown:
            takes = ", ".join(sorted(known)) or "no query parameters"
            raise validation_failed(
                [
                    FieldError(name, f"is not a query parameter of this operation (it takes {takes})")
                    for name in unknown
                ],
                f"Unknown query parameter{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}.",
            )
    return next_middleware(app)


def _methods_for(app: APIGatewayHttpResolver, path: str) -> list[str]:
    """The methods the app has a route for at ``path`` (Powertools keeps its routes in these two lists and
    answers any other method as not found)."""
    routes = app._static_routes + app._dynamic_routes
    return sorted({route.method for route in routes if route.rule.match(path)})


def request_context(app: Any) -> RequestContext:
    """The caller and correlation id of the request being served (an app or one of its routers)."""
    principal: Principal = app.context["principal"]
    return RequestContext(
        principal=principal,
        correlation_id=app.context.get("request_id"),
        source_ip=app.context.get("source_ip"),
    )


def _principal_from(request: APIGatewayProxyEventV2) -> Principal | None:
    """The caller, from what the Lambda authorizer answered for the request (functions/authorizer)."""
    claims = request.request_context.authorizer.get_lambda
    if not claims.get("tenant_id"):
        return None
    return Principal(
        tenant_id=claims["tenant_id"],
        user_id=claims["user_id"],
        role=Role(claims["role"]),
        credential=claims.get("credential", "api_key"),
        credential_id=claims.get("credential_id", ""),
        rate_limit=int(claims.get("rate_limit") or PLAN_LIMITS["free"]),
        team_id=claims.get("team_id") or None,
    )


def _header(request: APIGatewayProxyEventV2, name: str) -> str | None:
    value = request.headers.get(name)  # without regard to case
    return None if value is None else str(value)


def _body_bytes(request: APIGatewayProxyEventV2) -> int:
    body = request.body or ""
    if request.is_base64_encoded:
        return len(body) * 3 // 4
    return len(body.encode())


def _refused(request: APIGatewayProxyEventV2) -> ProblemError | None:
    """What no route is given: a body over the size limit (413), one that is not JSON in UTF-8 (415, or
    400 when the bytes are not UTF-8), and a query string that is not UTF-8 once percent-decoded (400)."""
    if request.http_method in ("POST", "PUT", "PATCH") and request.body:
        if _body_bytes(request) > MAX_BODY_BYTES:
            return ProblemError(413, "Content Too Large", f"The body is over {MAX_BODY_BYTES} bytes.")
        if not _is_json(_header(request, "content-type") or ""):
            return ProblemError(
                415,
                "Unsupported Media Type",
                "Send the body as application/json, in UTF-8.",
                [FieldError("Content-Type", "must be application/json (charset utf-8 if any)")],
            )
        if not _is_utf8(request):
            return bad_request("The body is not UTF-8 (JSON is sent in UTF-8).", field_name="body")
    return _undecodable_query(request.raw_query_string)


def _is_json(content_type: str) -> bool:
    media_type, *parameters = content_type.split(";")
    charsets = [
        value.strip().strip('"').lower()
        for key, _, value in (p.partition("=") for p in parameters)
        if key.strip().lower() == "charset"
    ]
    return media_type.strip().lower() == "application/json" and charsets in ([], ["utf-8"])


def _is_utf8(request: APIGatewayProxyEventV2) -> bool:
    """A body comes as text, or base64-encoded when the gateway did not pass it as text (the local one does
    that exactly when it is not UTF-8): only then can its bytes be something other than UTF-8."""
    if not request.is_base64_encoded:
        return True
    try:
        base64.b64decode(request.body or "", validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return True


def _undecodable_query(raw_query: str) -> ProblemError | None:
    """A query parameter whose name or value is not UTF-8 once percent-decoded: refused here rather than
    handed to a route with replacement characters in it."""
    for pair in raw_query.split("&") if raw_query else []:
        name, _, value = pair.partition("=")
        try:
            decoded_name = unquote_to_bytes(name.replace("+", " ")).decode("utf-8")
        except UnicodeDecodeError:
            detail = "A query parameter's name is not UTF-8 once percent-decoded."
            return bad_request(detail, field_name="query")
        try:
            unquote_to_bytes(value.replace("+", " ")).decode("utf-8")
        except UnicodeDecodeError:
            detail = f"The query parameter {decoded_name} is not UTF-8 once percent-decoded."
            return bad_request(detail, field_name=decoded_name)
    return None


def serve(app: ApiResolver, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = APIGatewayProxyEventV2(event)
    request_id = request.request_context.request_id
    logger.set_correlation_id(request_id)
    principal = _principal_from(request)
    # A caller's request reaches the table and the buckets with its tenant's credentials only.
    scope = tenant_access.scoped(principal.tenant_id) if principal is not None else nullcontext()
    with usage.metered() as meter, scope:
        response = _served(app, request, context, request_id)
    if principal is not None:
        # The request's usage line (crm_core.usage): its tenant, route, status and DynamoDB units.
        usage.emit(
            [
                usage.line(
                    "api",
                    principal.tenant_id,
                    route=request.route_key,
                    status=int(response.get("statusCode", 200)),
                    read_units=meter.read_units,
                    write_units=meter.write_units,
                )
            ]
        )
    return response


def _served(
    app: ApiResolver, request: APIGatewayProxyEventV2, context: LambdaContext, request_id: str
) -> dict[str, Any]:
    try:
        response = _gate_and_resolve(app, request, context, request_id)
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
    app: ApiResolver, request: APIGatewayProxyEventV2, context: LambdaContext, request_id: str
) -> dict[str, Any]:
    principal = _principal_from(request)
    if principal is None:
        if request.request_context.authorizer.get_lambda.get("reason") == "tenant_suspended":
            return problem_result(tenant_suspended())
        return problem_result(unauthorized())
    decision = rate_limits.take(principal.tenant_id, principal.rate_limit)
    if not decision.allowed:
        response = problem_result(
            ProblemError(429, "Too Many Requests", f"Over {decision.limit} requests a minute; retry later.")
        )
    else:
        response = _within_share(app, request, context, request_id, principal)
    response["headers"] = {**(response.get("headers") or {}), **decision.headers()}
    return response


def _within_share(
    app: ApiResolver,
    request: APIGatewayProxyEventV2,
    context: LambdaContext,
    request_id: str,
    principal: Principal,
) -> dict[str, Any]:
    """The request, unless its tenant has used its share of the functions in this window (429); its time
    is counted against the tenant's share (crm_core.concurrency)."""
    share = concurrency.share_for(principal.rate_limit)
    refusal = concurrency.admit(principal.tenant_id, share)
    if refusal is not None:
        return problem_result(refusal.problem())
    started = time.perf_counter()
    try:
        return _resolve(app, request, context, request_id, principal)
    finally:
        concurrency.record(principal.tenant_id, share, time.perf_counter() - started)


def _resolve(
    app: ApiResolver,
    request: APIGatewayProxyEventV2,
    context: LambdaContext,
    request_id: str,
    principal: Principal,
) -> dict[str, Any]:
    refused = _refused(request)
    if refused is not None:
        return problem_result(refused)
    app.include_routers_for(request.path)
    app.append_context(
        principal=principal, request_id=request_id, source_ip=request.request_context.http.source_ip or None
    )
    key = _header(request, "idempotency-key")
    if request.http_method == "POST" and key:
        from crm_core.http.idempotency import resolve_once  # lazy: only idempotent POSTs pay for it

        return resolve_once(app, request, context, principal, key)
    return app.resolve(request.raw_event, context)
