"""The web app: web/dist in a private S3 bucket behind CloudFront, with the HTTP API on the same origin.

One distribution serves both, so the app calls ``/v1`` on its own origin (no CORS) and one set of security
headers covers it:

- default behaviour: the bucket through origin access control (the bucket itself is never public). A
  CloudFront Function rewrites the app's client-side routes to ``/index.html`` on viewer request; there are
  no distribution-wide error responses, which would also turn the API's 403s and 404s into the app.
- ``/v1/*``: the HTTP API, uncached, every method, every viewer header but Host (Authorization included:
  CloudFront forwards it through the AllViewerExceptHostHeader policy when caching is disabled).
- caching: the hashed files under ``assets/`` for a year (their names change with their content);
  ``index.html`` and ``config.json`` revalidated on every load.

The files are web/dist as ``make web`` builds it (never Docker bundling): synthesis stops with
``WebAppNotBuilt`` when it is missing. ``config.json`` is written beside them from the user pool's tokens.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration, Fn, Stack
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct
from crm_core.definitions import ORIGIN_HEADER

from infra.auth import CrmAuth
from infra.bundling import REPO_ROOT
from infra.nag import acknowledge, nag_environment

WEB_DIST = REPO_ROOT / "web" / "dist"
REWRITE_FUNCTION = Path(__file__).with_name("web_rewrite.js")
API_PATH_PATTERN = "/v1/*"
HASHED_ASSETS = "assets"
ASSETS_CACHE_CONTROL = "public, max-age=31536000, immutable"
REVALIDATE_CACHE_CONTROL = "no-cache"
# What the build leaves in web/dist that is not served: Vite's manifest and make's stamp.
NOT_SERVED = (".vite", ".vite/*", ".built")


class WebAppNotBuilt(RuntimeError):
    """web/dist has no index.html: the CDK app deploys the app as built, and does not build it."""


def content_security_policy(region: str) -> str:
    """Scripts and styles from the app's origin only (Mantine sets inline style attributes), API calls to the
    same origin, and the user pool's regional endpoint for the password sign-in."""
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self'",
            f"connect-src 'self' https://cognito-idp.{region}.amazonaws.com",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


