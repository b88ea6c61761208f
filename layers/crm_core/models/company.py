"""What a company is made of, as the API takes it."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints, field_validator

from crm_core.models.common import Custom, RecordId, ShortText, StrictModel, Tags

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
