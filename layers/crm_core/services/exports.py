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

import contextlib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypedDict

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from crm_core import aws, s3
from crm_core.config import settings
from crm_core.context import RequestContext
from crm_core.definitions import EXPORTS_PREFIX, IMPORTS_BUCKET, TENANT_EXPORTS_QUEUE
from crm_core.events import EVENT_SK_PREFIX, build_event
from crm_core.ids import derived_id, first_id_at, new_id, utc_now, utc_text
from crm_core.multipart import MultipartWriter, Suspended
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
from crm_core.zipstream import DateTime, ZipState, ZipStream

logger = Logger(child=True)

SCHEMA_VERSION = 1  # of the zip's layout (manifest.json's schema_version)
DOWNLOAD_URL_SECONDS = 3600
PAGE_SIZE = 500  # records a Query names (one Query, then BatchGetItems of 100)
PROGRESS_EVERY = 1000  # records written between two updates of the export's counters
MAX_ATTEMPTS = 3  # runs begun before an export that keeps dying is failed
STATES = ("active", "archived")
BATCH_GET_KEYS = 100  # what one BatchGetItem reads
SECONDS_PER_RUN = 600.0  # a run's reading, of the worker's 900: a page, the tail and the save take the rest
LEASE_S = 930  # a run holds the export this long at most: less than the queue's visibility timeout (960)


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
        "expired_at": job.expired_at,
    }


def _kept_until(job: ExportJobItem) -> str | None:
    """When a completed export's zip is deleted by the bucket's lifecycle (a day's precision at most)."""
    if job.completed_at is None:
        return None
    completed = datetime.fromisoformat(job.completed_at.replace("Z", "+00:00"))
    return utc_text(completed + timedelta(days=IMPORTS_BUCKET.expire_days))


def _with_link(job: ExportJobItem) -> dict[str, Any]:
    body = represent(job)
    body["download_url"] = body["download_expires_at"] = None
    kept_until = _kept_until(job)
    if job.status == "completed" and kept_until is not None and kept_until <= utc_now():
        body.update(status="expired", expired_at=kept_until)  # its zip is gone: no link to nothing
    elif job.status == "completed":
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


@dataclass(frozen=True)
class RunBudget:
    """How much one run writes before it stops and queues the rest: pages of records (``0``: no limit) and
    seconds (Lambda's 15 minutes, less what the last page, the tail and the save take). Set by
    ``CRM_EXPORT_PAGES_PER_RUN`` / ``CRM_EXPORT_SECONDS_PER_RUN`` (tests force several runs on a small
    tenant); ``CRM_EXPORT_PAGE_SIZE`` sets the records a page names."""

    pages: int
    seconds: float
    page_size: int

    @classmethod
    def from_environment(cls) -> RunBudget:
        return cls(
            pages=int(os.environ.get("CRM_EXPORT_PAGES_PER_RUN") or 0),
            seconds=float(os.environ.get("CRM_EXPORT_SECONDS_PER_RUN") or SECONDS_PER_RUN),
            page_size=int(os.environ.get("CRM_EXPORT_PAGE_SIZE") or PAGE_SIZE),
        )


class Cursor(TypedDict):
    """Where the records' reading stopped: the type (index in ``exported_types``), the state (index in
    ``STATES``) and the GSI1 key to start after (None: at the start)."""

    kind: int
    state: int
    start: dict[str, str] | None


class Resume(TypedDict):
    """What the export item keeps between runs (``ExportJobItem.resume``, JSON)."""

    run: int
    upload: dict[str, Any]  # multipart.Suspended.as_json()
    tail_key: str  # the S3 object holding the bytes written but not sent as a part yet
    zip: ZipState
    cursor: Cursor
    counts: dict[str, int]


def tail_key(tenant_id: str, export_id: str, run: int) -> str:
    return f"{zip_key(tenant_id, export_id)}.tail-{run}"


