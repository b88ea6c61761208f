"""The CRM runs for the test session as `crm dev` runs it: moto in server mode, the gateway, the relay.

Every integration test talks to it over HTTP with its own new tenant.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from crm_local import moto_fidelity
from crm_local.runtime import LocalRuntime
from tests.support.client import ApiClient

os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
# The suite starts many Python processes: the xdist workers and the `crm` and `crm dev` subprocesses of the
# CLI tests. Where PYTHONDONTWRITEBYTECODE is set (as on this project's machines), each of them compiled
# every module it imports from source, on every run (a `crm` command: 2.0 s of CPU, 0.5 s from bytecode).
# The bytecode goes to the __pycache__ folders git ignores, for this process and those it starts.
sys.dont_write_bytecode = False
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

# Test files whose session fixtures are costly enough that a second pytest-xdist worker must not build them
# again: tests/infra synthesizes the CDK app twice (about a minute of CPU each), once per worker that runs
# any of its tests.
ONE_WORKER_FILES = ("tests/infra/",)


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist's, unknown without it (-p no:xdist)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``-n N`` (xdist's ``--dist load``) as before, test by test, except that one worker runs each of the
    ONE_WORKER_FILES whole. (``--dist loadgroup`` with ``xdist_group`` marks is the stock way; pytest-xdist
    3.8 cannot group under pytest 9, whose items no longer take a new ``_nodeid``.)"""
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class CostlyFilesOnOneWorker(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return path if path.startswith(ONE_WORKER_FILES) else nodeid

    return CostlyFilesOnOneWorker(config, log)


@pytest.fixture(scope="session")
def runtime() -> Iterator[LocalRuntime]:
    local = LocalRuntime(port=0, state_file=None)
    local.start()
    _leave_moto_untraced(local)
    yield local
    local.stop()
    # What runs in the background fails no request; it must not fail unseen either.
    assert local.relay.error is None, local.relay.error
    assert not local.workers.errors, local.workers.errors[0]
    assert local.usage.error is None, local.usage.error
    assert not moto_fidelity.internal_errors, moto_fidelity.internal_errors[:3]


def _leave_moto_untraced(local: LocalRuntime) -> None:
    """Under coverage (`make coverage`), moto's request threads are not traced: the measure is of the
    CRM's code, and tracing moto's took the suite from 1.4x to 1.85x its untraced time."""
    if sys.gettrace() is None:
        return
    server = local.moto_server
    app = server.app

    def untraced(environ: dict[str, Any], start_response: Any) -> Any:
        sys.settrace(None)
        return app(environ, start_response)

    server.app = untraced


@pytest.fixture(scope="session")
def base_url(runtime: LocalRuntime) -> str:
    return runtime.api_url


def new_tenant_client(
    base_url: str,
    name: str = "Test tenant",
    *,
    plan: str = "business",
    rate_limit_per_minute: int | None = None,
) -> ApiClient:
    """A new tenant's admin. On the business plan unless told: a test's tenant makes more writes a minute
    than the free plan allows (the quota tests choose their plan)."""
    from crm_core.services.tenants import create_tenant

    tenant = create_tenant(name, plan=plan, rate_limit_per_minute=rate_limit_per_minute)
    return ApiClient(base_url, tenant.api_key, tenant.tenant_id, tenant.user_id)


@pytest.fixture
def client(base_url: str) -> ApiClient:
    """A new tenant's admin."""
    return new_tenant_client(base_url, "Acme")


@pytest.fixture
def other(base_url: str) -> ApiClient:
    """Another tenant's admin: must never see, change or detect the first tenant's records."""
    return new_tenant_client(base_url, "Rival")


@pytest.fixture
def anonymous(base_url: str) -> ApiClient:
    return ApiClient(base_url, None)
