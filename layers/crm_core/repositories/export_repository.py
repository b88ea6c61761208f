"""DynamoDB access for tenant exports: the export's item (``T#<tenant>#export`` / its id, so a tenant's
exports are one Query, newest first); its ``export.completed`` event lives in the export's own partition
(``T#<tenant>#export#<id>``)."""

from __future__ import annotations

from pynamodb.exceptions import UpdateError

from crm_core.repositories import job_repository
from crm_core.repositories.record_repository import query_page
from crm_core.repositories.table import EventItem, ExportJobItem, TableItem
from crm_core.repositories.transaction import ChangeSet, WriteConflict
from crm_core.tenant_access import tenant_prefix


def jobs_pk(tenant_id: str) -> str:
    return f"{tenant_prefix(tenant_id)}#export"


def events_pk(tenant_id: str, export_id: str) -> str:
    return f"{jobs_pk(tenant_id)}#{export_id}"


def create(job: ExportJobItem) -> None:
    job.save(condition=ExportJobItem.PK.does_not_exist())


def get(tenant_id: str, export_id: str, *, consistent: bool = False) -> ExportJobItem | None:
    return job_repository.get(ExportJobItem, jobs_pk(tenant_id), tenant_id, export_id, consistent=consistent)


def page(
    tenant_id: str, *, limit: int, start_key: dict[str, str] | None
) -> tuple[list[ExportJobItem], dict[str, str] | None]:
    return job_repository.page(ExportJobItem, jobs_pk(tenant_id), limit=limit, start_key=start_key)


def _updated(job: ExportJobItem, actions: list[object], condition: object) -> bool:
    """``job`` updated with ``actions`` when ``condition`` holds; False when it did not."""
    try:
        job.update(actions=actions, condition=condition)  # type: ignore[arg-type]
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def _lease_free(now_s: int) -> object:
    return ExportJobItem.lease_until.does_not_exist() | (ExportJobItem.lease_until < now_s)


def start(job: ExportJobItem, *, objects: dict[str, int], at: str, now_s: int, lease_s: int) -> bool:
    """A run begins the zip from the start: ``running``, what there is to export counted, nothing
    processed yet, no saved place. A run after a worker died starts again from nothing; ``started_at``
    (the manifest's ``exported_at``) is the first run's. The run holds the export's lease (no other run
    writes its zip meanwhile) until it ends. False once the export has completed or failed, or while
    another run holds the lease."""
    return _updated(
        job,
        [
            ExportJobItem.status.set("running"),
            ExportJobItem.objects.set(objects),
            ExportJobItem.processed.set(dict.fromkeys(objects, 0)),
            ExportJobItem.started_at.set(ExportJobItem.started_at | at),
            ExportJobItem.attempts.add(1),
            ExportJobItem.updated_at.set(at),
            ExportJobItem.resume.remove(),
            ExportJobItem.lease_until.set(now_s + lease_s),
        ],
        ExportJobItem.status.is_in("pending", "running") & _lease_free(now_s),
    )


def go_on(job: ExportJobItem, *, resume: str, at: str, now_s: int, lease_s: int) -> bool:
    """A run takes up the zip where the last one stopped (``resume``, as read): the lease, one more
    attempt. False when the export completed or failed, another run holds the lease, or the saved place
    moved since it was read."""
    return _updated(
        job,
        [
            ExportJobItem.attempts.add(1),
            ExportJobItem.updated_at.set(at),
            ExportJobItem.lease_until.set(now_s + lease_s),
        ],
        (ExportJobItem.status == "running") & (ExportJobItem.resume == resume) & _lease_free(now_s),
    )


def suspend(job: ExportJobItem, *, resume: str, processed: dict[str, int], at: str) -> bool:
    """The run stops where ``resume`` says, its counts saved, the lease let go; the attempts count again
    from none (this run got somewhere)."""
    return _updated(
        job,
        [
            ExportJobItem.resume.set(resume),
            ExportJobItem.processed.set(processed),
            ExportJobItem.runs.add(1),
            ExportJobItem.attempts.set(0),
            ExportJobItem.updated_at.set(at),
            ExportJobItem.lease_until.remove(),
        ],
        ExportJobItem.status == "running",
    )


def let_go(job: ExportJobItem) -> None:
    """A run that failed lets its lease go (the message's next delivery may go on at once)."""
    _updated(job, [ExportJobItem.lease_until.remove()], ExportJobItem.status == "running")


def progress(job: ExportJobItem, processed: dict[str, int], at: str) -> bool:
    """The records written to the zip so far, by collection (set, not added: a run that starts again
    counts from nothing)."""
    return _updated(
        job,
        [ExportJobItem.processed.set(processed), ExportJobItem.updated_at.set(at)],
        ExportJobItem.status == "running",
    )


def made_since(
    tenant_id: str, first_id: str, *, limit: int, start_key: dict[str, str] | None
) -> tuple[list[ExportJobItem], dict[str, str] | None]:
    """The tenant's exports whose id is ``first_id`` or later (made since its time): one Query."""
    items, last = query_page(
        jobs_pk(tenant_id),
        range_condition=first_id <= TableItem.SK,
        limit=limit,
        start_key=start_key,
    )
    return [i for i in items if isinstance(i, ExportJobItem) and i.tenant_id == tenant_id], last


def expire(job: ExportJobItem, at: str) -> bool:
    """The export's zip is (about to be) deleted before its time: ``expired``, no saved place, no lease.
    False when it is neither running nor completed (pending: it has read nothing yet; failed or expired)."""
    return _updated(
        job,
        [
            ExportJobItem.status.set("expired"),
            ExportJobItem.expired_at.set(at),
            ExportJobItem.updated_at.set(at),
            ExportJobItem.resume.remove(),
            ExportJobItem.lease_until.remove(),
        ],
        ExportJobItem.status.is_in("running", "completed"),
    )


def fail(job: ExportJobItem, error: str, at: str) -> bool:
    return _updated(
        job,
        [
            ExportJobItem.status.set("failed"),
            ExportJobItem.error.set(error),
            ExportJobItem.updated_at.set(at),
            ExportJobItem.completed_at.set(at),
            ExportJobItem.resume.remove(),
            ExportJobItem.lease_until.remove(),
        ],
        ExportJobItem.status.is_in("pending", "running"),
    )


def complete(
    job: ExportJobItem, *, counts: dict[str, int], size_bytes: int, event: EventItem, at: str
) -> bool:
    """The export completed with its event, in one transaction; False when another run completed it
    first (then neither is written again)."""
    changes = ChangeSet()
    changes.update(
        job,
        [
            ExportJobItem.status.set("completed"),
            ExportJobItem.objects.set(counts),
            ExportJobItem.processed.set(counts),
            ExportJobItem.size_bytes.set(size_bytes),
            ExportJobItem.completed_at.set(at),
            ExportJobItem.updated_at.set(at),
            ExportJobItem.runs.add(1),
            ExportJobItem.resume.remove(),
            ExportJobItem.lease_until.remove(),
        ],
        condition=ExportJobItem.status == "running",
        label="job",
    )
    changes.save(event, condition=EventItem.PK.does_not_exist(), label="event")
    try:
        changes.commit()
    except WriteConflict as conflict:
        if conflict.label in ("job", "event"):
            return False
        raise
    return True