def run_export(message: dict[str, Any]) -> str:
    """One run of an export: the zip written from the start or from where the last run stopped, until it
    is whole (then the export completed with its event, once) or the run's budget is spent (then its place
    saved on the export, and a message queued for the next run)."""
    tenant_id, export_id = str(message["tenant_id"]), str(message["export_id"])
    job = jobs.get(tenant_id, export_id, consistent=True)
    if job is None or job.status not in ("pending", "running"):
        return f"export {export_id}: nothing to do ({job.status if job else 'no such export'})"
    now_s = int(time.time())
    leased = job.lease_until is not None and int(job.lease_until) >= now_s
    if int(job.attempts or 0) >= MAX_ATTEMPTS and not leased:  # not while a run is at it (its last try)
        _abort_saved_upload(job)
        jobs.fail(job, f"The export stopped {MAX_ATTEMPTS} times before it completed.", utc_now())
        return f"export {export_id}: failed after {MAX_ATTEMPTS} runs"
    saved = job.resume
    if saved:
        if not jobs.go_on(job, resume=saved, at=utc_now(), now_s=now_s, lease_s=LEASE_S):
            return f"export {export_id}: another run is writing it, or it ended meanwhile"
    else:
        objects = {
            t.collection: sum(repo.count_of(tenant_id, t.name, state) for state in STATES)
            for t in exported_types()
        }
        if not jobs.start(job, objects=objects, at=utc_now(), now_s=now_s, lease_s=LEASE_S):
            return f"export {export_id}: another run is writing it, or it ended meanwhile"
    job = jobs.get(tenant_id, export_id, consistent=True)
    assert job is not None
    try:
        return _run(job, json.loads(saved) if saved else None, RunBudget.from_environment())
    except UploadGone:
        # The upload the saved place names is no more (completed by a run that died before completing the
        # export, or aborted after a day): the zip is written again from the start.
        logger.warning("export upload gone: starting again", extra={"export_id": export_id})
        _drop_files(tenant_id, export_id, json.loads(saved) if saved else None)
        jobs.let_go(job)
        job.refresh(consistent_read=True)
        if not jobs.start(job, objects=_counts(job.objects), at=utc_now(), now_s=now_s, lease_s=LEASE_S):
            return f"export {export_id}: another run is writing it, or it ended meanwhile"
        return _run(job, None, RunBudget.from_environment())
    except BaseException:
        jobs.let_go(job)
        raise


class UploadGone(Exception):
    """The saved multipart upload no longer exists."""


def _writer(job: ExportJobItem, resume: Resume | None) -> MultipartWriter:
    client, bucket = s3.presigning_client(), settings().imports_bucket
    key = zip_key(job.tenant_id, job.id)
    if resume is None:
        return MultipartWriter(
            client,
            bucket,
            key,
            ContentType="application/zip",
            ContentDisposition=f'attachment; filename="crm-export-{job.id}.zip"',
        )
    upload_id = str(resume["upload"]["upload_id"])
    try:  # the upload still open? (one call a run; asked first, before any work)
        client.list_parts(Bucket=bucket, Key=key, UploadId=upload_id, MaxParts=1)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "NoSuchUpload":
            raise UploadGone(upload_id) from error
        raise
    tail = client.get_object(Bucket=bucket, Key=resume["tail_key"])["Body"].read()
    return MultipartWriter(client, bucket, key, resume=Suspended.from_json(resume["upload"], tail))


def _run(job: ExportJobItem, resume: Resume | None, budget: RunBudget) -> str:
    writer = _writer(job, resume)
    run = resume["run"] + 1 if resume else 1
    try:
        archive = ZipStream(writer, resume["zip"] if resume else None)
        counts = dict(resume["counts"]) if resume else {}
        cursor = _write_records(job, archive, resume["cursor"] if resume else None, counts, budget)
        if cursor is not None:
            return _suspend(job, run, writer, archive, cursor, counts, resume)
        manifest = {
            "schema_version": SCHEMA_VERSION,
            "export_id": job.id,
            "tenant_id": job.tenant_id,
            "exported_at": job.started_at,
            "objects": {name: {"file": f"{name}.jsonl", "count": count} for name, count in counts.items()},
        }
        archive.finish(
            [("manifest.json", _zip_time(job.created_at), (json.dumps(manifest, indent=2) + "\n").encode())]
        )
        writer.close()
    except ClientError as error:
        if writer.resumed and error.response.get("Error", {}).get("Code") == "NoSuchUpload":
            raise UploadGone from error
        raise
    except BaseException:
        if not writer.resumed:  # an upload made by this run; a resumed one stays for the next try
            with contextlib.suppress(ClientError):  # gone already (the export expired meanwhile)
                writer.abort()
        raise
    return _complete(job, counts, writer.size, resume)


