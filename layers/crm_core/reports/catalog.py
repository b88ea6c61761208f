"""The reports: each one's name (its SQL file's), what it shows, how it is best drawn, its parameters.

API.md ``reports``: parameters are query strings named ``from``, ``to``, ``owner_id``, ``pipeline_id`` and
``group_by``; a report takes the ones it lists here. Adding a report is its ``sql/<name>.sql`` and an entry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Chart = Literal["bar", "line", "pie", "funnel"]

# Each parameter: its kind (how it is checked) and what it means.
PARAMETERS: dict[str, tuple[str, str]] = {
    "from": ("date", "First day (YYYY-MM-DD, UTC) of the period, inclusive."),
    "to": ("date", "Last day (YYYY-MM-DD, UTC) of the period, inclusive."),
    "owner_id": ("id", "Only the records this user owns."),
    "pipeline_id": ("id", "Only this pipeline's deals."),
    "group_by": ("choice", "What the rows are per."),
}


@dataclass(frozen=True)
class Report:
    name: str
    title: str
    description: str
    chart: Chart
    params: tuple[str, ...]
    group_by: tuple[str, ...] = ()  # its choices, the first the default
    # The row's fields a chart draws: the label, then the values.
    label: str = ""
    values: tuple[str, ...] = field(default=())
    # Only admins read it (the tenant's metered use is its bill: API.md "usage", docs/decisions/0026).
    admin_only: bool = False


REPORTS: tuple[Report, ...] = (
    Report(
        "pipeline",
        "Pipeline",
        "Deals in each stage: how many, their amount, and their amount weighted by the stage's probability. "
        "`from` and `to` filter on the deals' close date.",
        "bar",
        ("from", "to", "owner_id", "pipeline_id"),
        label="stage_name",
        values=("amount", "weighted_amount"),
    ),
    Report(
        "forecast",
        "Forecast",
        "Per month of close date: the open deals' amount, weighted by their stage's probability, beside the "
        "amount already won. `from` and `to` filter on the close date.",
        "line",
        ("from", "to", "owner_id", "pipeline_id"),
        label="period",
        values=("weighted_amount", "won_amount"),
    ),
    Report(
        "win-rate",
        "Win rate",
        "Deals closed between `from` and `to` (the day they closed), won and lost, per owner or pipeline.",
        "bar",
        ("from", "to", "owner_id", "pipeline_id", "group_by"),
        group_by=("owner", "pipeline"),
        label="group_id",
        values=("win_rate",),
    ),
    Report(
        "sales-velocity",
        "Sales velocity",
        "Open deals x average won amount x win rate / average days to win: the revenue the pipeline makes "
        "a day, from the deals closed between `from` and `to` and the deals open now.",
        "bar",
        ("from", "to", "owner_id", "pipeline_id"),
        label="",
        values=("velocity_per_day",),
    ),
    Report(
        "activities",
        "Activities",
        "Activities created between `from` and `to`, per type or owner: how many, how many completed.",
        "bar",
        ("from", "to", "owner_id", "group_by"),
        group_by=("type", "owner"),
        label="group_id",
        values=("completed", "open"),
    ),
    Report(
        "lifecycle-funnel",
        "Lifecycle funnel",
        "Contacts at each lifecycle stage, in the funnel's order, and how many reached it (at it or later). "
        "`from` and `to` filter on when the contacts were created.",
        "funnel",
        ("from", "to", "owner_id"),
        label="stage",
        values=("reached",),
    ),
    Report(
        "customer-value",
        "Customer value",
        "Per company: lifetime won revenue, recency (days since its last won deal), frequency (won deals) "
        "and a tier: A for the companies making the first 80 % of won revenue, B the next 15 %, C the rest.",
        "bar",
        ("owner_id",),
        label="company_id",
        values=("revenue",),
    ),
    Report(
        "csat",
        "Customer satisfaction",
        "Satisfaction surveys of resolved tickets answered between `from` and `to`, per month: answers, "
        "average score (1-5), satisfied (4-5) and the CSAT score (satisfied share, %). A survey answered "
        "twice counts its latest answer.",
        "bar",
        ("from", "to"),
        label="period",
        values=("csat",),
    ),
    Report(
        "nps",
        "Net promoter score",
        "Relationship surveys (0-10) answered between `from` and `to`, per month or per campaign: "
        "promoters (9-10), passives (7-8), detractors (0-6) and the NPS (promoters' minus detractors' share, "
        "in points). A survey answered twice counts its latest answer.",
        "bar",
        ("from", "to", "group_by"),
        group_by=("month", "campaign"),
        label="group_id",
        values=("nps",),
    ),
    Report(
        "campaigns",
        "Campaigns",
        "Per campaign with emails in the period (`from`, `to`): recipients, sent, delivered, bounced, "
        "opened, clicked, unsubscribed, converted and revenue, and the open and click rates of what was "
        "delivered.",
        "bar",
        ("from", "to"),
        label="campaign_id",
        values=("sent", "opened", "clicked"),
    ),
    Report(
        "tickets",
        "Tickets",
        "Tickets created between `from` and `to`, per priority, status, assignee or day of creation: how "
        "many, how many of them are resolved and still open, and the median minutes to the first public "
        "reply and to the resolution. `owner_id` keeps one assignee's tickets.",
        "bar",
        ("from", "to", "owner_id", "group_by"),
        group_by=("priority", "status", "assignee", "day"),
        label="group_id",
        values=("created", "resolved"),
    ),
    Report(
        "sla",
        "SLA",
        "Tickets created between `from` and `to` that an SLA policy applies to, per priority: first "
        "responses and resolutions that met their due time, and those that breached it.",
        "bar",
        ("from", "to"),
        label="priority",
        values=("met", "breached"),
    ),
    Report(
        "usage",
        "Usage",
        "The tenant's metered use per UTC day between `from` and `to`: API calls, the DynamoDB read and "
        "write units they consumed, events published, emails sent and storage (as /v1/usage answers it). "
        "Admins only.",
        "line",
        ("from", "to"),
        label="date",
        values=("api_calls", "events", "emails"),
        admin_only=True,
    ),
)
# Revenue (contracts: docs/decisions/0030): amounts are per currency, never summed across currencies.
REPORTS += (
    Report(
        "bookings",
        "Bookings",
        "Contract value booked per month of its start date, owner and currency: contracts that are not "
        "drafts (a renewal is a booking of its own). `from` and `to` filter on the start date.",
        "bar",
        ("from", "to", "owner_id"),
        label="period",
        values=("value",),
    ),
    Report(
        "receivables-aging",
        "Receivables aging",
        "What is unpaid of the instalments of contracts that are not drafts, per currency and age bucket: "
        "`current` (not yet due), `1-30`, `31-60`, `61-90` and `90+` days past due on `to` (today by "
        "default).",
        "bar",
        ("to", "owner_id"),
        label="bucket",
        values=("outstanding",),
    ),
    Report(
        "renewals",
        "Renewals",
        "Contracts ending per month of their end date and currency (active or expired, not terminated): how "
        "many, their value, and how many are renewed. `from` and `to` filter on the end date.",
        "line",
        ("from", "to", "owner_id"),
        label="period",
        values=("value",),
    ),
    Report(
        "product-revenue",
        "Revenue per product",
        "Per product and currency, the quotes accepted between `from` and `to` (the day they were "
        "accepted): quantity, net revenue (line amounts after discount, before tax) and how many quotes.",
        "bar",
        ("from", "to", "owner_id"),
        label="product_id",
        values=("revenue",),
    ),
)
BY_NAME: dict[str, Report] = {report.name: report for report in REPORTS}
