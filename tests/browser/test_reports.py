"""The Reports page: the report list, a report's parameters, its chart and rows; another report drawn as a
line; no serious accessibility violation (axe)."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in
from tests.browser.test_accessibility import serious_violations
from tests.browser.test_phone import scrolls_sideways
from tests.support.client import ApiClient
from tests.support.waiting import eventually


def test_reports_page_draws_each_report_with_its_parameters(
    page: Page, base_url: str, client: ApiClient
) -> None:
    (pipeline,) = client.get("/v1/pipelines").json()["items"]
    first, won = pipeline["stages"][0], next(s for s in pipeline["stages"] if s["kind"] == "won")
    client.create("deals", {"name": "Engine", "amount": "1200.00", "close_date": "2030-01-15"})
    client.create(
        "deals", {"name": "Turbine", "amount": "800.00", "close_date": "2030-02-15", "stage_id": won["id"]}
    )

    def exported() -> bool:
        rows = client.get("/v1/reports/pipeline").json()["rows"]
        return sum(row["count"] for row in rows) == 2

    assert eventually(exported, timeout=60), "the deals reached the reports"

    sign_in(page, base_url, client, "/reports")
    expect(page.get_by_role("heading", name="Reports", level=1)).to_be_visible()
    expect(page.get_by_label("Report", exact=True)).to_have_value("pipeline")
    chart = page.get_by_test_id("report-chart")
    expect(chart).to_have_attribute("data-chart", "bar")
    rows = page.get_by_role("table", name="Pipeline rows")
    expect(rows).to_contain_text(first["name"])
    expect(rows).to_contain_text("1,200")
    expect(page.get_by_text("Data as of")).to_be_visible()
    found = {"/reports (pipeline)": serious_violations(page)}

    # Its parameters filter it: a close date range that holds neither deal leaves every stage empty.
    parameters = page.get_by_role("group", name="Parameters")
    parameters.get_by_label("From", exact=True).fill("2031-01-01")
    expect(page).to_have_url(f"{base_url}/reports?from=2031-01-01")
    expect(rows).not_to_contain_text("1,200")

    page.get_by_label("Report", exact=True).select_option("forecast")
    expect(chart).to_have_attribute("data-chart", "line")
    expect(page.get_by_role("table", name="Forecast rows")).to_contain_text("2030-01")
    page.get_by_label("Report", exact=True).select_option("win-rate")
    page.get_by_role("group", name="Parameters").get_by_label("Group by").select_option("pipeline")
    expect(page.get_by_role("table", name="Win rate rows")).to_contain_text(pipeline["id"])
    page.get_by_label("Report", exact=True).select_option("lifecycle-funnel")
    expect(chart).to_have_attribute("data-chart", "funnel")
    found["/reports (funnel)"] = serious_violations(page)
    # The service reports and the tenant's usage are in the list the page draws from the catalog.
    page.get_by_label("Report", exact=True).select_option("tickets")
    expect(page.get_by_role("heading", name="Tickets", level=2)).to_be_visible()
    expect(page.get_by_text("Nothing to show for these parameters.")).to_be_visible()  # no ticket yet
    page.get_by_label("Report", exact=True).select_option("usage")
    expect(chart).to_have_attribute("data-chart", "line")
    expect(page.get_by_role("table", name="Usage rows")).to_contain_text("api calls")  # this test's own
    found["/reports (usage)"] = serious_violations(page)
    assert not any(found.values()), found


def test_reports_page_at_phone_width(phone: Page, base_url: str, client: ApiClient) -> None:
    sign_in(phone, base_url, client, "/reports?report=customer-value")
    expect(phone.get_by_label("Report", exact=True)).to_have_value("customer-value")
    expect(phone.get_by_text("Nothing to show for these parameters.")).to_be_visible()  # no company has won
    phone.get_by_label("Report", exact=True).select_option("pipeline")
    expect(phone.get_by_test_id("report-chart")).to_be_visible()
    assert not scrolls_sideways(phone)
