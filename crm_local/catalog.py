"""The event catalog's generated files: one JSON Schema per emitted type (``events/schemas/<type>.json``)
and the partner-facing ``docs/events.md``, both from ``crm_core.event_catalog`` and the record models.

``python -m crm_local.catalog`` writes them; ``--check`` only reports the files that differ (exit 1).

Each schema describes the EventBridge event as a rule's target receives it: the EventBridge envelope
(``source`` ``crm``, ``detail-type`` the type) and the ``detail`` that ``crm_core.events.build_event``
makes, whose ``data`` is the record exactly as the API answers it (or, for a job's event such as
``export.completed``, the job as the API answers it, without its links). The schemas are JSON Schema draft-04
(what the EventBridge schema registry takes as ``JSONSchemaDraft4``): pydantic's ``$defs`` become
``definitions`` and ``const`` an ``enum`` of one.
"""

from __future__ import annotations

import argparse
import copy
import importlib
import json
import sys
from pathlib import Path
from typing import Any

from crm_core.definitions import PARTNER_SOURCE_PREFIX, WEBHOOK_RETRY_DELAYS_S, WEBHOOK_TIMEOUT_S
from crm_core.event_catalog import ACCEPTED_EVENT_TYPES, EVENT_TYPES, PLANNED_EVENT_TYPES, SOURCE, EventType
from crm_core.models.common import EXAMPLE_TENANT_ID, EXAMPLE_USER_ID
from crm_core.services.event_targets import MAX_ACTIVE_TARGETS

from crm_local.runtime import LOCAL_WEBHOOK_RETRY_DELAYS_S

REPO_ROOT = Path(__file__).resolve().parents[1]
SCHEMAS_DIR = "events/schemas"
DOCS_PATH = "docs/events.md"
DRAFT_04 = "http://json-schema.org/draft-04/schema#"

# What the EventBridge envelope always carries (https://docs.aws.amazon.com/eventbridge/latest/ref/
# overiew-event-structure.html); more top-level fields may come, so the envelope stays open.
ENVELOPE_FIELDS = ("version", "id", "detail-type", "source", "account", "time", "region", "resources")
DETAIL_FIELDS = (
    "id",
    "type",
    "version",
    "tenant_id",
    "occurred_at",
    "actor",
    "correlation_id",
    "data",
    "changes",
    "sequence",
)

ACTOR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Who made the change: a user (through an API key or a signed-in session) or the CRM.",
    "properties": {
        "type": {"enum": ["user", "system"]},
        "id": {"type": "string", "description": "The user's id, or what the system did (e.g. reminders)."},
        "via": {
            "enum": ["api_key", "jwt", "import"],
            "description": "A user's credential type; `import` for what a user's CSV import wrote (then "
            "`credential_id` is the import's id).",
        },
        "credential_id": {"type": "string", "description": "A user's API key id or session subject."},
    },
    "required": ["type", "id"],
    "additionalProperties": False,
}
CHANGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "A field's value before and after the change (null when unset).",
    "properties": {"from": {}, "to": {}},
    "required": ["from", "to"],
    "additionalProperties": False,
}


def record_model(event: EventType) -> Any:
    """The pydantic model of what ``event``'s ``data`` carries: the record (its type's models module), or
    the job a job's event names."""
    if event.data_model is not None:
        module, _, name = event.data_model.partition(":")
        return getattr(importlib.import_module(module), name)
    return event.registered.record_model()


def data_models(event: EventType) -> Any:
    """The models module of what ``event``'s ``data`` carries: ``EXAMPLE_ID`` and ``EXAMPLE``."""
    if event.data_model is not None:
        return importlib.import_module(event.data_model.partition(":")[0])
    return event.registered.models()


