"""What the OpenAPI document says a route answers: typed records and pages, the problem details of each
error status, and the RateLimit headers on every answer.

These models only describe; the answers are built by the services. tests/integration/test_api_docs.py checks
real answers against them (unknown fields refused), so the document cannot drift from the code.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from crm_core.models.common import Closed

_RATE_HEADERS: dict[str, Any] = {
    "RateLimit-Limit": {
        "description": "Requests a minute the tenant's plan allows.",
        "schema": {"type": "integer"},
    },
    "RateLimit-Remaining": {"description": "Requests left in this minute.", "schema": {"type": "integer"}},
    "RateLimit-Reset": {"description": "Seconds until the minute turns.", "schema": {"type": "integer"}},
    "X-Request-Id": {
        "description": "This request's id: logs and events carry it.",
        "schema": {"type": "string"},
    },
}

_STATUS_MEANING = {
    400: "Malformed JSON, a forged or foreign cursor, or a malformed If-Match.",
    401: "A missing or bad credential.",
    403: "A valid credential without the right (a viewer writing; a rep changing another's record).",
    404: "No such record in this tenant (another tenant's record is indistinguishable from a missing one), "
    "or no such route (e.g. an unknown batch action).",
    409: "A unique value (email, domain) is taken (`existing_id` names the holder), or a conflicting change.",
    412: "If-Match names an older version (`current_version` names the current one). Nothing changed.",
    413: "The body is over 1 MiB.",
    415: "The body is not application/json.",
    422: "Invalid fields, unknown fields or read-only fields; `errors` names every one.",
    429: "Over the tenant's rate limit; Retry-After says when to come back.",
    502: "A service the CRM relies on (the email service) refused; what was committed stays: retry.",
}


class FieldProblem(Closed):
    field: str
    message: str


class Problem(Closed):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldProblem] | None = None
    existing_id: str | None = Field(None, description="409 on a unique value: the record that holds it.")
    current_version: int | None = Field(None, description="412: the record's current version.")
    merged_into: str | None = Field(None, description="409 on restoring a merged record: the survivor.")
    erased_at: str | None = Field(None, description="409 on changing an erased person's record: when.")
    renewed_to: str | None = Field(None, description="409 on renewing a renewed contract: its renewal.")
    quote_status: str | None = Field(None, description="409 on a quote its status does not allow it for.")
    campaign_status: str | None = Field(
        None, description="409 on a campaign its status does not allow it for."
    )
    share: float | None = Field(None, description="429 over the plan's share of functions: that share.")
    window_seconds: int | None = Field(None, description="429 over the plan's share: the window it is over.")


class TimelineRecord(Closed):
    type: str = Field(description="The record's type, e.g. activity (on a contact's timeline).")
    id: str | None
    title: str | None = Field(description="Its name, subject or the like, as a person calls it.")


class TimelineEntry(Closed):
    id: str
    type: str = Field(description="The event type, e.g. contact.updated.")
    occurred_at: str
    actor: dict[str, Any]
    record: TimelineRecord = Field(description="What the entry is about: this record, or one linked to it.")
    changes: dict[str, Any] = Field(description='{"field": {"from": old, "to": new}}')
    correlation_id: str | None


MovedKind = Literal["contacts", "deals", "activities", "tickets"]


def merge_result_model(name: str, record: type[BaseModel]) -> type[BaseModel]:
    """A merge's answer: the survivor, and which of the duplicate's linked records are still moving."""
    model: type[BaseModel] = create_model(
        name,
        __base__=record,
        pending_moves=(
            list[MovedKind],
            Field(
                description="The kinds of the duplicate's linked records (its contacts, deals, activities) "
                "that are still being moved to this record: more than a merge request moves itself, "
                "so they move in the background after this answer, usually within "
                "seconds to minutes, each with a change and an `*.updated` event of its own. Until then "
                "the rest still lists under the duplicate's id (e.g. `/v1/companies/{duplicate_id}/contacts`"
                ", `/v1/deals?company_id={duplicate_id}`). Empty: everything moved before this answer."
            ),
        ),
    )
    return model


def _closed_model(name: str, fields: dict[str, Any]) -> type[BaseModel]:
    model: type[BaseModel] = create_model(name, __config__=ConfigDict(extra="forbid"), **fields)
    return model


def _page_fields(item: type[BaseModel]) -> dict[str, Any]:
    return {
        "items": (list[item], ...),  # type: ignore[valid-type]
        "next_cursor": (
            str | None,
            Field(description="Pass as ?cursor= for the next page; null at the end."),
        ),
    }


def page_model(name: str, item: type[BaseModel]) -> type[BaseModel]:
    return _closed_model(name, _page_fields(item))


def list_page_model(name: str, item: type[BaseModel]) -> type[BaseModel]:
    """A page of a type's list: a page with the list's total."""
    return _closed_model(
        name,
        {
            **_page_fields(item),
            "total": (
                int | None,
                Field(
                    description="How many records the list has in all (active ones, or archived ones with "
                    "?archived=true); null when it is filtered or searched."
                ),
            ),
        },
    )


def duplicate_pair_model(name: str, plural: str, record: type[BaseModel]) -> type[BaseModel]:
    return _closed_model(
        name,
        {
            "ids": (list[str], ...),
            "reason": (Literal["same_name", "same_phone"], ...),
            "found_at": (str, ...),
            plural: (list[record], ...),  # type: ignore[valid-type]
        },
    )


def batch_results_model(name: str, record: type[BaseModel]) -> type[BaseModel]:
    result = _closed_model(
        f"{name}Result",
        {
            "status": (
                int,
                Field(description="201 created, 200 read or changed, or the input's error status."),
            ),
            "id": (str | None, None),
            "record": (record | None, None),
            "error": (Problem | None, None),
        },
    )
    return _closed_model(name, {"results": (list[result], ...)})  # type: ignore[valid-type]


def answers(
    status: int,
    model: type[BaseModel] | None,
    *errors: int,
    description: str = "",
    etag: bool = False,
    headers_of_success: dict[str, str] | None = None,
) -> dict[int, Any]:
    """The ``responses`` of a route: its success and each error it can answer, all with the rate headers;
    ``headers_of_success``: the success's own headers (name: what it says), all strings."""
    headers = dict(_RATE_HEADERS)
    for name, meaning in (headers_of_success or {}).items():
        headers[name] = {"description": meaning, "schema": {"type": "string"}}
    if etag:
        headers["ETag"] = {
            "description": 'The record\'s version, as "<version>".',
            "schema": {"type": "string"},
        }
    success: dict[str, Any] = {"description": description or "OK", "headers": headers}
    # No model: no body (empty content, or Powertools would describe the handler's return type).
    success["content"] = {"application/json": {"model": model}} if model is not None else {}
    documented: dict[int, Any] = {status: success}
    for error in sorted({401, 429, *errors}):
        documented[error] = {
            "description": _STATUS_MEANING[error],
            "headers": dict(_RATE_HEADERS),
            "content": {"application/problem+json": {"model": Problem}},
        }
    return documented
