"""What the routes of every kind of background job (imports, exports) answer alike: a page of the tenant's
jobs, newest first, each as its own service shows it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from crm_core import signing
from crm_core.context import RequestContext
from crm_core.errors import not_found
from crm_core.services.records.queries import Page

Job = TypeVar("Job")
Found = TypeVar("Found")
PageReader = Callable[..., tuple[list[Job], dict[str, str] | None]]


def job_page(
    ctx: RequestContext,
    kind: str,
    read_page: PageReader[Job],
    shown: Callable[[Job], dict[str, Any]],
    *,
    limit: int,
    cursor: str | None,
) -> Page[dict[str, Any]]:
    """A page of the tenant's jobs of ``kind`` (``read_page``: its repository's ``page``), behind a cursor
    signed for the tenant and the kind."""
    start = signing.decode_cursor(ctx.tenant_id, kind, cursor) if cursor else None
    items, last = read_page(ctx.tenant_id, limit=limit, start_key=start)
    return Page(
        [shown(job) for job in items], signing.encode_cursor(ctx.tenant_id, kind, last) if last else None
    )


def found_job(job: Found | None, kind: str, job_id: str) -> Found:
    """The job read by its id, or 404 naming its kind (another tenant's id reads as a missing one)."""
    if job is None:
        raise not_found(kind, job_id)
    return job
