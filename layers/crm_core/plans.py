"""Plans and their quotas (API.md section 6): what a tenant may use, set by the operator, enforced by the
application plane.

- ``requests_per_minute``: rate_limits.py, from the authorizer's read of the tenant (every request);
- ``seats``: active users (a user created or activated beyond it is refused), services/users.py;
- ``contacts``: active contacts (a create, batch create, import row or lead beyond it is refused),
  services/records (``ObjectSpec.quota``);
- ``emails_per_month``: campaign emails in a calendar month (UTC); the sender claims no recipient beyond
  it (services/campaign_sends.py).

A tenant's quotas are its plan's, each replaced by the operator's override when set (a ``custom`` plan
sets all four). The application plane reads them from the tenant item, kept per function container for
``CACHE_SECONDS``: a plan change reaches every container within that (docs/decisions/0028).

A refusal is ``403`` with the problem type ``/problems/quota-exceeded`` naming the quota (``quota``), its
``limit`` and what is ``used``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass
from typing import Any

from crm_core.errors import FieldError, ProblemError

CACHE_SECONDS = 60.0
CUSTOM = "custom"


@dataclass(frozen=True)
class Quotas:
    requests_per_minute: int
    seats: int
    contacts: int
    emails_per_month: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


# Free is generous (a CRM's free tier is how a tenant starts: HubSpot's has unlimited users); the paid
# plans are where the rate, a sales floor's seats and a marketing list's size are.
PLANS: dict[str, Quotas] = {
    "free": Quotas(requests_per_minute=600, seats=10, contacts=25_000, emails_per_month=10_000),
    "team": Quotas(requests_per_minute=3_000, seats=50, contacts=250_000, emails_per_month=100_000),
    "business": Quotas(requests_per_minute=20_000, seats=500, contacts=5_000_000, emails_per_month=1_000_000),
}
# Names tenants were given before plans had quotas: read as the plan that replaced them.
LEGACY_NAMES = {"standard": "team", "enterprise": "business"}
PLAN_NAMES = (*PLANS, CUSTOM)

# The tenant item's attribute of each override (rate_limit_per_minute predates the others).
OVERRIDES = {
    "requests_per_minute": "rate_limit_per_minute",
    "seats": "seat_limit",
    "contacts": "contact_limit",
    "emails_per_month": "email_limit",
}


def base_quotas(plan: str) -> Quotas:
    """A plan's own quotas (a custom plan starts from the free one's; an unknown name is free)."""
    return PLANS.get(LEGACY_NAMES.get(plan, plan), PLANS["free"])


def quotas_of(tenant: Any) -> Quotas:
    """The tenant item's quotas: its plan's, with the operator's overrides; a missing tenant's are free."""
    if tenant is None:
        return PLANS["free"]
    base = base_quotas(str(tenant.plan or "free")).as_dict()
    for quota, attribute in OVERRIDES.items():
        value = getattr(tenant, attribute, None)
        if value:
            base[quota] = int(value)
    return Quotas(**base)


_cache: dict[str, tuple[float, Quotas, str]] = {}
_lock = threading.Lock()


def _cached(tenant_id: str) -> tuple[Quotas, str | None]:
    """The tenant's quotas and status (``None``: no such tenant), read (one GetItem) at most once per
    ``CACHE_SECONDS`` per container."""
    now = time.monotonic()
    with _lock:
        cached = _cache.get(tenant_id)
    if cached is not None and now - cached[0] < CACHE_SECONDS:
        return cached[1], cached[2]
    from crm_core.repositories import tenant_repository

    tenant = tenant_repository.get_tenant(tenant_id)
    quotas = quotas_of(tenant)
    if tenant is None:  # a tenant being created is read again once it exists
        return quotas, None
    status = str(tenant.status or "active")
    with _lock:
        _cache[tenant_id] = (now, quotas, status)
    return quotas, status


def tenant_quotas(tenant_id: str) -> Quotas:
    """The tenant's quotas, read (one GetItem) at most once per ``CACHE_SECONDS`` per container."""
    return _cached(tenant_id)[0]


def tenant_status(tenant_id: str) -> str | None:
    """``active``, ``suspended`` or ``deleting`` (None: no such tenant), from the same cached read as the
    quotas: the background workers' check that a suspended tenant's work waits (services/paused_work.py)."""
    return _cached(tenant_id)[1]


def forget(tenant_id: str) -> None:
    """This container reads the tenant's quotas and status afresh next time (after the operator changed them
    here)."""
    with _lock:
        _cache.pop(tenant_id, None)


def quota_exceeded(
    quota: str, limit: int, used: int, detail: str, field_name: str | None = None
) -> ProblemError:
    """The plan's ``quota`` does not allow what was asked: 403 ``/problems/quota-exceeded``."""
    errors = [FieldError(field_name, detail)] if field_name else []
    return ProblemError(403, "Quota Exceeded", detail, errors, {"quota": quota, "limit": limit, "used": used})


def require_room(quota: str, limit: int, used: int, adding: int = 1, *, what: str) -> None:
    """``adding`` more of ``what`` fit within ``limit`` given ``used``; else the quota's problem."""
    if used + adding > limit:
        raise quota_exceeded(
            quota,
            limit,
            used,
            f"The tenant's plan allows {limit} {what}; it has {used}. Ask the operator for a larger plan.",
        )
