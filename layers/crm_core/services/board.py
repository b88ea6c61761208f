"""A pipeline's board: each open stage's count, total and weighted total, from the counters every deal
keeps in its own transaction, and the first deals of each stage. It reads pipelines and deals, so it sits
above both (the deals module builds on the pipelines module, not the other way)."""

from __future__ import annotations

from decimal import Decimal
from typing import TypedDict

from crm_core.context import RequestContext
from crm_core.errors import not_found
from crm_core.models.pipeline import PIPELINE_DEFAULTS
from crm_core.models.record import RecordBody
from crm_core.repositories import record_repository as repo
from crm_core.services.deals import DEALS
from crm_core.services.pipelines import UNITS, stages_of
from crm_core.services.records import record_data
from crm_core.services.records.queries import first_pages


# The board as the route answers it. models/board.py declares the same shapes to the API's document (Money,
# OtherCurrencyTotal, BoardStage, Board); answering those models would validate every deal again.
class MoneyAmount(TypedDict):
    amount: str  # a decimal string to 2 places
    currency: str


class CurrencyTotal(MoneyAmount):
    count: int
    weighted_amount: str


class BoardColumn(TypedDict):
    stage_id: str
    name: str
    probability: float
    count: int
    total: MoneyAmount
    weighted_total: MoneyAmount
    other_currencies: list[CurrencyTotal]
    deals: list[RecordBody]
    next_cursor: str | None


class BoardView(TypedDict):
    pipeline_id: str
    currency: str
    stages: list[BoardColumn]


def board(ctx: RequestContext, pipeline_id: str, *, deals_per_stage: int) -> BoardView:
    """Each open stage's count, total and weighted total in the pipeline's currency (and its totals in
    other currencies), with the first deals of each: 1 GetItem, 1 Query for the totals, 1 Query a stage,
    and a BatchGetItem for the deals of as many stages as 100 keys hold."""
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
    columns: list[BoardColumn] = []
    stages = [stage for stage in stages_of(pipeline) if stage["kind"] == "open"]
    # Each stage's page as GET /v1/deals?stage_id= answers it, their records read together.
    pages = first_pages(
        DEALS.spec, ctx, [{"stage_id": stage["id"]} for stage in stages], limit=deals_per_stage
    )
    for stage, (deals, next_cursor) in zip(stages, pages, strict=True):
        by_currency = totals.get(stage["id"], {})
        count = sum(n for n, _ in by_currency.values())
        amount = by_currency.get(currency, (0, Decimal(0)))[1]
        probability = Decimal(str(stage["probability"]))
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


def money(amount: Decimal, currency: str) -> MoneyAmount:
    return {"amount": str(amount.quantize(Decimal("0.01"))), "currency": currency}
