"""The public functions' answer (an email's tracking link, a quote's page): reached with no credential, not
through the API's resolver; a ``ProblemError`` is answered as problem details, anything else as a 500, and
every answer carries the request's id.

The signed token in the path names the tenant: once it is verified, the answer is worked out inside that
tenant's scope (crm_core.tenant_access), so the page reaches the table with credentials that can touch that
tenant's items only, as an authenticated request does (docs/decisions/0035), and it is metered as that
tenant's call (its usage line: crm_core.usage, as crm_core.http.app's). A token that does not verify is
answered without a scope, and metered for nobody: the services refuse it (404) before reading anything, and
the function has no table access of its own."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from aws_lambda_powertools import Logger

from crm_core import tenant_access, usage
from crm_core.errors import ProblemError
from crm_core.http.responses import problem_result


def _token_tenant(purpose: str, token: str) -> str | None:
    """The tenant a verified token of ``purpose`` names; None for any other token."""
    from crm_core.signing import verify_carrying_tenant

    verified = verify_carrying_tenant(purpose, token) if token else None
    return verified[0] if verified is not None else None


def serve_public(
    event: dict[str, Any],
    answer: Callable[[dict[str, Any]], dict[str, Any]],
    logger: Logger,
    purpose_of: Callable[[dict[str, Any]], str],
) -> dict[str, Any]:
    """``answer(event)`` in the scope of the tenant its path's token names (``purpose_of(event)``: the
    purpose the route's tokens are signed for)."""
    request_id = event.get("requestContext", {}).get("requestId", "")
    tenant_id: str | None = None
    with usage.metered() as meter:
        try:
            tenant_id = _token_tenant(
                purpose_of(event), str((event.get("pathParameters") or {}).get("token", ""))
            )
            scope: AbstractContextManager[None] = (
                tenant_access.scoped(tenant_id) if tenant_id is not None else nullcontext()
            )
            with scope:
                response = answer(event)
        except ProblemError as problem:
            response = problem_result(problem)
        except Exception:
            logger.exception("unhandled error")
            response = problem_result(
                ProblemError(500, "Internal Server Error", f"Request {request_id} failed.")
            )
    response.setdefault("headers", {})["X-Request-Id"] = request_id
    if tenant_id is not None:
        status = int(response.get("statusCode", 200))
        route = str(event.get("routeKey", ""))
        usage.emit(
            [
                usage.line(
                    "api",
                    tenant_id,
                    route=route,
                    status=status,
                    read_units=meter.read_units,
                    write_units=meter.write_units,
                )
            ]
        )
    return response