def _suspend(
    job: ExportJobItem,
    run: int,
    writer: MultipartWriter,
    archive: ZipStream,
    cursor: Cursor,
    counts: dict[str, int],
    previous: Resume | None,
) -> str:
    """The run's place saved on the export (the unsent tail in an S3 object of its own, named by the
    run, so that a run that dies before saving leaves the last saved place whole), then the next run
    queued. A run that dies after saving and before queueing is delivered again and goes on from the
    place it saved."""
    zip_state = archive.suspend()
    suspended = writer.suspend()
    client, bucket = s3.presigning_client(), settings().imports_bucket
    key = tail_key(job.tenant_id, job.id, run)
    client.put_object(Bucket=bucket, Key=key, Body=suspended.tail)
    resume: Resume = {
        "run": run,
        "upload": suspended.as_json(),
        "tail_key": key,
        "zip": zip_state,
        "cursor": cursor,
        "counts": counts,
    }
    if not jobs.suspend(job, resume=json.dumps(resume), processed={**_zeros(), **counts}, at=utc_now()):
        # Failed or expired meanwhile (a person erased): nothing of it is kept.
        _drop_files(job.tenant_id, job.id, resume)
        return f"export {job.id}: ended meanwhile ({_status_now(job)})"
    _queue_run(job.tenant_id, job.id)
    if previous is not None:
        client.delete_object(Bucket=bucket, Key=previous["tail_key"])
    return f"export {job.id}: run {run} stopped after {sum(counts.values())} records; the next is queued"


