"""The pipeline board: a deal dragged (mouse) to the next column is saved there; a stale move is shown."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import sign_in
from tests.support.client import ApiClient
from tests.support.waiting import eventually


def draggable(page: Page) -> None:
    """The board is drawn before its drag and drop (a chunk of its own) has loaded: wait for it."""
    expect(page.get_by_test_id("board")).to_have_attribute("data-dnd", "ready")


def drag(page: Page, item: Locator, target: Locator) -> None:
    """A mouse drag as a person does it: press, move in steps (past dnd-kit's 5 px start), release."""
    draggable(page)
    start, end = item.bounding_box(), target.bounding_box()
    assert start and end
    x, y = start["x"] + start["width"] / 2, start["y"] + start["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 10, y + 10, steps=3)
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + 40, steps=15)
    page.mouse.up()


def board_setup(client: ApiClient) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    (pipeline,) = client.get("/v1/pipelines").json()["items"]
    stages = [stage for stage in pipeline["stages"] if stage["kind"] == "open"]
    deal = client.create(
        "deals",
        {
            "name": "Rollout Nordics",
            "pipeline_id": pipeline["id"],
            "stage_id": stages[0]["id"],
            "amount": "12500.00",
        },
    )
    return stages, deal


def test_drag_a_deal_to_the_next_stage(page: Page, base_url: str, client: ApiClient) -> None:
    stages, deal = board_setup(client)
    sign_in(page, base_url, client, "/deals")
    first = page.get_by_role("region", name=stages[0]["name"])
    second = page.get_by_role("region", name=stages[1]["name"])
    card = first.get_by_test_id("deal-card").filter(has_text="Rollout Nordics")
    # The column's count and total in the user's locale (en-US here; the pipeline's currency is EUR).
    expect(first.get_by_label("1 deals")).to_be_visible()
    expect(first.get_by_test_id("stage-total")).to_have_text("€12,500.00")

    drag(page, card, second)

    expect(second.get_by_test_id("deal-card").filter(has_text="Rollout Nordics")).to_be_visible()
    saved = eventually(
        lambda: (d := client.get(f"/v1/deals/{deal['id']}").json())["stage_id"] == stages[1]["id"] and d
    )
    assert saved, "the move never reached the API"
    assert saved["version"] == deal["version"] + 1
    expect(second.get_by_test_id("stage-total")).to_have_text("€12,500.00")
    expect(first.get_by_test_id("stage-total")).to_have_text("€0.00")


def test_a_move_of_a_stale_deal_is_shown_and_can_be_redone(
    page: Page, base_url: str, client: ApiClient
) -> None:
    stages, deal = board_setup(client)
    sign_in(page, base_url, client, "/deals")
    first = page.get_by_role("region", name=stages[0]["name"])
    second = page.get_by_role("region", name=stages[1]["name"])
    card = first.get_by_test_id("deal-card").filter(has_text="Rollout Nordics")
    expect(card).to_be_visible()
    # Someone else changes the deal after the board was read.
    changed = client.patch(f"/v1/deals/{deal['id']}", {"amount": "13000.00"}).json()

    drag(page, card, second)

    conflict = page.get_by_test_id("move-conflict")
    expect(conflict).to_contain_text("was not moved to " + stages[1]["name"])
    assert client.get(f"/v1/deals/{deal['id']}").json()["stage_id"] == stages[0]["id"]
    expect(first.get_by_test_id("deal-card").filter(has_text="Rollout Nordics")).to_be_visible()

    conflict.get_by_role("button", name=f"Move it to {stages[1]['name']} anyway").click()
    expect(second.get_by_test_id("deal-card").filter(has_text="Rollout Nordics")).to_be_visible()
    saved = eventually(
        lambda: (d := client.get(f"/v1/deals/{deal['id']}").json())["stage_id"] == stages[1]["id"] and d
    )
    assert saved, "the redone move never reached the API"
    assert saved["amount"] == changed["amount"], "the other change was kept"


def test_move_a_deal_by_keyboard(page: Page, base_url: str, client: ApiClient) -> None:
    stages, deal = board_setup(client)
    sign_in(page, base_url, client, "/deals")
    card = page.get_by_role("region", name=stages[0]["name"]).get_by_test_id("deal-card")
    expect(card).to_be_visible()
    draggable(page)
    card.focus()
    page.keyboard.press("Space")
    expect(card).to_have_attribute("aria-pressed", "true")  # picked up
    # At a person's pace: dnd-kit finds the column under the deal after each move, before the drop reads it.
    for key in ("ArrowRight", "ArrowRight", "Space"):
        page.keyboard.press(key)
        page.wait_for_timeout(250)
    third = page.get_by_role("region", name=stages[2]["name"])
    expect(third.get_by_test_id("deal-card").filter(has_text="Rollout Nordics")).to_be_visible()
    saved = eventually(lambda: client.get(f"/v1/deals/{deal['id']}").json()["stage_id"] == stages[2]["id"])
    assert saved, "the keyboard move never reached the API"
