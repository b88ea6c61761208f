"""The deployable resources, described once.

The CDK constructs (``infra/``) and the local runtime (``crm_local``) both build from these
definitions, so there is no second, hand-kept copy of the table, the bus or the routes for local mode.
Plain data only: importing this module must stay free (the Lambdas import it too).
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Logical names; the deployed physical names come in through environment variables (see config.py).
TABLE_LOGICAL_NAME = "crm"
EVENT_BUS_NAME = "crm"
EVENT_SOURCE = "crm"
CURSOR_SECRET_NAME = "crm/cursor-signing-key"


@dataclass(frozen=True)
class IndexDefinition:
    name: str
    partition_key: str
    sort_key: str


@dataclass(frozen=True)
class TableDefinition:
    partition_key: str
    sort_key: str
    indexes: tuple[IndexDefinition, ...]
    ttl_attribute: str
    stream_view: str  # what the outbox relay needs to see of a new item


# Five generic, sparse global secondary indexes. Every key on every index starts with the tenant:
#   GSI1 - a type's records in id order, by state   (T#<tenant>#contact#active        / <id>)
#   GSI2 - a type's records by last change         (T#<tenant>#contact               / <updated_at>#<id>)
#   GSI3 - by owner                                 (T#<tenant>#contact#active#owner#<owner_id> / <id>)
#   GSI4 - by parent record (a contact's company)   (T#<tenant>#contact#active#company#<company_id> / <id>)
#   GSI5 - by a per-type category (lifecycle stage) (T#<tenant>#contact#active#stage#<stage> / <id>)
# See docs/data-model.md for every access pattern and the one operation that serves it.
TABLE = TableDefinition(
    partition_key="PK",
    sort_key="SK",
    indexes=tuple(IndexDefinition(f"GSI{n}", f"GSI{n}PK", f"GSI{n}SK") for n in range(1, 6)),
    ttl_attribute="expires_at",
    stream_view="NEW_AND_OLD_IMAGES",
)


@dataclass(frozen=True)
class UserPoolDefinition:
    """Web users sign in with the tenant's user pool; their ID token names their tenant and user."""

    custom_attributes: tuple[str, ...]  # immutable string attributes, read as ``custom:<name>`` claims
    # The groups are the roles of crm_core.auth.Role.


USER_POOL = UserPoolDefinition(custom_attributes=("tenant_id", "user_id"))


@dataclass(frozen=True)
class FunctionDefinition:
    """An API function: its handler and the HTTP API routes that reach it."""

    name: str
    handler: str  # module path of handler(event, context), importable from the repository root
    routes: tuple[str, ...]  # HTTP API route keys (method + path); the function routes inside itself
    memory_mb: int = 1024
    timeout_s: int = 15
    needs_layer: bool = True
    environment: dict[str, str] = field(default_factory=dict)


AUTHORIZER = FunctionDefinition(
    name="authorizer",
    handler="functions.authorizer.handler.handler",
    routes=(),
    memory_mb=512,
    timeout_s=5,
)


def _resource_routes(*prefixes: str) -> tuple[str, ...]:
    routes: list[str] = []
    for prefix in prefixes:
        routes += [f"ANY {prefix}", f"ANY {prefix}/{{proxy+}}"]
    return tuple(routes)


API_FUNCTIONS: tuple[FunctionDefinition, ...] = (
    FunctionDefinition(
        name="contacts",
        handler="functions.contacts.handler.handler",
        routes=_resource_routes("/v1/contacts", "/v1/companies"),
    ),
    FunctionDefinition(
        name="deals",
        handler="functions.deals.handler.handler",
        routes=_resource_routes("/v1/pipelines", "/v1/deals", "/v1/activities"),
    ),
)

# Authorizer results are cached by API Gateway for this long, keyed by the Authorization header.
AUTHORIZER_CACHE_SECONDS = 300
