"""Turning pydantic's findings into problem details that name every bad field.

pydantic itself is imported by what validates (the routes' models): the gate every request passes reads
``field_errors`` and must not pay for pydantic at a cold start (tests/unit/test_cold_start.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from crm_core.errors import FieldError, ProblemError, validation_failed

if TYPE_CHECKING:
    from pydantic import BaseModel

M = TypeVar("M", bound="BaseModel")

READ_ONLY_FIELDS = frozenset(
    {"id", "tenant_id", "version", "created_at", "updated_at", "archived", "archived_at", "merged_into"}
    | {"status", "closed_at"}  # a deal's, derived from its stage
)


def field_errors(
    errors: Sequence[Any], *, prefix: str = "", drop_locations: tuple[str, ...] = ()
) -> list[FieldError]:
    found: list[FieldError] = []
    for error in errors:
        location = [part for part in error.get("loc", ()) if str(part) not in drop_locations]
        name = ""
        for part in location:  # ("inputs", 5, "email") -> inputs[5].email
            name += f"[{part}]" if isinstance(part, int) else f"{'.' if name else ''}{part}"
        message = str(error.get("msg", "is not valid")).removeprefix("Value error, ")
        top = str(location[0]) if location else ""
        if error.get("type") == "extra_forbidden":
            message = "is read-only and cannot be set" if top in READ_ONLY_FIELDS else "is not a known field"
        found.append(FieldError(f"{prefix}{name}" if name else (prefix.rstrip(".") or "body"), message))
    return found


def validate(model: type[M], raw: Any, *, prefix: str = "") -> M:
    """The parsed model, or a 422 naming every bad field (``prefix`` places it, e.g. ``inputs[3].``)."""
    if not isinstance(raw, dict):
        raise validation_failed([FieldError(prefix.rstrip(".") or "body", "must be a JSON object")])
    from pydantic import ValidationError  # loaded already: ``model`` is a pydantic model

    try:
        return model.model_validate(raw)
    except ValidationError as error:
        raise validation_failed(field_errors(error.errors(), prefix=prefix)) from None


def reprefix(problem: ProblemError, prefix: str) -> ProblemError:
    for error in problem.errors:
        error.field = f"{prefix}{error.field}" if error.field else prefix.rstrip(".")
    return problem


def set_fields(model: BaseModel) -> dict[str, Any]:
    """The fields a body sets, as JSON values (a decimal as a string, a date as YYYY-MM-DD); a field sent
    as null is set, to clear it."""
    fields: dict[str, Any] = model.model_dump(mode="json", exclude_unset=True)
    return fields
