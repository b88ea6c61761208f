"""Reports as the API answers them (API.md ``reports``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from crm_core.models.common import Closed


class ReportParameter(Closed):
    name: Literal["from", "to", "owner_id", "pipeline_id", "group_by"]
    type: Literal["date", "id", "choice"]
    description: str
    choices: list[str] | None = Field(None, description="For `group_by`: what the rows may be per.")
    default: str | None = Field(None, description="For `group_by`: what the rows are per when not given.")


class ReportInfo(Closed):
    name: str = Field(description="As `GET /v1/reports/{report_name}` names it.")
    title: str
    description: str
    chart: Literal["bar", "line", "pie", "funnel"] = Field(description="How the report is best drawn.")
    label: str | None = Field(description="The row field that labels a bar, point or slice.")
    values: list[str] = Field(description="The row fields a chart draws.")
    params: list[ReportParameter] = Field(description="The query parameters it takes.")


class ReportList(Closed):
    items: list[ReportInfo]


class ReportAnswer(Closed):
    name: str
    params: dict[str, Any] = Field(
        description="Every parameter the report takes, as applied (null: not given)."
    )
    rows: list[dict[str, Any]] = Field(
        description="The report's rows, in order. Amounts and rates are JSON numbers; times RFC 3339 in UTC."
    )
    data_as_of: str | None = Field(
        description="The newest change the report's data holds (null: nothing exported yet). Changes "
        "reach reports within about a minute of their commit."
    )
