"""A user's notification as the API answers it."""

from __future__ import annotations

from pydantic import Field

from crm_core.models.common import Closed


class RecordRef(Closed):
    type: str = Field(description="The record's type, e.g. activity.")
    id: str


class Notification(Closed):
    id: str
    kind: str = Field(description="What it is about, e.g. reminder or assignment.")
    title: str
    record: RecordRef
    created_at: str
    read_at: str | None
