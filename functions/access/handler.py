"""The access function: who may do what in a tenant (users, teams, API keys, the caller itself), and the
audit trail of what they did."""

from typing import TYPE_CHECKING, Any

from crm_core.coldstart import long_lived_imports

with long_lived_imports():
    import crm_core.repositories.table  # noqa: F401  (the table's models first, as in every function)
    from crm_core.http.app import build_app, logger, serve

    # Each routes module is imported by the first request to its path (crm_core.http.app.ApiResolver).
    app = build_app(
        {
            "/v1/users": "functions.access.users_routes",
            "/v1/teams": "functions.access.teams_routes",
            "/v1/api-keys": "functions.access.api_keys_routes",
            "/v1/me": "functions.access.me_routes",
            "/v1/audit-events": "functions.access.audit_routes",
        }
    )

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: "LambdaContext") -> dict[str, Any]:
    return serve(app, event, context)
