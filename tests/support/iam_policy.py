"""A small IAM policy evaluator for exactly what the tenant access policies use (crm_core.tenant_access,
infra/tenant_access.py), because moto evaluates no condition but ``StringEquals`` (moto/iam/
policy_conditions.py ignores every other operator: it would allow what a ``StringLike`` forbids) and no
maintained Python library evaluates ``dynamodb:LeadingKeys`` (docs/decisions/0035 lists those looked at).

What it follows (the IAM User Guide, "Policy evaluation logic" and "Condition operators"):
- a request is allowed when some ``Allow`` statement of *every* policy given matches it (the role's policy
  and a session policy are intersected) and no ``Deny`` statement of any does;
- a statement matches when its ``Action`` (case-insensitive, ``*`` and ``?`` wildcards) and ``Resource``
  (case-sensitive wildcards) match and every condition operator holds; within an operator every key must
  hold, and a key holds when any of its values does;
- ``StringEquals``, ``StringLike`` (``*`` any run of characters, ``?`` one), ``StringNotEquals``,
  ``StringNotLike``, ``ArnLike``/``ArnEquals`` (as ``StringLike``) and ``Null``;
- a key the request does not carry makes an operator false (``Null`` excepted), ``ForAllValues:`` true
  (every value of an empty set matches) and ``ForAnyValue:`` false;
- policy variables ``${aws:PrincipalTag/<tag>}`` and the like, from the request's context.

And how DynamoDB and S3 requests are authorized (the DynamoDB Developer Guide, "Using IAM policy conditions
for fine-grained access control"; the Service Authorization Reference):
``dynamodb:LeadingKeys`` is the set of partition key values a request names (of the index, for a Query of
one); a ``TransactWriteItems`` is authorized item by item as ``PutItem``, ``UpdateItem``, ``DeleteItem`` or
``ConditionCheckItem``, a ``TransactGetItems`` as ``GetItem``; a Query of an index is authorized on the
resource ``<table arn>/index/<name>``; an S3 object action on ``arn:aws:s3:::<bucket>/<key>``, a listing on
the bucket with ``s3:prefix``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Context = Mapping[str, Sequence[str]]


@dataclass(frozen=True)
class Request:
    action: str
    resource: str
    context: Context = field(default_factory=dict)


def _glob(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL) is not None


_VARIABLE = re.compile(r"\$\{([^}]+)\}")


def _substitute(text: str, context: Context) -> str | None:
    """``text`` with its policy variables replaced from the context; None when one has no single value
    (the statement then matches nothing)."""
    missing = False

    def replace(match: re.Match[str]) -> str:
        nonlocal missing
        values = context.get(match.group(1)) or ()
        if len(values) != 1:
            missing = True
            return ""
        return values[0]

    result = _VARIABLE.sub(replace, text)
    return None if missing else result


def _as_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


_OPERATORS = {
    "StringEquals": lambda expected, actual: expected == actual,
    "StringLike": lambda expected, actual: _glob(expected, actual),
    "ArnEquals": lambda expected, actual: _glob(expected, actual),
    "ArnLike": lambda expected, actual: _glob(expected, actual),
}
_NEGATED = {"StringNotEquals": "StringEquals", "StringNotLike": "StringLike"}


def _key_holds(operator: str, expected: list[str], actual: Sequence[str] | None, context: Context) -> bool:
    qualifier, _, base = operator.rpartition(":")
    if base == "Null":
        absent = not actual
        return any((value.lower() == "true") == absent for value in expected)
    patterns = [p for p in (_substitute(e, context) for e in expected) if p is not None]
    negated = base in _NEGATED
    test = _OPERATORS.get(_NEGATED.get(base, base))
    if test is None:
        raise ValueError(f"condition operator {operator} is not evaluated here")

    def one(value: str) -> bool:
        matched = any(test(pattern, value) for pattern in patterns)
        return not matched if negated else matched

    if qualifier == "ForAllValues":
        return all(one(value) for value in actual or ())
    if qualifier == "ForAnyValue":
        return any(one(value) for value in actual or ())
    if qualifier:
        raise ValueError(f"set operator {qualifier} is not evaluated here")
    if not actual:
        return negated  # a key absent: a negated operator holds, the others do not
    if len(actual) != 1:
        raise ValueError(f"{operator} on a multivalued key: use ForAllValues or ForAnyValue")
    return one(actual[0])


def _conditions_hold(conditions: Mapping[str, Mapping[str, Any]], context: Context) -> bool:
    return all(
        _key_holds(operator, _as_list(expected), context.get(key), context)
        for operator, keys in conditions.items()
        for key, expected in keys.items()
    )


def _matches(statement: Mapping[str, Any], request: Request) -> bool:
    if "Action" in statement:
        if not any(_glob(a, request.action, ignore_case=True) for a in _as_list(statement["Action"])):
            return False
    elif any(_glob(a, request.action, ignore_case=True) for a in _as_list(statement["NotAction"])):
        return False
    resources = [r for r in (_substitute(r, request.context) for r in _as_list(statement["Resource"])) if r]
    if not any(_glob(r, request.resource) for r in resources):
        return False
    return _conditions_hold(statement.get("Condition", {}), request.context)


def allowed(policies: Iterable[Mapping[str, Any]], request: Request) -> bool:
    """Whether every policy allows ``request`` and none denies it."""
    verdicts = []
    for policy in policies:
        statements = _as_list_of_statements(policy["Statement"])
        if any(s["Effect"] == "Deny" and _matches(s, request) for s in statements):
            return False
        verdicts.append(any(s["Effect"] == "Allow" and _matches(s, request) for s in statements))
    return bool(verdicts) and all(verdicts)


def _as_list_of_statements(value: Any) -> list[Mapping[str, Any]]:
    return [value] if isinstance(value, Mapping) else list(value)


# ---------------------------------------------------------------------------------- DynamoDB and S3 calls

_TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}


def _value(attribute: Any) -> str:
    """A key attribute's value, in the client's form (``{"S": "..."}``) or plain."""
    return str(attribute["S"]) if isinstance(attribute, Mapping) else str(attribute)


def dynamodb_requests(
    operation: str,
    params: Mapping[str, Any],
    table_arn: str,
    partition_key: Mapping[str, str],
    extra: Context,
) -> list[Request]:
    """The IAM requests a DynamoDB call is authorized as. ``partition_key``: the attribute holding the
    partition key of the table (``""``) and of each index (by name)."""

    def request(action: str, resource: str, keys: Iterable[str]) -> Request:
        return Request(f"dynamodb:{action}", resource, {**extra, "dynamodb:LeadingKeys": sorted(set(keys))})

    table_key = partition_key[""]
    if operation in ("GetItem", "PutItem", "UpdateItem", "DeleteItem"):
        item = params.get("Key") or params.get("Item") or {}
        return [request(operation, table_arn, [_value(item[table_key])])]
    if operation == "Query":
        index = params.get("IndexName")
        key = partition_key[index or ""]
        values = [_value(v) for k, v in (params.get("ExpressionAttributeValues") or {}).items()]
        names = params.get("ExpressionAttributeNames") or {}
        expression = params["KeyConditionExpression"]
        # The partition key's value: the placeholder the expression compares the key's name with.
        placeholder = next(
            (
                m.group(2)
                for m in re.finditer(r"(#\w+|\w+)\s*=\s*(:\w+)", expression)
                if names.get(m.group(1), m.group(1)) == key
            ),
            None,
        )
        if placeholder is None:
            raise ValueError(f"no partition key in {expression!r}")
        value = _value(params["ExpressionAttributeValues"][placeholder])
        assert value in values
        resource = f"{table_arn}/index/{index}" if index else table_arn
        return [request("Query", resource, [value])]
    if operation == "BatchGetItem":
        return [
            request("BatchGetItem", table_arn, [_value(k[table_key]) for k in spec["Keys"]])
            for spec in params["RequestItems"].values()
        ]
    if operation == "BatchWriteItem":
        keys = [
            _value((w.get("PutRequest", {}).get("Item") or w["DeleteRequest"]["Key"])[table_key])
            for writes in params["RequestItems"].values()
            for w in writes
        ]
        return [request("BatchWriteItem", table_arn, keys)]
    if operation in ("TransactWriteItems", "TransactGetItems"):
        found = []
        for entry in params["TransactItems"]:
            ((kind, spec),) = entry.items()
            item = spec.get("Key") or spec.get("Item")
            found.append(request(_TRANSACT_ACTIONS[kind], table_arn, [_value(item[table_key])]))
        return found
    return [Request(f"dynamodb:{operation}", table_arn, dict(extra))]


def s3_request(action: str, bucket: str, key: str | None = None, prefix: str | None = None) -> Request:
    if key is not None:
        return Request(f"s3:{action}", f"arn:aws:s3:::{bucket}/{key}")
    return Request(f"s3:{action}", f"arn:aws:s3:::{bucket}", {"s3:prefix": [prefix or ""]})


# S3 operations as IAM authorizes them (HeadObject as GetObject, DeleteObjects per object as DeleteObject).
_S3_OBJECT_ACTIONS = {
    "GetObject": "GetObject",
    "HeadObject": "GetObject",
    "PutObject": "PutObject",
    "DeleteObject": "DeleteObject",
    "CreateMultipartUpload": "PutObject",
    "UploadPart": "PutObject",
    "CompleteMultipartUpload": "PutObject",
    "AbortMultipartUpload": "AbortMultipartUpload",
    "ListParts": "ListMultipartUploadParts",
}


def s3_requests(operation: str, params: Mapping[str, Any], extra: Context) -> list[Request]:
    """The IAM requests an S3 call is authorized as."""
    bucket = params["Bucket"]
    if operation in ("ListObjectsV2", "ListObjects"):
        request = s3_request("ListBucket", bucket, prefix=params.get("Prefix", ""))
        return [Request(request.action, request.resource, {**extra, **request.context})]
    if operation == "DeleteObjects":
        keys = [entry["Key"] for entry in params["Delete"]["Objects"]]
        return [Request("s3:DeleteObject", f"arn:aws:s3:::{bucket}/{key}", dict(extra)) for key in keys]
    action = _S3_OBJECT_ACTIONS[operation]
    return [Request(f"s3:{action}", f"arn:aws:s3:::{bucket}/{params['Key']}", dict(extra))]
