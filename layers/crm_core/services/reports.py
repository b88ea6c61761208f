"""Reports (API.md ``reports``): the list, and one report's rows for the caller's tenant.

A report runs its SQL (crm_core.reports.engine) over the tenant's analytics files only: the tenant is the
credential's, never a parameter. ``data_as_of`` is the newest change the tenant's files hold (read from
their names). Answers are kept per tenant, report and parameters until the tenant's files change (another
list of keys and ETags: new data landed, or a compaction): a repeated request costs one ListObjectsV2.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
from datetime import date
from typing import Any

from crm_core.auth import Role
from crm_core.context import RequestContext
from crm_core.errors import FieldError, ProblemError, forbidden, validation_failed
from crm_core.models.common import ULID_PATTERN
from crm_core.reports import store
from crm_core.reports.catalog import BY_NAME, PARAMETERS, REPORTS, Report

CACHE_SIZE = 256  # answers kept per container
_ID = re.compile(ULID_PATTERN)
_cache: OrderedDict[tuple[str, str, tuple[tuple[str, Any], ...]], tuple[Any, dict[str, Any]]] = OrderedDict()
_cache_lock = threading.Lock()


def described(report: Report) -> dict[str, Any]:
    params = []
    for name in report.params:
        kind, description = PARAMETERS[name]
        param: dict[str, Any] = {"name": name, "type": kind, "description": description}
        if name == "group_by":
            param.update(choices=list(report.group_by), default=report.group_by[0])
        params.append(param)
    return {
        "name": report.name,
        "title": report.title,
        "description": report.description,
        "chart": report.chart,
        "label": report.label or None,
        "values": list(report.values),
        "params": params,
    }


def may_read(ctx: RequestContext, report: Report) -> bool:
    return not report.admin_only or ctx.principal.role == Role.ADMIN


def list_reports(ctx: RequestContext) -> list[dict[str, Any]]:
    """The reports the caller may read (the usage report is an admin's)."""
    return [described(report) for report in REPORTS if may_read(ctx, report)]


def not_a_report(name: str) -> ProblemError:
    return ProblemError(404, "Not Found", f"No report named {name!r}.")


def parameters(report: Report, query: Mapping[str, str]) -> dict[str, Any]:
    """The report's parameters from the query string, each checked (422 naming every bad one)."""
    errors: list[FieldError] = []
    values: dict[str, Any] = {name: None for name in report.params}
    for name, text in query.items():
        if name not in report.params:
            errors.append(FieldError(name, f"the {report.name} report takes no such parameter"))
            continue
        kind = PARAMETERS[name][0]
        if kind == "date":
            try:
                values[name] = date.fromisoformat(text).isoformat() if len(text) == 10 else None
            except ValueError:
                values[name] = None
            if values[name] is None:
                errors.append(FieldError(name, "must be a date, YYYY-MM-DD"))
        elif kind == "id":
            if not _ID.match(text):
                errors.append(FieldError(name, "must be an id"))
            values[name] = text
        elif text not in report.group_by:
            errors.append(FieldError(name, f"must be one of {', '.join(report.group_by)}"))
        else:
            values[name] = text
    if values.get("from") and values.get("to") and values["from"] > values["to"]:
        errors.append(FieldError("to", "must not be before from"))
    if errors:
        raise validation_failed(errors)
    if "group_by" in values and values["group_by"] is None:
        values["group_by"] = report.group_by[0]
    return values


def run_report(ctx: RequestContext, name: str, query: Mapping[str, str]) -> dict[str, Any]:
    from crm_core.reports.engine import engine, reads

    report = BY_NAME.get(name)
    if report is None:
        raise not_a_report(name)
    if not may_read(ctx, report):
        raise forbidden(f"Only an admin can read the {name} report.")
    params = parameters(report, query)
    # The files of the objects it reads: another object's new files neither change its answer nor
    # its data_as_of.
    files = [f for f in store.tenant_files(ctx.tenant_id) if f.object in reads(name)]
    fingerprint = tuple(sorted((f.key, f.etag) for f in files))
    key = (ctx.tenant_id, name, tuple(sorted(params.items())))
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None and cached[0] == fingerprint:
            _cache.move_to_end(key)
            return cached[1]
    answer = {
        "name": name,
        "params": params,
        "rows": engine().run(ctx.tenant_id, name, params, files),
        "data_as_of": max((f.newest_text for f in files), default=None),
    }
    with _cache_lock:
        _cache[key] = (fingerprint, answer)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return answer
