"""DynamoDB access for CSV imports: the import's item (``T#<tenant>#import`` / its id, so a tenant's imports
are one Query, newest first) and one item per counted chunk in the import's own partition."""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import UpdateError

from crm_core.repositories import job_repository
from crm_core.repositories.table import (
    AuditItem,
    EventItem,
    ImportChunkItem,
    ImportJobItem,
    TableItem,
)
from crm_core.repositories.transaction import ChangeSet, WriteConflict
from crm_core.tenant_access import tenant_prefix

COUNTERS = ("processed", "created", "updated", "skipped", "failed")


def jobs_pk(tenant_id: str) -> str:
    return f"{tenant_prefix(tenant_id)}#import"


def chunk_key(tenant_id: str, import_id: str, chunk: int) -> tuple[str, str]:
    return f"{jobs_pk(tenant_id)}#{import_id}", f"chunk#{chunk:06d}"


def create(job: ImportJobItem) -> None:
    job.save(condition=ImportJobItem.PK.does_not_exist())


def get(tenant_id: str, import_id: str, *, consistent: bool = False) -> ImportJobItem | None:
    return job_repository.get(ImportJobItem, jobs_pk(tenant_id), tenant_id, import_id, consistent=consistent)


def page(
    tenant_id: str, *, limit: int, start_key: dict[str, str] | None
) -> tuple[list[ImportJobItem], dict[str, str] | None]:
    return job_repository.page(ImportJobItem, jobs_pk(tenant_id), limit=limit, start_key=start_key)


def start_processing(
    job: ImportJobItem, *, total: int, chunks: int, mapping: dict[str, str], at: str
) -> bool:
    """The file is read: its rows and chunks counted, its mapping known. The same again (the upload's
    notification delivered twice) changes nothing; False once the import has completed or failed."""
    try:
        job.update(
            actions=[
                ImportJobItem.status.set("processing"),
                ImportJobItem.total.set(total),
                ImportJobItem.chunks.set(chunks),
                ImportJobItem.mapping.set(mapping),
                ImportJobItem.updated_at.set(at),
            ],
            condition=ImportJobItem.status.is_in("pending", "processing"),
        )
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def fail(job: ImportJobItem, error: str, at: str) -> None:
    """The file cannot be imported at all (not UTF-8, no header, too big): nothing of it was written."""
    job.update(
        actions=[
            ImportJobItem.status.set("failed"),
            ImportJobItem.error.set(error),
            ImportJobItem.updated_at.set(at),
            ImportJobItem.completed_at.set(at),
        ],
        condition=ImportJobItem.status.is_in("pending", "processing"),
    )


def chunk_done(tenant_id: str, import_id: str, chunk: int) -> bool:
    """Whether the chunk's rows are counted already."""
    pk, sk = chunk_key(tenant_id, import_id, chunk)
    try:
        TableItem.get(pk, sk, consistent_read=True)
    except TableItem.DoesNotExist:
        return False
    return True


def count_chunk(tenant_id: str, import_id: str, chunk: int, counts: dict[str, int], at: str) -> bool:
    """The chunk's counts added to the import, in one transaction with the chunk's own item, which must
    not exist yet: so a chunk is counted once however often its message comes. False when it was."""
    pk, sk = chunk_key(tenant_id, import_id, chunk)
    changes = ChangeSet()
    changes.save(
        ImportChunkItem(pk, sk, done_at=at), condition=ImportChunkItem.PK.does_not_exist(), label="chunk"
    )
    actions: list[Any] = [getattr(ImportJobItem, name).add(counts.get(name, 0)) for name in COUNTERS]
    actions += [ImportJobItem.chunks_done.add(1), ImportJobItem.updated_at.set(at)]
    changes.update(ImportJobItem(jobs_pk(tenant_id), import_id), actions, label="job")
    try:
        changes.commit()
    except WriteConflict as conflict:
        if conflict.label == "chunk":
            return False
        raise
    return True


def complete(job: ImportJobItem, event: EventItem, audited: AuditItem, at: str) -> bool:
    """The import completed, with its event and its audit item, once every chunk is counted; False when
    another worker completed it first."""
    changes = ChangeSet()
    changes.update(
        job,
        [
            ImportJobItem.status.set("completed"),
            ImportJobItem.completed_at.set(at),
            ImportJobItem.updated_at.set(at),
        ],
        condition=(ImportJobItem.status == "processing")
        & (ImportJobItem.chunks_done == ImportJobItem.chunks),
        label="job",
    )
    changes.save(event, label="event")
    changes.save(audited, label="audit")
    try:
        changes.commit()
    except WriteConflict as conflict:
        if conflict.label == "job":
            return False
        raise
    return True
