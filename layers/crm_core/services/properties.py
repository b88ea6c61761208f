"""Custom property definitions (docs/decisions/0012): a setting, one record each, kept also in its
object's schema item in the same transaction, which records' writes validate ``custom`` against.

A property is named by its object and name (``/v1/properties/contacts/tier``); the schema item maps the
name to the record (archived ones too: a name stays taken, and the property can be restored)."""

from __future__ import annotations

from typing import Any

from crm_core.context import RequestContext
from crm_core.errors import ProblemError, conflict, invalid_field
from crm_core.models.property import (
    CHOICE_TYPES,
    PROPERTY_DEFAULTS,
    PropertyCreate,
    PropertyUpdate,
)
from crm_core.models.record import RecordBody, RecordFields
from crm_core.repositories.property_schema_repository import Definition, read_schema
from crm_core.repositories.table import RecordItem, TableItem
from crm_core.services.custom_values import UNIQUE_TYPES
from crm_core.services.records import ObjectSpec, RecordService
from crm_core.services.records.shape import record_data


def _options_fit_type(
    ctx: RequestContext, data: RecordFields, before: RecordFields | None, record_id: str | None
) -> RecordFields:
    """An enum keeps at least one option; the other types have none (the type itself is fixed). Only a
    string, number or date property is unique, and only from its creation: it may be turned off."""
    kind = data.get("type")
    if kind in CHOICE_TYPES and not data.get("options"):
        raise invalid_field("options", f"an {kind} property needs at least one option")
    if kind not in CHOICE_TYPES and data.get("options"):
        raise invalid_field("options", f"only enum and multi_enum properties have options, not {kind}")
    if data.get("unique") and kind not in UNIQUE_TYPES:
        raise invalid_field("unique", f"only string, number and date properties can be unique, not {kind}")
    if data.get("unique") and before is not None and not before.get("unique"):
        raise invalid_field(
            "unique",
            "can only be set when the property is created: existing records may already share values "
            "(make a new property with unique: true, and copy the values to it)",
        )
    return data


def definition_of(item: RecordItem) -> Definition:
    """What the schema item keeps of a property: what validation needs, and its record's id."""
    data = record_data(item)
    return {
        "id": item.id,
        "type": data.get("type"),
        "options": [option["value"] for option in data.get("options") or []],
        "required": bool(data.get("required")),
        "unique": bool(data.get("unique")),
        "archived": item.archived_at is not None,
    }


def _schema_companion(
    ctx: RequestContext, before: RecordItem | None, after: RecordItem
) -> list[tuple[TableItem, Any]]:
    """The object's schema item with this property as it is after the change, at the next revision, on
    the condition that it is still the revision read here (read afresh on every attempt)."""
    data = record_data(after)
    name, object_name = str(data["name"]), str(data["object"])
    schema = read_schema(ctx.tenant_id, object_name)
    existing = schema.definitions.get(name)
    if existing is not None and existing["id"] != after.id:
        raise conflict(
            f"A property named {name!r} of {object_name} already exists.",
            field_name="name",
            existing_id=existing["id"],
        )
    definition = definition_of(after)
    # A property once unique keeps "markers" when it is turned off: writes then delete its markers
    # as they change its values, and an erasure deletes them (docs/decisions/0012, "Unique").
    if definition["unique"] or (existing or {}).get("markers"):
        definition["markers"] = True
    return [(schema.with_definition(name, definition), schema.unchanged())]


def _unique_name(data: RecordFields) -> str | None:
    return f"{data['object']}.{data['name']}" if data.get("object") and data.get("name") else None


class PropertyService(RecordService):
    """The record rules, with a property named by (object, name) instead of its id."""

    def missing(self, object_name: str, name: str) -> ProblemError:
        # The same for a name never defined and one defined only in another tenant.
        return ProblemError(404, "Not Found", f"No property {name!r} of {object_name}.")

    def id_of(self, ctx: RequestContext, object_name: str, name: str) -> str:
        definition = read_schema(ctx.tenant_id, object_name).definitions.get(name)
        if definition is None:
            raise self.missing(object_name, name)
        return str(definition["id"])

    def create_property(self, ctx: RequestContext, object_name: str, fields: RecordFields) -> RecordBody:
        return self.create(ctx, {**fields, "object": object_name})

    def get_property(
        self, ctx: RequestContext, object_name: str, name: str, *, archived: bool = False
    ) -> RecordBody:
        record_id = self.id_of(ctx, object_name, name)
        try:
            return self.get(ctx, record_id, archived=archived)
        except ProblemError as problem:
            if problem.status == 404:
                raise self.missing(object_name, name) from None
            raise

    def update_property(
        self, ctx: RequestContext, object_name: str, name: str, fields: RecordFields, if_match: int | None
    ) -> RecordBody:
        return self._named(ctx, object_name, name, lambda rid: self.update(ctx, rid, fields, if_match))

    def archive_property(
        self, ctx: RequestContext, object_name: str, name: str, if_match: int | None
    ) -> RecordBody:
        return self._named(ctx, object_name, name, lambda rid: self.archive(ctx, rid, if_match))

    def restore_property(self, ctx: RequestContext, object_name: str, name: str) -> RecordBody:
        return self._named(ctx, object_name, name, lambda rid: self.restore(ctx, rid))

    def _named(self, ctx: RequestContext, object_name: str, name: str, change: Any) -> RecordBody:
        """A change of the property called ``name``; its 404 names the property, not its record. Only an
        admin is told whether it exists."""
        self._require_admin_for_settings(ctx)
        record_id = self.id_of(ctx, object_name, name)
        try:
            result: RecordBody = change(record_id)
        except ProblemError as problem:
            if problem.status == 404:
                raise self.missing(object_name, name) from None
            raise
        return result


PROPERTIES = PropertyService(
    ObjectSpec(
        object_type="property",
        admin_only=True,
        create_model=PropertyCreate,
        update_model=PropertyUpdate,
        defaults=PROPERTY_DEFAULTS,
        tokens=lambda data, related: [],
        unique_field="name",
        unique_of=_unique_name,
        normalize_unique=str,
        category_field="object",
        derive=_options_fit_type,
        companions=_schema_companion,
    )
)
