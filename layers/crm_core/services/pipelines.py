"""Pipelines: ordered stages with win probabilities, and the board of their open deals."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from crm_core.context import RequestContext
from crm_core.errors import FieldError, ProblemError, conflict, not_found, validation_failed
from crm_core.ids import new_id
from crm_core.models.pipeline import PIPELINE_DEFAULTS, PipelineCreate, PipelineUpdate
from crm_core.repositories import record_repository as repo
from crm_core.repositories.table import RecordItem
from crm_core.services.records import ObjectSpec, RecordService, record_data

UNITS = Decimal("10000")  # amounts are counted in ten-thousandths, so sums stay exact integers


def open_deals_by_stage(ctx: RequestContext, pipeline_id: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for total in repo.board_totals(ctx.tenant_id, pipeline_id):
        stage_id = total.SK.split("#", 1)[0]
        counts[stage_id] = counts.get(stage_id, 0) + int(total.deals)
    return counts


def derive(
    ctx: RequestContext, data: dict[str, Any], before: dict[str, Any] | None, pipeline_id: str | None
) -> dict[str, Any]:
    """New stages get ids; a stage keeps its id; won and lost stages default to probability 1 and 0; a stage
    that still holds deals cannot be removed."""
    data = dict(data)
    known = {stage["id"] for stage in (before or {}).get("stages", [])}
    errors: list[FieldError] = []
    stages = []
    for position, stage in enumerate(data.get("stages") or []):
        stage = {k: v for k, v in stage.items() if v is not None}
        stage.setdefault("kind", "open")
        if "id" in stage and stage["id"] not in known:
            errors.append(FieldError(f"stages[{position}].id", "no such stage in this pipeline"))
        stage.setdefault("id", new_id())
        if "probability" not in stage:
            if stage["kind"] == "open":
                errors.append(FieldError(f"stages[{position}].probability", "is required for an open stage"))
            stage["probability"] = 1.0 if stage["kind"] == "won" else 0.0
        stages.append(stage)
    if errors:
        raise validation_failed(errors)
    data["stages"] = stages
    data.setdefault("currency", PIPELINE_DEFAULTS["currency"])
    removed = known - {stage["id"] for stage in stages}
    if pipeline_id is not None and removed:
        occupied = {s: n for s, n in open_deals_by_stage(ctx, pipeline_id).items() if n}
        still = sorted(removed & set(occupied))
        if still:
            raise conflict(
                f"Stages {', '.join(still)} still hold deals; move them to another stage first.",
                field_name="stages",
            )
    return data


def refuse_archive_with_deals(ctx: RequestContext, pipeline: RecordItem) -> None:
    if any(open_deals_by_stage(ctx, pipeline.id).values()):
        raise conflict("This pipeline still holds open deals; move or archive them first.")


PIPELINES = RecordService(
    ObjectSpec(
        object_type="pipeline",
        admin_only=True,
        create_model=PipelineCreate,
        update_model=PipelineUpdate,
        defaults=PIPELINE_DEFAULTS,
        tokens=lambda data, related: [],
        derive=derive,
        before_archive=refuse_archive_with_deals,
    )
)


def stages_of(pipeline: RecordItem) -> list[dict[str, Any]]:
    stages: list[dict[str, Any]] = record_data(pipeline).get("stages") or []
    return stages


def board(ctx: RequestContext, pipeline_id: str, *, deals_per_stage: int) -> dict[str, Any]:
    """Each open stage's count, total and weighted total in the pipeline's currency (and its totals in
    other currencies), with the first deals of each: 1 GetItem, 1 Query for the totals, 1 Query a stage."""
    from crm_core.services.deals import DEALS  # the deals module builds on this one

    pipeline = repo.get_record(ctx.tenant_id, "pipeline", pipeline_id)
    if pipeline is None or pipeline.archived_at is not None:
        raise not_found("pipeline", pipeline_id)
    currency = record_data(pipeline).get("currency") or PIPELINE_DEFAULTS["currency"]
    totals: dict[str, dict[str, tuple[int, Decimal]]] = {}
    for total in repo.board_totals(ctx.tenant_id, pipeline_id):
        stage_id, _, stage_currency = total.SK.partition("#")
        totals.setdefault(stage_id, {})[stage_currency] = (
            int(total.deals),
            Decimal(int(total.amount_units)) / UNITS,
        )
    columns = []
    for stage in stages_of(pipeline):
        if stage["kind"] != "open":
            continue
        by_currency = totals.get(stage["id"], {})
        count = sum(n for n, _ in by_currency.values())
        amount = by_currency.get(currency, (0, Decimal(0)))[1]
        probability = Decimal(str(stage["probability"]))
        deals, next_cursor = DEALS.list_records(
            ctx, filters={"stage_id": stage["id"]}, q=None, archived=False, limit=deals_per_stage, cursor=None
        )
        columns.append(
            {
                "stage_id": stage["id"],
                "name": stage["name"],
                "probability": stage["probability"],
                "count": count,
                "total": money(amount, currency),
                "weighted_total": money(amount * probability, currency),
                "other_currencies": [
                    {
                        **money(value, code),
                        "count": n,
                        "weighted_amount": money(value * probability, code)["amount"],
                    }
                    for code, (n, value) in sorted(by_currency.items())
                    if code != currency and n
                ],
                "deals": deals,
                "next_cursor": next_cursor,
            }
        )
    return {"pipeline_id": pipeline_id, "currency": currency, "stages": columns}


def money(amount: Decimal, currency: str) -> dict[str, str]:
    return {"amount": str(amount.quantize(Decimal("0.01"))), "currency": currency}


def check_stage(pipeline: RecordItem, stage_id: str) -> dict[str, Any]:
    for stage in stages_of(pipeline):
        if stage["id"] == stage_id:
            return stage
    raise ProblemError(
        422,
        "Unprocessable Content",
        f"stage_id: no stage {stage_id!r} in this pipeline",
        [FieldError("stage_id", "is not a stage of the deal's pipeline")],
    )
