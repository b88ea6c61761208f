"""The tenant access policies (crm_core.tenant_access), evaluated: moto evaluates none of their conditions,
so the policies are checked here with tests/support/iam_policy.py, itself checked first against the
examples of AWS's documentation.

For a sample key of every partition key form of keys.py (found by introspection, not listed by hand) and
every file key the services make, the session policy of a tenant and the role's own policy (with the
tenant's session tag) allow the tenant's own and deny another tenant's."""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
from collections.abc import Iterator
from typing import Any

import pytest
from crm_core import repositories, services, tenant_access
from crm_core.config import settings
from crm_core.definitions import TABLE, TENANT_ACCESS
from crm_core.reports import store
from crm_core.repositories import keys
from crm_core.services import exports, imports

from tests.support.iam_policy import Request, allowed, dynamodb_requests, s3_request

TENANT, OTHER = "01JTENANTAAAAAAAAAAAAAAAAA", "01JOTHERBBBBBBBBBBBBBBBBBB"
TABLE_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/crm"
PARTITION_KEYS = {"": TABLE.partition_key, **{i.name: i.partition_key for i in TABLE.indexes}}


# ------------------------------------------------------------------ the evaluator against AWS's examples


def test_the_evaluator_agrees_with_the_documented_examples() -> None:
    # DynamoDB Developer Guide, "Using IAM policy conditions for fine-grained access control": a user reaches
    # only the GameScores items whose partition key is the user's id.
    game_scores = "arn:aws:dynamodb:us-west-2:123456789012:table/GameScores"
    leading_keys = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowAccessToOnlyItemsMatchingUserID",
                "Effect": "Allow",
                "Action": [
                    "dynamodb:GetItem",
                    "dynamodb:BatchGetItem",
                    "dynamodb:Query",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
                    "dynamodb:DeleteItem",
                    "dynamodb:BatchWriteItem",
                ],
                "Resource": [game_scores],
                "Condition": {
                    "ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["${www.amazon.com:user_id}"]}
                },
            }
        ],
    }
    user = {"www.amazon.com:user_id": ["user1"]}

    def dynamo(action: str, *keys: str, resource: str = game_scores) -> Request:
        return Request(action, resource, {**user, "dynamodb:LeadingKeys": list(keys)})

    assert allowed([leading_keys], dynamo("dynamodb:GetItem", "user1"))
    assert not allowed([leading_keys], dynamo("dynamodb:GetItem", "user2"))
    assert not allowed([leading_keys], dynamo("dynamodb:BatchGetItem", "user1", "user2"))
    assert allowed([leading_keys], dynamo("dynamodb:BatchGetItem", "user1"))
    assert not allowed([leading_keys], dynamo("dynamodb:Scan"))  # no such action allowed
    assert not allowed([leading_keys], dynamo("dynamodb:GetItem", "user1", resource=f"{game_scores}x"))
    # The policy variable has no value: the condition matches nothing.
    assert not allowed(
        [leading_keys], Request("dynamodb:GetItem", game_scores, {"dynamodb:LeadingKeys": ["x"]})
    )
    # ForAllValues holds for a request with no value of the key at all (IAM User Guide, "Set operators for
    # multivalued context keys": "returns true if there are no context keys in the request"); which is why
    # the tenant policies add a Null condition.
    assert allowed([leading_keys], Request("dynamodb:Query", game_scores, dict(user)))

    # IAM User Guide, multivalued context keys: tag keys limited to a set, ForAllValues and ForAnyValue.
    def tags(operator: str, *keys: str) -> bool:
        policy = {
            "Statement": {
                "Effect": "Allow",
                "Action": "ec2:CreateTags",
                "Resource": "*",
                "Condition": {operator: {"aws:TagKeys": ["environment", "cost-center*"]}},
            }
        }
        context = {"aws:TagKeys": list(keys)} if keys else {}
        return allowed([policy], Request("ec2:CreateTags", "arn:aws:ec2:::instance/i-1", context))

    assert tags("ForAllValues:StringLike", "environment", "cost-center-eu")
    assert not tags("ForAllValues:StringLike", "environment", "owner")
    assert tags("ForAllValues:StringLike")  # no keys: true
    assert tags("ForAnyValue:StringLike", "owner", "environment")
    assert not tags("ForAnyValue:StringLike", "owner")
    assert not tags("ForAnyValue:StringLike")  # no keys: false

    # "Null": true when the key is absent (the IAM User Guide's aws:TokenIssueTime example), and a plain
    # operator on an absent key is false; "?" matches exactly one character; actions ignore case.
    def with_key(condition: dict[str, Any], context: dict[str, list[str]]) -> bool:
        policy = {
            "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": condition}]
        }
        return allowed([policy], Request("S3:GetObject", "arn:aws:s3:::b/k", context))

    assert with_key({"Null": {"aws:TokenIssueTime": "true"}}, {})
    assert not with_key({"Null": {"aws:TokenIssueTime": "true"}}, {"aws:TokenIssueTime": ["2026"]})
    assert not with_key({"StringLike": {"s3:prefix": "a*"}}, {})
    assert with_key({"StringLike": {"s3:prefix": "a?c"}}, {"s3:prefix": ["abc"]})
    assert not with_key({"StringLike": {"s3:prefix": "a?c"}}, {"s3:prefix": ["abbc"]})
    # An explicit Deny wins; a request must be allowed by every policy given (role and session policies).
    deny = {"Statement": [{"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]}
    everything = {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    nothing = {"Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}]}
    assert not allowed([everything, deny], Request("s3:GetObject", "arn:aws:s3:::b/k"))
    assert not allowed([everything, nothing], Request("s3:GetObject", "arn:aws:s3:::b/k"))
    assert allowed([everything], Request("s3:GetObject", "arn:aws:s3:::b/k"))


# --------------------------------------------------------------------------------- the tenant policies


def _policies(tenant_id: str) -> list[dict[str, Any]]:
    """What a tenant's session may do: its session policy and the role's own, intersected."""
    role = tenant_access.role_policy(
        "arn:aws:dynamodb:us-east-1:123456789012:table/crm",
        f"arn:aws:s3:::{settings().imports_bucket}",
        f"arn:aws:s3:::{settings().analytics_bucket}",
    )
    return [role, tenant_access.session_policy(tenant_id)]


def _context(tenant_id: str) -> dict[str, list[str]]:
    return {f"aws:PrincipalTag/{TENANT_ACCESS.tag}": [tenant_id]}


def _key_functions() -> Iterator[tuple[str, Any]]:
    """Every ``*_pk`` function of the repositories and services (keys.py's, and the few a module keeps for
    itself: a team's members, an import's or export's jobs, a birthday's marker)."""
    for package in (repositories, services):
        for module_info in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            module = importlib.import_module(module_info.name)
            for name, function in inspect.getmembers(module, inspect.isfunction):
                if name.endswith("_pk") and function.__module__ == module.__name__:
                    yield f"{module.__name__}.{name}", function


def _sample_partition_keys(tenant_id: str) -> Iterator[tuple[str, str]]:
    """(function name, key) for every partition key form: each ``*_pk`` function, called with sample
    arguments by its parameters' names and annotations."""
    found = 0
    for name, function in _key_functions():
        arguments: dict[str, Any] = {}
        for parameter in inspect.signature(function).parameters.values():
            if parameter.name == "tenant_id":
                arguments[parameter.name] = tenant_id
            elif parameter.annotation in ("int", int):
                arguments[parameter.name] = 3
            else:
                arguments[parameter.name] = f"{parameter.name}-01JX"
        found += 1
        yield name, function(**arguments)
    assert found >= 35  # every form, not a few


def _pynamodb_style(operation: str, key: str, index: str | None = None) -> dict[str, Any]:
    attribute = PARTITION_KEYS[index or ""]
    if operation == "Query":
        params: dict[str, Any] = {
            "KeyConditionExpression": "#0 = :0",
            "ExpressionAttributeNames": {"#0": attribute},
            "ExpressionAttributeValues": {":0": {"S": key}},
        }
        if index:
            params["IndexName"] = index
        return params
    if operation == "TransactWriteItems":
        return {
            "TransactItems": [
                {"Put": {"Item": {attribute: {"S": key}, "SK": {"S": "#RECORD"}}}},
                {"ConditionCheck": {"Key": {attribute: {"S": key}, "SK": {"S": "#UNIQUE"}}}},
                {"Update": {"Key": {attribute: {"S": key}, "SK": {"S": "x"}}}},
                {"Delete": {"Key": {attribute: {"S": key}, "SK": {"S": "y"}}}},
            ]
        }
    if operation == "BatchGetItem":
        return {"RequestItems": {"crm": {"Keys": [{attribute: {"S": key}, "SK": {"S": "#RECORD"}}]}}}
    if operation == "PutItem":
        return {"Item": {attribute: {"S": key}, "SK": {"S": "#RECORD"}}}
    return {"Key": {attribute: {"S": key}, "SK": {"S": "#RECORD"}}}


def _all_allowed(caller: str, operation: str, params: dict[str, Any]) -> bool:
    """Whether the caller's session may make the call: allowed by both policies together."""
    requests = dynamodb_requests(operation, params, TABLE_ARN, PARTITION_KEYS, _context(caller))
    return bool(requests) and all(allowed(_policies(caller), r) for r in requests)


def _refused_by_each(caller: str, operation: str, params: dict[str, Any]) -> bool:
    """Whether each policy on its own refuses the call (some request of it): either alone isolates."""
    requests = dynamodb_requests(operation, params, TABLE_ARN, PARTITION_KEYS, _context(caller))
    return all(not all(allowed([policy], r) for r in requests) for policy in _policies(caller))


def test_every_key_form_is_reachable_by_its_tenant_only() -> None:
    operations = (
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "BatchGetItem",
        "TransactWriteItems",
    )
    for name, key in _sample_partition_keys(TENANT):
        for operation in operations:
            params = _pynamodb_style(operation, key)
            assert _all_allowed(TENANT, operation, params), (name, operation)
            assert _refused_by_each(OTHER, operation, params), (name, operation)
        # Every index's partition key starts with the tenant too: a Query of any index, on the tenant's
        # key only.
        for index in TABLE.indexes:
            params = _pynamodb_style("Query", key, index.name)
            assert _all_allowed(TENANT, "Query", params), (name, index.name)
            assert _refused_by_each(OTHER, "Query", params), (name, index.name)


def test_what_no_tenant_session_reaches() -> None:
    policies, context = _policies(TENANT), _context(TENANT)
    table_requests = [
        # The operator's tenant directory: the one key that does not start with a tenant.
        *dynamodb_requests(
            "Query", _pynamodb_style("Query", keys.TENANTS_PK, "GSI1"), TABLE_ARN, PARTITION_KEYS, context
        ),
        # A tenant whose id starts with this one's (why the patterns are T#<id> and T#<id>#*).
        *dynamodb_requests(
            "GetItem",
            _pynamodb_style("GetItem", f"T#{TENANT}X#contact#1"),
            TABLE_ARN,
            PARTITION_KEYS,
            context,
        ),
        # A batch with one other tenant's key among its own.
        Request(
            "dynamodb:BatchGetItem",
            TABLE_ARN,
            {**context, "dynamodb:LeadingKeys": [f"T#{TENANT}", f"T#{OTHER}"]},
        ),
        # Calls that name no partition key: Scan (not granted at all), and any item action without one.
        Request("dynamodb:Scan", TABLE_ARN, context),
        Request("dynamodb:GetItem", TABLE_ARN, context),
        Request("dynamodb:DescribeTable", TABLE_ARN, context),
        # Another table.
        Request(
            "dynamodb:GetItem", f"{TABLE_ARN}-copy", {**context, "dynamodb:LeadingKeys": [f"T#{TENANT}"]}
        ),
    ]
    for request in table_requests:
        assert not any(allowed([policy], request) for policy in policies), request
    # A session without the tenant tag gets nothing from the role, whatever its session policy says.
    own = Request("dynamodb:GetItem", TABLE_ARN, {"dynamodb:LeadingKeys": [f"T#{TENANT}"]})
    assert not allowed(policies, own)
    assert allowed(policies, Request(own.action, own.resource, {**own.context, **context}))
    # A session whose tag names another tenant than its policy: the role's policy still holds it to the tag.
    assert not allowed(policies, Request(own.action, own.resource, {**own.context, **_context(OTHER)}))


def _file_keys(tenant_id: str) -> dict[str, list[str]]:
    """Every file key the services make for a tenant, by bucket (their own functions)."""
    return {
        settings().imports_bucket: [
            imports.upload_key(tenant_id, "imp1"),
            imports._chunk_key(tenant_id, "imp1", 4),
            imports._rejected_key(tenant_id, "imp1"),
            imports._rejected_prefix(tenant_id, "imp1") + "000001.json",
            exports.zip_key(tenant_id, "exp1"),
            exports.tail_key(tenant_id, "exp1", 2),
        ],
        settings().analytics_bucket: [
            store.file_key(tenant_id, "contacts", "2026-11-27", "2026-11-27T10:00:00.000Z", "export", ["a"]),
        ],
    }


def test_files_are_reachable_by_their_tenant_only() -> None:
    for bucket, file_keys in _file_keys(TENANT).items():
        for key in file_keys:
            for action in TENANT_ACCESS.object_actions:
                request = s3_request(action.removeprefix("s3:"), bucket, key)
                own = Request(request.action, request.resource, _context(TENANT))
                theirs = Request(request.action, request.resource, _context(OTHER))
                assert allowed(_policies(TENANT), own), (action, key)
                assert not any(allowed([policy], theirs) for policy in _policies(OTHER)), (action, key)
    # Listings: under the tenant's prefix only.
    analytics = settings().analytics_bucket
    for prefix, own_listing in (
        (store.tenant_prefix(TENANT), True),
        (store.tenant_prefix(TENANT) + "object=deals/", True),
        (store.tenant_prefix(OTHER), False),
        ("analytics/", False),
        ("", False),
    ):
        request = s3_request("ListBucket", analytics, prefix=prefix)
        context = {**request.context, **_context(TENANT)}
        listing = Request(request.action, request.resource, context)
        assert [allowed([policy], listing) for policy in _policies(TENANT)] == [own_listing] * 2, prefix
    # Another bucket, and a bucket-wide action.
    assert not allowed(
        _policies(TENANT),
        Request("s3:GetObject", f"arn:aws:s3:::elsewhere/uploads/{TENANT}/x", _context(TENANT)),
    )
    assert not allowed(
        _policies(TENANT), Request("s3:DeleteBucket", f"arn:aws:s3:::{analytics}", _context(TENANT))
    )


def test_the_session_policy_fits_and_refuses_what_it_cannot_hold(monkeypatch: pytest.MonkeyPatch) -> None:
    # Deployed names are longer than the local ones: CDK's table and bucket names, at their longest.
    monkeypatch.setenv("CRM_TABLE_NAME", "CrmStack-DataTable" + "X" * 45)
    monkeypatch.setenv("CRM_IMPORTS_BUCKET", "crmstack-importsbucket" + "x" * 41)
    monkeypatch.setenv("CRM_ANALYTICS_BUCKET", "crmstack-reportinganalyticsbucket" + "x" * 30)
    settings.cache_clear()
    try:
        text = tenant_access.packed_policy(TENANT)
        assert len(text) <= tenant_access.MAX_POLICY_CHARS, len(text)
        assert json.loads(text) == tenant_access.session_policy(TENANT)
        assert "kms:" not in text  # no customer-managed key: nothing of KMS
        # With a customer-managed key on the tenants' data (a multi-Region key's id is the longest).
        key = "arn:aws:kms:ap-southeast-2:123456789012:key/mrk-0123456789abcdef0123456789abcdef"
        monkeypatch.setenv("CRM_DATA_KEY_ARN", key)
        settings.cache_clear()
        text = tenant_access.packed_policy(TENANT)
        assert len(text) <= tenant_access.MAX_POLICY_CHARS, len(text)
        (statement,) = [s for s in json.loads(text)["Statement"] if s.get("Sid") == "DataKey"]
        assert statement["Resource"] == "arn:aws:kms:*:*:key/mrk-0123456789abcdef0123456789abcdef"
        # The session may use the key (the role's own policy holds it to DynamoDB and S3); another
        # key, no.
        session = tenant_access.session_policy(TENANT)
        assert allowed([session], Request("kms:Decrypt", key, _context(TENANT)))
        assert not allowed([session], Request("kms:Decrypt", key.replace("mrk-0", "mrk-1"), _context(TENANT)))
    finally:
        settings.cache_clear()
    for bad in ("", "a*", "a?b", "${aws:username}", "x" * 65, "T#1", "a/b"):
        with pytest.raises(tenant_access.TenantAccessError):
            tenant_access.session_policy(bad)
