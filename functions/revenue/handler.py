"""The revenue function: products, quotes, contracts and the payments received against them (API.md
section 3)."""

from typing import TYPE_CHECKING, Any

from crm_core.coldstart import long_lived_imports

with long_lived_imports():
    # The table's models (pynamodb, botocore) first, as in every function.
    import crm_core.repositories.table  # noqa: F401
    from crm_core.http.app import build_app, logger, serve

    # Each routes module is imported by the first request to its path (crm_core.http.app.ApiResolver).
    app = build_app(
        {
            "/v1/products": "functions.revenue.products_routes",
            "/v1/quotes": "functions.revenue.quotes_routes",
            "/v1/contracts": "functions.revenue.contracts_routes",
            "/v1/payments": "functions.revenue.payments_routes",
        }
    )

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: "LambdaContext") -> dict[str, Any]:
    return serve(app, event, context)
