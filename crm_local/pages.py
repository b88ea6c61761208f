"""What ``crm dev`` serves beside the API: the OpenAPI document, its interactive docs and the web app."""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from werkzeug.wrappers import Response

from crm_local.openapi import openapi_json

WEB_DIST = Path(__file__).resolve().parent.parent / "web" / "dist"
# Paths that belong to the API and its documents: an unknown one there is the API's 404, never the app.
NOT_THE_APP = ("/v1/", "/openapi.json", "/docs", "/config.json")
# Vite names every file under assets/ by its content hash, so a browser may keep one for good.
HASHED_ASSETS = "assets/"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
}
NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>CRM: the web app is not built</title></head>
<body><h1>The web app is not built</h1>
<p>This <code>crm dev</code> serves the API at <code>/v1</code> and its docs at <a href="/docs">/docs</a>,
but found no <code>web/dist</code> to serve here.</p>
<p>Build it from the repository root with <code>make web</code>
(or <code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code>),
or start everything with <code>make dev</code>, which builds it first.</p>
</body></html>
"""


@lru_cache(maxsize=1)
def _docs_html() -> str:
    from aws_lambda_powertools.event_handler.openapi import swagger_ui
    from aws_lambda_powertools.event_handler.openapi.swagger_ui.html import generate_swagger_html

    assets = Path(swagger_ui.__file__).parent
    return generate_swagger_html(
        spec=openapi_json().replace("</", "<\\/"),
        swagger_js=(assets / "swagger-ui-bundle.min.js").read_text(encoding="utf-8"),
        swagger_css=(assets / "swagger-ui.min.css").read_text(encoding="utf-8"),
        swagger_base_url="",
        oauth2_config=None,
        persist_authorization=True,
    )


def web_config(resources: Mapping[str, str], aws_endpoint: str, region: str) -> dict[str, Any]:
    """The web app's ``/config.json`` for a local runtime: its user pool and web client, and the local AWS
    endpoint, which the browser calls directly for the pool's sign-in. Locally an API key signs in too.
    (In AWS, CDK writes the same file beside the app: infra/web.py.)"""
    return {
        "user_pool_id": resources["user_pool_id"],
        "client_id": resources["user_pool_client_id"],
        "region": region,
        "cognito_endpoint": aws_endpoint,
        "api_key_sign_in": True,
    }


def extra_pages(config: Mapping[str, Any] | None = None) -> dict[str, Callable[[], Any]]:
    """The OpenAPI document, its docs and, given the web app's ``config``, ``/config.json``."""
    document = lru_cache(maxsize=1)(openapi_json)
    pages: dict[str, Callable[[], Any]] = {
        "/openapi.json": lambda: Response(document(), content_type="application/json"),
        "/docs": lambda: Response(_docs_html(), content_type="text/html; charset=utf-8"),
    }
    if config is not None:
        body = json.dumps(config)
        # Read at every start of the app: a restarted crm dev has a new pool and endpoint.
        pages["/config.json"] = lambda: Response(
            body, content_type="application/json", headers={"Cache-Control": "no-cache"}
        )
    return pages


def web_app(dist: Path = WEB_DIST) -> Callable[[str], Response | None]:
    """The single-page app's files from ``dist``, and its index.html for any other path, so that a route of
    the app (``/contacts/01H...``) loads it on a reload; nothing for the API's own paths."""
    root = dist.resolve()

    def page(path: str) -> Response | None:
        if path == "/v1" or path.startswith(NOT_THE_APP):
            return None
        index = root / "index.html"
        if not index.is_file():
            return Response(NOT_BUILT, status=503, content_type=CONTENT_TYPES[".html"])
        relative = path.lstrip("/")
        if relative:
            file = (root / relative).resolve()
            if file.is_relative_to(root) and file.is_file():
                return _file(file, immutable=relative.startswith(HASHED_ASSETS))
            if relative.startswith(HASHED_ASSETS) or "." in relative.rsplit("/", 1)[-1]:
                # A missing script or image answered with index.html would fail as a parse error instead.
                return Response("Not found", status=404, content_type=CONTENT_TYPES[".txt"])
        return _file(index, immutable=False)

    return page


def _file(file: Path, immutable: bool) -> Response:
    content_type = (
        CONTENT_TYPES.get(file.suffix) or mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    )
    response = Response(file.read_bytes(), content_type=content_type)
    # index.html names the current hashed files: it is checked on every load, they are kept a year.
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable" if immutable else "no-cache"
    return response
