"""The tenant's metered use per UTC day (API.md ``usage``, docs/decisions/0026): the ``usage`` report's
rows, one per day of the range, with the days that have none filled in as zeros. Admins only."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from crm_core.context import RequestContext
from crm_core.errors import FieldError, validation_failed
from crm_core.ids import days_after
from crm_core.services import reports

MAX_DAYS = 92  # a bounded range: about a quarter a request
DEFAULT_DAYS = 30
FIELDS = ("api_calls", "read_units", "write_units", "events", "emails", "storage_bytes")


def _day(name: str, text: str | None, errors: list[FieldError]) -> date | None:
    if text is None:
        return None
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
    except ValueError:
        pass
    errors.append(FieldError(name, "must be a date, YYYY-MM-DD"))
    return None


def daily_usage(ctx: RequestContext, query: Mapping[str, str]) -> dict[str, Any]:
    errors: list[FieldError] = []
    first, last = _day("from", query.get("from"), errors), _day("to", query.get("to"), errors)
    if errors:
        raise validation_failed(errors)
    today = datetime.now(UTC).date()
    # The default span stops at the calendar's ends.
    last = last or (min(today, days_after(first, DEFAULT_DAYS - 1) or date.max) if first else today)
    first = first or days_after(last, 1 - DEFAULT_DAYS) or date.min
    if first > last:
        raise validation_failed([FieldError("to", "must not be before from")])
    if (last - first).days + 1 > MAX_DAYS:
        raise validation_failed([FieldError("to", f"must be at most {MAX_DAYS} days after from, inclusive")])
    answer = reports.run_report(ctx, "usage", {"from": first.isoformat(), "to": last.isoformat()})
    by_day = {row["date"]: row for row in answer["rows"]}
    items = []
    for offset in range((last - first).days + 1):
        day = (first + timedelta(days=offset)).isoformat()
        row = by_day.get(day, {})
        items.append({"date": day, **{name: row.get(name) or 0 for name in FIELDS}})
    first_day, last_day = first.isoformat(), last.isoformat()
    return {"from": first_day, "to": last_day, "items": items, "data_as_of": answer["data_as_of"]}
