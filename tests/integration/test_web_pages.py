"""`crm dev` serves the web app at `/`: its files, index.html for the app's routes, never for the API's."""

from __future__ import annotations

import os
from pathlib import Path

import requests

from crm_local.pages import WEB_DIST, web_app
from crm_local.runtime import LocalRuntime


def built(tmp_path: Path) -> Path:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text('<!doctype html><div id="root"></div>')
    (dist / "assets" / "index-AbC123.js").write_text("console.log(1)")
    (dist / "favicon.svg").write_text("<svg/>")
    (tmp_path / "secret.txt").write_text("not the app's")
    return dist


def test_files_with_their_types_and_caching(tmp_path: Path) -> None:
    page = web_app(built(tmp_path))
    script = page("/assets/index-AbC123.js")
    assert script is not None and script.status_code == 200
    assert script.content_type.startswith("text/javascript")
    assert "immutable" in script.headers["Cache-Control"]
    icon = page("/favicon.svg")
    assert icon is not None and icon.content_type == "image/svg+xml"
    assert "immutable" not in icon.headers["Cache-Control"]
    for route in ("/", "/contacts", "/contacts/01H0000000000000000000000", "/deals?pipeline=x"):
        index = page(route)
        assert index is not None and index.status_code == 200, route
        assert index.get_data(as_text=True).startswith("<!doctype html>")
        assert index.headers["Cache-Control"] == "no-cache"
    missing = page("/assets/index-Gone99.js")
    assert missing is not None and missing.status_code == 404
    outside = page("/../pyproject.toml")
    assert (
        outside is None or outside.status_code != 200 or "<!doctype html>" in outside.get_data(as_text=True)
    )


def test_never_for_the_api_paths(tmp_path: Path) -> None:
    page = web_app(built(tmp_path))
    for path in ("/v1", "/v1/nope", "/v1/contacts/x/y/z", "/openapi.json", "/docs", "/config.json"):
        assert page(path) is None, path


def test_an_unbuilt_app_says_how_to_build_it(tmp_path: Path) -> None:
    answer = web_app(tmp_path / "dist")("/contacts")
    assert answer is not None and answer.status_code == 503
    assert "make web" in answer.get_data(as_text=True)


def test_the_running_gateway_serves_the_app_and_keeps_api_404s(base_url: str) -> None:
    app = requests.get(f"{base_url}/", timeout=10)
    if (WEB_DIST / "index.html").exists():
        assert app.status_code == 200 and '<div id="root">' in app.text
        assert app.headers["Content-Type"].startswith("text/html")
        route = requests.get(f"{base_url}/contacts/01H0000000000000000000000", timeout=10)
        assert route.status_code == 200 and route.text == app.text
    else:
        assert app.status_code == 503 and "make web" in app.text
    unknown = requests.get(f"{base_url}/v1/nope", timeout=10)
    assert unknown.status_code == 404
    assert unknown.headers["Content-Type"] == "application/problem+json"
    assert unknown.json()["title"] == "Not Found"
    assert requests.get(f"{base_url}/openapi.json", timeout=10).json()["openapi"]


def test_config_json_names_the_runtimes_pool_and_client(base_url: str, runtime: LocalRuntime) -> None:
    answer = requests.get(f"{base_url}/config.json", timeout=10)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.headers["Cache-Control"] == "no-cache"
    instance = runtime.instance
    assert instance is not None
    assert answer.json() == {
        "user_pool_id": instance.resources["user_pool_id"],
        "client_id": instance.resources["user_pool_client_id"],
        "region": instance.region,
        "cognito_endpoint": instance.aws_endpoint,
        "api_key_sign_in": True,
    }
    # The pool and client it names are the ones the API takes ID tokens of.
    assert answer.json()["user_pool_id"] == os.environ["CRM_USER_POOL_ID"]
    assert answer.json()["client_id"] == os.environ["CRM_USER_POOL_CLIENT_ID"]
    # The browser reaches the local pool directly: the endpoint answers it with CORS headers.
    preflight = requests.options(
        answer.json()["cognito_endpoint"],
        headers={
            "Origin": base_url,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-amz-target,x-amz-user-agent",
        },
        timeout=10,
    )
    assert preflight.status_code < 300
    assert preflight.headers.get("Access-Control-Allow-Origin") in ("*", base_url)
