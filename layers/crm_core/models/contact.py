"""What a contact is made of, as the API takes it."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from crm_core.models import company
from crm_core.models.common import (
    EXAMPLE_USER_ID,
    Custom,
    RecordId,
    ShortText,
    StrictModel,
    Tags,
    record_model,
)

LifecycleStage = Literal["subscriber", "lead", "mql", "sql", "opportunity", "customer", "evangelist", "other"]
ConsentState = Literal["granted", "denied", "unknown"]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_PHONE = re.compile(r"^\+?[0-9 ()\-./]{5,30}$")


def _email(value: str) -> str:
    if len(value) > 254 or not _EMAIL.match(value):
        raise ValueError("is not a valid email address")
    return value


def _phone(value: str) -> str:
    if not _PHONE.match(value) or sum(ch.isdigit() for ch in value) < 5:
        raise ValueError("is not a valid phone number")
    return value


_BIRTHDAY = re.compile(r"^(?:(\d{4})|-)-(\d{2})-(\d{2})$")


def birthday_month_day(value: str | None) -> str | None:
    """A birthday (``YYYY-MM-DD``, or ``--MM-DD`` without the year) as ``MM-DD``; None for none."""
    matched = _BIRTHDAY.match(value or "")
    return f"{matched.group(2)}-{matched.group(3)}" if matched else None


def _birthday(value: str) -> str:
    matched = _BIRTHDAY.match(value)
    try:
        if matched is None:
            raise ValueError
        date(int(matched.group(1) or 2000), int(matched.group(2)), int(matched.group(3)))
    except ValueError:
        raise ValueError("must be a date, YYYY-MM-DD, or --MM-DD without the year") from None
    return value


Email = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_email)]
Birthday = Annotated[
    str,
    StringConstraints(strip_whitespace=True),
    AfterValidator(_birthday),
    Field(description="`YYYY-MM-DD`, or `--MM-DD` without the year; the owner is notified on the day."),
]
Phone = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_phone)]


class Consent(StrictModel):
    email: ConsentState = "unknown"


class ContactFields(StrictModel):
    first_name: ShortText | None = None
    last_name: ShortText | None = None
    email: Email | None = None
    phone: Phone | None = None
    title: ShortText | None = None
    company_id: RecordId | None = None
    owner_id: RecordId | None = None
    lifecycle_stage: LifecycleStage | None = None
    tags: Tags | None = None
    source: ShortText | None = None
    birthday: Birthday | None = None
    consent: Consent | None = None
    custom: Custom | None = None


class ContactCreate(ContactFields):
    @model_validator(mode="after")
    def _identifiable(self) -> Self:
        if not (self.email or self.first_name or self.last_name or self.phone):
            raise ValueError("a contact needs at least one of email, first_name, last_name or phone")
        return self


class ContactUpdate(ContactFields):
    """Every field optional; a field sent as null is cleared."""


CONTACT_DEFAULTS: dict[str, object] = {
    "first_name": None,
    "last_name": None,
    "email": None,
    "phone": None,
    "title": None,
    "company_id": None,
    "owner_id": None,
    "lifecycle_stage": None,
    "tags": [],
    "source": None,
    "birthday": None,
    "consent": {"email": "unknown"},
    "custom": {},
    "erased_at": None,
}


class ContactRecordFields(ContactFields):
    erased_at: str | None = Field(
        None,
        description="When the person's data was erased (POST /v1/privacy/contacts/{id}/erase): the record "
        "is a tombstone that keeps its id, owner, company, stage and times; null for a contact never erased.",
    )


# The record as the API answers it, and as its events carry it.
Contact = record_model("Contact", ContactRecordFields)
EXAMPLE_ID = "01JHC1C0NTACT0000000000001"
EXAMPLE: dict[str, Any] = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "email": "ada@example.com",
    "phone": None,
    "title": "CTO",
    "company_id": company.EXAMPLE_ID,
    "owner_id": EXAMPLE_USER_ID,
    "lifecycle_stage": "lead",
    "tags": ["vip"],
    "source": "web",
    "birthday": "--12-10",
    "consent": {"email": "granted"},
    "custom": {},
    "erased_at": None,
}
EXAMPLE_UPDATE: tuple[str, Any] = ("title", "CEO")


def example_input(n: int) -> dict[str, Any]:
    """A create body; ``n`` varies what must be unique in a tenant."""
    return {"email": f"person{n}@example.com", "first_name": "Ada", "last_name": f"Example{n}"}
