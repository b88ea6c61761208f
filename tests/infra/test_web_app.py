"""CDK assertions on the web app's deployment (infra/web.py): the bucket behind CloudFront, the API as the
same distribution's second origin, the behaviours and their caching, the route rewrite (run with node)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks

from infra.auth import CrmAuth
from infra.nag import acknowledge, add_checks
from infra.web import (
    ASSETS_CACHE_CONTROL,
    REVALIDATE_CACHE_CONTROL,
    REWRITE_FUNCTION,
    CrmWeb,
    WebAppNotBuilt,
)

ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"


def built_dist(root: Path) -> Path:
    dist = root / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / ".vite").mkdir()
    (dist / "index.html").write_text('<!doctype html><div id="root"></div>')
    (dist / "favicon.svg").write_text("<svg/>")
    (dist / "assets" / "index-AbC123.js").write_text("console.log(1)")
    (dist / ".vite" / "manifest.json").write_text("{}")
    return dist


class WebStack:
    def __init__(self, dist: Path) -> None:
        self.app = App()
        self.stack = Stack(self.app, "WebTest")
        self.auth = CrmAuth(self.stack, "Auth")
        # A stand-in for the CRM's API (infra/api.py, whose stage has its access log).
        self.http_api = apigwv2.HttpApi(self.stack, "HttpApi")
        acknowledge(self.http_api, "AwsSolutions-APIG1", "A stand-in API with no stage, for this test only.")
        self.web = CrmWeb(self.stack, "Web", http_api=self.http_api, auth=self.auth, dist=dist)
        add_checks(self.app)
        self.template = Template.from_stack(self.stack)  # synthesizes, cdk-nag included
        self.resources: dict[str, Any] = self.template.to_json()["Resources"]

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v["Type"] == resource_type}

    def distribution(self) -> dict[str, Any]:
        (distribution,) = self.of_type("AWS::CloudFront::Distribution").values()
        config: dict[str, Any] = distribution["Properties"]["DistributionConfig"]
        return config


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebStack]:
    yield WebStack(built_dist(tmp_path_factory.mktemp("web")))


def _origin_id(config: dict[str, Any], kind: str) -> str:
    (origin,) = [o for o in config["Origins"] if kind in o]
    return str(origin["Id"])


def test_the_bucket_is_private_and_read_by_cloudfront_only(web: WebStack) -> None:
    (bucket_id, bucket), *_ = web.of_type("AWS::S3::Bucket").items()
    assert len(web.of_type("AWS::S3::Bucket")) == 1
    assert bucket["Properties"]["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert "WebsiteConfiguration" not in bucket["Properties"]
    (policy,) = web.of_type("AWS::S3::BucketPolicy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    allows = [s for s in statements if s["Effect"] == "Allow"]
    # The one reader: the CloudFront service, for this distribution (origin access control).
    assert [s["Principal"] for s in allows] == [{"Service": "cloudfront.amazonaws.com"}]
    assert allows[0]["Action"] == "s3:GetObject"
    assert "AWS:SourceArn" in json.dumps(allows[0]["Condition"])
    assert any(s["Effect"] == "Deny" and "aws:SecureTransport" in json.dumps(s) for s in statements)
    assert len(web.of_type("AWS::CloudFront::OriginAccessControl")) == 1
    assert bucket_id in json.dumps(web.distribution()["Origins"])


def test_two_origins_the_bucket_and_the_http_api(web: WebStack) -> None:
    config = web.distribution()
    assert len(config["Origins"]) == 2
    (s3_origin,) = [o for o in config["Origins"] if "S3OriginConfig" in o]
    assert s3_origin["OriginAccessControlId"]
    (api_origin,) = [o for o in config["Origins"] if "CustomOriginConfig" in o]
    assert api_origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    # The API's host, taken from the HTTP API's endpoint.
    domain = json.dumps(api_origin["DomainName"])
    (api_id,) = web.of_type("AWS::ApiGatewayV2::Api")
    assert api_id in domain and "Fn::Split" in domain
    assert config["DefaultRootObject"] == "index.html"
    # No distribution-wide error pages: the API's 403s and 404s reach the caller as the API sent them.
    assert "CustomErrorResponses" not in config


def test_the_api_behaviour_is_uncached_takes_every_method_and_forwards_authorization(web: WebStack) -> None:
    config = web.distribution()
    (api,) = config["CacheBehaviors"]
    assert api["PathPattern"] == "/v1/*"
    assert api["TargetOriginId"] == _origin_id(config, "CustomOriginConfig")
    assert api["CachePolicyId"] == CACHING_DISABLED
    assert api["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST_HEADER
    assert set(api["AllowedMethods"]) == {"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"}
    assert api["ViewerProtocolPolicy"] == "https-only"
    # The route rewrite is on the app's behaviour only: an API path never reaches it.
    assert "FunctionAssociations" not in api


def test_the_default_behaviour_serves_the_bucket_with_the_rewrite_and_the_files_cache_control(
    web: WebStack,
) -> None:
    config = web.distribution()
    default = config["DefaultCacheBehavior"]
    assert default["TargetOriginId"] == _origin_id(config, "S3OriginConfig")
    assert default["ViewerProtocolPolicy"] == "redirect-to-https"
    (association,) = default["FunctionAssociations"]
    assert association["EventType"] == "viewer-request"
    (function_id,) = web.of_type("AWS::CloudFront::Function")
    assert association["FunctionARN"] == {"Fn::GetAtt": [function_id, "FunctionARN"]}
    (policy_id, policy), *_ = web.of_type("AWS::CloudFront::CachePolicy").items()
    assert default["CachePolicyId"] == {"Ref": policy_id}
    ttl = policy["Properties"]["CachePolicyConfig"]
    # The files' own Cache-Control rules: no floor (no-cache revalidates), a year at most.
    assert (ttl["MinTTL"], ttl["DefaultTTL"], ttl["MaxTTL"]) == (0, 0, 365 * 24 * 3600)
    assert default["ResponseHeadersPolicyId"] == config["CacheBehaviors"][0]["ResponseHeadersPolicyId"]


def test_hashed_assets_are_kept_a_year_index_and_config_revalidated(web: WebStack) -> None:
    deployments = web.of_type("Custom::CDKBucketDeployment")
    by_prefix = {
        d["Properties"].get("DestinationBucketKeyPrefix", ""): d["Properties"] for d in deployments.values()
    }
    assert set(by_prefix) == {"assets/", ""}
    assert by_prefix["assets/"]["SystemMetadata"] == {"cache-control": ASSETS_CACHE_CONTROL}
    assert by_prefix[""]["SystemMetadata"] == {"cache-control": REVALIDATE_CACHE_CONTROL}
    # A page loaded before a deployment still finds the chunks it names.
    assert all(d["Prune"] is False for d in by_prefix.values())
    # index.html and favicon from web/dist, config.json written from the pool; not the assets or the manifest.
    pages = by_prefix[""]
    assert len(pages["SourceObjectKeys"]) == 2
    # config.json's content is filled in at deployment from the pool's and client's references.
    markers = json.dumps(pages.get("SourceMarkers", []))
    (pool_id,) = web.of_type("AWS::Cognito::UserPool")
    (client_id,) = web.of_type("AWS::Cognito::UserPoolClient")
    assert pool_id in markers and client_id in markers


def test_config_json_names_the_pool_and_web_client(web: WebStack) -> None:
    resolve, config = web.stack.resolve, web.web.config
    assert resolve(config["user_pool_id"]) == resolve(web.auth.user_pool.user_pool_id)
    assert resolve(config["client_id"]) == resolve(web.auth.web_client.user_pool_client_id)
    assert web.web.config["api_key_sign_in"] is False
    assert set(web.web.config) == {"user_pool_id", "client_id", "region", "api_key_sign_in"}


def test_security_headers(web: WebStack) -> None:
    (policy,) = web.of_type("AWS::CloudFront::ResponseHeadersPolicy").values()
    headers = policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert headers["FrameOptions"]["FrameOption"] == "DENY"
    assert headers["ContentTypeOptions"]["Override"] is True
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] == 365 * 24 * 3600
    csp = json.dumps(headers["ContentSecurityPolicy"]["ContentSecurityPolicy"])
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "https://cognito-idp." in csp


def test_cdk_nag_finds_nothing_unacknowledged(web: WebStack) -> None:
    report = AwsSolutionsChecks().validate_scope(web.app)
    assert [v.rule_name for v in report.violations] == []


@pytest.fixture(scope="module")
def node() -> str:
    found = shutil.which("node")
    if found is None:
        pytest.fail("node is missing: the CDK app needs it (jsii) as the rewrite check does")
    return found


def rewritten(node: str, uris: list[str]) -> list[str]:
    """The URIs the CloudFront Function's handler leaves on each request, run by node."""
    script = (
        REWRITE_FUNCTION.read_text()
        + "\nconst uris = JSON.parse(process.argv[1]);"
        + "\nconsole.log(JSON.stringify(uris.map((uri) => handler({ request: { uri, headers: {} } }).uri)));"
    )
    result = subprocess.run(
        [node, "-e", script, json.dumps(uris)], capture_output=True, text=True, check=True, timeout=60
    )
    answer: list[str] = json.loads(result.stdout)
    return answer


