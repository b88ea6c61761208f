"""The contacts function: contacts, companies and custom properties (API.md section 3)."""

from typing import TYPE_CHECKING, Any

from crm_core.coldstart import long_lived_imports

with long_lived_imports():
    # The table's models (pynamodb, botocore) first: the same imports take about 40 ms less in this order
    # (measured with bench/imports.py).
    import crm_core.repositories.table  # noqa: F401
    from crm_core.http.app import build_app, logger, serve

    # Each routes module is imported by the first request to its path (crm_core.http.app.ApiResolver).
    app = build_app(
        {
            "/v1/contacts": "functions.contacts.contacts_routes",
            "/v1/companies": "functions.contacts.companies_routes",
            "/v1/inbound": "functions.contacts.inbound_routes",
            "/v1/properties": "functions.contacts.properties_routes",
            "/v1/imports": "functions.contacts.imports_routes",
            "/v1/privacy": "functions.contacts.privacy_routes",
        }
    )

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: "LambdaContext") -> dict[str, Any]:
    return serve(app, event, context)
