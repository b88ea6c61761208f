"""CSV imports (API.md ``imports``): an admin creates an import and uploads its file to the URL it is
given; the upload's notification reaches the splitter (``split_upload``), which reads the file once, puts
its rows in chunks and queues one message per chunk; each chunk's worker (``import_chunk``) writes its rows
(import_rows.py) and adds its counts to the import in one transaction with the chunk's own marker item, so
each chunk is counted once however often its message comes; the worker that counts the last chunk writes
the rejected rows' file and completes the import with its ``import.completed`` event.

Files live in the imports bucket (definitions.IMPORTS_BUCKET): ``uploads/<tenant>/<import>.csv`` (what the
admin put), ``chunks/<tenant>/<import>/<n>.json`` (the rows of a chunk),
``rejected/<tenant>/<import>/<n>.json`` (a chunk's failed rows with their reasons) and
``rejected/<tenant>/<import>.csv`` (all of them, the link an import shows). The
bucket deletes every object after a few days.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger

from crm_core import aws, s3
from crm_core.auth import Principal, Role
from crm_core.config import settings
from crm_core.context import RequestContext
from crm_core.definitions import (
    IMPORT_CHUNKS_PREFIX,
    IMPORT_CHUNKS_QUEUE,
    IMPORT_REJECTED_PREFIX,
    IMPORTS_BUCKET,
)
from crm_core.errors import FieldError, validation_failed
from crm_core.events import EVENT_SK_PREFIX, build_event
from crm_core.ids import derived_id, new_id, utc_now, utc_text
from crm_core.record_types import record_type
from crm_core.repositories import audit_repository, keys
from crm_core.repositories import import_repository as jobs
from crm_core.repositories import record_repository as records
from crm_core.repositories.table import AuditItem, EventItem, ImportJobItem
from crm_core.services.import_rows import (
    FAILED,
    Row,
    UnreadableFile,
    duplicate_keys,
    earlier_rows,
    guess_mapping,
    mapping_problems,
    read_csv,
    write_csv,
    write_rows,
)
from crm_core.services.jobs import found_job, job_page
from crm_core.services.records import RecordService, derived
from crm_core.services.records.items import IMPORT_CREDENTIAL, IMPORTED_OBJECTS
from crm_core.services.records.queries import Page
from crm_core.stored_values import as_json_value

logger = Logger(child=True)

# The objects an import writes, by the name its API path has.
OBJECTS = IMPORTED_OBJECTS
CHUNK_ROWS = 500  # rows a chunk's worker writes: a few seconds' work, well inside its timeout
MAX_FILE_BYTES = 50 * 1024 * 1024
UPLOAD_URL_SECONDS = 3600
REJECTED_URL_SECONDS = 3600
SEND_BATCH = 10  # SendMessageBatch's limit
COUNTERS = ("total", "processed", "created", "updated", "skipped", "failed")
TOKENS_A_RECORD = 10  # a record's search entries at most (contacts.contact_tokens keeps ten)


def _service(object_name: str) -> RecordService:
    return record_type(OBJECTS[object_name]).record_service()


@cache
def upload_key(tenant_id: str, import_id: str) -> str:
    return f"{IMPORTS_BUCKET.notify_prefix}{tenant_id}/{import_id}.csv"


def _chunk_key(tenant_id: str, import_id: str, chunk: int) -> str:
    return f"{IMPORT_CHUNKS_PREFIX}{tenant_id}/{import_id}/{chunk:06d}.json"


def _rejected_prefix(tenant_id: str, import_id: str) -> str:
    return f"{IMPORT_REJECTED_PREFIX}{tenant_id}/{import_id}/"


def _rejected_key(tenant_id: str, import_id: str) -> str:
    return f"{IMPORT_REJECTED_PREFIX}{tenant_id}/{import_id}.csv"


# ------------------------------------------------------------------------------------------------ API


def _mapping(job: ImportJobItem) -> dict[str, str]:
    return {str(k): str(v) for k, v in (as_json_value(job.mapping) or {}).items()}


def represent(job: ImportJobItem) -> dict[str, Any]:
    """The import as the API answers it (models.import_job.ImportJob), without links."""
    return {
        "id": job.id,
        "object": job.object,
        "on_duplicate": job.on_duplicate,
        "mapping": _mapping(job) or None,
        "status": job.status,
        "error": job.error,
        "total": int(job.total or 0),
        "processed": int(job.processed or 0),
        "created": int(job.created or 0),
        "updated": int(job.updated or 0),
        "skipped": int(job.skipped or 0),
        "failed": int(job.failed or 0),
        "created_by": job.created_by,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
        "completed_at": job.completed_at,
    }


def _with_link(job: ImportJobItem) -> dict[str, Any]:
    body = represent(job)
    body["rejected_rows_url"] = None
    if job.status == "completed" and job.failed:
        body["rejected_rows_url"] = s3.presigning_client().generate_presigned_url(
            "get_object",
            Params={"Bucket": settings().imports_bucket, "Key": _rejected_key(job.tenant_id, job.id)},
            ExpiresIn=REJECTED_URL_SECONDS,
        )
    return body


def create_import(
    ctx: RequestContext, *, object_name: str, mapping: dict[str, str] | None, on_duplicate: str
) -> dict[str, Any]:
    """A new import waiting for its file, with the URL to PUT it to."""
    ctx.principal.require_admin("imports")
    if mapping is not None:
        problems = mapping_problems(_service(object_name), mapping)
        if not mapping:
            problems = {"": "names no column; leave mapping out to have it guessed from the header"}
        if problems:
            raise validation_failed(
                [
                    FieldError(f"mapping.{column}" if column else "mapping", text)
                    for column, text in problems.items()
                ]
            )
    import_id, now = new_id(), utc_now()
    job = ImportJobItem(
        jobs.jobs_pk(ctx.tenant_id),
        import_id,
        id=import_id,
        tenant_id=ctx.tenant_id,
        object=object_name,
        on_duplicate=on_duplicate,
        mapping=mapping or None,
        mapping_given=mapping is not None,
        status="pending",
        created_by=ctx.principal.user_id,
        created_at=now,
        updated_at=now,
    )
    jobs.create(job)
    body = _with_link(job)
    body["upload_url"] = s3.presigning_client().generate_presigned_url(
        "put_object",
        Params={"Bucket": settings().imports_bucket, "Key": upload_key(ctx.tenant_id, import_id)},
        ExpiresIn=UPLOAD_URL_SECONDS,
    )
    body["upload_expires_at"] = utc_text(datetime.now(UTC) + timedelta(seconds=UPLOAD_URL_SECONDS))
    return body


def get_import(ctx: RequestContext, import_id: str) -> dict[str, Any]:
    ctx.principal.require_admin("imports")
    return _with_link(found_job(jobs.get(ctx.tenant_id, import_id), "import", import_id))


def list_imports(ctx: RequestContext, *, limit: int, cursor: str | None) -> Page[dict[str, Any]]:
    """The tenant's imports, newest first."""
    ctx.principal.require_admin("imports")
    return job_page(ctx, "imports", jobs.page, _with_link, limit=limit, cursor=cursor)


