"""AWS WAF in front of the CRM: one web ACL on the CloudFront distribution serving the web app and the API.

An HTTP API cannot take a web ACL itself; the distribution (infra/web.py) can, and every API call reaches the
API through it. What the ACL does, in order (the first rule that blocks ends the evaluation):

1. ``RatePerIp``: more than ``RATE_PER_IP`` requests from one address in five minutes are refused with 429
   and ``Retry-After`` (a flood of bad credentials is stopped here, before it bills the authorizer and a
   function). High enough for a business plan's integration (20,000 a minute per tenant is its own limit,
   spread over its callers); an operator tunes it with ``-c crm:wafRequestsPerIp=N``.
2. ``UncredentialedPerIp``: requests to ``/v1/`` whose ``Authorization`` is not shaped like a credential
   (``Bearer crm_...`` or a JWT) are refused beyond ``UNCREDENTIALED_PER_IP`` per address in five minutes:
   a scanner gets a few 401s from the API, then 429s from the edge.
3. AWS managed groups: the IP reputation list, the common rule set and known bad inputs. In the common set,
   ``SizeRestrictions_BODY`` (a body over 8 KB) only counts: batch writes of 100 records and long notes are
   legitimate API bodies well over it, and the API refuses a body over 1 MiB itself (413).
   ``BodyOverLimitOutsideApi`` blocks what that rule labels when it is not under ``/v1/`` (the web app is
   read with GETs: a large body there is never legitimate).

Metrics for the ACL and each rule go to CloudWatch; blocked and counted requests (not allowed ones: a log line
per API call would cost more than the call) are logged to a log group named ``aws-waf-logs-...``, with the
``Authorization`` header redacted.

A CloudFront web ACL must be created in us-east-1: infra/app.py decides where this construct goes.
"""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from infra.web import API_PATH_PATTERN

WEB_ACL_REGION = "us-east-1"  # CloudFront's web ACLs live there, whatever the distribution's origins
RATE_PER_IP = 10_000  # per address, per five minutes (about 33 a second, sustained)
RATE_PER_IP_CONTEXT = "crm:wafRequestsPerIp"
UNCREDENTIALED_PER_IP = 300  # per address, per five minutes, without a credential-shaped Authorization
RATE_WINDOW_SECONDS = 300
API_PREFIX = API_PATH_PATTERN.rstrip("*")  # "/v1/"
# An API key (crm_ and its secret) or a JWT (three base64url parts), after "Bearer ".
CREDENTIAL_SHAPE = r"^[Bb]earer +(crm_[A-Za-z0-9_-]{16,}|[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$"
MANAGED_GROUPS = (
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
)
COUNT_ONLY = {"AWSManagedRulesCommonRuleSet": ("SizeRestrictions_BODY",)}
BODY_SIZE_LABEL = "awswaf:managed:aws:core-rule-set:SizeRestrictions_Body"
TOO_MANY_BODY = "too-many-requests"
TOO_MANY_JSON = (
    '{"type":"/problems/too-many-requests","title":"Too Many Requests","status":429,'
    '"detail":"Too many requests from this address; retry later."}'
)


def _visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
    )


def _too_many() -> wafv2.CfnWebACL.RuleActionProperty:
    return wafv2.CfnWebACL.RuleActionProperty(
        block=wafv2.CfnWebACL.BlockActionProperty(
            custom_response=wafv2.CfnWebACL.CustomResponseProperty(
                response_code=429,
                custom_response_body_key=TOO_MANY_BODY,
                response_headers=[
                    wafv2.CfnWebACL.CustomHTTPHeaderProperty(
                        name="Retry-After", value=str(RATE_WINDOW_SECONDS)
                    )
                ],
            )
        )
    )


def _api_path() -> wafv2.CfnWebACL.StatementProperty:
    return wafv2.CfnWebACL.StatementProperty(
        byte_match_statement=wafv2.CfnWebACL.ByteMatchStatementProperty(
            field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(uri_path={}),
            positional_constraint="STARTS_WITH",
            search_string=API_PREFIX,
            text_transformations=[wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")],
        )
    )


def _rate_rule(
    name: str, priority: int, limit: int, scope_down: wafv2.CfnWebACL.StatementProperty | None = None
) -> wafv2.CfnWebACL.RuleProperty:
    """More than ``limit`` requests from one address in ``RATE_WINDOW_SECONDS`` (of those ``scope_down``
    matches): 429 with ``Retry-After``."""
    return wafv2.CfnWebACL.RuleProperty(
        name=name,
        priority=priority,
        action=_too_many(),
        statement=wafv2.CfnWebACL.StatementProperty(
            rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                aggregate_key_type="IP",
                limit=limit,
                evaluation_window_sec=RATE_WINDOW_SECONDS,
                scope_down_statement=scope_down,
            )
        ),
        visibility_config=_visibility(name),
    )


