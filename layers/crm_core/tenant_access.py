"""Tenant isolation by IAM (docs/decisions/0035-tenant-scoped-credentials.md): while a request of a tenant's
caller is served, DynamoDB and S3 are reached with credentials that can touch only that tenant's items and
files, so that a bug in a tenant check cannot read or write another tenant's data.

- ``scoped(tenant_id)`` marks the work done for one tenant (``crm_core.http.app`` wraps each authenticated
  request in it, ``crm_core.http.public`` each public page's once its signed token names the tenant; the
  threads a request fans out to run in copies of its context, so they are scoped too).
- Inside it, ``crm_core.aws.client("dynamodb" | "s3")``, the table's models (``TableItem._get_connection``)
  and the transactions' connection (``repositories.table.connection``) use the tenant's clients; outside
  it (workers, the relay, the authorizer, the operator), the function's own role, as before.
- The tenant's credentials come from ``sts:AssumeRole`` on the tenant access role
  (``settings().tenant_role_arn``) with a session policy (``session_policy``) that allows the table's item
  actions only on partition keys ``T#<tenant>`` and ``T#<tenant>#...`` (``dynamodb:LeadingKeys``, on the
  table and every index), and S3 only under the tenant's prefixes. They are kept per container per tenant
  (``MAX_TENANTS`` tenants, least recently used first out) as botocore refreshable credentials, renewed by
  botocore before they expire: a warm request makes no STS call.
- With no role configured, nothing changes: ``scoped`` still marks the tenant, and every client is the
  function's own. The local runtime configures one on its endpoint (crm_local/provision.py), so the same
  code runs on a laptop (the local endpoint accepts the credentials but evaluates no policy: the policies
  are tested on their own, tests/unit/test_tenant_policy.py).
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from crm_core.config import MAX_POOL_CONNECTIONS, settings
from crm_core.definitions import ANALYTICS, TENANT_ACCESS

if TYPE_CHECKING:
    from pynamodb.connection import Connection, TableConnection

# Tenants whose clients a container keeps (each: a botocore session, its credentials and up to four
# clients, a few hundred KB). A Lambda container serves one request at a time, mostly of a few tenants.
MAX_TENANTS = 32
# A tenant id goes into the policy's patterns: no wildcard (``*``, ``?``) nor policy variable (``$``) can
# be in one (ids are ULIDs).
TENANT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_POLICY_CHARS = 2048  # AssumeRole's limit on a session policy's plain text
SCOPED_SERVICES = ("dynamodb", "s3")

_tenant: contextvars.ContextVar[str | None] = contextvars.ContextVar("crm_tenant_scope", default=None)


class TenantAccessError(ValueError):
    """A tenant id that cannot be put in a policy."""


@contextmanager
def scoped(tenant_id: str) -> Iterator[None]:
    """DynamoDB and S3 with the tenant's credentials for the work done in this context."""
    token = _tenant.set(tenant_id)
    try:
        yield
    finally:
        _tenant.reset(token)


def current_tenant() -> str | None:
    return _tenant.get()


# ------------------------------------------------------------------------------------------- the policy


def tenant_prefix(tenant_id: str) -> str:
    """What every partition key of the tenant starts with, on the table and on every index (keys.py)."""
    if not tenant_id:
        raise ValueError("every key starts with the tenant")
    return f"T#{tenant_id}"


def key_patterns(tenant_id: str) -> list[str]:
    """``dynamodb:LeadingKeys`` patterns of the tenant's partition keys: ``T#<id>`` (the tenant's own item)
    and ``T#<id>#*`` (every other). Not ``T#<id>*``, which would match a tenant whose id starts with this
    one's."""
    _check(tenant_id)
    prefix = tenant_prefix(tenant_id)
    return [prefix, f"{prefix}#*"]


