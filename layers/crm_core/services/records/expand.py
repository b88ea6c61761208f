"""Related records inline (``?expand=company,contacts``): the records a page refers to, read together
(one BatchGetItem per type referred to, never one read per record) and set beside their ids."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from crm_core.context import RequestContext
from crm_core.errors import invalid_field
from crm_core.models.record import RecordBody
from crm_core.record_types import record_type
from crm_core.repositories import record_repository as repo
from crm_core.services.records.shape import represent
from crm_core.services.records.spec import ObjectSpec


def parse_expand(spec: ObjectSpec, expand: str | None) -> list[str]:
    """``company,contacts`` as names the type can expand; 422 naming expand otherwise."""
    names = [name.strip() for name in (expand or "").split(",") if name.strip()]
    unknown = [name for name in names if name not in spec.expansions]
    if unknown:
        offered = ", ".join(spec.expansions) or "nothing"
        raise invalid_field(
            "expand", f"{spec.object_type} records expand {offered}; not {', '.join(unknown)}"
        )
    return list(dict.fromkeys(names))


def _ids(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(one) for one in value if one]
    return [str(value)] if value else []


def expand(spec: ObjectSpec, ctx: RequestContext, records: list[RecordBody], names: list[str]) -> None:
    """Set each expansion on each record: the record it refers to (or null), or the list of them. Archived
    ones are shown as they are (with ``archived``); ones that no longer exist are left out."""
    if not names or not records:
        return
    wanted: dict[str, list[str]] = defaultdict(list)
    for name in names:
        expansion = spec.expansions[name]
        for record in records:
            wanted[expansion.object_type] += _ids(record.get(expansion.field))
    found: dict[str, dict[str, RecordBody]] = {}  # by type, by id
    for object_type, ids in wanted.items():
        other = record_type(object_type).record_service().spec
        items = repo.batch_get_records(ctx.tenant_id, object_type, ids)
        found[object_type] = {record_id: represent(other, item) for record_id, item in items.items()}
    for name in names:
        expansion = spec.expansions[name]
        by_id = found.get(expansion.object_type, {})
        for record in records:
            value = record.get(expansion.field)
            if isinstance(value, list):
                record[name] = [by_id[one] for one in _ids(value) if one in by_id]
            else:
                record[name] = by_id.get(str(value)) if value else None
