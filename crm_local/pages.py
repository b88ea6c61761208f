"""What ``crm dev`` serves beside the API: the OpenAPI document and its interactive docs."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from werkzeug.wrappers import Response

from crm_local.openapi import openapi_json


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


def extra_pages() -> dict[str, Callable[[], Any]]:
    document = lru_cache(maxsize=1)(openapi_json)
    return {
        "/openapi.json": lambda: Response(document(), content_type="application/json"),
        "/docs": lambda: Response(_docs_html(), content_type="text/html; charset=utf-8"),
    }
