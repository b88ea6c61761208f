"""Reports: /v1/reports (every role reads them)."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from crm_core.http.api_docs import answers
from crm_core.http.app import request_context
from crm_core.http.responses import json_response
from crm_core.models.report import ReportAnswer, ReportList
from crm_core.services import reports

PATH = "/v1/reports"
router = Router()

Text = Annotated[str | None, Query()]


@router.get(
    "/",
    tags=["reports"],
    summary="The reports, with their parameters and how each is drawn",
    description="The reports the caller may read: every role reads them all but `usage`, an admin's.",
    responses=answers(200, ReportList, 403, 422),
)
def list_reports() -> Response[str]:
    return json_response({"items": reports.list_reports(request_context(router))})


@router.get(
    "/<report_name>",
    tags=["reports"],
    summary="A report's rows for the tenant",
    description="Runs the report over the tenant's analytics data (changes reach it within about a minute). "
    "A report takes only the parameters `GET /v1/reports` lists for it: another, or a bad value, is `422` "
    "naming it. An unknown report is `404`.",
    responses=answers(200, ReportAnswer, 403, 404, 422),
)
def get_report(
    report_name: Annotated[str, Path()],
    from_: Annotated[str | None, Query(alias="from", description="First day, YYYY-MM-DD.")] = None,
    to: Annotated[str | None, Query(description="Last day, YYYY-MM-DD.")] = None,
    owner_id: Annotated[str | None, Query(description="Only this user's records.")] = None,
    pipeline_id: Annotated[str | None, Query(description="Only this pipeline's deals.")] = None,
    group_by: Annotated[str | None, Query(description="What the rows are per.")] = None,
) -> Response[str]:
    query = router.current_event.query_string_parameters or {}
    return json_response(reports.run_report(request_context(router), report_name, query))
