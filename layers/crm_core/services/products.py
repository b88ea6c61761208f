"""Products: what quotes sell, by a SKU unique in the tenant, with a price per currency and a tax rate.

The catalogue is managed by managers and admins (a rep or a viewer reads it): a product has no owner, and
its prices are a setting of the sales team rather than anyone's record (docs/decisions/0024).
"""

from __future__ import annotations

from crm_core.auth import Role
from crm_core.context import RequestContext
from crm_core.errors import forbidden
from crm_core.models.product import PRODUCT_DEFAULTS, ProductCreate, ProductUpdate
from crm_core.models.record import RecordFields, RelatedFacts
from crm_core.services.records import ObjectSpec, RecordService, SortKey, normalize_text, text_order


def product_tokens(data: RecordFields, related: RelatedFacts) -> list[str]:
    """Type-ahead prefixes: the SKU, the name, and each next word of the name."""
    name = normalize_text(data.get("name") or "")
    sku = normalize_text(data.get("sku") or "")
    return list(dict.fromkeys(t[:40] for t in [sku, name, *name.split()[1:6]] if t))


class ProductService(RecordService):
    def _require_admin_for_settings(self, ctx: RequestContext) -> None:
        """Managers and admins manage the catalogue; reps and viewers read it."""
        if ctx.principal.role not in (Role.ADMIN, Role.MANAGER) and not ctx.principal.is_system:
            raise forbidden("Only a manager or an admin can change products.")


PRODUCTS = ProductService(
    ObjectSpec(
        object_type="product",
        create_model=ProductCreate,
        update_model=ProductUpdate,
        defaults=PRODUCT_DEFAULTS,
        tokens=product_tokens,
        unique_field="sku",
        sorts=(SortKey("name", 6, lambda data: text_order(data.get("name"))),),
    )
)
