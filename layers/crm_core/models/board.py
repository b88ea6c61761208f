"""A pipeline's board as the API answers it: its open stages with their counts, totals and first deals."""

from __future__ import annotations

from pydantic import Field

from crm_core.models.common import Closed
from crm_core.models.deal import Deal


class Money(Closed):
    amount: str = Field(description="A decimal string, e.g. 12500.00.")
    currency: str


class OtherCurrencyTotal(Money):
    count: int
    weighted_amount: str


class BoardStage(Closed):
    stage_id: str
    name: str
    probability: float
    count: int = Field(description="The stage's open deals, in every currency.")
    total: Money = Field(description="In the pipeline's currency.")
    weighted_total: Money
    other_currencies: list[OtherCurrencyTotal] = Field(description="Totals of deals in other currencies.")
    deals: list[Deal]  # type: ignore[valid-type]
    next_cursor: str | None = Field(description="More of the stage's deals: GET /v1/deals?stage_id=&cursor=.")


class Board(Closed):
    pipeline_id: str
    currency: str
    stages: list[BoardStage] = Field(description="The open stages, in order.")