def s3_prefixes(tenant_id: str) -> dict[str, list[str]]:
    """The tenant's folders, by bucket: the imports bucket's uploads, chunks, rejected rows and exports, and
    the analytics bucket's ``analytics/tenant=<id>/``."""
    _check(tenant_id)
    return {
        settings().imports_bucket: [f"{prefix}{tenant_id}/" for prefix in TENANT_ACCESS.imports_prefixes],
        settings().analytics_bucket: [f"{ANALYTICS.prefix}tenant={tenant_id}/"],
    }


def table_arn() -> str:
    """The table by name (any region and account: the role's own policy names the one table)."""
    return f"arn:aws:dynamodb:*:*:table/{settings().table_name}"


def session_policy(tenant_id: str) -> dict[str, Any]:
    """The session policy of the tenant's credentials: what they may do is what both this and the role's
    own policy allow."""
    folders = [
        (f"arn:aws:s3:::{bucket}", prefix)
        for bucket, prefixes in s3_prefixes(tenant_id).items()
        for prefix in prefixes
    ]
    policy = _policy(table_arn(), key_patterns(tenant_id), folders)
    key = settings().data_key_arn
    if key:
        # The tenants' data is encrypted with a customer-managed key: DynamoDB and S3 use it with the
        # caller's permissions, which this policy would otherwise cut off. Nothing here is a tenant's (one
        # key for all): the role's policy holds the session to the few actions and to use through DynamoDB
        # and S3 (infra/data.py), so this statement stays short (the policy's 2,048 characters).
        key_id = key.rsplit("/", 1)[-1]
        policy["Statement"].append(
            {
                "Sid": "DataKey",
                "Effect": "Allow",
                "Action": "kms:*",
                "Resource": f"arn:aws:kms:*:*:key/{key_id}",
            }
        )
    return policy


TAG_VARIABLE = "${aws:PrincipalTag/" + TENANT_ACCESS.tag + "}"


def role_policy(table: str, imports_bucket: str, analytics_bucket: str) -> dict[str, Any]:
    """The tenant access role's own policy (infra/tenant_access.py; ARNs may be CDK tokens): the most any
    session may do, and already held to the session's tenant tag (``aws:PrincipalTag``), so that a session
    policy gone wrong still reaches one tenant only, and a session with no tag nothing."""
    tag = TAG_VARIABLE
    folders = [(imports_bucket, f"{prefix}{tag}/") for prefix in TENANT_ACCESS.imports_prefixes]
    folders.append((analytics_bucket, f"{ANALYTICS.prefix}tenant={tag}/"))
    return _policy(table, [tenant_prefix(tag), f"{tenant_prefix(tag)}#*"], folders)


def _policy(table: str, key_patterns: list[str], folders: list[tuple[str, str]]) -> dict[str, Any]:
    """Item actions on ``table`` and its indexes for partition keys matching ``key_patterns``; object
    actions in the ``(bucket ARN, prefix)`` folders, listings there. The ``Null`` condition refuses a
    request that names no partition key (``ForAllValues`` alone holds for an empty set of keys)."""
    buckets = list(dict.fromkeys(bucket for bucket, _ in folders))
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "TenantItems",
                "Effect": "Allow",
                "Action": list(TENANT_ACCESS.item_actions),
                "Resource": [table, f"{table}/index/*"],
                "Condition": {
                    "ForAllValues:StringLike": {"dynamodb:LeadingKeys": key_patterns},
                    "Null": {"dynamodb:LeadingKeys": "false"},
                },
            },
            {
                "Sid": "TenantFiles",
                "Effect": "Allow",
                "Action": list(TENANT_ACCESS.object_actions),
                "Resource": [f"{bucket}/{prefix}*" for bucket, prefix in folders],
            },
            {
                "Sid": "TenantListings",
                "Effect": "Allow",
                "Action": list(TENANT_ACCESS.list_actions),
                "Resource": buckets,
                "Condition": {"StringLike": {"s3:prefix": [f"{prefix}*" for _, prefix in folders]}},
            },
        ],
    }