def _draft4(node: Any) -> Any:
    """Draft 2020-12 keywords pydantic uses, as draft-04 says them."""
    if isinstance(node, list):
        return [_draft4(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "const":
            out["enum"] = [value]
        elif key in ("exclusiveMinimum", "exclusiveMaximum") and not isinstance(value, bool):
            out["minimum" if key == "exclusiveMinimum" else "maximum"] = value
            out[key] = True
        elif key == "$ref":
            out[key] = value.replace("#/$defs/", "#/definitions/")
        elif key == "$defs":
            out["definitions"] = _draft4(value)
        else:
            out[key] = _draft4(value)
    return out


NOT_IN_EVENTS = "x-not-in-events"  # a record model field's JSON Schema extra


def record_definitions(event: EventType) -> tuple[str, dict[str, Any]]:
    """The record model's name and its definitions (the model and the models it uses), draft-04."""
    model = record_model(event)
    schema = model.model_json_schema(mode="serialization", ref_template="#/definitions/{model}")
    definitions = schema.pop("$defs", {})
    # What the API shows of a record but keeps apart from it (an event target's status) is not in events.
    schema["properties"] = {
        name: spec for name, spec in schema["properties"].items() if not spec.get(NOT_IN_EVENTS)
    }
    # The record is always sent whole: every field is present, null (or empty) when unset.
    schema["required"] = list(schema["properties"])
    name = schema.get("title", model.__name__)
    definitions[name] = schema
    converted: dict[str, Any] = _draft4(definitions)
    return name, converted


def event_schema(event: EventType) -> dict[str, Any]:
    record_name, definitions = record_definitions(event)
    definitions = {**definitions, "Actor": ACTOR_SCHEMA, "Change": CHANGE_SCHEMA}
    detail: dict[str, Any] = {
        "type": "object",
        "properties": {
            "id": {"type": "string", "description": "The event's id: stable across redeliveries."},
            "type": {"enum": [event.name]},
            "version": {"enum": [event.version], "description": "The version of this type's shape."},
            "tenant_id": {"type": "string"},
            "occurred_at": {"type": "string", "format": "date-time"},
            "actor": {"$ref": "#/definitions/Actor"},
            "correlation_id": {
                "type": ["string", "null"],
                "description": "The X-Request-Id of the request that made the change.",
            },
            "data": {"$ref": f"#/definitions/{record_name}"},
            "changes": {
                "type": "object",
                "description": '{"field": {"from": old, "to": new}} for every field the change changed.',
                "additionalProperties": {"$ref": "#/definitions/Change"},
            },
            "sequence": {
                "type": "integer",
                "minimum": 1,
                "description": "The record's version after the change: order a record's events by it.",
            },
        },
        "required": list(DETAIL_FIELDS),
        "additionalProperties": False,
    }
    if not event.of_record:  # a job is not versioned: nothing to order by
        del detail["properties"]["sequence"]
        detail["required"].remove("sequence")
        detail["properties"]["changes"]["description"] = "Always empty: the event names no change."
    return {
        "$schema": DRAFT_04,
        "title": event.name,
        "description": f"{event.when} (version {event.version})",
        "type": "object",
        "properties": {
            "version": {"type": "string"},
            "id": {"type": "string"},
            "detail-type": {"enum": [event.name]},
            "source": {"enum": [SOURCE]},
            "account": {"type": "string"},
            "time": {"type": "string", "format": "date-time"},
            "region": {"type": "string"},
            "resources": {"type": "array", "items": {"type": "string"}},
            "detail": detail,
        },
        "required": [*ENVELOPE_FIELDS, "detail"],
        "definitions": dict(sorted(definitions.items())),
    }


def schema_text(event: EventType) -> str:
    return json.dumps(event_schema(event), indent=2, sort_keys=True) + "\n"


# ------------------------------------------------------------------------------------------ examples

_T0 = "2025-01-15T09:30:00.000Z"
_T1 = "2025-01-15T10:45:00.000Z"
_DUPLICATE = "01JHC1DVP11CATE00000000002"


def _change(data: dict[str, Any], field: str, value: Any, changes: dict[str, Any]) -> None:
    changes[field] = {"from": data.get(field), "to": value}
    data[field] = value


def _envelope(event: EventType, detail: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "6f87d04b-9f74-4f12-a8c2-1f0e3a9d7c55",
        "detail-type": event.name,
        "source": SOURCE,
        "account": "123456789012",
        "time": detail["occurred_at"].replace(".000", ""),
        "region": "eu-west-1",
        "resources": [],
        "detail": detail,
    }


def example_job_event(event: EventType) -> dict[str, Any]:
    """A job's event: ``data`` the job as it completed, by the admin who started it."""
    models = data_models(event)
    data: dict[str, Any] = {"id": models.EXAMPLE_ID, **copy.deepcopy(models.EXAMPLE)}
    detail = {
        "id": "01JHC2EVENT000000000000001",
        "type": event.name,
        "version": event.version,
        "tenant_id": EXAMPLE_TENANT_ID,
        # a job's event: when it completed, by who started it; an email's: when it happened, by the CRM
        "occurred_at": data.get("completed_at") or data.get("answered_at") or data["occurred_at"],
        "actor": {"type": "user", "id": EXAMPLE_USER_ID, "via": "api_key", "credential_id": "key_01"}
        if "completed_at" in data
        else {"type": "system", "id": "campaigns"},
        "correlation_id": data["id"],
        "data": data,
        "changes": {},
    }
    return _envelope(event, detail)


def _other_example(event: EventType, data: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any] | None:
    """``data`` and ``changes`` as an event of a type's own action carries them, and its actor when it is
    not a user; ValueError for an action with no example. A type may show its own actions in its models
    module's ``EXAMPLE_EVENTS``: the fields each changes, what it says besides, who sends it."""
    own = getattr(event.registered.models(), "EXAMPLE_EVENTS", {}).get(event.action)
    if own is not None:
        for field_name, value in own.get("fields", ()):
            _change(data, field_name, value, changes)
        changes.update(own.get("changes", {}))
        actor: dict[str, Any] | None = own.get("actor")
        return actor
    if event.action == "erased":  # the tombstone: every field but the kept links at its default; no changes
        from crm_core.services.privacy import KEPT_FIELDS

        defaults = event.registered.record_service().spec.defaults
        data.update({k: copy.deepcopy(v) for k, v in defaults.items() if k not in KEPT_FIELDS})
        data["erased_at"] = _T1
        return None
    if event.record_type == "campaign" and event.action in ("scheduled", "sending", "sent", "cancelled"):
        before = {"scheduled": "draft", "sending": "draft", "sent": "sending", "cancelled": "scheduled"}
        data["status"] = before[event.action]
        _change(data, "status", event.action, changes)
        times = {"scheduled": "send_at", "sending": "sending_at", "sent": "sent_at"}
        if event.action in times:
            _change(data, times[event.action], _T1, changes)
        return None
    raise ValueError(f"no example for {event.name}")


def example_event(event: EventType) -> dict[str, Any]:
    """A whole event of this type as a partner's target receives it (validates against its schema)."""
    return example_record_event(event) if event.of_record else example_job_event(event)


def example_record_event(event: EventType) -> dict[str, Any]:
    """A record's event: ``data`` the record after the change its action names."""
    action, models = event.action, event.registered.models()
    data: dict[str, Any] = {"id": models.EXAMPLE_ID, **copy.deepcopy(models.EXAMPLE)}
    data.update(
        {
            "tenant_id": EXAMPLE_TENANT_ID,
            "version": 2,
            "archived": False,
            "archived_at": None,
            "merged_into": None,
            "created_at": _T0,
            "updated_at": _T1,
        }
    )
    changes: dict[str, Any] = {}
    actor: dict[str, Any] = {
        "type": "user",
        "id": EXAMPLE_USER_ID,
        "via": "api_key",
        "credential_id": "key_01",
    }
    if action == "created":
        data.update(version=1, updated_at=_T0)
    elif action == "updated":
        field_name, value = models.EXAMPLE_UPDATE
        _change(data, field_name, value, changes)
    elif action in ("archived", "revoked"):
        _change(data, "archived", True, changes)
        _change(data, "archived_at", _T1, changes)
    elif action == "deactivated":
        _change(data, "active", False, changes)
    elif action == "restored":
        data["version"] = 3
        changes = {"archived": {"from": True, "to": False}, "archived_at": {"from": _T0, "to": None}}
    elif action == "merged":
        changes["merged_from"] = {"from": None, "to": _DUPLICATE}
    elif action == "stage_changed" or action in ("won", "lost"):
        target = {"stage_changed": "proposal", "won": "won", "lost": "lost"}[action]
        _change(data, "stage_id", target, changes)
        if action != "stage_changed":
            _change(data, "status", action, changes)
            _change(data, "closed_at", _T1, changes)
        if action == "lost":
            _change(data, "lost_reason", "Budget cut", changes)
    elif action == "completed":
        _change(data, "completed_at", _T1, changes)
    elif action == "reminder_due":
        data.update(version=1, updated_at=_T0)
        actor = {"type": "system", "id": "reminders"}
    else:
        actor = _other_example(event, data, changes) or actor
    detail = {
        "id": "01JHC2EVENT000000000000001",
        "type": event.name,
        "version": event.version,
        "tenant_id": EXAMPLE_TENANT_ID,
        "occurred_at": data["updated_at"] if action != "reminder_due" else data["remind_at"],
        "actor": actor,
        "correlation_id": None if action == "reminder_due" else "req-7f3c2a",
        "data": data,
        "changes": changes,
        "sequence": data["version"],
    }
    return _envelope(event, detail)


# -------------------------------------------------------------------------------------------------- docs


def _delay_text(seconds: int) -> str:
    return f"{seconds // 60} min" if seconds >= 60 else f"{seconds} s"


def docs_markdown() -> str:
    lines = [
        "# Events",
        "",
        "<!-- Generated from layers/crm_core/event_catalog.py by crm_local/catalog.py: do not edit. -->",
        "",
        f"Every committed change is published to the CRM's EventBridge bus with `source` `{SOURCE}` and the",
        "event type as `detail-type` (API.md section 4). A rule on the bus (for one tenant:",
        '`{"source": ["crm"], "detail": {"tenant_id": ["<tenant>"]}}`) delivers them to a partner\'s target.',
        "",
        "Each event's `detail` carries `id` (stable: deduplicate on it, a delivery may repeat), `type`,",
        "`version` (of the type's shape), `tenant_id`, `occurred_at`, `actor`, `correlation_id` (the",
        "request's `X-Request-Id`), `data` (the record after the change, exactly as the API answers it),",
        '`changes` (`{"field": {"from": old, "to": new}}`) and `sequence` (the record\'s version after the',
        "change: order a record's events by it). The events of a job that ended (`import.completed`,",
        "`export.completed`) carry the job instead, as its `GET` answers it without links, with empty",
        "`changes` and no `sequence`; their `correlation_id` is the job's id.",
        "",
        f"Each type's JSON Schema (draft-04) is in `{SCHEMAS_DIR}/<type>.json` and in the bus's schema",
        "registry `crm-events`. A change to a type's shape is a new `version`.",
        "",
        "A webhook target (`/v1/event-targets`) gets the `detail` as the body of a POST with the headers",
        '`CRM-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" under the secret>`',
        "(check it, and refuse a `t` more than a few minutes old), `CRM-Event-Id`, `CRM-Event-Type` and",
        "`CRM-Delivery-Id`, the same for every try of an event's delivery to a target (a `/redeliver`",
        f"is a new delivery). A 2xx answer within {WEBHOOK_TIMEOUT_S} s is a success; anything else is",
        "tried again after " + ", ".join(_delay_text(d) for d in WEBHOOK_RETRY_DELAYS_S) + ", then given",
        "up (`/deliveries?outcome=gave_up` lists those; `/redeliver` sends one again). `crm dev` compresses",
        "that schedule: it tries again after "
        + ", ".join(_delay_text(d) for d in LOCAL_WEBHOOK_RETRY_DELAYS_S)
        + " (`CRM_WEBHOOK_RETRY_DELAYS`, seconds). Redirects are",
        "not followed (a 3xx is a failed try); in AWS the URL must be https to public addresses.",
        "",
        "An EventBridge target names a bus in the partner's own AWS account (a bus of the CRM's account is",
        f"refused). A tenant has at most {MAX_ACTIVE_TARGETS} active targets. A target's `status` is",
        "`pending` until routing is in place for its current version (after a create, change or restore,",
        "usually seconds), then `active`: every event committed after that reaches it; `failing` while its",
        "deliveries are being given up (a webhook until a delivery succeeds again).",
        "",
        "## Types",
        "",
        "| type | version | sent when | data |",
        "|---|---|---|---|",
    ]
    for event in EVENT_TYPES:
        model = record_model(event).__name__
        lines.append(
            f"| [`{event.name}`](#{event.name.replace('.', '')}) | {event.version} | {event.when} | {model} |"
        )
    lines += [
        "",
        "## Planned",
        "",
        "API.md names these types; nothing emits them yet, and they have no schema until something does.",
        "",
        "| type | arrives with |",
        "|---|---|",
    ]
    lines += [f"| `{planned.name}` | {planned.arrives_with} |" for planned in PLANNED_EVENT_TYPES]
    lines += [
        "",
        "## Accepted from partners",
        "",
        "A partner puts these on the CRM's bus (the stack output `EventBusName`; by its ARN",
        "`arn:aws:events:<region>:<account>:event-bus/<name>` from another account) with `source`",
        f"`{PARTNER_SOURCE_PREFIX}<id>`. Each is accepted only as said; otherwise it is refused: not",
        "retried, logged as a warning with its reason, counted (metric `InboundEventsRefused`) and, when",
        "it names a source the tenant registered (a bad lead, another account, a type not accepted), shown",
        "on that source as `refused_count`, `last_refused_at` and `last_refused_reason`",
        "(`GET /v1/event-sources/{id}`). An event of a source the tenant did not register is only logged",
        "and counted.",
        "",
        "| type | accepted |",
        "|---|---|",
    ]
    lines += [f"| `{accepted.name}` | {accepted.what} |" for accepted in ACCEPTED_EVENT_TYPES]
    lines += ["", "## Examples", ""]
    for event in EVENT_TYPES:
        lines += [
            f"### {event.name}",
            "",
            f"{event.when} Schema: [`{event.schema_path}`](../{event.schema_path}).",
            "",
            "```json",
            json.dumps(example_event(event), indent=2),
            "```",
            "",
        ]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------ files


def generated_files() -> dict[str, str]:
    """Every generated file's text by its path relative to the repository root."""
    files = {event.schema_path: schema_text(event) for event in EVENT_TYPES}
    files[DOCS_PATH] = docs_markdown()
    return files


def stale_files(root: Path = REPO_ROOT) -> list[str]:
    """The generated files that are missing or differ under ``root``, and schema files of no type."""
    expected = generated_files()
    stale = [path for path, text in expected.items() if _read(root / path) != text]
    schemas = root / SCHEMAS_DIR
    if schemas.is_dir():
        stale += sorted(
            str(path.relative_to(root))
            for path in schemas.glob("*.json")
            if str(path.relative_to(root)) not in expected
        )
    return sorted(stale)


def write_all(root: Path = REPO_ROOT) -> list[str]:
    """Write every generated file under ``root`` and remove schemas of types no longer emitted; returns
    the paths that changed."""
    changed = stale_files(root)
    expected = generated_files()
    for path in changed:
        target = root / path
        if path in expected:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(expected[path])
        else:
            target.unlink()
    return changed


def _read(path: Path) -> str | None:
    return path.read_text() if path.is_file() else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m crm_local.catalog", description="Write the event schemas and docs/events.md."
    )
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a file is stale")
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="the repository root")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files(args.root)
        for path in stale:
            print(f"stale: {path}", file=sys.stderr)
        if stale:
            print("run `make events` to regenerate", file=sys.stderr)
        return 1 if stale else 0
    for path in write_all(args.root):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
