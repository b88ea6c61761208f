"""Response shapes every endpoint shares: JSON, problem details, records with their ETag, pages."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import Response

from crm_core.errors import PROBLEM_CONTENT_TYPE, ProblemError, bad_request

if TYPE_CHECKING:  # the models are a route's, not what every cold start imports
    from crm_core.models.record import RecordBody

JSON = "application/json"
MAX_VERSION_DIGITS = 15
_ETAG = re.compile(rf'(?:W/)?"(?P<version>[0-9]{{1,{MAX_VERSION_DIGITS}}})"')


def _dumps(body: Any) -> str:
    return json.dumps(body, separators=(",", ":"), default=str)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response[str]:
    return Response(status_code=status, content_type=JSON, body=_dumps(body), headers=headers or {})


def problem_response(problem: ProblemError) -> Response[str]:
    return Response(
        status_code=problem.status,
        content_type=PROBLEM_CONTENT_TYPE,
        body=_dumps(problem.to_dict()),
        headers=dict(problem.headers),
    )


def etag(version: int) -> str:
    return f'"{version}"'


def record_response(record: RecordBody, status: int = 200, location: str | None = None) -> Response[str]:
    headers = {"ETag": etag(int(record["version"]))}
    if location:
        headers["Location"] = location
    return json_response(record, status, headers)


def page_response(items: Sequence[Mapping[str, Any]], next_cursor: str | None) -> Response[str]:
    return json_response({"items": items, "next_cursor": next_cursor})


def list_page_response(items: list[RecordBody], next_cursor: str | None, total: int | None) -> Response[str]:
    return json_response({"items": items, "next_cursor": next_cursor, "total": total})


def parse_if_match(value: str | None) -> int | None:
    """``If-Match: "3"`` (or ``W/"3"``) as a version; ``*`` or absent means any version. Anything else,
    a bare number or a list of ETags included, is 400: this API issues one ETag per record."""
    if value is None or value.strip() == "*":
        return None
    match = _ETAG.fullmatch(value.strip())
    if match is None:
        raise bad_request('If-Match must be an ETag this API issued, such as "3".', field_name="If-Match")
    return int(match.group("version"))


def problem_result(problem: ProblemError) -> dict[str, Any]:
    """Problem details as a Lambda proxy result, for answers given before the resolver runs."""
    return {
        "statusCode": problem.status,
        "headers": {"Content-Type": PROBLEM_CONTENT_TYPE, **problem.headers},
        "body": _dumps(problem.to_dict()),
        "isBase64Encoded": False,
    }