def packed_policy(tenant_id: str) -> str:
    text = json.dumps(session_policy(tenant_id), separators=(",", ":"))
    if len(text) > MAX_POLICY_CHARS:
        raise TenantAccessError(f"the session policy is {len(text)} characters, over {MAX_POLICY_CHARS}")
    return text


def _check(tenant_id: str) -> None:
    if not TENANT_ID.fullmatch(tenant_id or ""):
        raise TenantAccessError(f"not a tenant id a policy can hold: {tenant_id!r}")


# -------------------------------------------------------------------------------------- the credentials

_assume_role_calls = 0  # this container's AssumeRole calls (bench/tenant_access.py reads them)


def assume_role_calls() -> int:
    return _assume_role_calls


def _assume(tenant_id: str) -> dict[str, str]:
    """Fresh credentials for the tenant, as botocore's refreshable credentials take them."""
    global _assume_role_calls
    answer = _sts().assume_role(
        RoleArn=settings().tenant_role_arn,
        RoleSessionName=f"crm-{tenant_id}"[:64],
        Policy=packed_policy(tenant_id),
        DurationSeconds=TENANT_ACCESS.session_seconds,
        Tags=[{"Key": TENANT_ACCESS.tag, "Value": tenant_id}],
    )
    _assume_role_calls += 1
    credentials = answer["Credentials"]
    return {
        "access_key": credentials["AccessKeyId"],
        "secret_key": credentials["SecretAccessKey"],
        "token": credentials["SessionToken"],
        "expiry_time": credentials["Expiration"].isoformat(),
    }


@cache
def _sts() -> Any:
    """STS with the function's own role (crm_core.aws imports this module: its clients are not used here)."""
    import boto3

    session: Any = boto3.session.Session()
    return session.client("sts", region_name=settings().region)


@dataclass
class _TenantClients:
    """One tenant's botocore session (its refreshable credentials) and the clients made from it."""

    tenant_id: str
    session: Any  # botocore.session.Session
    clients: dict[str, Any] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def client(self, service: str) -> Any:
        found = self.clients.get(service)
        if found is None:
            with self.lock:  # botocore's client creation is not thread safe
                found = self.clients.get(service)
                if found is None:
                    found = self.clients[service] = _boto3_client(self._boto3_session(), service)
        return found

    def _boto3_session(self) -> Any:
        """One boto3 session over the botocore one (under the lock): each boto3 session registers its
        handlers on the botocore session again, and S3's client refuses them twice."""
        found = self.clients.get("boto3")
        if found is None:
            import boto3

            found = self.clients["boto3"] = boto3.session.Session(botocore_session=self.session)
        return found

    def connection(self) -> Connection:
        """The tenant's pynamodb connection (models and transactions share it)."""
        found = self.clients.get("pynamodb")
        if found is None:
            with self.lock:
                found = self.clients.get("pynamodb")
                if found is None:
                    found = _pynamodb_connection(self.session)
                    found.client  # noqa: B018 (made now, under the lock: botocore's creation is not thread safe)
                    self.clients["pynamodb"] = found
        return found

    def table_connection(self, base: TableConnection) -> TableConnection:
        key = f"table:{base.table_name}"
        found = self.clients.get(key)
        if found is None:
            from pynamodb.connection import TableConnection

            connection = self.connection()
            with self.lock:
                found = self.clients.get(key)
                if found is None:
                    meta = base.get_meta_table()
                    found = TableConnection(base.table_name, region=connection.region, meta_table=meta)
                    with_meta(connection, meta)
                    found.connection = connection
                    self.clients[key] = found
        return found


def with_meta(connection: Connection, meta: Any) -> None:
    with contextlib.suppress(ValueError):  # already there
        connection.add_meta_table(meta)


_loader: Any = None  # botocore's data loader, shared by the tenants' sessions


