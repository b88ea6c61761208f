"""Which events an update of a deal or an activity publishes, from the record before and after it."""

from __future__ import annotations

from typing import Any

import pytest
from crm_core.services import activities, deals

OPEN = {"pipeline_id": "P1", "stage_id": "qualified", "status": "open", "name": "Engines"}


@pytest.mark.parametrize(
    ("after", "events"),
    [
        ({**OPEN, "name": "Engines, renewed"}, ["updated"]),
        ({**OPEN, "amount": "10.00"}, ["updated"]),
        ({**OPEN, "stage_id": "proposal"}, ["stage_changed"]),
        ({**OPEN, "stage_id": "won", "status": "won"}, ["stage_changed", "won"]),
        ({**OPEN, "stage_id": "lost", "status": "lost"}, ["stage_changed", "lost"]),
        # Another pipeline's stage of the same id is a change of stage all the same.
        ({**OPEN, "pipeline_id": "P2"}, ["stage_changed"]),
    ],
    ids=["renamed", "amount", "moved", "won", "lost", "other-pipeline"],
)
def test_a_deal_update_says_what_happened_to_the_deal(after: dict[str, Any], events: list[str]) -> None:
    assert deals.update_events(OPEN, after) == events


def test_a_closed_deal_moved_between_closing_stages_of_one_status_is_not_won_twice() -> None:
    won = {**OPEN, "stage_id": "won", "status": "won"}
    assert deals.update_events(won, {**won, "stage_id": "won-by-partner"}) == ["stage_changed"]
    assert deals.update_events(won, {**won, "stage_id": "lost", "status": "lost"}) == [
        "stage_changed",
        "lost",
    ]


def test_a_reopened_deal_only_changes_stage() -> None:
    lost = {**OPEN, "stage_id": "lost", "status": "lost"}
    assert deals.update_events(lost, OPEN) == ["stage_changed"]


TASK = {"type": "task", "subject": "Send the contract"}


@pytest.mark.parametrize(
    ("before", "after", "events"),
    [
        (TASK, {**TASK, "subject": "Send it"}, ["updated"]),
        (TASK, {**TASK, "completed_at": "2026-03-01T00:00:00.000Z"}, ["completed"]),
        # Completed already: a later change (even of the completion time) is an update.
        (
            {**TASK, "completed_at": "2026-03-01T00:00:00.000Z"},
            {**TASK, "completed_at": "2026-03-02T00:00:00.000Z"},
            ["updated"],
        ),
        ({**TASK, "completed_at": "2026-03-01T00:00:00.000Z"}, TASK, ["updated"]),  # reopened
    ],
    ids=["edited", "completed", "completed-again", "reopened"],
)
def test_an_activity_update_is_a_completion_only_when_it_completes_it(
    before: dict[str, Any], after: dict[str, Any], events: list[str]
) -> None:
    assert activities.update_events(before, after) == events