def test_the_rewrite_sends_routes_to_index_html_and_files_as_they_are(node: str) -> None:
    cases = {
        "/": "/index.html",
        "/contacts": "/index.html",
        "/contacts/123": "/index.html",
        "/contacts/01H0000000000000000000000/": "/index.html",
        "/deals": "/index.html",
        "/assets/x.js": "/assets/x.js",
        "/assets/index-AbC123.js": "/assets/index-AbC123.js",
        "/config.json": "/config.json",
        "/favicon.svg": "/favicon.svg",
        "/index.html": "/index.html",
        # Never routed here (their behaviour has no function); unchanged were one to arrive.
        "/v1/x": "/v1/x",
        "/v1/contacts/404": "/v1/contacts/404",
    }
    assert dict(zip(cases, rewritten(node, list(cases)), strict=True)) == cases


def test_the_rewrite_is_cloudfront_js_2(web: WebStack) -> None:
    (function,) = web.of_type("AWS::CloudFront::Function").values()
    assert function["Properties"]["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
    assert function["Properties"]["FunctionCode"] == REWRITE_FUNCTION.read_text()
    assert function["Properties"]["AutoPublish"] is True


def test_a_missing_build_stops_synthesis_and_says_make_web(tmp_path: Path) -> None:
    with pytest.raises(WebAppNotBuilt, match="make web"):
        WebStack(tmp_path / "dist")
