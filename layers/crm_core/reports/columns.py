"""What the analytics files hold of each record: its columns, and the row a record becomes.

Only what reports need and nothing that says who a person is (issue 16, docs/decisions/0020): ids, stages,
amounts, currencies, dates, owners, tags, lifecycle stages and the custom properties whose type cannot hold
free text (number, boolean, date, enum, multi_enum). Names, emails, phones, titles, subjects, bodies, a
deal's lost reason, a company's domain and industry, a contact's source and ``string`` custom properties
stay out, so an erased contact leaves nothing to rewrite here.

Plain Python (no pyarrow): the exporter turns the rows into Parquet (crm_core.reports.parquet), and the
column types below are spelled as the Glue tables and the Parquet schema both read them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

# The custom property types whose values are not free text.
EXPORTED_PROPERTY_TYPES = frozenset({"number", "boolean", "date", "enum", "multi_enum"})

# Columns every object's rows carry: the record's id and version, when the change happened (the event's
# ``occurred_at``), whether it is archived, and when it was created.
COMMON: tuple[tuple[str, str], ...] = (
    ("id", "string"),
    ("version", "bigint"),
    ("changed_at", "timestamp"),
    ("archived", "boolean"),
    ("created_at", "timestamp"),
)


@dataclass(frozen=True)
class ObjectColumns:
    """An exported object: its collection (the partition's ``object=``), the record type whose events feed
    it, its own columns after the common ones, and the columns that name one row of a version (a pipeline
    is one row per stage)."""

    collection: str
    record_type: str
    columns: tuple[tuple[str, str], ...]
    row_key: str = "id"
    # False for a log (usage lines): rows are facts, not versions of records; no common columns, no
    # latest-version CTE, and no de-duplication by id.
    versioned: bool = True

    @property
    def all_columns(self) -> tuple[tuple[str, str], ...]:
        return COMMON + self.columns if self.versioned else self.columns


OBJECTS: dict[str, ObjectColumns] = {
    o.collection: o
    for o in (
        ObjectColumns(
            "deals",
            "deal",
            (
                ("pipeline_id", "string"),
                ("stage_id", "string"),
                ("status", "string"),
                ("amount", "decimal(19,4)"),
                ("currency", "string"),
                ("close_date", "date"),
                ("closed_at", "timestamp"),
                ("owner_id", "string"),
                ("company_id", "string"),
                ("tags", "array<string>"),
                ("custom", "string"),
            ),
        ),
        ObjectColumns(
            "contacts",
            "contact",
            (
                ("lifecycle_stage", "string"),
                ("owner_id", "string"),
                ("company_id", "string"),
                ("erased", "boolean"),
                ("tags", "array<string>"),
                ("custom", "string"),
            ),
        ),
        ObjectColumns(
            "companies",
            "company",
            (
                ("employees", "bigint"),
                ("owner_id", "string"),
                ("tags", "array<string>"),
                ("custom", "string"),
            ),
        ),
        ObjectColumns(
            "activities",
            "activity",
            (
                ("type", "string"),
                ("due_at", "timestamp"),
                ("completed_at", "timestamp"),
                ("owner_id", "string"),
                ("contact_id", "string"),
                ("company_id", "string"),
                ("deal_id", "string"),
                ("tags", "array<string>"),
            ),
        ),
        # One row per answer of a survey (its ``survey.answered``; version: the how-many-th answer, so the
        # latest answer stands): score, kind, ticket or campaign, dates; never the comment or the person.
        ObjectColumns(
            "surveys",
            "survey",
            (
                ("kind", "string"),
                ("score", "bigint"),
                ("ticket_id", "string"),
                ("campaign_id", "string"),
                ("sent_at", "timestamp"),
                ("answered_at", "timestamp"),
            ),
        ),
        # Tickets without their subject, description, replies or custom values: ids, states, times and the
        # SLA's due times and breaches (the sla object's fields, flattened).
        ObjectColumns(
            "tickets",
            "ticket",
            (
                ("status", "string"),
                ("priority", "string"),
                ("category", "string"),
                ("channel", "string"),
                ("assignee_id", "string"),
                ("team_id", "string"),
                ("company_id", "string"),
                ("first_responded_at", "timestamp"),
                ("resolved_at", "timestamp"),
                ("sla_policy_id", "string"),
                ("sla_first_response_due_at", "timestamp"),
                ("sla_resolution_due_at", "timestamp"),
                ("sla_first_response_breached", "boolean"),
                ("sla_resolution_breached", "boolean"),
                ("tags", "array<string>"),
            ),
        ),
        # A campaign's counters as its stats show them (API.md campaigns), a snapshot each time the exporter
        # sees its campaign or email events: the version is the snapshot's time (epoch ms), so the latest
        # wins. Counts and money only: no recipient, address or content. Revenue of several currencies is
        # summed (``currency`` says ``mixed``), as 0020's other amounts are.
        ObjectColumns(
            "campaign_stats",
            "campaign_stats",
            (
                ("recipients", "bigint"),
                ("sent", "bigint"),
                ("delivered", "bigint"),
                ("bounced", "bigint"),
                ("opened", "bigint"),
                ("clicked", "bigint"),
                ("unsubscribed", "bigint"),
                ("converted", "bigint"),
                ("revenue", "decimal(19,4)"),
                ("currency", "string"),
            ),
        ),
        # One row per stage of the pipeline's version (names of stages and pipelines are the tenant's
        # configuration, not anyone's personal data).
        ObjectColumns(
            "pipelines",
            "pipeline",
            (
                ("name", "string"),
                ("currency", "string"),
                ("stage_id", "string"),
                ("stage_name", "string"),
                ("stage_kind", "string"),
                ("probability", "double"),
                ("position", "bigint"),
            ),
            row_key="stage_id",
        ),
        # One row per instalment of the contract's version, each with the contract's own columns (its name
        # is left out: the analytics files hold no free text).
        ObjectColumns(
            "contracts",
            "contract",
            (
                ("number", "string"),
                ("status", "string"),
                ("start_date", "date"),
                ("end_date", "date"),
                ("value", "decimal(19,4)"),
                ("currency", "string"),
                ("owner_id", "string"),
                ("company_id", "string"),
                ("deal_id", "string"),
                ("renewed_from", "string"),
                ("position", "bigint"),
                ("due_date", "date"),
                ("amount", "decimal(19,4)"),
                ("paid", "decimal(19,4)"),
            ),
            row_key="position",
        ),
        # One row per line of the quote's version (docs/decisions/0029): the product, quantity and amounts,
        # never its description (free text). ``net_amount`` is the line's amount after its discount, before
        # tax. The product-revenue report reads the accepted ones.
        ObjectColumns(
            "quote_lines",
            "quote",
            (
                ("number", "string"),
                ("status", "string"),
                ("currency", "string"),
                ("deal_id", "string"),
                ("owner_id", "string"),
                ("accepted_at", "timestamp"),
                ("position", "bigint"),
                ("product_id", "string"),
                ("quantity", "decimal(19,4)"),
                ("unit_price", "decimal(19,4)"),
                ("amount", "decimal(19,4)"),
                ("discount_amount", "decimal(19,4)"),
                ("net_amount", "decimal(19,4)"),
            ),
            row_key="position",
        ),
        ObjectColumns(
            "payments",
            "payment",
            (
                ("contract_id", "string"),
                ("amount", "decimal(19,4)"),
                ("currency", "string"),
                ("received_at", "timestamp"),
                ("method", "string"),
                ("owner_id", "string"),
            ),
        ),
    )
}
BY_RECORD_TYPE: dict[str, ObjectColumns] = {o.record_type: o for o in OBJECTS.values()}

# Usage lines (crm_core.usage, docs/decisions/0026): one row per API request, per tenant and relay batch of
# events or emails, per daily storage measure. The tenant is the partition, not a column.
USAGE = ObjectColumns(
    "usage",
    "usage",
    (
        ("at", "timestamp"),
        ("kind", "string"),
        ("quantity", "bigint"),
        ("route", "string"),
        ("status", "bigint"),
        ("read_units", "double"),
        ("write_units", "double"),
    ),
    versioned=False,
)
# Objects that are logs, read as they are (each report's SQL names them like the versioned objects).
LOGS: dict[str, ObjectColumns] = {USAGE.collection: USAGE}
# Every collection the analytics files hold.
ALL: dict[str, ObjectColumns] = {**OBJECTS, **LOGS}

Row = dict[str, Any]


def _custom(values: Any, exported: Mapping[str, str] | None) -> str | None:
    """The record's custom values of exported types as JSON (sorted keys); None when it has none."""
    if not isinstance(values, Mapping) or exported is None:
        return None
    kept = {name: value for name, value in values.items() if exported.get(name) in EXPORTED_PROPERTY_TYPES}
    return json.dumps(kept, sort_keys=True, separators=(",", ":")) if kept else None


def _net(line: Mapping[str, Any]) -> str | None:
    """A quote line's amount after its discount, before tax (both already rounded to the currency)."""
    if line.get("amount") is None:
        return None
    return str(Decimal(str(line["amount"])) - Decimal(str(line.get("discount_amount") or 0)))


def rows(
    object_columns: ObjectColumns,
    record: Mapping[str, Any],
    changed_at: str,
    property_types: Mapping[str, str] | None = None,
) -> list[Row]:
    """The rows of one version of ``record`` (as the API and its events show it). ``property_types`` maps
    the object's custom property names to their types (None: no custom values are exported)."""
    base: Row = {
        "id": record["id"],
        "version": int(record["version"]),
        "changed_at": changed_at,
        "archived": bool(record.get("archived")),
        "created_at": record.get("created_at"),
    }
    if object_columns.collection == "pipelines":
        return [
            {
                **base,
                "name": record.get("name"),
                "currency": record.get("currency"),
                "stage_id": stage.get("id"),
                "stage_name": stage.get("name"),
                "stage_kind": stage.get("kind"),
                "probability": stage.get("probability"),
                "position": position,
            }
            for position, stage in enumerate(record.get("stages") or [])
        ]
    if object_columns.collection == "contracts":
        own = {name: record.get(name) for name, _ in object_columns.columns[:10]}
        return [
            {
                **base,
                **own,
                "position": position,
                "due_date": one.get("due_date"),
                "amount": one.get("amount"),
                "paid": one.get("paid"),
            }
            for position, one in enumerate(record.get("installments") or [])
        ]
    if object_columns.collection == "quote_lines":
        own = {name: record.get(name) for name, _ in object_columns.columns[:6]}
        return [
            {
                **base,
                **own,
                "position": position,
                "product_id": line.get("product_id"),
                "quantity": line.get("quantity"),
                "unit_price": line.get("unit_price"),
                "amount": line.get("amount"),
                "discount_amount": line.get("discount_amount"),
                "net_amount": _net(line),
            }
            for position, line in enumerate(record.get("line_items") or [])
        ]
    row = dict(base)
    for name, _ in object_columns.columns:
        if name == "custom":
            row[name] = _custom(record.get("custom"), property_types)
        elif name == "erased":
            row[name] = record.get("erased_at") is not None
        elif name == "tags":
            row[name] = list(record.get("tags") or [])
        elif name.startswith("sla_"):  # a ticket's sla object, flattened
            sla = record.get("sla")
            row[name] = sla.get(name.removeprefix("sla_")) if isinstance(sla, Mapping) else None
        else:
            row[name] = record.get(name)
    return [row]
