"""Deployed, the authorizer refuses a request that did not come through the CloudFront distribution: its
origin header (definitions.ORIGIN_HEADER) must carry the secret CloudFront adds; on ``crm dev`` (no secret
configured) nothing is asked of it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from crm_core.config import settings
from crm_core.definitions import ORIGIN_HEADER

from functions.authorizer.handler import handler

SECRET = "s3cr3t-value-of-the-edge"


@pytest.fixture
def deployed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("CRM_ORIGIN_SECRET", SECRET)
    settings.cache_clear()
    yield
    monkeypatch.delenv("CRM_ORIGIN_SECRET")
    settings.cache_clear()


def event(headers: dict[str, str]) -> dict[str, Any]:
    return {"version": "2.0", "type": "REQUEST", "headers": headers, "identitySource": list(headers.values())}


@pytest.mark.usefixtures("deployed")
def test_around_the_edge_is_refused_before_the_credential_is_read() -> None:
    for headers in (
        {"authorization": "Bearer crm_x"},  # sent to the execute-api address
        {"authorization": "Bearer crm_x", ORIGIN_HEADER.lower(): "guessed"},
        {"authorization": "Bearer crm_x", ORIGIN_HEADER.lower(): SECRET[:-1]},
    ):
        assert handler(event(headers), None) == {"isAuthorized": False}  # type: ignore[arg-type]
    # Through the distribution (any case of the header's name), a bad credential is the usual 401's reason.
    through = handler(event({"Authorization": "Bearer nonsense", ORIGIN_HEADER: SECRET}), None)  # type: ignore[arg-type]
    assert through == {"isAuthorized": True, "context": {"tenant_id": "", "reason": "invalid_credential"}}


def test_without_an_edge_nothing_is_asked() -> None:
    settings.cache_clear()
    assert not settings().origin_secret
    answer = handler(event({"authorization": "Bearer nonsense"}), None)  # type: ignore[arg-type]
    assert answer["isAuthorized"] is True and answer["context"]["reason"] == "invalid_credential"
