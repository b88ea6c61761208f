"""The analytics exporter: committed changes to Parquet files in S3 (docs/decisions/0020).

- ``export_events``: a micro-batch of events (as the bus delivers them to the exporter's queue: every
  deal, contact, company, activity and pipeline event, each carrying the record after the change) becomes
  one file per tenant, object and day of change. The files are an append-only change log: a record's rows
  are its versions, and the report SQL reads the latest version of each (crm_core.reports.engine). A batch
  delivered again writes the same key (its name follows from its events' ids); an event in two batches
  gives the same row twice, which the SQL reads once (and the compaction keeps once).
- ``compact``: a tenant's files of one day (before today) merged into one, then the small ones deleted.
  Readers in between see both: the same rows twice, read once.
- ``reexport``: every record of a tenant as it is now, read from the table by the tenant's own keys (the
  tenant export's Query + BatchGetItem pages), as one ``reexport`` file per object. In AWS the same is done
  for the whole table from a DynamoDB export to S3 (see the decision record).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from crm_core.ids import utc_now
from crm_core.models.record import EventDetail
from crm_core.reports import store
from crm_core.reports.columns import ALL, BY_RECORD_TYPE, OBJECTS, ObjectColumns, Row, rows
from crm_core.repositories import tenant_repository

# Objects whose records have custom properties: their definitions say which values may be exported.
_WITH_PROPERTIES = ("contacts", "companies", "deals")


def property_types(tenant_id: str, collection: str) -> dict[str, str] | None:
    """The object's custom property names and types (one GetItem); None for an object without them."""
    if collection not in _WITH_PROPERTIES:
        return None
    from crm_core.repositories.property_schema_repository import read_schema

    schema = read_schema(tenant_id, collection)
    return {name: str(one.get("type")) for name, one in schema.definitions.items()}


def _day(utc_text: str) -> str:
    return utc_text[:10]


def _write(
    tenant_id: str,
    object_columns: ObjectColumns,
    date: str,
    kind: str,
    batch: list[Row],
    names: Iterable[str],
) -> str:
    from crm_core.reports.parquet import to_parquet

    newest = max(str(row["changed_at"]) for row in batch)
    key = store.file_key(tenant_id, object_columns.collection, date, newest, kind, names)
    store.put(key, to_parquet(object_columns, batch))
    return key


def campaign_stats(tenant_id: str, campaign_id: str) -> dict[str, Any]:
    """A campaign's counters now, as a record of the ``campaign_stats`` object (one BatchGetItem of its
    counter shards and one Query of its revenue, as GET /stats reads them)."""
    from decimal import Decimal

    from crm_core.repositories import campaign_repository

    counts = campaign_repository.totals(tenant_id, campaign_id)
    _, revenue = campaign_repository.progress_and_revenue(tenant_id, campaign_id)
    now = utc_now()
    return {
        "id": campaign_id,
        "version": int(datetime.fromisoformat(now.replace("Z", "+00:00")).timestamp() * 1000),
        "created_at": now,
        "recipients": counts["claimed"] + counts["skipped"],
        **{name: counts[name] for name in ("sent", "delivered", "bounced", "opened", "clicked")},
        "unsubscribed": counts["unsubscribed"],
        "converted": counts["converted"],
        "revenue": Decimal(sum(revenue.values())) / 10_000,
        "currency": next(iter(revenue)) if len(revenue) == 1 else ("mixed" if revenue else None),
    }


def _campaign_of(detail: EventDetail) -> str | None:
    """The campaign a campaign or email event is about."""
    kind = str(detail.get("type", "")).split(".", 1)[0]
    data = detail.get("data")
    if kind not in ("campaign", "email") or not isinstance(data, dict):
        return None
    value = data.get("id") if kind == "campaign" else data.get("campaign_id")
    return str(value) if value else None


