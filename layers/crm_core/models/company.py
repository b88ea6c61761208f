"""What a company is made of, as the API takes it."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, Field, StringConstraints, field_validator

from crm_core.models.common import (
    EXAMPLE_USER_ID,
    Custom,
    RecordId,
    ShortText,
    StrictModel,
    Tags,
    record_model,
)

_HOST = re.compile(r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def normalize_domain(value: str) -> str:
    """``https://www.Example.com/about`` and ``example.com`` are one company."""
    host = value.strip().lower()
    host = re.sub(r"^[a-z]+://", "", host).split("/", 1)[0].split(":", 1)[0]
    host = host.removeprefix("www.")
    if not _HOST.match(host):
        raise ValueError("is not a valid domain name")
    return host


Domain = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(normalize_domain)]


class CompanyFields(StrictModel):
    name: ShortText | None = None
    domain: Domain | None = None
    industry: ShortText | None = None
    employees: Annotated[int, Field(ge=0, le=10_000_000)] | None = None
    owner_id: RecordId | None = None
    tags: Tags | None = None
    custom: Custom | None = None


class CompanyCreate(CompanyFields):
    name: ShortText


class CompanyUpdate(CompanyFields):
    """Every field optional; a field sent as null is cleared (except name, which stays required)."""

    @field_validator("name")
    @classmethod
    def _keeps_name(cls, name: str | None) -> str:
        if name is None:
            raise ValueError("cannot be cleared")
        return name


COMPANY_DEFAULTS: dict[str, object] = {
    "name": None,
    "domain": None,
    "industry": None,
    "employees": None,
    "owner_id": None,
    "tags": [],
    "custom": {},
}

# The record as the API answers it, and as its events carry it.
Company = record_model("Company", CompanyFields)
EXAMPLE_ID = "01JHC1C0MPANY0000000000001"
EXAMPLE: dict[str, Any] = {
    "name": "Analytical Engines Ltd",
    "domain": "engines.example",
    "industry": "Manufacturing",
    "employees": 120,
    "owner_id": EXAMPLE_USER_ID,
    "tags": [],
    "custom": {},
}
EXAMPLE_UPDATE: tuple[str, Any] = ("employees", 150)


def example_input(n: int) -> dict[str, Any]:
    """A create body; ``n`` varies what must be unique in a tenant."""
    return {"name": f"Example Company {n}", "domain": f"company{n}.example", "industry": "Software"}
