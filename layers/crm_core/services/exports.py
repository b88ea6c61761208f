"""Tenant exports (API.md ``exports``): an admin asks for one (``create_export``), which is stored
``pending`` and queued; the worker (``run_export``) reads every record of the tenant, type by type, with
Queries of the tenant's own keys (GSI1: a type's records in one state, in id order; never a Scan), and
streams one zip to S3 as it reads (``crm_core.multipart``): ``<collection>.jsonl`` per record type, each
line the record exactly as the API answers it (archived ones included), and ``manifest.json``. Its
counters show progress; completion sets ``completed`` in one transaction with the ``export.completed``
event (an outbox item with an id derived from the export's).

A run that dies is run again by SQS from the start: the zip is written again to the same key, and an
object appears there only when a run completes it (CompleteMultipartUpload), so the link always gives
one whole zip. The zip of an unchanged tenant is the same bytes however often it is written (member times
and ``exported_at`` are the export's own, not the run's). A message delivered after the export completed
finds it completed and does nothing: one zip, one event.

The zip lives in the imports bucket (definitions.IMPORTS_BUCKET, whose objects are deleted after 7 days)
under ``exports/<tenant>/<export>.zip``.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger

from crm_core import aws, s3
from crm_core.config import settings
from crm_core.context import RequestContext
from crm_core.definitions import EXPORTS_PREFIX, TENANT_EXPORTS_QUEUE
from crm_core.events import EVENT_SK_PREFIX, build_event
from crm_core.ids import derived_id, new_id, utc_now, utc_text
from crm_core.multipart import MultipartWriter
from crm_core.record_types import RECORD_TYPES, RecordType
from crm_core.repositories import export_repository as jobs
from crm_core.repositories import keys
from crm_core.repositories import record_repository as repo
from crm_core.repositories.table import EventItem, ExportJobItem, RecordItem
from crm_core.services.jobs import found_job, job_page
from crm_core.services.records import RecordService
from crm_core.services.records import represent as represent_record
from crm_core.services.records.queries import Page
from crm_core.stored_values import as_json_value

logger = Logger(child=True)

SCHEMA_VERSION = 1  # of the zip's layout (manifest.json's schema_version)
DOWNLOAD_URL_SECONDS = 3600
PAGE_SIZE = 500  # records a Query names (one Query, then BatchGetItems of 100)
PROGRESS_EVERY = 1000  # records written between two updates of the export's counters
MAX_ATTEMPTS = 3  # runs begun before an export that keeps dying is failed
STATES = ("active", "archived")
BATCH_GET_KEYS = 100  # what one BatchGetItem reads


def exported_types() -> tuple[RecordType, ...]:
    """Every record type, in the order the zip holds them."""
    return RECORD_TYPES


def zip_key(tenant_id: str, export_id: str) -> str:
    return f"{EXPORTS_PREFIX}{tenant_id}/{export_id}.zip"


# ------------------------------------------------------------------------------------------------ API


def _counts(value: Any) -> dict[str, int]:
    return {str(k): int(v) for k, v in (as_json_value(value) or {}).items()}


def represent(job: ExportJobItem) -> dict[str, Any]:
    """The export as the API answers it (models.export_job.ExportJob), without its link."""
    return {
        "id": job.id,
        "status": job.status,
        "error": job.error,
        "objects": _counts(job.objects),
        "processed": _counts(job.processed),
        "size_bytes": int(job.size_bytes) if job.size_bytes is not None else None,
        "created_by": job.created_by,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
        "started_at": job.started_at,
        "completed_at": job.completed_at,
    }


def _with_link(job: ExportJobItem) -> dict[str, Any]:
    body = represent(job)
    body["download_url"] = body["download_expires_at"] = None
    if job.status == "completed":
        body["download_url"] = s3.presigning_client().generate_presigned_url(
            "get_object",
            Params={"Bucket": settings().imports_bucket, "Key": zip_key(job.tenant_id, job.id)},
            ExpiresIn=DOWNLOAD_URL_SECONDS,
        )
        body["download_expires_at"] = utc_text(datetime.now(UTC) + timedelta(seconds=DOWNLOAD_URL_SECONDS))
    return body


def create_export(ctx: RequestContext) -> dict[str, Any]:
    """A new export of the whole tenant, queued for the worker."""
    ctx.principal.require_admin("exports")
    export_id, now = new_id(), utc_now()
    job = ExportJobItem(
        jobs.jobs_pk(ctx.tenant_id),
        export_id,
        id=export_id,
        tenant_id=ctx.tenant_id,
        status="pending",
        created_by=ctx.principal.user_id,
        actor=ctx.principal.actor,
        created_at=now,
        updated_at=now,
        objects={},
        processed={},
    )
    jobs.create(job)
    try:
        sqs = aws.client("sqs")
        url = sqs.get_queue_url(QueueName=TENANT_EXPORTS_QUEUE.name)["QueueUrl"]
        sqs.send_message(
            QueueUrl=url, MessageBody=json.dumps({"tenant_id": ctx.tenant_id, "export_id": export_id})
        )
    except Exception:
        jobs.fail(job, "The export could not be queued; ask for another.", utc_now())
        raise
    return _with_link(job)


def get_export(ctx: RequestContext, export_id: str) -> dict[str, Any]:
    ctx.principal.require_admin("exports")
    return _with_link(found_job(jobs.get(ctx.tenant_id, export_id), "export", export_id))


def list_exports(ctx: RequestContext, *, limit: int, cursor: str | None) -> Page[dict[str, Any]]:
    """The tenant's exports, newest first."""
    ctx.principal.require_admin("exports")
    return job_page(ctx, "exports", jobs.page, _with_link, limit=limit, cursor=cursor)


