"""RFC 9457 problem details. Services raise these; the API layer renders them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PROBLEM_CONTENT_TYPE = "application/problem+json"


@dataclass
class FieldError:
    field: str
    message: str


@dataclass
class ProblemError(Exception):
    status: int
    title: str
    detail: str = ""
    errors: list[FieldError] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # RFC 9457's own members keep their meaning: a problem's extra named "status" once said "sending"
        # where a client reads the HTTP status.
        reserved = {"type", "title", "status", "detail", "errors"} & set(self.extra)
        if reserved:
            raise ValueError(f"a problem's extra members may not be named {sorted(reserved)}")
        super().__init__(self.detail or self.title)

    @property
    def type_uri(self) -> str:
        slug = self.title.lower().replace(" ", "-")
        # A relative reference (RFC 9457 3.1.1): resolves against the API the problem came from.
        return f"/problems/{slug}"

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": self.type_uri,
            "title": self.title,
            "status": self.status,
            "detail": self.detail or self.title,
        }
        if self.errors:
            body["errors"] = [{"field": e.field, "message": e.message} for e in self.errors]
        body.update(self.extra)
        return body


def bad_request(detail: str, *, field_name: str | None = None) -> ProblemError:
    errors = [FieldError(field_name, detail)] if field_name else []
    return ProblemError(400, "Bad Request", detail, errors)


def unauthorized(detail: str = "A valid credential is required.") -> ProblemError:
    return ProblemError(401, "Unauthorized", detail, headers={"WWW-Authenticate": 'Bearer realm="crm"'})


def tenant_suspended() -> ProblemError:
    """Every credential of a tenant the operator suspended (API.md section 6): 403, type
    ``/problems/tenant-suspended``."""
    return ProblemError(
        403,
        "Tenant Suspended",
        "This tenant is suspended by the operator of the CRM: nothing is deleted, and every credential works "
        "again once it is resumed.",
    )


def forbidden(detail: str) -> ProblemError:
    return ProblemError(403, "Forbidden", detail)


def not_found(kind: str, record_id: str) -> ProblemError:
    # Says the same for "never existed" and "belongs to another tenant": another tenant's record must
    # be indistinguishable from a missing one.
    return ProblemError(404, "Not Found", f"No {kind} with id {record_id!r}.")


def conflict(detail: str, *, field_name: str | None = None, **extra: Any) -> ProblemError:
    errors = [FieldError(field_name, detail)] if field_name else []
    return ProblemError(409, "Conflict", detail, errors, dict(extra))


def precondition_failed(current_version: int) -> ProblemError:
    return ProblemError(
        412,
        "Precondition Failed",
        f"The record has changed: its current version is {current_version}. Read it again and retry.",
        extra={"current_version": current_version},
    )


def validation_failed(
    errors: list[FieldError], detail: str = "The request has invalid fields."
) -> ProblemError:
    return ProblemError(422, "Unprocessable Content", detail, errors)


def invalid_field(field_name: str, message: str) -> ProblemError:
    return validation_failed([FieldError(field_name, message)], f"{field_name}: {message}")
