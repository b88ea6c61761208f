"""The audit trail's items: one per write, keyed for its three ways in (docs/data-model.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from crm_core.config import settings
from crm_core.repositories import keys
from crm_core.repositories.table import AuditItem

DAY_S = 86_400


def audit_item(
    tenant_id: str,
    *,
    audit_id: str,
    occurred_at: str,
    actor: dict[str, Any],
    actions: list[str],
    object_type: str,
    object_id: str,
    changes: dict[str, Any],
    request_id: str | None,
    source_ip: str | None,
) -> AuditItem:
    """The audit item of one write. Everything in it, its expiry included, follows from its arguments: the
    same write audited twice (by its request and by the relay) is the same item."""
    sk = keys.audit_sk(occurred_at, audit_id)
    actor_id = str(actor.get("id") or "")
    return AuditItem(
        keys.audit_pk(tenant_id, object_id),
        sk,
        id=audit_id,
        occurred_at=occurred_at,
        actor_id=actor_id,
        actor=actor,
        actions=actions,
        object={"type": object_type, "id": object_id},
        changes=changes,
        request_id=request_id,
        source_ip=source_ip,
        expires_at=expiry(occurred_at),
        GSI1PK=keys.audit_trail_pk(tenant_id),
        GSI1SK=sk,
        GSI3PK=keys.audit_actor_pk(tenant_id, actor_id),
        GSI3SK=sk,
    )


def expiry(occurred_at: str) -> int:
    """When the TTL deletes an audit item written at ``occurred_at`` (epoch seconds)."""
    written = datetime.fromisoformat(occurred_at.replace("Z", "+00:00"))
    return int(written.timestamp()) + settings().audit_retention_days * DAY_S
