"""The whole API's OpenAPI document, merged from every API function's own (generated from its routes)."""

from __future__ import annotations

import importlib
import json
from typing import Any

from crm_core.definitions import API_FUNCTIONS
from crm_core.http.app import API_TITLE, API_VERSION

DESCRIPTION = (
    "The CRM's public API. Authenticate with `Authorization: Bearer <API key or JWT>`. Errors are RFC 9457 "
    "problem details. Lists are cursor-paged. POST honours `Idempotency-Key`; PATCH and DELETE honour "
    "`If-Match`."
)


def build_openapi() -> dict[str, Any]:
    from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, Server

    merge = OpenAPIMerge(
        title=API_TITLE,
        version=API_VERSION,
        description=DESCRIPTION,
        servers=[Server(url="/")],
        security_schemes={"bearer": HTTPBearer(description="An API key (crm_...) or a user pool JWT.")},
        security=[{"bearer": []}],
        on_conflict="error",
    )
    # A public function's routes (an email's tracking links: a pixel, a redirect, a page) are no part of the
    # JSON API the document describes: API.md "tracking (public)" and docs/decisions/0018-campaigns.md.
    for definition in (d for d in API_FUNCTIONS if not d.public):
        module = importlib.import_module(definition.handler.rpartition(".")[0])
        merge.add_schema(json.loads(module.app.get_openapi_json_schema(title=API_TITLE, version=API_VERSION)))
    document: dict[str, Any] = json.loads(merge.get_openapi_json_schema())
    return document


def openapi_json() -> str:
    """The document as committed in ``docs/openapi.json`` (stable formatting, so diffs are reviewable)."""
    return json.dumps(build_openapi(), indent=2, sort_keys=True) + "\n"
