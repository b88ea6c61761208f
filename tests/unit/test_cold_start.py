"""What a cold start imports: each function's handler module loads the gate every request passes (the table,
the resolver, the credential and rate limit checks) and no route, model or service of a path; a request
then loads the router of its own path and no other. ``make bench`` times it; this fails, cheaply and
without timing anything, on an import that brings the routes back into every cold start.

Each check runs in a fresh interpreter, as a new Lambda container does: the test process has imported far
more already.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from crm_core.definitions import API_FUNCTIONS, AUTHORIZER, FunctionDefinition

ROOT = Path(__file__).resolve().parents[2]

# What no handler module imports: the local runtime, moto, boto3 (botocore through pynamodb is all a
# request needs), the models and services of records, which belong to the routes, and pydantic with
# Powertools' validation, which the first route that runs loads (crm_core.http.app.ApiResolver).
NEVER_AT_IMPORT = (
    "crm_local",
    "moto",
    "boto3",
    "s3transfer",
    "crm_core.models",
    "crm_core.services.records",
    "pydantic",
    "aws_lambda_powertools.event_handler.middlewares.openapi_validation",
)


def _modules_after(code: str) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    env.update({"CRM_TABLE_NAME": "crm", "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1"})
    result = subprocess.run(
        [sys.executable, "-c", f"import json, sys\n{code}\nprint(json.dumps(sorted(sys.modules)))"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    modules: list[str] = json.loads(result.stdout.splitlines()[-1])
    return modules


def _module_of(definition: FunctionDefinition) -> str:
    return definition.handler.rpartition(".")[0]


def _prefixes(definition: FunctionDefinition) -> list[str]:
    """The paths API Gateway sends to the function: "ANY /v1/contacts" and "ANY /v1/contacts/{proxy+}"."""
    return sorted({route.split(" ", 1)[1].removesuffix("/{proxy+}") for route in definition.routes})


@pytest.mark.parametrize("definition", [*API_FUNCTIONS, AUTHORIZER], ids=lambda d: d.name)
def test_a_handler_module_imports_no_route_and_nothing_local(definition: FunctionDefinition) -> None:
    module = _module_of(definition)
    package = module.rpartition(".")[0]
    loaded = _modules_after(f"import {module}")
    assert module in loaded
    functions = [m for m in loaded if m.startswith("functions.")]
    assert functions == sorted([package, module]), "only its own handler module"
    assert not [m for m in loaded if m.startswith(NEVER_AT_IMPORT)]


# A public function (the tracking links) routes its few paths itself, with no resolver to include.
ROUTED_FUNCTIONS = [definition for definition in API_FUNCTIONS if not definition.public]


@pytest.mark.parametrize("definition", ROUTED_FUNCTIONS, ids=lambda d: d.name)
def test_a_request_loads_the_router_of_its_path_alone(definition: FunctionDefinition) -> None:
    module = _module_of(definition)
    for prefix in _prefixes(definition):
        path = f"{prefix}/01ARZ3NDEKTSV4RRFFQ69G5FAV"
        loaded = _modules_after(f"import {module} as handler\nhandler.app.include_routers_for({path!r})")
        routes = [m for m in loaded if m.startswith("functions.") and m.endswith("_routes")]
        assert len(routes) == 1, f"{path} loaded {routes}"
        assert prefix == importlib.import_module(routes[0]).PATH


@pytest.mark.parametrize("definition", ROUTED_FUNCTIONS, ids=lambda d: d.name)
def test_every_path_the_function_is_sent_has_its_router(definition: FunctionDefinition) -> None:
    handler = importlib.import_module(_module_of(definition))
    handler.app.include_all_routers()
    routed = {route.openapi_path for route in handler.app._static_routes + handler.app._dynamic_routes}
    for prefix in _prefixes(definition):
        assert any(path == prefix or path.startswith(f"{prefix}/") for path in routed), prefix
    for path in routed:
        assert any(path == prefix or path.startswith(f"{prefix}/") for prefix in _prefixes(definition)), path


def test_a_router_that_failed_to_import_is_tried_again() -> None:
    from crm_core.http.app import build_app

    app = build_app({"/v1/nothing": "functions.no_such_routes"})
    for _ in range(2):  # the second request fails as the first did, rather than answering 404
        with pytest.raises(ModuleNotFoundError):
            app.include_routers_for("/v1/nothing/01ARZ3NDEKTSV4RRFFQ69G5FAV")


def test_a_router_is_included_under_its_own_path_only() -> None:
    from crm_core.http.app import build_app

    app = build_app({"/v1/people": "functions.contacts.contacts_routes"})  # it serves /v1/contacts
    with pytest.raises(ValueError, match="serves /v1/contacts, not /v1/people"):
        app.include_all_routers()


@pytest.mark.parametrize(
    ("module", "path", "not_loaded"),
    [
        (
            "functions.contacts.handler",
            "/v1/contacts",
            ("activities", "activity", "deals", "deal", "pipelines"),
        ),
        ("functions.deals.handler", "/v1/deals", ("activities", "activity")),
    ],
)
def test_a_request_loads_no_service_that_only_a_merge_needs(
    module: str, path: str, not_loaded: tuple[str, ...]
) -> None:
    """What a merge moves (a contact's deals and activities) is imported by the merge, not by the service."""
    loaded = _modules_after(f"import {module} as handler\nhandler.app.include_routers_for({path!r})")
    names = {m.removeprefix("crm_core.services.").removeprefix("crm_core.models.") for m in loaded}
    assert not names & set(not_loaded)