def _queue_run(tenant_id: str, export_id: str) -> None:
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=TENANT_EXPORTS_QUEUE.name)["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"tenant_id": tenant_id, "export_id": export_id}))


def _abort_saved_upload(job: ExportJobItem) -> None:
    """An export failed part-way: its open upload dropped (S3's lifecycle would after a day)."""
    if not job.resume:
        return
    saved: Resume = json.loads(job.resume)
    client, bucket = s3.presigning_client(), settings().imports_bucket
    with contextlib.suppress(ClientError):
        client.abort_multipart_upload(
            Bucket=bucket, Key=zip_key(job.tenant_id, job.id), UploadId=saved["upload"]["upload_id"]
        )
        client.delete_object(Bucket=bucket, Key=saved["tail_key"])


def _complete(job: ExportJobItem, counts: dict[str, int], size: int, resume: Resume | None) -> str:
    tenant_id, export_id = job.tenant_id, job.id
    now = utc_now()
    done = represent(job)
    done.update(
        status="completed",
        objects=counts,
        processed=counts,
        size_bytes=size,
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
    completed = jobs.complete(job, counts=counts, size_bytes=size, event=event, at=now)
    if resume is not None:
        s3.presigning_client().delete_object(Bucket=settings().imports_bucket, Key=resume["tail_key"])
    if not completed and _status_now(job) != "completed":
        # Expired (a person erased) while this run wrote it: the zip just made may hold their data.
        _drop_files(tenant_id, export_id, None)
        return f"export {export_id}: ended meanwhile ({job.status})"
    return f"export {export_id}: {json.dumps(counts)}" + ("" if completed else " (completed by another run)")


def _status_now(job: ExportJobItem) -> str:
    job.refresh(consistent_read=True)
    return str(job.status)


# ------------------------------------------------------------------------------- expiry before its time

EXPIRY_PAGES = 10  # of 100 exports: those a tenant made in the days its zips are kept


def expire_made_before(tenant_id: str, moment: str) -> int:
    """A person was erased at ``moment``: the tenant's exports made before it whose zip may still be kept
    (running or completed, made in the last ``expire_days`` + 1 days: one Query of their id range) are
    ``expired`` and their objects deleted — the zip, an open upload and its run tail. Pending ones have
    read nothing yet. Answers how many expired. Idempotent: an expired export is left as it is."""
    since = datetime.fromisoformat(moment.replace("Z", "+00:00")) - timedelta(
        days=IMPORTS_BUCKET.expire_days + 1
    )
    expired, start = 0, None
    for _page in range(EXPIRY_PAGES):
        page, start = jobs.made_since(tenant_id, first_id_at(since), limit=100, start_key=start)
        for job in page:
            if job.created_at > moment or job.status not in ("running", "completed"):
                continue
            saved: Resume | None = json.loads(job.resume) if job.resume else None
            if jobs.expire(job, utc_now()):
                expired += 1
            _drop_files(tenant_id, job.id, saved)
        if start is None:
            break
    else:
        logger.warning("expiry of exports stopped at its bound", extra={"tenant_id": tenant_id})
    return expired


def _drop_files(tenant_id: str, export_id: str, saved: Resume | None) -> None:
    """An export's objects deleted: its zip, and when it was part-way, its open upload and run tail."""
    client, bucket = s3.presigning_client(), settings().imports_bucket
    client.delete_object(Bucket=bucket, Key=zip_key(tenant_id, export_id))
    if saved is not None:
        client.delete_object(Bucket=bucket, Key=saved["tail_key"])
        with contextlib.suppress(ClientError):  # completed or aborted already
            client.abort_multipart_upload(
                Bucket=bucket, Key=zip_key(tenant_id, export_id), UploadId=saved["upload"]["upload_id"]
            )


def delete_tenant_files(tenant_id: str) -> int:
    """Every export object of a tenant being deleted (zips, run tails, open uploads), by its prefix:
    for the tenant's deletion (API.md section 6), which removes its items too. Answers the objects deleted."""
    client, bucket = s3.presigning_client(), settings().imports_bucket
    prefix = f"{EXPORTS_PREFIX}{tenant_id}/"
    deleted = 0
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys_here = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if keys_here:
            client.delete_objects(Bucket=bucket, Delete={"Objects": keys_here, "Quiet": True})
            deleted += len(keys_here)
    for page in client.get_paginator("list_multipart_uploads").paginate(Bucket=bucket, Prefix=prefix):
        for upload in page.get("Uploads", []):
            with contextlib.suppress(ClientError):
                client.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
    return deleted


def _zip_time(at: str) -> DateTime:
    moment = datetime.fromisoformat(at.replace("Z", "+00:00"))
    return (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)


def _write_records(
    job: ExportJobItem, archive: ZipStream, cursor: Cursor | None, counts: dict[str, int], budget: RunBudget
) -> Cursor | None:
    """Every record type's records in ``<collection>.jsonl``, from ``cursor`` on, counted in ``counts``,
    until they are all written (None) or the budget is spent (where to go on from: a type's member is
    begun when its first page is read, ended after its last)."""
    began, pages, unreported = time.monotonic(), 0, 0
    kinds = exported_types()
    at = cursor or {"kind": 0, "state": 0, "start": None}
    index, state, start = at["kind"], at["state"], at["start"]
    while index < len(kinds):
        kind = kinds[index]
        if archive.writing is None:
            counts[kind.collection] = 0
            archive.begin(f"{kind.collection}.jsonl", _zip_time(job.created_at))
        page, start = _page(job.tenant_id, kind.name, STATES[state], start, budget.page_size)
        lines = [_line(body) for body in _as_answered(kind.record_service(), job.tenant_id, page)]
        archive.write("".join(lines).encode())
        counts[kind.collection] += len(lines)
        unreported += len(lines)
        if unreported >= PROGRESS_EVERY:
            jobs.progress(job, {**_zeros(), **counts}, utc_now())
            unreported = 0
        pages += 1
        if start is None:  # the state's last page: the next state, or the next type
            state += 1
            if state == len(STATES):
                archive.end()
                index, state = index + 1, 0
        spent = (budget.pages and pages >= budget.pages) or time.monotonic() - began >= budget.seconds
        if spent and index < len(kinds):
            return {"kind": index, "state": state, "start": start}
    return None


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


def _page(
    tenant_id: str, object_type: str, state: str, start: dict[str, str] | None, size: int
) -> tuple[list[RecordItem], dict[str, str] | None]:
    """A page of the type's records in one state, in id order: a Query of GSI1 (its keys start with the
    tenant) and BatchGetItems of the records it names; and the key to go on after."""
    items, start = repo.query_page(
        keys.list_pk(tenant_id, object_type, state), index="GSI1", limit=size, start_key=start
    )
    return [i for i in items if isinstance(i, RecordItem) and i.tenant_id == tenant_id], start


def _pages(tenant_id: str, object_type: str) -> Iterator[list[RecordItem]]:
    """The type's records, active then archived, page by page (what a run reads, without the zip)."""
    for state in STATES:
        start: dict[str, str] | None = None
        while True:
            page, start = _page(tenant_id, object_type, state, start, PAGE_SIZE)
            if page:
                yield page
            if start is None:
                break
