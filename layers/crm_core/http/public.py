"""The public functions' answer (an email's tracking link, a quote's page): reached with no credential, not
through the API's resolver; a ``ProblemError`` is answered as problem details, anything else as a 500, and
every answer carries the request's id."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger

from crm_core.errors import ProblemError
from crm_core.http.responses import problem_result


def serve_public(
    event: dict[str, Any], answer: Callable[[dict[str, Any]], dict[str, Any]], logger: Logger
) -> dict[str, Any]:
    request_id = event.get("requestContext", {}).get("requestId", "")
    try:
        response = answer(event)
    except ProblemError as problem:
        response = problem_result(problem)
    except Exception:
        logger.exception("unhandled error")
        response = problem_result(ProblemError(500, "Internal Server Error", f"Request {request_id} failed."))
    response.setdefault("headers", {})["X-Request-Id"] = request_id
    return response
