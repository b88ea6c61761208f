"""What a product is made of: a SKU unique in the tenant, prices per currency, a tax rate."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, Field, StringConstraints, field_validator

from crm_core.models.common import ShortText, StrictModel, record_model
from crm_core.models.deal import Amount
from crm_core.money import iso_currency

MAX_PRICES = 50  # one per currency


def _fraction(value: Decimal) -> Decimal:
    if not value.is_finite() or value < 0 or value > 1:
        raise ValueError("must be a decimal fraction from 0 to 1 (0.2 is 20%)")
    if -value.as_tuple().exponent > 6:  # type: ignore[operator]
        raise ValueError("has more than 6 decimal places")
    return abs(value) if value.is_zero() else Decimal(format(value, "f"))


# A share of an amount, 0 to 1 (a tax rate, a discount): a decimal string or a JSON number, kept exactly.
Fraction = Annotated[Decimal, AfterValidator(_fraction)]
CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$"), AfterValidator(iso_currency)]
Sku = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")]


class Price(StrictModel):
    currency: CurrencyCode
    unit_price: Amount = Field(description="A decimal string (or a JSON number), answered as a string.")


class ProductFields(StrictModel):
    sku: Sku | None = Field(
        None,
        description="Unique in the tenant, without regard to case: a second one is 409 with existing_id.",
    )
    name: ShortText | None = None
    description: Annotated[str, StringConstraints(max_length=2000)] | None = None
    prices: Annotated[list[Price], Field(max_length=MAX_PRICES)] | None = Field(
        None, description="At most one price per currency (ISO 4217)."
    )
    tax_rate: Fraction | None = Field(None, description="A decimal fraction: 0.2 is 20%. None: no tax.")
    active: bool | None = Field(None, description="An inactive product is not offered on new quote lines.")

    @field_validator("prices")
    @classmethod
    def _one_per_currency(cls, prices: list[Price] | None) -> list[Price] | None:
        seen: set[str] = set()
        for price in prices or []:
            if price.currency in seen:
                raise ValueError(f"two prices in {price.currency}: at most one per currency")
            seen.add(price.currency)
        return prices


class ProductCreate(ProductFields):
    sku: Sku
    name: ShortText


class ProductUpdate(ProductFields):
    """Every field optional; a field sent as null is cleared (active back to true)."""


PRODUCT_DEFAULTS: dict[str, object] = {
    "sku": None,
    "name": None,
    "description": None,
    "prices": [],
    "tax_rate": None,
    "active": True,
}

Product = record_model("Product", ProductFields)
EXAMPLE_ID = "01JHC1PR0D0CT0000000000001"
EXAMPLE: dict[str, Any] = {
    "sku": "ENG-100",
    "name": "Engine service plan",
    "description": "A year of engine service.",
    "prices": [{"currency": "EUR", "unit_price": "1250.00"}, {"currency": "USD", "unit_price": "1350.00"}],
    "tax_rate": "0.2",
    "active": True,
}
EXAMPLE_UPDATE: tuple[str, Any] = ("name", "Engine service plan (2 years)")


def example_input(n: int) -> dict[str, Any]:
    """A create body; ``n`` makes its SKU unique."""
    return {
        "sku": f"SKU-{n}",
        "name": f"Example product {n}",
        "prices": [{"currency": "EUR", "unit_price": "100.00"}],
        "tax_rate": "0.2",
    }
