"""The local stand-in for API Gateway's HTTP API: each request becomes the event the deployed function
receives, after the real authorizer has answered, exactly as API Gateway calls them.

Routes come from ``definitions.API_FUNCTIONS`` (the same list the CDK app deploys).
"""

from __future__ import annotations

import base64
import importlib
import json
import re
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from crm_core.definitions import API_FUNCTIONS, AUTHORIZER, AUTHORIZER_CACHE_SECONDS, FunctionDefinition
from crm_core.ids import new_id
from werkzeug.wrappers import Request, Response

Handler = Callable[[Any, Any], Any]  # a Lambda handler: (event, context) -> result


@dataclass
class LambdaContext:
    """What the Lambda runtime passes as ``context``."""

    function_name: str
    aws_request_id: str
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = ""
    function_version: str = "$LATEST"

    def get_remaining_time_in_millis(self) -> int:
        return 15_000


@dataclass
class _Route:
    route_key: str
    pattern: re.Pattern[str]
    function: FunctionDefinition
    specificity: tuple[int, int]


def _compile(route_key: str, function: FunctionDefinition) -> _Route:
    _method, path = route_key.split(" ", 1)
    regex = re.escape(path)
    regex = re.sub(r"\\\{(\w+)\\\+\\\}", r"(?P<\1>.+)", regex)
    regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", regex)
    greedy = 1 if "+}" in path else 0
    return _Route(route_key, re.compile(f"^{regex}$"), function, (greedy, -len(path)))


def load_handler(definition: FunctionDefinition) -> Handler:
    module_name, _, attribute = definition.handler.rpartition(".")
    handler: Handler = getattr(importlib.import_module(module_name), attribute)
    return handler


class Gateway:
    def __init__(
        self,
        functions: Iterable[FunctionDefinition] = API_FUNCTIONS,
        extra_pages: dict[str, Callable[[], Response]] | None = None,
        access_log: bool = False,
        fallback_page: Callable[[str], Response | None] | None = None,
    ) -> None:
        self.access_log = access_log
        self.routes = sorted(
            (_compile(key, f) for f in functions for key in f.routes), key=lambda r: r.specificity
        )
        self.extra_pages = extra_pages or {}
        # Asked last, for a GET no route took: the web app's files and its client-side routes.
        self.fallback_page = fallback_page
        self._handlers: dict[str, Handler] = {}
        # A Lambda execution environment serves one request at a time; so does each local function.
        self._locks: dict[str, threading.Lock] = {}
        self._authorizer_cache: dict[str, tuple[float, dict[str, Any]]] = {}
        self._guard = threading.Lock()

    def handler(self, definition: FunctionDefinition) -> tuple[Handler, threading.Lock]:
        with self._guard:
            if definition.name not in self._handlers:
                self._handlers[definition.name] = load_handler(definition)
                self._locks[definition.name] = threading.Lock()
            return self._handlers[definition.name], self._locks[definition.name]

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        started = time.perf_counter()
        try:
            response = self.dispatch(request)
        except Exception:
            # What API Gateway answers when a function fails; the traceback goes to the console.
            traceback.print_exc()
            response = _problem(500, "Internal Server Error", "The function failed.")
        if self.access_log:
            took = (time.perf_counter() - started) * 1000
            print(
                f"{request.method} {request.full_path.rstrip('?')} {response.status_code} {took:.0f} ms",
                flush=True,
            )
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        page = self.extra_pages.get(request.path)
        if page is not None and request.method in ("GET", "HEAD"):
            return page()
        for route in self.routes:
            match = route.pattern.match(request.path)
            if match:
                return self._invoke(route, match.groupdict(), request)
        if self.fallback_page is not None and request.method in ("GET", "HEAD"):
            fallback = self.fallback_page(request.path)
            if fallback is not None:
                return fallback
        response = _problem(404, "Not Found", "No such resource.")
        response.headers["X-Request-Id"] = new_id()
        return response

    def _invoke(self, route: _Route, path_parameters: dict[str, str], request: Request) -> Response:
        request_id = new_id()
        event = _http_event(request, route.route_key, path_parameters, request_id)
        authorization = request.headers.get("Authorization")
        if route.function.public:
            # A route without the authorizer (an email's tracking link): the function checks its token.
            handler, lock = self.handler(route.function)
            with lock:
                result = handler(event, LambdaContext(route.function.name, request_id))
            return _to_response(result)
        if not authorization:
            # API Gateway answers a request without the identity source itself, before any function.
            response = _problem(401, "Unauthorized", "A valid credential is required.")
            response.headers["X-Request-Id"] = request_id
            return response
        event["requestContext"]["authorizer"] = {"lambda": self._authorize(event, authorization)}
        handler, lock = self.handler(route.function)
        with lock:
            result = handler(event, LambdaContext(route.function.name, request_id))
        return _to_response(result)

    def _authorize(self, event: dict[str, Any], authorization: str) -> dict[str, Any]:
        now = time.monotonic()
        cached = self._authorizer_cache.get(authorization)
        if cached and cached[0] > now:
            return cached[1]
        authorizer, lock = self.handler(AUTHORIZER)
        authorizer_event = {
            "version": "2.0",
            "type": "REQUEST",
            "routeArn": f"arn:aws:execute-api:us-east-1:123456789012:local/$default/{event['routeKey']}",
            "identitySource": [authorization],
            **{k: event[k] for k in ("routeKey", "rawPath", "rawQueryString", "headers", "requestContext")},
            "queryStringParameters": event.get("queryStringParameters"),
            "pathParameters": event.get("pathParameters"),
        }
        with lock:
            answer = authorizer(authorizer_event, LambdaContext(AUTHORIZER.name, new_id()))
        context: dict[str, Any] = answer.get("context") or {} if answer.get("isAuthorized") else {}
        self._authorizer_cache[authorization] = (now + AUTHORIZER_CACHE_SECONDS, context)
        return context


