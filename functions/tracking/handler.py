"""The public tracking links of campaign emails, reached with no credential (not behind the authorizer):
``GET /t/{token}/open``, ``GET /t/{token}/click?u=``, ``GET|POST /t/{token}/unsubscribe``. The signed
token is the only thing trusted (crm_core.services.campaign_tracking); anything else is 404."""

import base64
from typing import TYPE_CHECKING, Any

from crm_core.coldstart import long_lived_imports

with long_lived_imports():
    import crm_core.repositories.table  # noqa: F401  (the table's models first, as in every function)
    from aws_lambda_powertools import Logger
    from crm_core.errors import ProblemError
    from crm_core.http.public import serve_public

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()
NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
HTML = {
    **NO_STORE,
    "Content-Type": "text/html; charset=utf-8",
    "Content-Security-Policy": "default-src 'none'; form-action 'self'",
}


def _answer(event: dict[str, Any]) -> dict[str, Any]:
    from crm_core.services import campaign_tracking  # the first request's, as a router is (http/app.py)

    method = event.get("requestContext", {}).get("http", {}).get("method", "GET")
    token = (event.get("pathParameters") or {}).get("token", "")
    action = str(event.get("rawPath", "")).rsplit("/", 1)[-1]
    if action == "open" and method == "GET":
        pixel = campaign_tracking.opened(token)
        return {
            "statusCode": 200,
            "headers": {**NO_STORE, "Content-Type": "image/gif"},
            "body": base64.b64encode(pixel).decode(),
            "isBase64Encoded": True,
        }
    if action == "click" and method == "GET":
        url = campaign_tracking.clicked(token, (event.get("queryStringParameters") or {}).get("u"))
        return {"statusCode": 302, "headers": {**NO_STORE, "Location": url}, "body": ""}
    if action == "unsubscribe" and method == "GET":
        return {"statusCode": 200, "headers": HTML, "body": campaign_tracking.unsubscribe_page(token)}
    if action == "unsubscribe" and method == "POST":
        return {"statusCode": 200, "headers": HTML, "body": campaign_tracking.unsubscribe(token)}
    raise ProblemError(404, "Not Found", "No such link.")


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: "LambdaContext") -> dict[str, Any]:
    return serve_public(event, _answer, logger)
