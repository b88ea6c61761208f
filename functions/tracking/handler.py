"""The public tracking links of campaign emails, reached with no credential (not behind the authorizer):
``GET /t/{token}/open``, ``GET /t/{token}/click?u=``, ``GET|POST /t/{token}/unsubscribe`` (and
``?action=resubscribe``, its undoing); and the surveys' page ``GET|POST /s/{token}`` (a form: score and
comment). The signed token is the only thing trusted (crm_core.services.campaign_tracking,
crm_core.services.surveys); anything else is 404."""

import base64
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

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
    if str(event.get("rawPath", "")).startswith("/s/"):
        return _survey(event, method, token)
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
    # The re-subscription is the unsubscribe link's ?action=resubscribe: no route of its own (its page and
    # form are the unsubscribe page's; RFC 8058's one-click POST never carries the query).
    again = (event.get("queryStringParameters") or {}).get("action") == "resubscribe"
    if action == "unsubscribe" and method == "GET":
        page = campaign_tracking.resubscribe_page if again else campaign_tracking.unsubscribe_page
        return {"statusCode": 200, "headers": HTML, "body": page(token)}
    if action == "unsubscribe" and method == "POST":
        change = campaign_tracking.resubscribe if again else campaign_tracking.unsubscribe
        return {"statusCode": 200, "headers": HTML, "body": change(token)}
    raise ProblemError(404, "Not Found", "No such link.")


def _survey(event: dict[str, Any], method: str, token: str) -> dict[str, Any]:
    from crm_core.services import surveys

    if method == "GET":
        return {"statusCode": 200, "headers": HTML, "body": surveys.page(token)}
    if method != "POST":
        raise ProblemError(404, "Not Found", "No such link.")
    raw = str(event.get("body") or "")
    text = base64.b64decode(raw).decode("utf-8", "replace") if event.get("isBase64Encoded") else raw
    form = dict(parse_qsl(text, keep_blank_values=True))
    status, page = surveys.answer(token, form)
    return {"statusCode": status, "headers": HTML, "body": page}


def _purpose(event: dict[str, Any]) -> str:
    """What the route's tokens are signed for: a survey's page, or an email's tracking links."""
    from crm_core.services.campaign_sends import TRACKING_PURPOSE
    from crm_core.services.surveys import SURVEY_PURPOSE

    return SURVEY_PURPOSE if str(event.get("rawPath", "")).startswith("/s/") else TRACKING_PURPOSE


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: "LambdaContext") -> dict[str, Any]:
    return serve_public(event, _answer, logger, _purpose)
