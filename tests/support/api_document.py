"""The API's own OpenAPI document, read as data by the generated checks
(tests/integration/test_access_matrix.py, tests/integration/test_fuzz_api.py): its operations, a minimal
valid body for each request schema, and the body fields that hold ids of other records. A new route or
field is covered without anyone listing it; one these rules cannot handle fails its test, naming what to
add here.
"""

from __future__ import annotations

import copy
import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from crm_core.models.common import ULID_PATTERN

from tests.support.client import ApiClient

JsonSchema = dict[str, Any]
NEVER_ISSUED = "01ARZ3NDEKTSV4RRFFQ69G5FAV"  # a well-formed id that no record has
# Paths of requests about one record of another collection, named after it: /v1/privacy/contacts/{record_id}
ABOUT_A_RECORD = ("privacy",)
_serial = itertools.count()


@cache
def document() -> dict[str, Any]:
    """The document the code generates: the one the runtime serves at /openapi.json."""
    from crm_local.openapi import build_openapi

    return build_openapi()


@dataclass(frozen=True)
class Operation:
    method: str  # upper case
    path: str  # as documented, e.g. /v1/contacts/{record_id}/merge
    spec: dict[str, Any]

    def __str__(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def collection(self) -> str:
        """The resource the path is under: ``contacts`` for /v1/contacts/{record_id}/merge, and for a
        request about one record of a collection (/v1/privacy/contacts/{record_id}/erase), that record's."""
        parts = self.path.split("/")
        return parts[3] if parts[2] in ABOUT_A_RECORD and len(parts) > 3 else parts[2]

    @property
    def suffix(self) -> str:
        """What follows the record id: ``merge`` for /v1/contacts/{record_id}/merge, "" for the record."""
        _, _, rest = self.path.partition("}")
        return rest.strip("/")

    @property
    def is_write(self) -> bool:
        return self.method in ("POST", "PUT", "PATCH", "DELETE")

    @property
    def path_parameters(self) -> list[str]:
        return re.findall(r"{(\w+)}", self.path)

    def parameter(self, name: str) -> dict[str, Any] | None:
        for parameter in self.spec.get("parameters", []):
            if parameter["name"] == name:
                found: dict[str, Any] = parameter
                return found
        return None

    @property
    def query_parameters(self) -> list[dict[str, Any]]:
        return [p for p in self.spec.get("parameters", []) if p["in"] == "query"]

    @property
    def body_schema(self) -> JsonSchema | None:
        content = (self.spec.get("requestBody") or {}).get("content") or {}
        schema = (content.get("application/json") or {}).get("schema")
        return resolve(schema) if schema else None

    @property
    def body_schema_name(self) -> str | None:
        content = (self.spec.get("requestBody") or {}).get("content") or {}
        ref = ((content.get("application/json") or {}).get("schema") or {}).get("$ref", "")
        return ref.rsplit("/", 1)[-1] or None


def operations() -> list[Operation]:
    found = [
        Operation(method.upper(), path, spec)
        for path, methods in document()["paths"].items()
        for method, spec in methods.items()
    ]
    return sorted(found, key=str)


def operation(method: str, path: str) -> Operation:
    return next(op for op in operations() if op.method == method and op.path == path)


def resolve(schema: JsonSchema) -> JsonSchema:
    while "$ref" in schema:
        schema = document()["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _schema_name(schema: JsonSchema) -> str | None:
    ref = schema.get("$ref")
    return ref.rsplit("/", 1)[-1] if ref else None


def without_null(schema: JsonSchema) -> JsonSchema:
    """``anyOf: [X, null]`` (an optional field) as X."""
    branches = [b for b in schema.get("anyOf", []) if b.get("type") != "null"]
    return without_null(branches[0]) if len(branches) == 1 and "anyOf" in schema else schema


# ------------------------------------------------------------------------------------------- bodies

# Bodies of schemas that the generic rules below cannot satisfy: a pattern, or a rule the schema does not
# state (a contact needs a name, email or phone; an open stage needs a probability). Each call gives a
# fresh body, as some hold a value unique in the tenant.
EXAMPLES: dict[str, Callable[[], dict[str, Any]]] = {
    "ContactCreate": lambda: {"email": f"person{next(_serial)}@matrix.example", "first_name": "Matrix"},
    "InboundLead": lambda: {"email": f"lead{next(_serial)}@matrix.example"},
    "PipelineCreate": lambda: {
        "name": "Matrix pipeline",
        "stages": [{"name": "Open", "probability": 0.5}, {"name": "Won", "kind": "won"}],
    },
    "EventTargetCreate": lambda: {
        "type": "webhook",
        # Nothing listens on the discard port: a delivery fails at once and is logged as a try. A rare
        # event type, so the tests' other records make no deliveries in the background.
        "url": "http://127.0.0.1:9/matrix",
        "secret": "matrix-secret-0123456789",
        "event_types": ["event_source.created"],
    },
    "EventSourceCreate": lambda: {"source": f"partner.matrix{next(_serial)}"},
    "UserCreate": lambda: {"email": f"user{next(_serial)}@matrix.example"},
    "PropertyCreate": lambda: {"name": f"matrix_{next(_serial)}", "label": "Matrix", "type": "string"},
    "InboundTicket": lambda: {"email": f"ticket{next(_serial)}@matrix.example", "subject": "Matrix ticket"},
    "SlaPolicyCreate": lambda: {
        "name": "Matrix policy",
        "targets": {"normal": {"first_response_minutes": 60, "resolution_minutes": 480}},
    },
    # whole but for its segment, which the matrix names where it sends one (test_access_matrix.prepare)
    "CampaignCreate": lambda: {
        "name": "Matrix campaign",
        "subject": "Hello",
        "from": "news@matrix.example",
        "body": "<p>Hello {{ first_name }}</p>",
    },
    "ContractCreate": lambda: {
        "start_date": "2030-01-01",
        "end_date": "2030-12-31",
        "value": "1000000.00",
        "currency": "EUR",
        "status": "active",  # payments and renewals take it
    },
    # whole but for its contract, which make_record makes first (PARENTS)
    "PaymentCreate": lambda: {"amount": "1.00", "currency": "EUR"},
    "ProductCreate": lambda: {"sku": f"MATRIX-{next(_serial)}", "name": "Matrix product"},
    # its deal_id is made by with_parents
    "QuoteCreate": lambda: {
        "currency": "EUR",
        "line_items": [{"description": "Matrix line", "quantity": "1", "unit_price": "10.00"}],
    },
    "ScheduleRequest": lambda: {"send_at": (datetime.now(UTC) + timedelta(days=1)).isoformat()},
    "SegmentFilter": lambda: {
        "any": [{"all": [{"property": "lifecycle_stage", "operator": "eq", "value": "lead"}]}]
    },
}


class NoBody(AssertionError):
    """A schema the generic rules cannot satisfy and EXAMPLES has no entry for."""


def minimal_body(schema: JsonSchema, where: str = "body") -> Any:
    """The smallest value ``schema`` accepts: required properties only, the shortest strings."""
    name = _schema_name(schema)
    if name in EXAMPLES:
        return EXAMPLES[name]()
    schema = without_null(resolve(schema))
    if "$ref" in schema:  # an optional body: a reference or null
        return minimal_body(schema, where)
    kind = schema.get("type")
    if "enum" in schema:
        return schema["enum"][0]
    if "default" in schema:
        return copy.deepcopy(schema["default"])
    if kind == "object":
        properties = schema.get("properties", {})
        return {key: minimal_body(properties[key], f"{where}.{key}") for key in schema.get("required", [])}
    if kind == "array":
        return [
            minimal_body(schema.get("items", {}), f"{where}[0]") for _ in range(schema.get("minItems", 0))
        ]
    if kind == "string" and schema.get("pattern") == ULID_PATTERN:
        return NEVER_ISSUED  # a well-formed id of nothing: callers put a real one where it matters
    if kind == "string" and "pattern" not in schema and "format" not in schema:
        return "m" * max(1, schema.get("minLength", 1))
    if kind in ("integer", "number"):
        return schema.get("minimum", 0)
    if kind == "boolean":
        return False
    raise NoBody(f"no generic value for {where} ({schema}): add its schema to EXAMPLES in {__name__}")


def body_for(op: Operation) -> Any:
    schema = op.spec.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    return minimal_body(schema, f"{op} body") if schema else None


def one_change(schema: JsonSchema) -> dict[str, Any]:
    """A PATCH body that changes something: the first free-text property."""
    for key, field in resolve(schema).get("properties", {}).items():
        field = without_null(field)
        if (
            field.get("type") == "string"
            and not {"pattern", "format", "enum"} & set(field)
            and key != "secret"
        ):
            return {key: f"changed {next(_serial)}"}
    raise NoBody(f"no free-text property to change in {schema}")


# ------------------------------------------------------------------------------------ reference fields

_ID_NAME = re.compile(r"_ids?$")


def _holds_an_id(schema: JsonSchema) -> bool:
    schema = without_null(resolve(schema))
    if schema.get("type") != "string":
        return False
    pattern = schema.get("pattern")
    return pattern is None or pattern == ULID_PATTERN or re.search(pattern, NEVER_ISSUED) is not None


def reference_fields(schema: JsonSchema) -> Iterator[tuple[str, bool]]:
    """(name, holds a list) of each property that holds ids of other records: ULID-patterned strings and
    arrays of them, and properties named ``*_id``/``*_ids`` that accept an id."""
    for key, field in resolve(schema).get("properties", {}).items():
        field = without_null(field)
        items = field.get("items") if field.get("type") == "array" else None
        target = items if items is not None else field
        patterned = without_null(resolve(target)).get("pattern") == ULID_PATTERN
        if patterned or (_ID_NAME.search(key) and _holds_an_id(target)):
            yield key, items is not None


# Collections whose records are made on another record a create must name (a quote on its deal, a payment on
# its contract, which its maker must be allowed to change): the field, and the collection of the record
# made first, in the same tenant, by the same client.
PARENTS = {"quotes": ("deal_id", "deals"), "payments": ("contract_id", "contracts")}


def with_parents(client: ApiClient, collection: str, body: Any) -> Any:
    """A create body of ``collection`` naming a new record of the client's tenant where it must name one."""
    if collection in PARENTS and isinstance(body, dict):
        field_name, parent = PARENTS[collection]
        if body.get(field_name) in (None, NEVER_ISSUED):
            body[field_name] = make_record(client, parent)["id"]
    return body


def make_record(client: ApiClient, collection: str, **fields: Any) -> dict[str, Any]:
    """A record of ``collection`` made through its own create operation with a minimal body."""
    create = operation("POST", f"/v1/{collection}")
    body = with_parents(client, collection, {**body_for(create), **fields})
    response = client.post(f"/v1/{collection}", body)
    assert response.status_code in (201, 202), (collection, body, response.text)  # 202: a queued job
    record: dict[str, Any] = response.json()
    return record


def collections_with_records() -> list[str]:
    """Every collection whose records have an id route: /v1/<collection>/{record_id}."""
    return sorted({op.collection for op in operations() if op.path_parameters[:1] == ["record_id"]})