def _http_event(
    request: Request, route_key: str, path_parameters: dict[str, str], request_id: str
) -> dict[str, Any]:
    """An HTTP API payload format 2.0 event."""
    raw_body = request.get_data()
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        key = name.lower()
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    query: dict[str, str] = {}
    for name, value in parse_qsl(request.query_string.decode(), keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    is_text = True
    try:
        body = raw_body.decode("utf-8")
    except UnicodeDecodeError:
        body, is_text = base64.b64encode(raw_body).decode(), False
    now = datetime.now(UTC)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": request.path,
        "rawQueryString": request.query_string.decode(),
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": request.host,
            "domainPrefix": "local",
            "http": {
                "method": request.method,
                "path": request.path,
                "protocol": "HTTP/1.1",
                "sourceIp": request.remote_addr or "127.0.0.1",
                "userAgent": request.user_agent.string,
            },
            "requestId": request_id,
            "routeKey": route_key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": not is_text,
    }
    if request.cookies:
        event["cookies"] = [f"{k}={v}" for k, v in request.cookies.items()]
    if query:
        event["queryStringParameters"] = query
    if path_parameters:
        event["pathParameters"] = path_parameters
    if raw_body:
        event["body"] = body
    return event


def _to_response(result: dict[str, Any]) -> Response:
    body = result.get("body") or ""
    data = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
    response = Response(data, status=int(result.get("statusCode", 200)))
    response.headers.pop("Content-Type", None)
    for name, value in (result.get("headers") or {}).items():
        response.headers[name] = str(value)
    for name, values in (result.get("multiValueHeaders") or {}).items():
        for value in values:
            response.headers.add(name, str(value))
    for cookie in result.get("cookies") or []:
        response.headers.add("Set-Cookie", cookie)
    return response


def _problem(status: int, title: str, detail: str) -> Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    return Response(json.dumps(body), status=status, content_type="application/problem+json")
