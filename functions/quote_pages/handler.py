"""The public page of a sent quote, reached with no credential (not behind the authorizer):
``GET /q/{token}`` shows its lines and totals with Accept and Decline buttons, ``POST /q/{token}/accept``
and ``POST /q/{token}/decline`` record the customer's answer and confirm it. The signed token is the only
thing trusted (crm_core.services.quotes.quote_of_token); a forged one, or one of a quote not sent, is 404."""

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
HTML = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Content-Type": "text/html; charset=utf-8",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
    "Referrer-Policy": "no-referrer",
}


def _answer(event: dict[str, Any]) -> dict[str, Any]:
    from crm_core.services import quotes  # the first request's, as a router is (http/app.py)

    method = event.get("requestContext", {}).get("http", {}).get("method", "GET")
    token = (event.get("pathParameters") or {}).get("token", "")
    action = str(event.get("rawPath", "")).rstrip("/").rsplit("/", 1)[-1]
    if method == "GET" and action == token:
        return {"statusCode": 200, "headers": HTML, "body": quotes.public_page(token)}
    if method == "POST" and action in ("accept", "decline"):
        answer = "accepted" if action == "accept" else "declined"
        status, page = quotes.public_answer(token, answer)
        return {"statusCode": status, "headers": HTML, "body": page}
    raise ProblemError(404, "Not Found", "No such quote.")


def _purpose(event: dict[str, Any]) -> str:
    from crm_core.services.quote_mail import PAGE_PURPOSE

    return PAGE_PURPOSE


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: "LambdaContext") -> dict[str, Any]:
    return serve_public(event, _answer, logger, _purpose)
