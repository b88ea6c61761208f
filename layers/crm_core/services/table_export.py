"""The AWS re-export (docs/decisions/0020, 0026): the whole table, read from DynamoDB's export to S3
(``ExportTableToPointInTime``, format ``DYNAMODB_JSON``), written as the analytics files' ``reexport`` files,
without reading the table itself.

An operator starts it by putting ``{"reexport": {}}`` on the analytics compaction queue (the compactor
consumes it; see the runbook in the decision record). Each message does one bounded step and queues the
next:

1. ``{}``: starts the export (to the analytics bucket under ``table-exports/``), then as 2;
2. ``{"export_arn"}``: while the export runs, the same message again after ``WAIT_S``; once it completed,
   its manifest's data files are listed, then as 3;
3. ``{"export_arn", "files", "next"}``: ``FILES_PER_RUN`` data files turned into analytics files (the
   records of the exported objects only, ``type = record``, grouped per tenant and object), then the rest.

A step run again writes the same files (their names follow from the data file they come from), and the
SQL reads each record's latest version once: a retry changes no answer. Whole-table: an operator's step
(after a column is added, or an exporter bug), never a tenant's.

Locally ``crm reports reexport`` does the same per tenant from the table (the local endpoint has no
export to S3 that runs).
"""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from crm_core import aws
from crm_core.config import settings
from crm_core.ids import utc_now
from crm_core.reports import store
from crm_core.reports.columns import BY_RECORD_TYPE, Row, rows

EXPORT_PREFIX = "table-exports/"
WAIT_S = 900  # SQS's longest delay: exports of small tables take minutes, of large ones hours
FILES_PER_RUN = 20


def _records(lines: Iterable[bytes]) -> Iterable[dict[str, Any]]:
    """The stored items of a data file (one ``{"Item": <typed item>}`` a line) that are records."""
    for line in lines:
        if not line.strip():
            continue
        item = json.loads(line)["Item"]
        if (
            item.get("type", {}).get("S") == "record"
            and item.get("object_type", {}).get("S") in BY_RECORD_TYPE
        ):
            yield item


def rows_of_data_file(
    content: bytes, types_of: Callable[[str, str], Any]
) -> dict[tuple[str, str], list[Row]]:
    """A data file of the export (gzip, DynamoDB JSON lines) as analytics rows per tenant and collection."""
    from crm_core.record_types import RECORD_TYPES
    from crm_core.repositories.table import RecordItem
    from crm_core.services.records import represent as represent_record

    specs = {kind.name: kind.record_service().spec for kind in RECORD_TYPES if kind.name in BY_RECORD_TYPE}
    found: dict[tuple[str, str], list[Row]] = defaultdict(list)
    schemas: dict[tuple[str, str], Any] = {}
    for raw in _records(gzip.decompress(content).splitlines()):
        item = RecordItem.from_raw_data(raw)
        object_columns = BY_RECORD_TYPE[item.object_type]
        key = (item.tenant_id, object_columns.collection)
        if key not in schemas:
            schemas[key] = types_of(*key)
        # The record as GET answers it (without what its type keeps apart: long texts, never exported).
        record = represent_record(specs[item.object_type], item)
        found[key] += rows(object_columns, record, str(record.get("updated_at") or utc_now()), schemas[key])
    return found


def write_data_file(data_key: str, content: bytes, types_of: Callable[[str, str], Any]) -> list[str]:
    """One data file's rows written as ``reexport`` files (one per tenant and collection); their keys."""
    from crm_core.reports.columns import OBJECTS
    from crm_core.reports.parquet import to_parquet

    today = utc_now()[:10]
    written = []
    for (tenant_id, collection), batch in sorted(rows_of_data_file(content, types_of).items()):
        newest = max(str(row["changed_at"]) for row in batch)
        key = store.file_key(tenant_id, collection, today, newest, "reexport", [data_key])
        store.put(key, to_parquet(OBJECTS[collection], batch))
        written.append(key)
    return written


def on_message(body: dict[str, Any]) -> str:
    """One step of the re-export (see the module's docstring); what it did."""
    from crm_core.consumers import send_continuation
    from crm_core.definitions import ANALYTICS_COMPACTION_QUEUE
    from crm_core.services.analytics_export import property_types

    dynamodb, s3 = aws.client("dynamodb"), aws.client("s3")
    bucket = settings().analytics_bucket
    step = dict(body.get("reexport") or {})
    if "export_arn" not in step:
        table_arn = dynamodb.describe_table(TableName=settings().table_name)["Table"]["TableArn"]
        started = dynamodb.export_table_to_point_in_time(
            TableArn=table_arn, S3Bucket=bucket, S3Prefix=EXPORT_PREFIX, ExportFormat="DYNAMODB_JSON"
        )["ExportDescription"]
        send_continuation(
            ANALYTICS_COMPACTION_QUEUE, {"reexport": {"export_arn": started["ExportArn"]}}, WAIT_S
        )
        return f"export {started['ExportArn']} started"
    if "files" not in step:
        export = dynamodb.describe_export(ExportArn=step["export_arn"])["ExportDescription"]
        if export["ExportStatus"] == "IN_PROGRESS":
            send_continuation(ANALYTICS_COMPACTION_QUEUE, {"reexport": step}, WAIT_S)
            return "export still in progress"
        if export["ExportStatus"] != "COMPLETED":
            return f"export {export['ExportStatus']}: {export.get('FailureMessage', '')}"
        summary = json.loads(s3.get_object(Bucket=bucket, Key=export["ExportManifest"])["Body"].read())
        manifest = s3.get_object(Bucket=bucket, Key=summary["manifestFilesS3Key"])["Body"].read()
        step["files"] = [json.loads(line)["dataFileS3Key"] for line in manifest.splitlines() if line.strip()]
        step["next"] = 0
    start = int(step.get("next", 0))
    files: list[str] = step["files"]
    for data_key in files[start : start + FILES_PER_RUN]:
        content = s3.get_object(Bucket=bucket, Key=data_key)["Body"].read()
        write_data_file(data_key, content, property_types)
    step["next"] = start + FILES_PER_RUN
    if step["next"] < len(files):
        send_continuation(ANALYTICS_COMPACTION_QUEUE, {"reexport": step})
        return f"data files {start} to {step['next']} of {len(files)} re-exported"
    return f"the export's {len(files)} data files re-exported"
