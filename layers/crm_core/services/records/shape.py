"""A record as the API shows it, and as people name it."""

from __future__ import annotations

import copy
from typing import Any

from crm_core.models.record import EventDetail, RecordBody, RecordFields, RelatedFacts
from crm_core.repositories.table import RecordItem
from crm_core.services.records.spec import ObjectSpec
from crm_core.stored_values import as_json_value


def record_data(item: RecordItem) -> RecordFields:
    """The record's API fields as stored (only those that are set)."""
    data: RecordFields = as_json_value(item.data)
    return data


def related_facts(item: RecordItem) -> RelatedFacts:
    """The facts of other records its tokens were last made from (a contact's company name)."""
    facts: RelatedFacts = as_json_value(item.related) if item.related is not None else {}
    return facts


def represent(spec: ObjectSpec, item: RecordItem) -> RecordBody:
    """A record as the API shows it: every field of the type, then the read-only bookkeeping."""
    data = record_data(item)
    body: RecordBody = {"id": item.id}
    body.update(spec.defaults)
    for name in _mutable_defaults(spec.defaults):
        if name not in data:  # each body its own list or object, which a caller may change
            body[name] = copy.deepcopy(spec.defaults[name])
    body.update(data)
    for name in spec.hidden_fields:
        body[f"has_{name}"] = body.pop(name, None) is not None
    for name in spec.secret_fields:
        body.pop(name, None)
    body.update(
        {
            "tenant_id": item.tenant_id,
            "version": item.version,
            "archived": item.archived_at is not None,
            "archived_at": item.archived_at,
            "merged_into": item.merged_into,
            "created_at": item.created_at,
            "updated_at": item.updated_at,
        }
    )
    return body


_IMMUTABLE = (str, int, float, type(None))
_mutable: dict[int, tuple[RecordFields, tuple[str, ...]]] = {}


def _mutable_defaults(defaults: RecordFields) -> tuple[str, ...]:
    """The fields whose default can be changed in place (a contact's tags, consent, custom), worked out
    once per type: the other defaults (None, text, numbers) are shared as they are."""
    known = _mutable.get(id(defaults))
    if known is None or known[0] is not defaults:
        known = _mutable[id(defaults)] = (
            defaults,
            tuple(name for name, value in defaults.items() if not isinstance(value, _IMMUTABLE)),
        )
    return known[1]


def without_empty(data: RecordFields) -> RecordFields:
    """The fields that are set: null, an empty list and an empty object are not stored."""
    return {k: v for k, v in data.items() if v is not None and v != [] and v != {}}


def record_title(data: RecordFields) -> str | None:
    """What a person calls a record: a deal's or company's name, an activity's subject, a contact's
    name or else email or phone, a target's description."""
    full_name = " ".join(p for p in (data.get("first_name"), data.get("last_name")) if p)
    title = (
        data.get("name")
        or data.get("subject")
        or full_name
        or data.get("email")
        or data.get("phone")
        or data.get("description")
    )
    return str(title) if title else None


def timeline_entry(detail: EventDetail) -> dict[str, Any]:
    """An event as a timeline shows it, with the record it is about (on a contact's timeline, the activity
    or deal an entry comes from), so that a timeline reads without another request."""
    data = detail.get("data") or {}
    entry = {key: detail.get(key) for key in ("id", "type", "occurred_at", "actor")}
    entry["record"] = {
        "type": str(detail.get("type", "")).partition(".")[0],
        "id": data.get("id"),
        "title": record_title(data),
    }
    entry["changes"] = detail.get("changes") or {}
    entry["correlation_id"] = detail.get("correlation_id")
    return entry
