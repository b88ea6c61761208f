"""A deal's rules with no I/O: its status, pipeline and stage derived from the stage it is put in, and the
board counters each change keeps.

The pipeline and the tenant a deal refers to are handed to ``derive`` through the request's lookups (what
``services/references.py`` reads once per request), so nothing here reads the table.
"""

from __future__ import annotations

from typing import Any

import pytest
from crm_core.auth import Principal, Role
from crm_core.context import RequestContext
from crm_core.errors import ProblemError
from crm_core.repositories import keys
from crm_core.repositories.table import BoardTotal, RecordItem
from crm_core.services.deals import board_counters, derive

TENANT = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
STAGES = [
    {"id": "qualified", "name": "Qualified", "kind": "open", "probability": 0.2},
    {"id": "proposal", "name": "Proposal", "kind": "open", "probability": 0.5},
    {"id": "won", "name": "Won", "kind": "won", "probability": 1.0},
    {"id": "lost", "name": "Lost", "kind": "lost", "probability": 0.0},
]
OTHER_STAGES = [
    {"id": "first", "name": "First", "kind": "open", "probability": 0.1},
    {"id": "closed", "name": "Closed", "kind": "won", "probability": 1.0},
]


def record(object_type: str, record_id: str, data: dict[str, Any], archived: bool = False) -> RecordItem:
    return RecordItem(
        keys.record_pk(TENANT, object_type, record_id),
        keys.RECORD_SK,
        object_type=object_type,
        id=record_id,
        tenant_id=TENANT,
        created_at="2026-01-01T00:00:00.000Z",
        updated_at="2026-01-01T00:00:00.000Z",
        archived_at="2026-01-02T00:00:00.000Z" if archived else None,
        data=data,
    )


def context(default_pipeline: str | None = "P1") -> RequestContext:
    ctx = RequestContext(Principal(TENANT, "U1", Role.ADMIN, "api_key", "K1"))
    ctx.lookups[("tenant", TENANT)] = default_pipeline
    ctx.lookups[("pipeline", "P1")] = record("pipeline", "P1", {"stages": STAGES, "currency": "GBP"})
    ctx.lookups[("pipeline", "P2")] = record("pipeline", "P2", {"stages": OTHER_STAGES})
    ctx.lookups[("pipeline", "GONE")] = None  # archived or missing: references.py keeps it as None
    return ctx


def refused_field(check: Any) -> str:
    with pytest.raises(ProblemError) as refused:
        check()
    assert refused.value.status == 422
    return refused.value.errors[0].field


# ------------------------------------------------------------------------------------ status derivation


def test_a_new_deal_goes_to_the_default_pipelines_first_open_stage_in_its_currency() -> None:
    derived = derive(context(), {"name": "Engines"}, None, None)
    assert derived["pipeline_id"] == "P1"
    assert derived["stage_id"] == "qualified"
    assert derived["status"] == "open"
    assert derived["currency"] == "GBP"
    assert "closed_at" not in derived


def test_a_pipeline_without_a_currency_counts_in_euros_and_a_deal_keeps_its_own() -> None:
    assert derive(context(), {"pipeline_id": "P2"}, None, None)["currency"] == "EUR"
    assert derive(context(), {"currency": "USD"}, None, None)["currency"] == "USD"


def test_no_pipeline_to_put_a_deal_in_is_refused_naming_pipeline_id() -> None:
    assert refused_field(lambda: derive(context(default_pipeline=None), {}, None, None)) == "pipeline_id"
    assert refused_field(lambda: derive(context(), {"pipeline_id": "GONE"}, None, None)) == "pipeline_id"


def test_a_stage_of_another_pipeline_is_refused_naming_stage_id() -> None:
    assert refused_field(lambda: derive(context(), {"stage_id": "closed"}, None, None)) == "stage_id"


@pytest.mark.parametrize(("stage_id", "status"), [("won", "won"), ("lost", "lost")])
def test_a_closing_stage_closes_the_deal_now(stage_id: str, status: str) -> None:
    before = {"pipeline_id": "P1", "stage_id": "proposal", "status": "open"}
    derived = derive(context(), {**before, "stage_id": stage_id, "lost_reason": "price"}, before, "D1")
    assert derived["status"] == status
    assert derived["closed_at"].endswith("Z")
    # A lost reason is kept only while the deal is lost.
    assert ("lost_reason" in derived) == (status == "lost")


def test_reopening_a_closed_deal_clears_when_and_why_it_closed() -> None:
    before = {
        "pipeline_id": "P1",
        "stage_id": "lost",
        "status": "lost",
        "closed_at": "2026-02-01T00:00:00.000Z",
        "lost_reason": "price",
    }
    derived = derive(context(), {**before, "stage_id": "proposal"}, before, "D1")
    assert derived["status"] == "open"
    assert "closed_at" not in derived and "lost_reason" not in derived


