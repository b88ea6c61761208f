"""Companies: the record type, its unique domain and its type-ahead tokens."""

from __future__ import annotations

from typing import Any

from crm_core.errors import invalid_field
from crm_core.models.company import COMPANY_DEFAULTS, CompanyCreate, CompanyUpdate
from crm_core.repositories import tenant_repository
from crm_core.services.records import ObjectSpec, RecordService, normalize_text


def company_tokens(data: dict[str, Any], related: dict[str, Any]) -> list[str]:
    name = normalize_text(data.get("name") or "")
    tokens = [name, *name.split()[1:4]]
    if data.get("domain"):
        tokens.append(data["domain"])
    return list(dict.fromkeys(t[:40] for t in tokens if t))


def company_dedupe_keys(data: dict[str, Any]) -> list[str]:
    name = normalize_text(data.get("name") or "")
    return [f"same_name:{name}"] if name else []


def resolve_references(tenant_id: str, data: dict[str, Any], changed: set[str]) -> dict[str, Any]:
    owner_id = data.get("owner_id")
    if owner_id and "owner_id" in changed and tenant_repository.active_user(tenant_id, owner_id) is None:
        raise invalid_field("owner_id", "no user with this id")
    return {}


COMPANIES = RecordService(
    ObjectSpec(
        object_type="company",
        create_model=CompanyCreate,
        update_model=CompanyUpdate,
        defaults=COMPANY_DEFAULTS,
        tokens=company_tokens,
        dedupe_keys=company_dedupe_keys,
        resolve=resolve_references,
        unique_field="domain",
        normalize_unique=lambda domain: domain.lower(),
        category_field="industry",
    )
)