def _session(tenant_id: str) -> Any:
    """A botocore session whose only credentials are the tenant's, refreshed by botocore before they
    expire (15 minutes before; a request within 10 minutes of expiry waits for the refresh)."""
    from botocore.credentials import CredentialProvider, CredentialResolver, RefreshableCredentials
    from botocore.session import get_session

    credentials = RefreshableCredentials.create_from_metadata(
        metadata=_assume(tenant_id),
        refresh_using=lambda: _assume(tenant_id),
        method="crm-tenant-access",
    )

    class _TenantRole(CredentialProvider):
        METHOD = CANONICAL_NAME = "crm-tenant-access"

        def load(self) -> RefreshableCredentials:
            return credentials

    session = get_session()
    # One loader for every tenant's session: the service models (DynamoDB's, S3's) are read from disk once
    # per container, not once per tenant.
    global _loader
    if _loader is None:
        _loader = session.get_component("data_loader")
    else:
        session.register_component("data_loader", _loader)
    session.set_config_variable("region", settings().region)
    session.register_component("credential_provider", CredentialResolver([_TenantRole()]))
    return session


def _boto3_client(session: Any, service: str) -> Any:
    from botocore.config import Config

    return session.client(
        service, region_name=settings().region, config=Config(max_pool_connections=MAX_POOL_CONNECTIONS)
    )


def _pynamodb_connection(session: Any) -> Connection:
    from pynamodb.connection import Connection

    class _TenantConnection(Connection):
        """pynamodb's connection, its client made from the tenant's session (pynamodb makes one per
        thread from botocore's default credentials otherwise)."""

        @property
        def session(self) -> Any:
            return session

    return _TenantConnection(region=settings().region, max_pool_connections=MAX_POOL_CONNECTIONS)


class _Cache:
    """The tenants' clients, least recently used first out, at most ``MAX_TENANTS``."""

    def __init__(self) -> None:
        self._entries: OrderedDict[str, _TenantClients] = OrderedDict()
        self._lock = threading.Lock()
        self._creating: dict[str, threading.Lock] = {}

    def get(self, tenant_id: str) -> _TenantClients:
        with self._lock:
            entry = self._entries.get(tenant_id)
            if entry is not None:
                self._entries.move_to_end(tenant_id)
                return entry
            creating = self._creating.setdefault(tenant_id, threading.Lock())
        with creating:  # one AssumeRole however many threads ask at once
            with self._lock:
                entry = self._entries.get(tenant_id)
            if entry is None:
                entry = _TenantClients(tenant_id, _session(tenant_id))
                with self._lock:
                    self._entries[tenant_id] = entry
                    self._creating.pop(tenant_id, None)
                    while len(self._entries) > MAX_TENANTS:
                        self._entries.popitem(last=False)
        return entry

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


_cache = _Cache()


def clear() -> None:
    """Forget every tenant's clients (the local runtime, when it points the process at an endpoint)."""
    _cache.clear()


def cached_tenants() -> int:
    return len(_cache)


def _current() -> _TenantClients | None:
    tenant_id = _tenant.get()
    if tenant_id is None or not settings().tenant_role_arn:
        return None
    return _cache.get(tenant_id)


# -------------------------------------------------------------------- what the repository layer asks for


def client(service: str) -> Any | None:
    """The current tenant's boto3 client of ``service`` (DynamoDB or S3), or None: the function's own."""
    if service not in SCOPED_SERVICES:
        return None
    entry = _current()
    return None if entry is None else entry.client(service)


def connection(base: Connection) -> Connection:
    """The pynamodb connection transactions use: the current tenant's, or ``base``."""
    entry = _current()
    if entry is None:
        return base
    return entry.connection()


def table_connection(base: TableConnection) -> TableConnection:
    """A model's table connection: the current tenant's (same table, same schema), or ``base``."""
    entry = _current()
    if entry is None:
        return base
    return entry.table_connection(base)