def test_a_closed_deal_changed_without_changing_its_status_keeps_its_closing_time() -> None:
    before = {
        "pipeline_id": "P1",
        "stage_id": "won",
        "status": "won",
        "closed_at": "2026-02-01T00:00:00.000Z",
    }
    assert derive(context(), {**before, "name": "Renamed"}, before, "D1")["closed_at"] == before["closed_at"]


def test_a_won_deal_that_is_then_lost_closes_again() -> None:
    before = {
        "pipeline_id": "P1",
        "stage_id": "won",
        "status": "won",
        "closed_at": "2026-02-01T00:00:00.000Z",
    }
    derived = derive(context(), {**before, "stage_id": "lost"}, before, "D1")
    assert derived["status"] == "lost" and derived["closed_at"] != before["closed_at"]


def test_moving_to_another_pipeline_takes_its_first_open_stage_unless_one_of_its_stages_is_given() -> None:
    before = {"pipeline_id": "P1", "stage_id": "proposal", "status": "open"}
    # A PATCH of the pipeline alone keeps the old stage, which the new pipeline does not have.
    kept_stage = {**before, "pipeline_id": "P2"}
    assert refused_field(lambda: derive(context(), kept_stage, before, "D1")) == "stage_id"
    # With the stage cleared (null), the new pipeline's first open stage; with one of its stages, that one.
    cleared = {"pipeline_id": "P2", "status": "open"}
    assert derive(context(), cleared, before, "D1")["stage_id"] == "first"
    closed = derive(context(), {**cleared, "stage_id": "closed"}, before, "D1")
    assert (closed["stage_id"], closed["status"]) == ("closed", "won")


# ----------------------------------------------------------------------------------------- board counters

Counted = dict[tuple[str, str], tuple[int, int]]


def deal(stage_id: str = "qualified", amount: str | None = "100.00", **changes: Any) -> RecordItem:
    status = {"won": "won", "lost": "lost"}.get(stage_id, "open")
    data = {"pipeline_id": "P1", "stage_id": stage_id, "status": status, "currency": "GBP", **changes}
    if amount is not None:
        data["amount"] = amount
    archived = bool(data.pop("archived", False))
    return record("deal", "D1", data, archived=archived)


def counted(before: RecordItem | None, after: RecordItem) -> Counted:
    """The counters' changes by board item (pipeline, stage and currency): (deals, amount in
    ten-thousandths)."""
    changes: Counted = {}
    for total, amounts, _ in board_counters(before, after):
        assert keys.board_pk(TENANT, "P1") == total.PK
        assert isinstance(total, BoardTotal)
        assert set(amounts) == {"deals", "amount_units"}
        changes[("P1", total.SK)] = (amounts["deals"], amounts["amount_units"])
    return changes


def test_a_new_open_deal_counts_once_with_its_amount_in_ten_thousandths() -> None:
    assert counted(None, deal(amount="12.3456")) == {("P1", "qualified#GBP"): (1, 123456)}


def test_a_deal_with_no_amount_counts_as_one_deal_of_nothing() -> None:
    assert counted(None, deal(amount=None)) == {("P1", "qualified#GBP"): (1, 0)}


def test_moving_a_deal_moves_its_count_and_amount_between_stages() -> None:
    assert counted(deal("qualified"), deal("proposal")) == {
        ("P1", "proposal#GBP"): (1, 1_000_000),
        ("P1", "qualified#GBP"): (-1, -1_000_000),
    }


def test_a_changed_amount_changes_the_total_not_the_count() -> None:
    assert counted(deal(amount="100.00"), deal(amount="90.50")) == {("P1", "qualified#GBP"): (0, -95_000)}


def test_another_currency_is_counted_apart() -> None:
    assert counted(deal(), deal(currency="USD")) == {
        ("P1", "qualified#GBP"): (-1, -1_000_000),
        ("P1", "qualified#USD"): (1, 1_000_000),
    }


@pytest.mark.parametrize(
    "after",
    [deal("won"), deal("lost"), deal(archived=True)],
    ids=["won", "lost", "archived"],
)
def test_a_deal_closed_or_archived_leaves_the_board(after: RecordItem) -> None:
    assert counted(deal("proposal"), after) == {("P1", "proposal#GBP"): (-1, -1_000_000)}


def test_a_change_the_board_does_not_show_writes_no_counter() -> None:
    assert board_counters(deal(), deal(name="Renamed")) == []
    assert board_counters(deal("won"), deal("won", amount="5.00")) == []
