"""Columns of an import that name another record the way a spreadsheet does, rather than by its id: a
deal's ``pipeline`` and ``stage`` by name (the stage within the row's pipeline: the one its ``pipeline``
column names, else the tenant's default), its company by domain (``company_domain``) and its contact by
email (``contact_email``); a contact's company by domain. Each becomes the id field an API write takes
(``pipeline_id``, ``stage_id``, ``company_id``, ``contact_ids``) before the row is validated; a name that
matches nothing fails the row (422 naming the column's field). A chunk looks its names up together: the
tenant's pipelines once (one page: a tenant has a few), the companies' and contacts' unique markers in
one ``BatchGetItem`` per 100 values.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from crm_core.context import RequestContext
from crm_core.errors import ProblemError, invalid_field
from crm_core.models.company import normalize_domain
from crm_core.repositories import keys
from crm_core.repositories import record_repository as repo
from crm_core.repositories.table import UniqueMarker

# By the object imported: each reference column and the field it fills.
REFERENCE_COLUMNS: dict[str, dict[str, str]] = {
    "deal": {
        "pipeline": "pipeline_id",
        "stage": "stage_id",
        "company_domain": "company_id",
        "contact_email": "contact_ids",
    },
    "contact": {"company_domain": "company_id"},
}
MAX_PIPELINES = 100  # one page of the tenant's pipelines


def reference_fields(object_type: str) -> list[str]:
    return list(REFERENCE_COLUMNS.get(object_type, {}))


def resolve(
    ctx: RequestContext, object_type: str, rows: dict[int, dict[str, Any]]
) -> dict[int, ProblemError]:
    """Each row's reference columns replaced, in ``rows``, by the ids they name; the rows with a name that
    matches nothing, with the problem that fails them."""
    columns = REFERENCE_COLUMNS.get(object_type, {})
    if not any(name in fields for fields in rows.values() for name in columns):
        return {}
    companies = _owners(ctx, "company", "domain", normalize_domain, rows, "company_domain")
    contacts = _owners(ctx, "contact", "email", lambda v: v.strip().lower(), rows, "contact_email")
    pipelines = _pipelines(ctx) if any("pipeline" in f or "stage" in f for f in rows.values()) else []
    problems: dict[int, ProblemError] = {}
    for number, fields in rows.items():
        try:
            _resolve_row(ctx, fields, companies, contacts, pipelines)
        except ProblemError as problem:
            problems[number] = problem
    return problems


def _resolve_row(
    ctx: RequestContext,
    fields: dict[str, Any],
    companies: dict[str, str],
    contacts: dict[str, str],
    pipelines: list[dict[str, Any]],
) -> None:
    if "company_domain" in fields:
        domain = fields.pop("company_domain")
        try:
            company_id = companies.get(normalize_domain(domain))
        except ValueError:
            raise invalid_field("company_domain", "is not a valid domain name") from None
        if company_id is None:
            raise invalid_field("company_domain", f"no company has the domain {domain!r}")
        fields.setdefault("company_id", company_id)
    if "contact_email" in fields:
        email = fields.pop("contact_email")
        contact_id = contacts.get(email.strip().lower())
        if contact_id is None:
            raise invalid_field("contact_email", f"no contact has the email {email!r}")
        fields.setdefault("contact_ids", [contact_id])
    pipeline: dict[str, Any] | None = None
    if "pipeline" in fields:
        name = fields.pop("pipeline")
        pipeline = next((p for p in pipelines if _same(p.get("name"), name) or p["id"] == name), None)
        if pipeline is None:
            known = ", ".join(repr(p.get("name")) for p in pipelines)
            raise invalid_field("pipeline", f"no pipeline is named {name!r}; the pipelines: {known}")
        fields.setdefault("pipeline_id", pipeline["id"])
    if "stage" in fields:
        name = fields.pop("stage")
        if pipeline is None:
            from crm_core.services.deals import default_pipeline_id

            pipeline_id = fields.get("pipeline_id") or default_pipeline_id(ctx)
            pipeline = next((p for p in pipelines if p["id"] == pipeline_id), None)
        if pipeline is None:
            raise invalid_field("stage", "no pipeline to find the stage in: give a pipeline column")
        stages = pipeline.get("stages") or []
        stage = next((s for s in stages if _same(s.get("name"), name) or s.get("id") == name), None)
        if stage is None:
            known = ", ".join(repr(s.get("name")) for s in stages)
            raise invalid_field(
                "stage", f"no stage is named {name!r} in the pipeline {pipeline.get('name')!r}: {known}"
            )
        fields.setdefault("stage_id", stage["id"])


def _same(a: Any, b: str) -> bool:
    return isinstance(a, str) and " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def _owners(
    ctx: RequestContext,
    object_type: str,
    field_name: str,
    normalize: Callable[[str], str],
    rows: dict[int, dict[str, Any]],
    column: str,
) -> dict[str, str]:
    """The records that hold the unique values a column names, by value: one BatchGetItem per 100."""
    values: set[str] = set()
    for fields in rows.values():
        if isinstance(fields.get(column), str):
            try:
                values.add(normalize(fields[column]))
            except ValueError:
                continue  # not a valid value: its row fails on it
    pks = {keys.unique_pk(ctx.tenant_id, object_type, field_name, value): value for value in sorted(values)}
    if not pks:
        return {}
    return {
        pks[item.PK]: item.record_id
        for item in repo.get_items([(pk, keys.UNIQUE_SK) for pk in pks], consistent=True)
        if isinstance(item, UniqueMarker) and item.PK in pks and item.record_id
    }


def _pipelines(ctx: RequestContext) -> list[dict[str, Any]]:
    from crm_core.record_types import record_type

    service = record_type("pipeline").record_service()
    page = service.list_records(ctx, filters={}, q=None, archived=False, limit=MAX_PIPELINES, cursor=None)
    return [dict(body) for body in page.items]
