"""The schema item of an object's custom property definitions (``PropertySchemaItem``): read
consistently, and the conditions that tie a write to the revision it read (docs/decisions/0012)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.condition import Condition

from crm_core.repositories import keys
from crm_core.repositories.table import PropertySchemaItem, TableItem

# {"id", "type", "options": [values], "required", "unique", "markers", "archived"}
Definition = dict[str, Any]


@dataclass(frozen=True)
class PropertySchema:
    """An object's definitions by name, archived ones included (a name stays taken), as read at
    ``revision`` (None: no property was ever defined for it)."""

    tenant_id: str
    object: str
    revision: int | None
    definitions: dict[str, Definition] = field(default_factory=dict)

    def active(self) -> dict[str, Definition]:
        return {name: one for name, one in self.definitions.items() if not one.get("archived")}

    def unchanged(self) -> Condition:
        """The condition of a definition's write on the schema item: it is still the revision read, so
        of two concurrent changes of an object's definitions one is prepared again, none lost."""
        if self.revision is None:
            return PropertySchemaItem.PK.does_not_exist()
        return PropertySchemaItem.revision == self.revision

    def key(self) -> tuple[str, str]:
        return keys.property_schema_pk(self.tenant_id), self.object

    def with_definition(self, name: str, definition: Definition) -> PropertySchemaItem:
        """The item of the next revision, with ``name`` defined as ``definition``."""
        pk, sk = self.key()
        return PropertySchemaItem(
            pk,
            sk,
            revision=(self.revision or 0) + 1,
            definitions=json.dumps({**self.definitions, name: definition}, separators=(",", ":")),
        )


def read_schema(tenant_id: str, object_name: str) -> PropertySchema:
    """One consistent GetItem: a definition just committed is in force for the very next write."""
    try:
        item = TableItem.get(keys.property_schema_pk(tenant_id), object_name, consistent_read=True)
    except DoesNotExist:
        return PropertySchema(tenant_id, object_name, None)
    if not isinstance(item, PropertySchemaItem):
        return PropertySchema(tenant_id, object_name, None)
    return PropertySchema(tenant_id, object_name, int(item.revision), json.loads(item.definitions))