def export_events(
    details: Iterable[EventDetail], types_of: Callable[[str, str], Mapping[str, str] | None] = property_types
) -> list[str]:
    """The files written for these events (one per tenant, object and day); events of other types, or
    without a record, are passed over. A campaign's or email's events write a snapshot of the campaign's
    counters (``campaign_stats``) instead."""
    groups: dict[tuple[str, str, str], dict[tuple[Any, ...], Row]] = defaultdict(dict)
    names: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    schemas: dict[tuple[str, str], Mapping[str, str] | None] = {}
    campaigns: dict[tuple[str, str], set[str]] = defaultdict(set)
    details = list(details)
    for detail in details:
        campaign_id = _campaign_of(detail)
        if campaign_id is not None and detail.get("tenant_id"):
            campaigns[(str(detail["tenant_id"]), campaign_id)].add(str(detail.get("id")))
    for (tenant_id, campaign_id), event_ids in sorted(campaigns.items()):
        snapshot = campaign_stats(tenant_id, campaign_id)
        group = (tenant_id, "campaign_stats", _day(snapshot["created_at"]))
        stats_columns = OBJECTS["campaign_stats"]
        for row in rows(stats_columns, snapshot, snapshot["created_at"]):
            groups[group][(row["id"], row["version"], row["id"])] = row
        names[group] |= event_ids
    kept: dict[str, bool] = {}
    for detail in details:
        object_columns = BY_RECORD_TYPE.get(str(detail.get("type", "")).split(".", 1)[0])
        record = detail.get("data")
        if (
            object_columns is None
            or not isinstance(record, dict)
            or "id" not in record
            or "version" not in record
        ):
            continue
        tenant_id = str(detail["tenant_id"])
        if record.get("tenant_id") not in (None, tenant_id):
            continue  # never another tenant's record under this tenant's prefix
        if tenant_id not in kept:
            kept[tenant_id] = _kept(tenant_id)
        if not kept[tenant_id]:
            continue  # a tenant deleted (or being deleted) while its events were on their way
        schema_key = (tenant_id, object_columns.collection)
        if schema_key not in schemas:
            schemas[schema_key] = types_of(tenant_id, object_columns.collection)
        changed_at = str(detail.get("occurred_at") or record.get("updated_at"))
        group = (tenant_id, object_columns.collection, _day(changed_at))
        for row in rows(object_columns, record, changed_at, schemas[schema_key]):
            groups[group][(row["id"], row["version"], row.get(object_columns.row_key))] = row
        names[group].add(str(detail.get("id")))
    return [
        _write(
            tenant_id,
            OBJECTS[collection],
            date,
            "batch",
            list(batch.values()),
            names[(tenant_id, collection, date)],
        )
        for (tenant_id, collection, date), batch in sorted(groups.items())
    ]


def _kept(tenant_id: str) -> bool:
    """The tenant exists and is not being deleted (one GetItem a tenant a batch): an operator's deletion
    must not find its files written again by events still on their way (docs/decisions/0028)."""
    tenant = tenant_repository.get_tenant(tenant_id)
    return tenant is not None and tenant.status != "deleting"


def compact(tenant_id: str, today: str | None = None) -> dict[str, int]:
    """Each day before ``today`` (UTC) with more than one file, per object, merged into one file; the
    number of files before and after."""
    from crm_core.reports.parquet import concatenated

    today = today or datetime.now(UTC).date().isoformat()
    before = after = 0
    for collection, object_columns in ALL.items():  # the records' change logs and the usage lines
        by_day: dict[str, list[store.StoredFile]] = defaultdict(list)
        for stored in store.tenant_files(tenant_id, collection):
            by_day[stored.date].append(stored)
        for date, files in sorted(by_day.items()):
            before += len(files)
            if date >= today or len(files) < 2:
                after += len(files)
                continue
            newest = max(f.newest_text for f in files)
            key = store.file_key(
                tenant_id, collection, date, newest, "compacted", [f"{f.key}:{f.etag}" for f in files]
            )
            store.put(key, concatenated(object_columns, (store.get(f.key) for f in files)))
            store.delete([f.key for f in files if f.key != key])
            after += 1
    return {"files_before": before, "files_after": after}