# --------------------------------------------------------------------------------------------- worker


def run_export(message: dict[str, Any]) -> str:
    """One run of an export: the zip written whole, then the export completed with its event (once)."""
    tenant_id, export_id = str(message["tenant_id"]), str(message["export_id"])
    job = jobs.get(tenant_id, export_id, consistent=True)
    if job is None or job.status not in ("pending", "running"):
        return f"export {export_id}: nothing to do ({job.status if job else 'no such export'})"
    if int(job.attempts or 0) >= MAX_ATTEMPTS:
        jobs.fail(job, f"The export stopped {MAX_ATTEMPTS} times before it completed.", utc_now())
        return f"export {export_id}: failed after {MAX_ATTEMPTS} runs"
    objects = {
        t.collection: sum(repo.count_of(tenant_id, t.name, state) for state in STATES)
        for t in exported_types()
    }
    if not jobs.start(job, objects=objects, at=utc_now()):
        return f"export {export_id}: completed or failed meanwhile"
    job = jobs.get(tenant_id, export_id, consistent=True)
    assert job is not None
    writer = MultipartWriter(
        s3.presigning_client(),
        settings().imports_bucket,
        zip_key(tenant_id, export_id),
        ContentType="application/zip",
        ContentDisposition=f'attachment; filename="crm-export-{export_id}.zip"',
    )
    try:
        counts = _write_zip(job, writer)
        writer.close()
    except BaseException:
        writer.abort()
        raise
    now = utc_now()
    done = represent(job)
    done.update(
        status="completed",
        objects=counts,
        processed=counts,
        size_bytes=writer.size,
        completed_at=now,
        updated_at=now,
    )
    detail = build_event(
        event_type="export.completed",
        tenant_id=tenant_id,
        actor=as_json_value(job.actor),
        correlation_id=export_id,
        data=done,
        event_id=derived_id(export_id, "completed"),
        occurred_at=now,
    )
    event = EventItem(
        jobs.events_pk(tenant_id, export_id),
        f"{EVENT_SK_PREFIX}{detail['id']}",
        event_type=detail["type"],
        occurred_at=now,
        detail=detail,
    )
    completed = jobs.complete(job, counts=counts, size_bytes=writer.size, event=event, at=now)
    return f"export {export_id}: {json.dumps(counts)}" + ("" if completed else " (completed by another run)")


def _zip_time(at: str) -> tuple[int, int, int, int, int, int]:
    moment = datetime.fromisoformat(at.replace("Z", "+00:00"))
    return (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)


def _member(name: str, at: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_zip_time(at))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def _write_zip(job: ExportJobItem, writer: MultipartWriter) -> dict[str, int]:
    """Every record type's records in ``<collection>.jsonl``, then the manifest; the counts written."""
    counts: dict[str, int] = {}
    unreported = 0
    with zipfile.ZipFile(writer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for kind in exported_types():
            counts[kind.collection] = 0
            service = kind.record_service()
            member = _member(f"{kind.collection}.jsonl", job.created_at)
            with archive.open(member, "w", force_zip64=True) as out:
                for page in _pages(job.tenant_id, kind.name):
                    lines = [_line(body) for body in _as_answered(service, job.tenant_id, page)]
                    out.write("".join(lines).encode())
                    counts[kind.collection] += len(lines)
                    unreported += len(lines)
                    if unreported >= PROGRESS_EVERY:
                        jobs.progress(job, {**_zeros(), **counts}, utc_now())
                        unreported = 0
        manifest = {
            "schema_version": SCHEMA_VERSION,
            "export_id": job.id,
            "tenant_id": job.tenant_id,
            "exported_at": job.started_at,
            "objects": {name: {"file": f"{name}.jsonl", "count": count} for name, count in counts.items()},
        }
        archive.writestr(_member("manifest.json", job.created_at), json.dumps(manifest, indent=2) + "\n")
    jobs.progress(job, counts, utc_now())
    return counts


def _as_answered(service: RecordService, tenant_id: str, page: list[RecordItem]) -> list[dict[str, Any]]:
    """The page's records as ``GET`` answers them, with what their type keeps apart (100 at a time)."""
    bodies = [represent_record(service.spec, item) for item in page]
    return [
        body
        for start in range(0, len(bodies), BATCH_GET_KEYS)
        for body in service.with_kept_apart(tenant_id, bodies[start : start + BATCH_GET_KEYS])
    ]


def _zeros() -> dict[str, int]:
    return {kind.collection: 0 for kind in exported_types()}


def _line(record: dict[str, Any]) -> str:
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False, default=str) + "\n"


def _pages(tenant_id: str, object_type: str) -> Iterator[list[RecordItem]]:
    """The type's records, active then archived, each in id order: a Query of GSI1 per page (its keys
    start with the tenant) and BatchGetItems of the records it names."""
    for state in STATES:
        start: dict[str, str] | None = None
        while True:
            items, start = repo.query_page(
                keys.list_pk(tenant_id, object_type, state), index="GSI1", limit=PAGE_SIZE, start_key=start
            )
            records = [item for item in items if isinstance(item, RecordItem) and item.tenant_id == tenant_id]
            if records:
                yield records
            if start is None:
                break
