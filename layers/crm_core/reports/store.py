"""The analytics files in S3: where each goes, and what a tenant has.

``analytics/tenant=<id>/object=<collection>/date=<YYYY-MM-DD>/<newest>-<kind>-<digest>.parquet``:

- ``date`` is the day (UTC) of the changes the file holds; ``newest`` is the latest of them
  (``20261127T174056123Z``), so the newest change exported is read from the file names alone;
- ``kind`` is ``batch`` (a micro-batch of the exporter), ``compacted`` (a day's files merged),
  ``reexport`` (a full re-export) or ``usage`` (usage lines ``crm dev`` wrote; in AWS Firehose writes them
  under ``object=usage`` with names of its own);
- ``digest`` follows from what the file holds (the changes' ids), so a batch written again after a retry
  has the same key and replaces itself.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from crm_core import aws
from crm_core.config import settings
from crm_core.definitions import ANALYTICS

_NAME = re.compile(
    r"^tenant=(?P<tenant_id>[^/]+)/object=(?P<object>[a-z_]+)/date=(?P<date>\d{4}-\d{2}-\d{2})/"
    r"(?P<newest>\d{8}T\d{9}Z)-(?P<kind>batch|compacted|reexport|usage)-[0-9a-f]{16}\.parquet$"
)
# Usage lines Firehose delivered (infra/usage.py): its own file names, so the newest line is taken to be
# no later than the file's last modification.
_DELIVERED = re.compile(
    r"^tenant=(?P<tenant_id>[^/]+)/object=usage/date=(?P<date>\d{4}-\d{2}-\d{2})/[^/]+\.parquet$"
)


@dataclass(frozen=True)
class StoredFile:
    key: str
    tenant_id: str
    object: str
    date: str
    newest: str  # 20261127T174056123Z
    kind: str
    etag: str
    size: int

    @property
    def newest_text(self) -> str:
        """``newest`` as every stored time is written (RFC 3339, milliseconds, UTC)."""
        n = self.newest
        return f"{n[0:4]}-{n[4:6]}-{n[6:8]}T{n[9:11]}:{n[11:13]}:{n[13:15]}.{n[15:18]}Z"


def tenant_prefix(tenant_id: str) -> str:
    return f"{ANALYTICS.prefix}tenant={tenant_id}/"


def compact_time(utc_text: str) -> str:
    """``2026-11-27T17:40:56.123Z`` -> ``20261127T174056123Z`` (a time as the file names carry it)."""
    digits = re.sub(r"[^0-9]", "", utc_text)
    digits = (digits + "0" * 17)[:17]
    return f"{digits[:8]}T{digits[8:17]}Z"


def file_key(tenant_id: str, collection: str, date: str, newest: str, kind: str, names: Iterable[str]) -> str:
    digest = hashlib.sha256("\n".join(sorted(names)).encode()).hexdigest()[:16]
    return (
        f"{tenant_prefix(tenant_id)}object={collection}/date={date}/"
        f"{compact_time(newest)}-{kind}-{digest}.parquet"
    )


def parse(key: str, etag: str = "", size: int = 0, modified: Any = None) -> StoredFile | None:
    name = key.removeprefix(ANALYTICS.prefix)
    match = _NAME.match(name)
    if match is not None:
        return StoredFile(key=key, etag=etag, size=size, **match.groupdict())
    delivered = _DELIVERED.match(name)
    if delivered is None or modified is None:
        return None
    newest = compact_time(modified.astimezone(UTC).isoformat(timespec="milliseconds"))
    return StoredFile(
        key=key,
        etag=etag,
        size=size,
        object="usage",
        newest=newest,
        kind="delivered",
        **delivered.groupdict(),
    )


def s3() -> Any:
    return aws.client("s3")


def tenant_files(tenant_id: str, collection: str | None = None) -> list[StoredFile]:
    """Every analytics file of the tenant (of one object): ListObjectsV2 under the tenant's prefix only."""
    prefix = tenant_prefix(tenant_id) + (f"object={collection}/" if collection else "")
    found: list[StoredFile] = []
    for page in (
        s3().get_paginator("list_objects_v2").paginate(Bucket=settings().analytics_bucket, Prefix=prefix)
    ):
        for item in page.get("Contents", []):
            stored = parse(
                item["Key"], item.get("ETag", ""), int(item.get("Size", 0)), item.get("LastModified")
            )
            if stored is not None and stored.tenant_id == tenant_id:
                found.append(stored)
    return found


def put(key: str, content: bytes) -> None:
    s3().put_object(Bucket=settings().analytics_bucket, Key=key, Body=content)


def get(key: str) -> bytes:
    body: bytes = s3().get_object(Bucket=settings().analytics_bucket, Key=key)["Body"].read()
    return body


def delete(keys: list[str]) -> None:
    for start in range(0, len(keys), 1000):
        s3().delete_objects(
            Bucket=settings().analytics_bucket,
            Delete={"Objects": [{"Key": k} for k in keys[start : start + 1000]], "Quiet": True},
        )


def tenants(after: str | None = None) -> Iterator[str]:
    """The tenants with analytics files, in key order, those after ``after`` only (the compaction's and the
    re-export's walk; not a request path)."""
    paginator = s3().get_paginator("list_objects_v2")
    # "~" sorts after every character of the keys under a tenant's prefix: its own keys are passed over.
    start = {"StartAfter": f"{tenant_prefix(after)}~"} if after else {}
    for page in paginator.paginate(
        Bucket=settings().analytics_bucket, Prefix=ANALYTICS.prefix, Delimiter="/", **start
    ):
        for common in page.get("CommonPrefixes", []):
            name = common["Prefix"].removeprefix(ANALYTICS.prefix).rstrip("/")
            if name.startswith("tenant="):
                yield name.removeprefix("tenant=")
