"""What a pipeline is made of: ordered stages, each open, won or lost, with a win probability."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, Field, StringConstraints, field_validator, model_validator

from crm_core.models.common import ShortText, StrictModel, record_model

StageKind = Literal["open", "won", "lost"]
StageId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,40}$")]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
MAX_STAGES = 30


class Stage(StrictModel):
    id: StageId | None = Field(None, description="Given for a stage that exists; a new stage gets one.")
    name: ShortText
    probability: Annotated[float, Field(ge=0, le=1), AfterValidator(lambda p: round(p, 4))] | None = Field(
        None,
        description="Chance of winning a deal in this stage (won: 1, lost: 0 when not given), kept to 4 "
        "decimal places.",
    )
    kind: StageKind = "open"


def _check_stages(stages: list[Stage]) -> None:
    if not any(stage.kind == "open" for stage in stages):
        raise ValueError("a pipeline needs at least one open stage")
    given = [stage.id for stage in stages if stage.id]
    if len(given) != len(set(given)):
        raise ValueError("stage ids repeat")


class PipelineFields(StrictModel):
    name: ShortText | None = None
    currency: Currency | None = Field(None, description="The board's totals are in this currency.")
    stages: Annotated[list[Stage], Field(min_length=1, max_length=MAX_STAGES)] | None = None

    @model_validator(mode="after")
    def _valid_stages(self) -> Self:
        if self.stages is not None:
            _check_stages(self.stages)
        return self


class PipelineCreate(PipelineFields):
    name: ShortText
    stages: Annotated[list[Stage], Field(min_length=1, max_length=MAX_STAGES)]


class PipelineUpdate(PipelineFields):
    """Sending ``stages`` replaces the list: keep a stage by sending its id; a stage with deals in it
    cannot be left out (409)."""

    @field_validator("stages")
    @classmethod
    def _keeps_stages(cls, stages: list[Stage] | None) -> list[Stage]:
        if stages is None:
            raise ValueError("cannot be cleared: a pipeline needs its stages")
        return stages


PIPELINE_DEFAULTS: dict[str, object] = {"name": None, "currency": "EUR", "stages": []}

DEFAULT_PIPELINE = {
    "name": "Sales",
    "currency": "EUR",
    "stages": [
        {"name": "Qualified", "probability": 0.2, "kind": "open"},
        {"name": "Proposal", "probability": 0.5, "kind": "open"},
        {"name": "Negotiation", "probability": 0.8, "kind": "open"},
        {"name": "Won", "probability": 1.0, "kind": "won"},
        {"name": "Lost", "probability": 0.0, "kind": "lost"},
    ],
}

# The record as the API answers it, and as its events carry it.
Pipeline = record_model("Pipeline", PipelineFields)
EXAMPLE_ID = "01JHC1P1PE11NE000000000001"
EXAMPLE: dict[str, Any] = {
    "name": "Sales",
    "currency": "EUR",
    "stages": [
        {"id": "qualified", "name": "Qualified", "probability": 0.2, "kind": "open"},
        {"id": "proposal", "name": "Proposal", "probability": 0.5, "kind": "open"},
        {"id": "won", "name": "Won", "probability": 1, "kind": "won"},
        {"id": "lost", "name": "Lost", "probability": 0, "kind": "lost"},
    ],
}
EXAMPLE_UPDATE: tuple[str, Any] = ("name", "New business")


def example_input(n: int) -> dict[str, Any]:
    """A create body; ``n`` names it."""
    return {
        "name": f"Example pipeline {n}",
        "stages": [
            {"name": "Open", "probability": 0.5},
            {"name": "Won", "kind": "won"},
            {"name": "Lost", "kind": "lost"},
        ],
    }
