"""Pipelines: ordered stages with win probabilities (their board of open deals: services/board.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import TypedDict

from crm_core.context import RequestContext
from crm_core.errors import FieldError, ProblemError, conflict, validation_failed
from crm_core.ids import new_id
from crm_core.models.pipeline import PIPELINE_DEFAULTS, PipelineCreate, PipelineUpdate, StageKind
from crm_core.models.record import RecordFields
from crm_core.repositories import record_repository as repo
from crm_core.repositories.table import RecordItem
from crm_core.services.records import ObjectSpec, RecordService, SortKey, record_data, text_order

UNITS = Decimal("10000")  # amounts are counted in ten-thousandths, so sums stay exact integers


class StoredStage(TypedDict):
    """A stage as its pipeline holds it: ``derive`` gave it its id, kind and probability."""

    id: str
    name: str
    probability: float  # 0 to 1; a whole one (won: 1, lost: 0) reads back as an int
    kind: StageKind


def open_deals_by_stage(ctx: RequestContext, pipeline_id: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for total in repo.board_totals(ctx.tenant_id, pipeline_id):
        stage_id = total.SK.split("#", 1)[0]
        counts[stage_id] = counts.get(stage_id, 0) + int(total.deals)
    return counts


def derive(
    ctx: RequestContext, data: RecordFields, before: RecordFields | None, pipeline_id: str | None
) -> RecordFields:
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
        sorts=(SortKey("name", 6, lambda data: text_order(data.get("name"))),),
    )
)


def stages_of(pipeline: RecordItem) -> list[StoredStage]:
    stages: list[StoredStage] = record_data(pipeline).get("stages") or []
    return stages


def check_stage(pipeline: RecordItem, stage_id: str) -> StoredStage:
    for stage in stages_of(pipeline):
        if stage["id"] == stage_id:
            return stage
    raise ProblemError(
        422,
        "Unprocessable Content",
        f"stage_id: no stage {stage_id!r} in this pipeline",
        [FieldError("stage_id", "is not a stage of the deal's pipeline")],
    )