# ------------------------------------------------------------------------------------------- workers


def _worker_context(job: ImportJobItem) -> RequestContext:
    """The import's rows are written as the admin who created it, through this import."""
    principal = Principal(
        job.tenant_id,
        user_id=job.created_by,
        role=Role.ADMIN,
        credential=IMPORT_CREDENTIAL,
        credential_id=job.id,
    )
    return RequestContext(principal, correlation_id=job.id)


def split_upload(notification: dict[str, Any]) -> str:
    """An S3 notification of uploaded files: each file read and queued in chunks."""
    if notification.get("Event") == "s3:TestEvent":
        return "test event"
    outcomes = []
    for record in notification.get("Records", []):
        key = unquote_plus(record["s3"]["object"]["key"])
        outcomes.append(_split(key))
    return ", ".join(outcomes)


def _split(key: str) -> str:
    parts = key.removeprefix(IMPORTS_BUCKET.notify_prefix).removesuffix(".csv").split("/")
    if len(parts) != 2:
        return f"{key}: not an import's file"
    tenant_id, import_id = parts
    job = jobs.get(tenant_id, import_id, consistent=True)
    if job is None or job.status not in ("pending", "processing"):
        return f"{key}: no import waits for it"
    bucket = settings().imports_bucket
    try:
        head = aws.client("s3").head_object(Bucket=bucket, Key=key)
        if head["ContentLength"] > MAX_FILE_BYTES:
            raise UnreadableFile(f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
        header, rows = read_csv(aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())
        service = _service(job.object)
        mapping = _mapping(job) if job.mapping_given else guess_mapping(service, header)
        missing = [column for column in mapping if column not in header]
        if missing:
            raise UnreadableFile(f"the mapping names columns the file does not have: {', '.join(missing)}")
        if not mapping:
            raise UnreadableFile("no column of the header is a field's name; give a mapping")
    except UnreadableFile as error:
        jobs.fail(job, str(error), utc_now())
        return f"{key}: {error}"
    chunks = _chunks(service, mapping, earlier_rows(service, mapping, rows))
    keys_of = {row.number: duplicate_keys(service, mapping, row) for row in rows}
    look_up, existing = _holders(tenant_id, service, {key for found in keys_of.values() for key in found})
    for number, chunk in enumerate(chunks):
        chunk_keys = {key for row in chunk for key in keys_of[row.number]}
        body = {
            "header": header,
            "look_up_existing": look_up,
            "holders": {key: ids for key, ids in existing.items() if key in chunk_keys},
            "rows": [[row.number, row.cells, row.extra_cells, row.earlier] for row in chunk],
        }
        aws.client("s3").put_object(
            Bucket=bucket, Key=_chunk_key(tenant_id, import_id, number), Body=json.dumps(body)
        )
    if not jobs.start_processing(job, total=len(rows), chunks=len(chunks), mapping=mapping, at=utc_now()):
        return f"{key}: no import waits for it"
    messages = [{"tenant_id": tenant_id, "import_id": import_id, "chunk": n} for n in range(len(chunks))]
    url = aws.client("sqs").get_queue_url(QueueName=IMPORT_CHUNKS_QUEUE.name)["QueueUrl"]
    for start in range(0, len(messages), SEND_BATCH):
        entries = [
            {"Id": str(i), "MessageBody": json.dumps(body)}
            for i, body in enumerate(messages[start : start + SEND_BATCH])
        ]
        answer = aws.client("sqs").send_message_batch(QueueUrl=url, Entries=entries)
        if answer.get("Failed"):
            raise RuntimeError(f"the chunk queue refused {len(answer['Failed'])} messages")  # sent again
    if not chunks:
        _finish(tenant_id, import_id)
    return f"{key}: {len(rows)} rows in {len(chunks)} chunks"


def _holders(
    tenant_id: str, service: RecordService, file_keys: set[str]
) -> tuple[bool, dict[str, list[str]]]:
    """Who else holds the file's duplicate keys, found once for the import: nobody, if the tenant has no
    record of the type; read from the keys' search buckets here, if that takes fewer calls than a Query
    per key (a record has at most ``TOKENS_A_RECORD`` entries there, ``BUCKET_PAGE`` a call); else left
    to each chunk's worker to look up, a Query per key (True)."""
    if not file_keys:
        return False, {}
    active = records.count_of(tenant_id, service.spec.object_type, "active")
    if active == 0:
        return False, {}
    buckets = {keys.search_pk(tenant_id, service.spec.object_type, key.split(":", 1)[1]) for key in file_keys}
    if active * TOKENS_A_RECORD / derived.BUCKET_PAGE + len(buckets) < len(file_keys):
        return False, derived.holders_in_table(tenant_id, service.spec, file_keys)
    return True, {}


def _chunks(service: RecordService, mapping: dict[str, str], rows: list[Row]) -> list[list[Row]]:
    """Rows in chunks of about ``CHUNK_ROWS``, in the file's order, except that a row whose unique value
    (a contact's email) an earlier row has goes in that row's chunk, to be written after it."""
    spec = service.spec
    column = next((c for c, f in mapping.items() if f == spec.unique_field), None)
    chunks: list[list[Row]] = []
    chunk_of: dict[str, int] = {}
    for row in rows:
        value = row.cells.get(column, "").strip() if column else ""
        try:
            value = spec.normalize_unique(value) if value else ""
        except ValueError:
            value = ""  # not a valid value: the row fails wherever it is
        if value and value in chunk_of:
            chunks[chunk_of[value]].append(row)
            continue
        if not chunks or len(chunks[-1]) >= CHUNK_ROWS:
            chunks.append([])
        chunks[-1].append(row)
        if value:
            chunk_of[value] = len(chunks) - 1
    return chunks


def import_chunk(message: dict[str, Any]) -> str:
    """One chunk's rows written and counted (once), then the import completed if it was the last."""
    tenant_id, import_id, chunk = str(message["tenant_id"]), str(message["import_id"]), int(message["chunk"])
    job = jobs.get(tenant_id, import_id, consistent=True)
    if job is None or job.status != "processing":
        return f"import {import_id}: not processing"
    outcome = "counted already"
    if not jobs.chunk_done(tenant_id, import_id, chunk):
        counts = _write_chunk(job, chunk)
        counted = jobs.count_chunk(tenant_id, import_id, chunk, counts, utc_now())
        outcome = json.dumps(counts) if counted else outcome
    _finish(tenant_id, import_id)
    return f"import {import_id} chunk {chunk}: {outcome}"


def _write_chunk(job: ImportJobItem, chunk: int) -> dict[str, int]:
    bucket = settings().imports_bucket
    stored = json.loads(
        aws.client("s3")
        .get_object(Bucket=bucket, Key=_chunk_key(job.tenant_id, job.id, chunk))["Body"]
        .read()
    )
    # A chunk split before its rows knew their earlier rows (three cells a row) looks every key up.
    rows = [
        Row(int(row[0]), dict(row[1]), int(row[2]), row[3] if len(row) > 3 else None)
        for row in stored["rows"]
    ]
    outcomes = write_rows(
        _service(job.object),
        _worker_context(job),
        import_id=job.id,
        on_duplicate=job.on_duplicate,
        mapping=_mapping(job),
        rows=rows,
        look_up_existing=bool(stored.get("look_up_existing", True)),
        holders=stored.get("holders") or {},
    )
    rejected = [
        {**row.cells, "error": outcome.error or ""}
        for row, outcome in zip(rows, outcomes, strict=True)
        if outcome.outcome == FAILED
    ]
    if rejected:
        # Written before the chunk is counted: a chunk counted has its rejected rows kept.
        aws.client("s3").put_object(
            Bucket=bucket,
            Key=f"{_rejected_prefix(job.tenant_id, job.id)}{chunk:06d}.json",
            Body=json.dumps({"header": stored["header"], "rows": rejected}),
        )
    counts = Counter(outcome.outcome for outcome in outcomes)
    return {"processed": len(rows), **counts}


def _finish(tenant_id: str, import_id: str) -> None:
    """Once every chunk is counted: the rejected rows in one file, and the import completed with its
    event. Two workers finishing at once both write the same file; one completes the import."""
    job = jobs.get(tenant_id, import_id, consistent=True)
    if job is None or job.status != "processing" or int(job.chunks_done or 0) < int(job.chunks or 0):
        return
    if job.failed:
        _write_rejected(job)
    now = utc_now()
    done = represent(job)
    done.update(status="completed", completed_at=now, updated_at=now)
    detail = build_event(
        event_type="import.completed",
        tenant_id=tenant_id,
        actor=_worker_context(job).principal.actor,
        correlation_id=import_id,
        data=done,
        event_id=derived_id(import_id, "completed"),
        occurred_at=now,
    )
    pk, _ = jobs.chunk_key(tenant_id, import_id, 0)
    event = EventItem(
        pk, f"{EVENT_SK_PREFIX}{detail['id']}", event_type=detail["type"], occurred_at=now, detail=detail
    )
    jobs.complete(job, event, _audit_item(job, detail), now)


def _audit_item(job: ImportJobItem, detail: dict[str, Any]) -> AuditItem:
    """The import's one entry in the audit trail, written as it completes: who imported what, and what
    became of its rows. Its rows' records each have the creation of their own (an object's trail: records/
    items.py ``creation_audit_deferred``), as their events do."""
    counts = {name: value for name, value in represent(job).items() if name in COUNTERS}
    return audit_repository.audit_item(
        job.tenant_id,
        audit_id=detail["id"],
        occurred_at=detail["occurred_at"],
        actor=detail["actor"],
        actions=[detail["type"]],
        object_type="import",
        object_id=job.id,
        changes={
            "object": {"before": None, "after": job.object},
            "on_duplicate": {"before": None, "after": job.on_duplicate},
            "status": {"before": job.status, "after": "completed"},
            **{name: {"before": None, "after": value} for name, value in counts.items()},
        },
        request_id=job.id,
        source_ip=None,
    )


def _write_rejected(job: ImportJobItem) -> None:
    bucket = settings().imports_bucket
    header: list[str] = []
    rows: list[dict[str, str]] = []
    pages = (
        aws.client("s3")
        .get_paginator("list_objects_v2")
        .paginate(Bucket=bucket, Prefix=_rejected_prefix(job.tenant_id, job.id))
    )
    for page in pages:
        for entry in sorted(page.get("Contents", []), key=lambda e: e["Key"]):
            stored = json.loads(aws.client("s3").get_object(Bucket=bucket, Key=entry["Key"])["Body"].read())
            header = header or [*stored["header"], *([] if "error" in stored["header"] else ["error"])]
            rows += stored["rows"]
    aws.client("s3").put_object(
        Bucket=bucket,
        Key=_rejected_key(job.tenant_id, job.id),
        Body=write_csv(header, rows),
        ContentType="text/csv; charset=utf-8",
        ContentDisposition=f'attachment; filename="import-{job.id}-rejected.csv"',
    )
