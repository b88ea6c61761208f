"""What every background job of a tenant (an import, an export) stores the same way: its item in one partition
of the tenant's jobs of its kind (``T#<tenant>#<kind>`` / its id), read by id or a page at a time, newest
first (ids are time-ordered)."""

from __future__ import annotations

from typing import TypeVar

from crm_core.repositories.record_repository import query_page
from crm_core.repositories.table import TableItem

Job = TypeVar("Job", bound=TableItem)


def get(model: type[Job], pk: str, tenant_id: str, job_id: str, *, consistent: bool = False) -> Job | None:
    """The job of ``model``'s kind with this id in the tenant's partition ``pk``, or None."""
    try:
        item = TableItem.get(pk, job_id, consistent_read=consistent)
    except TableItem.DoesNotExist:
        return None
    return item if isinstance(item, model) and getattr(item, "tenant_id", None) == tenant_id else None


def page(
    model: type[Job], pk: str, *, limit: int, start_key: dict[str, str] | None
) -> tuple[list[Job], dict[str, str] | None]:
    """One Query of the partition ``pk``, newest first."""
    items, last = query_page(pk, limit=limit, start_key=start_key, forward=False)
    return [item for item in items if isinstance(item, model)], last
