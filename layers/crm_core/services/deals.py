"""Deals: in a pipeline's stage, with an exact amount; the stage decides the status."""

from __future__ import annotations

from decimal import Decimal

from crm_core.context import RequestContext
from crm_core.errors import invalid_field
from crm_core.ids import utc_now
from crm_core.models.deal import DEAL_DEFAULTS, DealCreate, DealUpdate
from crm_core.models.record import RecordFields, RelatedFacts
from crm_core.repositories import keys, tenant_repository
from crm_core.repositories.table import BoardTotal, RecordItem
from crm_core.repositories.transaction import CounterStep
from crm_core.services import references
from crm_core.services.pipelines import UNITS, check_stage, stages_of
from crm_core.services.records import (
    Expansion,
    ObjectSpec,
    RecordService,
    Referrer,
    SortKey,
    amount_order,
    normalize_text,
    record_data,
    text_order,
)


def deal_tokens(data: RecordFields, related: RelatedFacts) -> list[str]:
    name = normalize_text(data.get("name") or "")
    return list(dict.fromkeys(t[:40] for t in [name, *name.split()[1:4]] if t))


def default_pipeline_id(ctx: RequestContext) -> str | None:
    key = ("tenant", ctx.tenant_id)
    if key not in ctx.lookups:
        tenant = tenant_repository.get_tenant(ctx.tenant_id)
        ctx.lookups[key] = tenant.default_pipeline_id if tenant is not None else None
    found: str | None = ctx.lookups[key]
    return found


def derive(
    ctx: RequestContext, data: RecordFields, before: RecordFields | None, deal_id: str | None
) -> RecordFields:
    """The pipeline (the tenant's default), the stage (the pipeline's first open one), the currency (the
    pipeline's), and from the stage: ``status``, ``closed_at`` (set on closing, cleared on reopening) and
    ``lost_reason`` (kept only while lost)."""
    data = dict(data)
    before = before or {}
    pipeline_id = data.get("pipeline_id") or default_pipeline_id(ctx)
    if not pipeline_id:
        raise invalid_field("pipeline_id", "is required (this tenant has no default pipeline)")
    pipeline = references.active_record(ctx, "pipeline", pipeline_id)
    if pipeline is None:
        raise invalid_field("pipeline_id", "no pipeline with this id")
    data["pipeline_id"] = pipeline_id
    if not data.get("stage_id") or (pipeline_id != before.get("pipeline_id") and "stage_id" not in data):
        data["stage_id"] = next(s["id"] for s in stages_of(pipeline) if s["kind"] == "open")
    stage = check_stage(pipeline, data["stage_id"])
    data.setdefault("currency", record_data(pipeline).get("currency") or "EUR")
    data["status"] = stage["kind"]
    was_closed = before.get("status") in ("won", "lost")
    if stage["kind"] == "open":
        data.pop("closed_at", None)
        data.pop("lost_reason", None)
    elif not was_closed or before.get("status") != stage["kind"]:
        data["closed_at"] = utc_now()
    if stage["kind"] == "won":
        data.pop("lost_reason", None)
    return data


def update_events(before: RecordFields, after: RecordFields) -> list[str]:
    if before.get("stage_id") == after.get("stage_id") and before.get("pipeline_id") == after.get(
        "pipeline_id"
    ):
        return ["updated"]
    events = ["stage_changed"]
    if after.get("status") in ("won", "lost") and before.get("status") != after.get("status"):
        events.append(str(after["status"]))
    return events


def resolve_references(
    ctx: RequestContext, data: RecordFields, changed: set[str], previous: RelatedFacts
) -> RelatedFacts:
    company_id = data.get("company_id")
    if (
        company_id
        and "company_id" in changed
        and references.active_record(ctx, "company", company_id) is None
    ):
        raise invalid_field("company_id", "no company with this id")
    if "contact_ids" in changed:
        contact_ids = data.get("contact_ids") or []
        found = references.active_records(ctx, "contact", contact_ids)
        for position, contact_id in enumerate(contact_ids):
            if contact_id not in found:
                raise invalid_field(f"contact_ids[{position}]", "no contact with this id")
    references.require_active_user(ctx, data, changed, "owner_id")
    return {}


def _contribution(item: RecordItem | None) -> dict[tuple[str, str, str], tuple[int, int]]:
    """What a deal adds to its pipeline's board: one deal and its amount, while open and not archived."""
    if item is None or item.archived_at is not None:
        return {}
    data = record_data(item)
    if data.get("status") != "open":
        return {}
    units = int(Decimal(str(data.get("amount") or 0)) * UNITS)
    return {(data["pipeline_id"], data["stage_id"], data.get("currency") or "EUR"): (1, units)}


def board_counters(before: RecordItem | None, after: RecordItem) -> list[CounterStep]:
    old, new = _contribution(before), _contribution(after)
    updates: list[CounterStep] = []
    for key in sorted(old.keys() | new.keys()):
        deals = new.get(key, (0, 0))[0] - old.get(key, (0, 0))[0]
        units = new.get(key, (0, 0))[1] - old.get(key, (0, 0))[1]
        if deals == 0 and units == 0:
            continue
        pipeline_id, stage_id, currency = key
        total = BoardTotal(keys.board_pk(after.tenant_id, pipeline_id), f"{stage_id}#{currency}")
        updates.append(CounterStep(total, {"deals": deals, "amount_units": units}))
    return updates


def referrers() -> tuple[Referrer, ...]:
    """What a merge moves from the duplicate deal to the survivor: its activities."""
    from crm_core.services.activities import ACTIVITIES  # only a merge needs them (services/contacts.py)

    return (Referrer("activities", ACTIVITIES, "deal_id"),)


DEALS = RecordService(
    ObjectSpec(
        object_type="deal",
        custom_object="deals",
        create_model=DealCreate,
        update_model=DealUpdate,
        defaults=DEAL_DEFAULTS,
        tokens=deal_tokens,
        resolve=resolve_references,
        parent_field="company_id",
        category_field="stage_id",
        expansions={
            "company": Expansion("company_id", "company"),
            "contacts": Expansion("contact_ids", "contact"),
        },
        sorts=(
            SortKey("name", 6, lambda data: text_order(data.get("name"))),
            SortKey("close_date", 7, lambda data: data.get("close_date")),
            SortKey("amount", 8, lambda data: amount_order(data.get("amount"))),
        ),
        derive=derive,
        update_events=update_events,
        counters=board_counters,
        # a deal's contacts, and its status and pipeline (no index of their own): one Query and one
        # BatchGetItem a page, however few deals match
        entry_fields=("contact_ids", "status", "pipeline_id"),
        referrers=referrers,
    )
)
