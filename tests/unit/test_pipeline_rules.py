"""A pipeline's stages as derived from what was sent, with no I/O: ids, kinds and probabilities."""

from __future__ import annotations

from typing import Any

import pytest
from crm_core.auth import Principal, Role
from crm_core.context import RequestContext
from crm_core.errors import ProblemError
from crm_core.services.pipelines import derive

CTX = RequestContext(Principal("01ARZ3NDEKTSV4RRFFQ69G5FAV", "U1", Role.ADMIN, "api_key", "K1"))
BEFORE = {
    "name": "Sales",
    "currency": "GBP",
    "stages": [
        {"id": "qualified", "name": "Qualified", "kind": "open", "probability": 0.2},
        {"id": "won", "name": "Won", "kind": "won", "probability": 1.0},
    ],
}


def stages(sent: list[dict[str, Any]], before: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    # No pipeline id: nothing is asked of the table (only a removed stage of a stored pipeline is).
    derived: list[dict[str, Any]] = derive(CTX, {"name": "Sales", "stages": sent}, before, None)["stages"]
    return derived


def test_new_stages_get_distinct_ids_and_keep_their_order() -> None:
    derived = stages([{"name": "A", "probability": 0.1}, {"name": "B", "probability": 0.3}])
    assert [s["name"] for s in derived] == ["A", "B"]
    assert all(s["id"] for s in derived) and derived[0]["id"] != derived[1]["id"]


def test_a_stage_is_open_unless_it_says_otherwise() -> None:
    assert stages([{"name": "A", "probability": 0.5}])[0]["kind"] == "open"


@pytest.mark.parametrize(("kind", "probability"), [("won", 1.0), ("lost", 0.0)])
def test_a_closing_stage_without_a_probability_gets_its_certainty(kind: str, probability: float) -> None:
    derived = stages([{"name": "A", "probability": 0.5}, {"name": "Z", "kind": kind}])
    assert derived[1]["probability"] == probability


def test_a_given_probability_is_kept_even_on_a_closing_stage() -> None:
    assert stages([{"name": "A", "probability": 0.5}, {"name": "Z", "kind": "lost", "probability": 0.05}])[1][
        "probability"
    ] == pytest.approx(0.05)


def test_every_open_stage_without_a_probability_is_named_in_one_answer() -> None:
    with pytest.raises(ProblemError) as refused:
        stages([{"name": "A"}, {"name": "B", "probability": 0.2}, {"name": "C", "probability": None}])
    assert refused.value.status == 422
    assert [e.field for e in refused.value.errors] == ["stages[0].probability", "stages[2].probability"]


def test_a_stage_keeps_its_id_and_an_id_the_pipeline_never_had_is_refused() -> None:
    kept = stages([{"id": "qualified", "name": "Qualified (renamed)", "probability": 0.25}], BEFORE)
    assert kept[0]["id"] == "qualified"
    with pytest.raises(ProblemError) as refused:
        stages(
            [{"name": "A", "probability": 0.5}, {"id": "invented", "name": "X", "probability": 0.5}], BEFORE
        )
    assert [e.field for e in refused.value.errors] == ["stages[1].id"]
    # On a new pipeline every given id is unknown.
    with pytest.raises(ProblemError):
        stages([{"id": "qualified", "name": "Qualified", "probability": 0.2}])


def test_a_pipeline_without_a_currency_counts_in_the_default_one() -> None:
    assert derive(CTX, {"name": "Sales", "stages": []}, None, None)["currency"] == "EUR"
    assert derive(CTX, {"name": "Sales", "stages": [], "currency": "USD"}, None, None)["currency"] == "USD"
