"""The public CRM API: an API Gateway HTTP API, its Lambda authorizer and one function per bounded context.

Routes and functions come from ``crm_core.definitions.API_FUNCTIONS``: a function added there is deployed
with its routes, with no change here. An HTTP API, not a REST API: $1.00 against $3.50 per million
requests, and the authorizer's answer is cached per credential.
"""

from __future__ import annotations

import json

import jsii
from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct
from crm_core.definitions import (
    API_FUNCTIONS,
    AUTHORIZER,
    AUTHORIZER_CACHE_SECONDS,
    ORIGIN_HEADER,
    TENANT_ACCESS,
)

from infra.auth import CrmAuth
from infra.data import CrmData
from infra.functions import LOG_RETENTION, CrmFunctions, construct_name
from infra.nag import acknowledge

IDENTITY_SOURCE = "$request.header.Authorization"
ORIGIN_IDENTITY_SOURCE = f"$request.header.{ORIGIN_HEADER}"
# Stage-wide defaults; per-tenant limits (429 with Retry-After) are enforced by the application.
THROTTLE_RATE_LIMIT = 500  # steady requests per second
THROTTLE_BURST_LIMIT = 1000

# HTTP API access log variables ($context.* of HTTP APIs, not of REST APIs).
ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "requestTime": "$context.requestTime",
    "ip": "$context.identity.sourceIp",
    "userAgent": "$context.identity.userAgent",
    "httpMethod": "$context.httpMethod",
    "routeKey": "$context.routeKey",
    "path": "$context.path",
    "protocol": "$context.protocol",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationStatus": "$context.integrationStatus",
    "integrationLatency": "$context.integrationLatency",
    "integrationError": "$context.integrationErrorMessage",
    "authorizerError": "$context.authorizer.error",
    "error": "$context.error.message",
}


@jsii.implements(apigwv2.IAccessLogSettings)
class _AccessLogSettings:
    """``IAccessLogSettings`` is an interface in jsii, so Python implements it."""

    def __init__(self, destination: apigwv2.IAccessLogDestination, log_format: apigw.AccessLogFormat) -> None:
        self._destination = destination
        self._format = log_format

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw.AccessLogFormat | None:
        return self._format


def parse_route_key(route_key: str) -> tuple[apigwv2.HttpMethod, str]:
    """``"ANY /v1/contacts/{proxy+}"`` -> ``(HttpMethod.ANY, "/v1/contacts/{proxy+}")``."""
    method, _, path = route_key.strip().partition(" ")
    if not path.startswith("/"):
        raise ValueError(f"route key {route_key!r} is not '<METHOD> /<path>'")
    return apigwv2.HttpMethod(method.upper()), path.strip()


class CrmApi(Construct):
    """The HTTP API, its ``$default`` stage (access logs, throttling) and the routes to each function."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: CrmFunctions,
        data: CrmData,
        auth: CrmAuth,
    ) -> None:
        super().__init__(scope, construct_id)

        # The authorizer turns an API key or a user pool JWT into the principal (tenant, user, role).
        # It reads a key's record, its user and the tenant on every request, and writes a key's last use at
        # most once a minute (data.grant_api_key_lookup; services/credentials.py).
        # CloudFront's origin header value (infra/web.py): a request without it never reaches a function.
        self.origin_secret = secretsmanager.Secret(
            self,
            "OriginSecret",
            description="The value CloudFront adds to the API's requests (X-Crm-Origin), for the authorizer",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                exclude_punctuation=True, password_length=40
            ),
        )
        acknowledge(
            self.origin_secret,
            "AwsSolutions-SMG4",
            "It only proves a request came through the distribution (and its web ACL); rotating it means "
            "CloudFront and the authorizer changing at once (a deployment), so it is rotated by redeploying "
            "with a new value, not by a rotation Lambda that would refuse requests in flight.",
        )
        # Resolved by CloudFormation at deployment (a dynamic reference), as CloudFront's is.
        self.origin_secret_value = self.origin_secret.secret_value.unsafe_unwrap()
        self.authorizer_function = functions.create(
            AUTHORIZER,
            extra_environment={
                "CRM_USER_POOL_ID": auth.user_pool.user_pool_id,
                "CRM_USER_POOL_CLIENT_ID": auth.web_client.user_pool_client_id,
                "CRM_ORIGIN_SECRET": self.origin_secret_value,
            },
            description="CRM API authorizer (API keys and user pool JWTs)",
        )
        data.grant_api_key_lookup(self.authorizer_function)

        self.authorizer = authorizers.HttpLambdaAuthorizer(
            "CrmAuthorizer",
            self.authorizer_function,
            authorizer_name="crm",
            response_types=[authorizers.HttpLambdaResponseType.SIMPLE],
            identity_source=[IDENTITY_SOURCE, ORIGIN_IDENTITY_SOURCE],
            results_cache_ttl=Duration.seconds(AUTHORIZER_CACHE_SECONDS),
        )

        self.http_api = apigwv2.HttpApi(
            self,
            "HttpApi",
            api_name="crm",
            description="CRM public API (/v1)",
            create_default_stage=False,
            default_authorizer=self.authorizer,
        )

        self.access_logs = logs.LogGroup(self, "AccessLogs", retention=LOG_RETENTION)
        self.stage = apigwv2.HttpStage(
            self,
            "DefaultStage",
            http_api=self.http_api,
            stage_name="$default",
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(
                rate_limit=THROTTLE_RATE_LIMIT,
                burst_limit=THROTTLE_BURST_LIMIT,
            ),
            access_log_settings=_AccessLogSettings(
                apigwv2.LogGroupLogDestination(self.access_logs),
                apigw.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FORMAT, separators=(",", ":"))),
            ),
        )

        self.functions: dict[str, lambda_.Function] = {}
        for definition in API_FUNCTIONS:
            function = functions.create(definition)
            # Its requests reach the table through the tenant access role only (infra/tenant_access.py);
            # the cursor key signs and checks its cursors and links.
            assert definition.name in TENANT_ACCESS.functions
            data.cursor_secret.grant_read(function)
            self.functions[definition.name] = function
            integration = integrations.HttpLambdaIntegration(f"{construct_name(definition.name)}", function)
            # A public function's routes (an email's tracking links) are reached with no credential: the
            # function checks its signed token itself.
            for route_key in definition.routes:
                method, path = parse_route_key(route_key)
                if definition.public:
                    for route in self.http_api.add_routes(
                        path=path,
                        methods=[method],
                        integration=integration,
                        authorizer=apigwv2.HttpNoneAuthorizer(),
                    ):
                        acknowledge(
                            route,
                            "AwsSolutions-APIG4",
                            "An email's tracking link (open pixel, click, unsubscribe page) is followed by a "
                            "mail program with no credential; the function accepts only a token the CRM "
                            "signed (HMAC) naming tenant, campaign and contact, and answers 404 otherwise.",
                        )
                else:
                    self.http_api.add_routes(path=path, methods=[method], integration=integration)

    @property
    def url(self) -> str:
        """The base URL of the API (the ``$default`` stage)."""
        url = self.stage.url
        assert url is not None
        return url