class CrmWeb(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        http_api: apigwv2.HttpApi,
        auth: CrmAuth,
        dist: Path = WEB_DIST,
        web_acl_arn: str | None = None,
        origin_secret_value: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        if not (dist / "index.html").is_file():
            raise WebAppNotBuilt(
                f"{dist} has no index.html: build the web app first with `make web` "
                "(`make synth` does), then synthesize again."
            )
        region = Stack.of(self).region

        self.bucket = s3.Bucket(
            self,
            "Bucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            versioned=False,
        )

        self.rewrite = cloudfront.Function(
            self,
            "SpaRewrite",
            code=cloudfront.FunctionCode.from_file(file_path=str(REWRITE_FUNCTION)),
            runtime=cloudfront.FunctionRuntime.JS_2_0,
            comment="Client-side routes of the web app to /index.html",
        )

        self.security_headers = cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            comment="CRM web app and API: security headers",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=content_security_policy(region), override=True
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
                    override=True,
                ),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.days(365), include_subdomains=True, override=True
                ),
            ),
        )

        # The files' own Cache-Control decides (set at deployment): a minimum of 0 lets "no-cache" revalidate.
        self.cache_policy = cloudfront.CachePolicy(
            self,
            "WebCache",
            comment="CRM web app: as the files' Cache-Control says",
            min_ttl=Duration.seconds(0),
            default_ttl=Duration.seconds(0),
            max_ttl=Duration.days(365),
            enable_accept_encoding_gzip=True,
            enable_accept_encoding_brotli=True,
        )

        # The API's host name: https://<id>.execute-api.<region>.amazonaws.com -> <id>.execute-api....
        api_domain = Fn.select(2, Fn.split("/", http_api.api_endpoint))
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment="CRM web app and API",
            default_root_object="index.html",
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            web_acl_id=web_acl_arn,  # infra/waf.py
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=self.cache_policy,
                compress=True,
                response_headers_policy=self.security_headers,
                function_associations=[
                    cloudfront.FunctionAssociation(
                        function=self.rewrite, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST
                    )
                ],
            ),
            additional_behaviors={
                API_PATH_PATTERN: cloudfront.BehaviorOptions(
                    origin=origins.HttpOrigin(
                        api_domain,
                        protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
                        # The proof the API's authorizer asks for (definitions.ORIGIN_HEADER); it replaces a
                        # viewer's header of the same name.
                        custom_headers={ORIGIN_HEADER: origin_secret_value} if origin_secret_value else None,
                    ),
                    viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                    allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
                    cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
                    origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
                    response_headers_policy=self.security_headers,
                    compress=True,
                ),
            },
        )

        # Hashed files first and never pruned: a page loaded before a deployment still finds its chunks.
        assets = s3deploy.BucketDeployment(
            self,
            "Assets",
            sources=[s3deploy.Source.asset(str(dist / HASHED_ASSETS))],
            destination_bucket=self.bucket,
            destination_key_prefix=f"{HASHED_ASSETS}/",
            cache_control=[s3deploy.CacheControl.from_string(ASSETS_CACHE_CONTROL)],
            prune=False,
            memory_limit=512,
        )
        self.config = {
            "user_pool_id": auth.user_pool.user_pool_id,
            "client_id": auth.web_client.user_pool_client_id,
            "region": region,
            "api_key_sign_in": False,
        }
        pages = s3deploy.BucketDeployment(
            self,
            "Pages",
            sources=[
                s3deploy.Source.asset(str(dist), exclude=[f"{HASHED_ASSETS}/*", HASHED_ASSETS, *NOT_SERVED]),
                s3deploy.Source.json_data("config.json", self.config),
            ],
            destination_bucket=self.bucket,
            cache_control=[s3deploy.CacheControl.from_string(REVALIDATE_CACHE_CONTROL)],
            prune=False,
            memory_limit=512,
        )
        pages.node.add_dependency(assets)

        self._acknowledge(waf=web_acl_arn is not None)

    @property
    def url(self) -> str:
        return f"https://{self.distribution.distribution_domain_name}"

    def _acknowledge(self, *, waf: bool) -> None:
        acknowledge(
            self.bucket,
            "AwsSolutions-S1",
            "The bucket holds the web app's public build output only, read through CloudFront; requests are "
            "seen at the distribution, and server access logs would be a second, paid log of the same reads.",
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR1",
            "A CRM for SaaS tenants anywhere: no country is blocked by default; an operator adds a geo "
            "restriction for their market.",
        )
        if not waf:  # only where the construct is used without one (its own tests)
            acknowledge(
                self.distribution,
                "AwsSolutions-CFR2",
                "Made without a web ACL here; the CRM's stack always gives it one (infra/waf.py).",
            )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR3",
            "Standard logs are billed per request delivered; the API's access log already records each API "
            "call, and the app's files are static.",
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR4",
            "The distribution uses the default *.cloudfront.net certificate, whose TLS policy CloudFront "
            "fixes; an operator with a custom domain sets TLSv1.2_2021 with their certificate.",
        )
        # BucketDeployment's handler (one function per stack, made by CDK beside this construct): it runs at
        # deployment only, copying the build from CDK's staging bucket into this one.
        bucket_id = Stack.of(self).get_logical_id(self.bucket.node.default_child)  # type: ignore[arg-type]
        deployment_findings = {
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AWSLambdaBasicExecutionRole]": "CDK's BucketDeployment handler logs with the AWS managed "
            "basic execution policy.",
            "AwsSolutions-L1": "CDK's BucketDeployment handler's runtime is the one its CDK version sets.",
        }
        copy_reason = (
            "CDK's BucketDeployment handler reads the staged build and writes (and replaces) every file of "
            "it in the web bucket: the wildcards are its object actions on those two buckets' objects."
        )
        partition, region, account = nag_environment(self)
        for finding in (
            "Action::s3:GetObject*",
            "Action::s3:GetBucket*",
            "Action::s3:List*",
            "Action::s3:DeleteObject*",
            "Action::s3:Abort*",
            f"Resource::arn:{partition}:s3:::cdk-hnb659fds-assets-{account}-{region}/*",
            f"Resource::<{bucket_id}.Arn>/*",
        ):
            deployment_findings[f"AwsSolutions-IAM5[{finding}]"] = copy_reason
        stack = Stack.of(self)
        for child in stack.node.children:
            if child.node.id.startswith("Custom::CDKBucketDeployment"):
                for rule_id, reason in deployment_findings.items():
                    acknowledge(child, rule_id, reason)
