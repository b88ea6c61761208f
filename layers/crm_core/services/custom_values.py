"""A record's ``custom`` values against its object's property definitions (docs/decisions/0012).

What a write gives is validated against the definitions in force, read consistently once per write (and
once per request for a batch's inputs): a value of the wrong type or not among the options, a property
not defined, or a required one missing on create or cleared by a change is a 422 naming
``custom.<name>``. What a write does not touch is left as it is: a definition changed or archived since
leaves stored values alone, and a record made before a property became required keeps lacking it until
it is given one.

A record's write reads the definitions and does not condition on them: a definition's change reads no
record, so a write that read the definitions before it is as if it committed before it (and what it
stored stays, as any stored value does). A condition check of the schema item in the record's
transaction would make every create of the object's records conflict with every other (DynamoDB refuses
concurrent transactions on one item): the object's writes would go one at a time."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from crm_core.context import RequestContext
from crm_core.errors import FieldError, validation_failed
from crm_core.models.record import RecordFields
from crm_core.repositories.property_schema_repository import Definition, PropertySchema, read_schema

# The WriteConflict label of a definition's write of the schema item on the revision it read: another
# definition of the object changed meanwhile, and the write is prepared again from a fresh read.
SCHEMA_LABEL = "schema"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# The types a property may be ``unique`` of: their values compare as one normalized text.
UNIQUE_TYPES = ("string", "number", "date")
# A normalized value longer than this is keyed by its digest: a marker's key stays well under DynamoDB's
# 2 KB partition key whatever a string property holds.
MAX_KEYED_VALUE = 200


def _lookup_key(object_name: str) -> tuple[str, str]:
    return ("property_schema", object_name)


def schema_for_write(ctx: RequestContext, object_name: str) -> PropertySchema:
    """The object's definitions, read consistently once per request (a batch's inputs share them)."""
    key = _lookup_key(object_name)
    schema = ctx.lookups.get(key)
    if not isinstance(schema, PropertySchema):
        schema = ctx.lookups[key] = read_schema(ctx.tenant_id, object_name)
    return schema


def merged_custom(current: Any, sent: Any) -> dict[str, Any] | None:
    """A change's ``custom`` merged key by key into the record's: a key sent as null is removed, the keys
    not sent are kept (as HubSpot's property PATCH); ``custom: null`` clears them all."""
    if sent is None:
        return None
    merged = {**(current or {}), **sent}
    return {name: value for name, value in merged.items() if value is not None}


def value_problem(definition: Definition, value: Any) -> str | None:
    """Why ``value`` is not one of the property's, or None."""
    kind = definition["type"]
    options = definition.get("options") or []
    if kind == "string":
        return None if isinstance(value, str) else "must be a string"
    if kind == "number":
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        return None if is_number else "must be a number"
    if kind == "boolean":
        return None if isinstance(value, bool) else "must be true or false"
    if kind == "date":
        if not isinstance(value, str) or not _DATE.match(value):
            return "must be a date, YYYY-MM-DD"
        try:
            date.fromisoformat(value)
        except ValueError:
            return "must be a date, YYYY-MM-DD"
        return None
    if kind == "enum":
        if not isinstance(value, str) or value not in options:
            return f"must be one of {', '.join(options)}"
        return None
    if kind == "multi_enum":
        if not isinstance(value, list) or any(one not in options for one in value):
            return f"must be a list of values among {', '.join(options)}"
        if len(set(value)) != len(value):
            return "must name each value once"
        return None
    return f"has an unknown type {kind!r}"


def custom_errors(
    definitions: dict[str, Definition],
    before: dict[str, Any] | None,
    after: dict[str, Any],
    require: bool = True,
) -> list[FieldError]:
    """The problems of a record's ``custom`` going from ``before`` (None: new) to ``after``: every value
    it gains or changes checked; a required property missing from a new record (unless ``require`` is
    False: a lead) or removed by a change."""
    errors: list[FieldError] = []
    for name in sorted(after):
        value = after[name]
        if before is not None and before.get(name) == value:
            continue  # kept as stored: a definition changed since does not reach it
        definition = definitions.get(name)
        if definition is None:
            errors.append(FieldError(f"custom.{name}", "is not a defined property of this object"))
            continue
        problem = value_problem(definition, value)
        if problem:
            errors.append(FieldError(f"custom.{name}", problem))
    for name, definition in sorted(definitions.items()):
        if not definition.get("required") or name in after:
            continue
        if before is None:
            if require:
                errors.append(FieldError(f"custom.{name}", "is required"))
        elif name in before:
            errors.append(FieldError(f"custom.{name}", "is required and cannot be cleared"))
    return errors


def custom_filters(tenant_id: str, object_name: str, query: Mapping[str, str]) -> dict[str, Any]:
    """A list's ``custom.<name>=value`` filters, each value as its property's type holds it (``3`` a
    number, ``true`` a boolean); 422 naming ``custom.<name>`` for a name not defined (or archived) and a
    value the property cannot hold. One consistent GetItem of the definitions, only when there are some."""
    wanted = {key: value for key, value in query.items() if key.startswith("custom.")}
    if not wanted:
        return {}
    definitions = read_schema(tenant_id, object_name).active()
    filters: dict[str, Any] = {}
    errors: list[FieldError] = []
    for key, text in sorted(wanted.items()):
        definition = definitions.get(key.removeprefix("custom."))
        if definition is None:
            errors.append(FieldError(key, "is not a defined property of this object"))
            continue
        value = _typed(definition["type"], text)
        kind = "enum" if definition["type"] == "multi_enum" else definition["type"]
        problem = "must be a number" if value is None else value_problem({**definition, "type": kind}, value)
        if problem:
            errors.append(FieldError(key, problem))
        filters[key] = value
    if errors:
        raise validation_failed(errors, "Custom property filters do not match their definitions.")
    return filters


def _typed(kind: str, text: str) -> Any:
    """A query string's value as a property of ``kind`` holds it (None: not a number)."""
    if kind == "number":
        try:
            number = float(text)
        except ValueError:
            return None
        return int(number) if number.is_integer() and "." not in text and "e" not in text.lower() else number
    if kind == "boolean":
        return {"true": True, "false": False}.get(text, text)
    return text


def check_custom(
    ctx: RequestContext, object_name: str, before: RecordFields | None, after: RecordFields
) -> None:
    """A write of a record from ``before`` (None: new) to ``after`` against the object's definitions:
    422 naming each bad ``custom.<name>``. A change that leaves ``custom`` alone reads nothing."""
    old = None if before is None else (before.get("custom") or {})
    new = after.get("custom") or {}
    if (old is not None and old == new) or (old is None and not new and not ctx.require_custom):
        return
    errors = custom_errors(schema_for_write(ctx, object_name).active(), old, new, ctx.require_custom)
    if errors:
        raise validation_failed(errors, "Custom properties do not match their definitions.")


# ------------------------------------------------------------------------------------- unique values


def unique_key(kind: str, value: Any) -> str | None:
    """A unique property's value as its marker keys it (None: nothing to guard): strings trimmed and
    compared without regard to case (NFKC, casefold), numbers as their canonical decimal (``1``, ``1.0``
    and ``1e0`` are one), dates as written (YYYY-MM-DD is canonical already)."""
    if value is None or isinstance(value, bool):
        return None
    if kind == "number":
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return None
        text = "0" if number == 0 else format(number.normalize(), "f")
    else:
        text = unicodedata.normalize("NFKC", str(value)).strip().casefold()
    if not text:
        return None
    if len(text) > MAX_KEYED_VALUE:
        return "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    return text


def unique_field(name: str) -> str:
    """What a unique custom property's 409 names, and its markers' field: ``custom.<name>``."""
    return f"custom.{name}"


def unique_values(definitions: dict[str, Definition], custom: Mapping[str, Any] | None) -> dict[str, str]:
    """The record's values of the unique properties among ``definitions``, normalized, by field name."""
    found: dict[str, str] = {}
    for name, value in (custom or {}).items():
        definition = definitions.get(name)
        if definition is None or not definition.get("unique"):
            continue
        key = unique_key(str(definition["type"]), value)
        if key is not None:
            found[unique_field(name)] = key
    return found


@dataclass(frozen=True)
class UniqueChanges:
    """The markers a write of ``custom`` claims (absent until now) and releases: ``released`` are the
    record's own (condition: still its own); ``dropped`` are values of a property no longer unique, whose
    markers guard nothing and are deleted with no condition (there may be none: docs/decisions/0012)."""

    claimed: dict[str, str]
    released: dict[str, str]
    dropped: dict[str, str]


NO_UNIQUE_CHANGES = UniqueChanges({}, {}, {})


def unique_changes(
    ctx: RequestContext, object_name: str, before: RecordFields | None, after: RecordFields
) -> UniqueChanges:
    """The markers a write from ``before`` (None: new) to ``after`` claims and releases. Reads the
    definitions only when ``custom`` changes (the read ``check_custom`` made for the same write)."""
    old = (before or {}).get("custom") or {}
    new = after.get("custom") or {}
    if old == new:
        return NO_UNIQUE_CHANGES
    definitions = schema_for_write(ctx, object_name).definitions
    if not any(one.get("markers") or one.get("unique") for one in definitions.values()):
        return NO_UNIQUE_CHANGES
    old_values, new_values = unique_values(definitions, old), unique_values(definitions, new)
    marked = {name: {**one, "unique": True} for name, one in definitions.items() if one.get("markers")}
    old_marked, new_marked = unique_values(marked, old), unique_values(marked, new)
    return UniqueChanges(
        claimed={f: v for f, v in new_values.items() if old_values.get(f) != v},
        released={f: v for f, v in old_values.items() if new_values.get(f) != v},
        dropped={f: v for f, v in old_marked.items() if f not in old_values and new_marked.get(f) != v},
    )