def measure_storage(tenant_id: str) -> dict[str, Any]:
    """The tenant's storage as one usage line (crm_core.usage): its records per object, read from its
    analytics files (``sql/_storage.sql``), times the bytes a record of that object keeps in the table
    (``usage.ITEM_BYTES``, measured), plus the bytes of its analytics files. An estimate of the table's
    share and an exact count of the files: the decision record says what it leaves out."""
    from crm_core import usage
    from crm_core.reports.engine import engine, reads

    files = store.tenant_files(tenant_id)
    records = {
        str(row["object"]): int(row["records"])
        for row in engine().run(
            tenant_id, "_storage", {}, [f for f in files if f.object in reads("_storage")]
        )
    }
    table_bytes = sum(count * usage.ITEM_BYTES.get(name, 0) for name, count in records.items())
    file_bytes = sum(f.size for f in files)
    usage.emit([usage.line("storage", tenant_id, table_bytes + file_bytes)])
    return {"records": records, "table_bytes": table_bytes, "file_bytes": file_bytes}


def compact_tenants(after: str | None, limit: int, today: str | None = None) -> tuple[list[str], str | None]:
    """The daily job (functions/analytics_compactor): the past days of up to ``limit`` tenants after
    ``after`` (in the bucket's order) compacted and their storage measured; the tenants done and the one
    to start after next time (None: every tenant is done). Bounded work per run, resumable from the
    cursor: a run that fails is run again from the same one, and compacting a day twice changes nothing."""
    done: list[str] = []
    for tenant_id in store.tenants(after=after):
        if len(done) == limit:
            return done, done[-1]
        compact(tenant_id, today)
        measure_storage(tenant_id)
        done.append(tenant_id)
    return done, None


TENANTS_PER_RUN = 50  # a run's bound: compaction reads and writes each tenant's past days' files


def on_compaction_message(body: dict[str, Any]) -> str:
    """A message of the compaction queue (the daily schedule's ``{"compact": true}``, or a run's
    continuation ``{"compact": true, "after": <tenant>}``): a bounded run, and the rest queued."""
    from crm_core.consumers import send_continuation
    from crm_core.definitions import ANALYTICS_COMPACTION_QUEUE

    done, more = compact_tenants(body.get("after"), TENANTS_PER_RUN)
    if more:
        send_continuation(ANALYTICS_COMPACTION_QUEUE, {"compact": True, "after": more})
    return f"{len(done)} tenants compacted" + (f", the rest after {more}" if more else "")


def reexport(tenant_id: str, on_records: Callable[[int], None] | None = None) -> dict[str, int]:
    """Every record of the tenant as it is now, one ``reexport`` file per object (dated today); the rows
    written per object."""
    from crm_core.record_types import RECORD_TYPES

    # The tenant export's reading of a tenant's records (its own keys, pages of 500), used as it is.
    from crm_core.services.exports import _as_answered as as_answered
    from crm_core.services.exports import _pages as record_pages

    now = utc_now()
    counts: dict[str, int] = {}
    for kind in RECORD_TYPES:
        object_columns = BY_RECORD_TYPE.get(kind.name)
        if object_columns is None:
            continue
        service = kind.record_service()
        types = property_types(tenant_id, object_columns.collection)
        batch: list[Row] = []
        for page in record_pages(tenant_id, kind.name):
            records = as_answered(service, tenant_id, page)
            for record in records:
                batch += rows(object_columns, record, str(record.get("updated_at") or now), types)
            if on_records:
                on_records(len(records))
        counts[object_columns.collection] = len(batch)
        if batch:
            names = [f"{row['id']}:{row['version']}" for row in batch]
            _write(tenant_id, object_columns, _day(now), "reexport", batch, names)
    return counts