def requests_per_ip(value: object) -> int:
    """The ``crm:wafRequestsPerIp`` context as a whole number WAF takes (10 to 2,000,000,000 per window)."""
    if value is None:
        return RATE_PER_IP
    try:
        limit = int(str(value).strip())
    except ValueError:
        limit = 0
    if not 10 <= limit <= 2_000_000_000:
        raise ValueError(f"{RATE_PER_IP_CONTEXT} must be a whole number from 10 up, not {value!r}")
    return limit


class CrmWebAcl(Construct):
    """``acl`` (its ``attr_arn`` goes to the distribution's ``web_acl_id``), its ``log_group`` and logging."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        per_ip = requests_per_ip(self.node.try_get_context(RATE_PER_IP_CONTEXT))
        not_a_credential = wafv2.CfnWebACL.StatementProperty(
            not_statement=wafv2.CfnWebACL.NotStatementProperty(
                statement=wafv2.CfnWebACL.StatementProperty(
                    regex_match_statement=wafv2.CfnWebACL.RegexMatchStatementProperty(
                        field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(
                            single_header={"Name": "authorization"}
                        ),
                        regex_string=CREDENTIAL_SHAPE,
                        text_transformations=[
                            wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")
                        ],
                    )
                )
            )
        )
        rules = [
            _rate_rule("RatePerIp", 0, per_ip),
            _rate_rule(
                "UncredentialedPerIp",
                1,
                UNCREDENTIALED_PER_IP,
                scope_down=wafv2.CfnWebACL.StatementProperty(
                    and_statement=wafv2.CfnWebACL.AndStatementProperty(
                        statements=[_api_path(), not_a_credential]
                    )
                ),
            ),
        ]
        for offset, group in enumerate(MANAGED_GROUPS):
            rules.append(
                wafv2.CfnWebACL.RuleProperty(
                    name=group,
                    priority=10 + offset,
                    override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                    statement=wafv2.CfnWebACL.StatementProperty(
                        managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                            vendor_name="AWS",
                            name=group,
                            rule_action_overrides=[
                                wafv2.CfnWebACL.RuleActionOverrideProperty(
                                    name=rule, action_to_use=wafv2.CfnWebACL.RuleActionProperty(count={})
                                )
                                for rule in COUNT_ONLY.get(group, ())
                            ]
                            or None,
                        )
                    ),
                    visibility_config=_visibility(group),
                )
            )
        rules.append(
            wafv2.CfnWebACL.RuleProperty(
                name="BodyOverLimitOutsideApi",
                priority=20,
                action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                statement=wafv2.CfnWebACL.StatementProperty(
                    and_statement=wafv2.CfnWebACL.AndStatementProperty(
                        statements=[
                            wafv2.CfnWebACL.StatementProperty(
                                label_match_statement=wafv2.CfnWebACL.LabelMatchStatementProperty(
                                    scope="LABEL", key=BODY_SIZE_LABEL
                                )
                            ),
                            wafv2.CfnWebACL.StatementProperty(
                                not_statement=wafv2.CfnWebACL.NotStatementProperty(statement=_api_path())
                            ),
                        ]
                    )
                ),
                visibility_config=_visibility("BodyOverLimitOutsideApi"),
            )
        )

        self.acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            scope="CLOUDFRONT",
            description="CRM web app and API: rate per address, managed rule groups",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            custom_response_bodies={
                TOO_MANY_BODY: wafv2.CfnWebACL.CustomResponseBodyProperty(
                    content_type="APPLICATION_JSON", content=TOO_MANY_JSON
                )
            },
            rules=rules,
            visibility_config=_visibility("CrmWebAcl"),
        )

        # WAF writes to a log group whose name starts with aws-waf-logs-, in the ACL's region, named by its
        # ARN without the ":*" the log group's own Arn attribute ends with (WAF refuses that one). Its
        # retention is the stage's (infra/stages.py).
        stack = Stack.of(self)
        log_group_name = f"aws-waf-logs-{stack.stack_name}"
        self.log_group = logs.CfnLogGroup(self, "Logs", log_group_name=log_group_name, retention_in_days=30)
        log_group_arn = stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name=log_group_name,
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        self.logging = wafv2.CfnLoggingConfiguration(
            self,
            "Logging",
            resource_arn=self.acl.attr_arn,
            log_destination_configs=[log_group_arn],
            redacted_fields=[
                wafv2.CfnLoggingConfiguration.FieldToMatchProperty(single_header={"Name": "authorization"})
            ],
            logging_filter={
                "DefaultBehavior": "DROP",
                "Filters": [
                    {
                        "Behavior": "KEEP",
                        "Requirement": "MEETS_ANY",
                        "Conditions": [
                            {"ActionCondition": {"Action": "BLOCK"}},
                            {"ActionCondition": {"Action": "COUNT"}},
                        ],
                    }
                ],
            },
        )
        self.logging.add_dependency(self.log_group)
