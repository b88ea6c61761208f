"""The shared Lambda layer and the one way every CRM function is built."""

from __future__ import annotations

import re
from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct
from crm_core.definitions import METRICS_NAMESPACE, FunctionDefinition

from infra.bundling import SourceLayout, asset_code, stage_function, stage_layer
from infra.nag import acknowledge

RUNTIME = lambda_.Runtime.PYTHON_3_13  # the layer's wheels are built for it (infra/bundling.py)
ARCHITECTURE = lambda_.Architecture.ARM_64
LOG_RETENTION = logs.RetentionDays.ONE_MONTH
LOG_LEVEL = "INFO"


def construct_name(name: str) -> str:
    """``contacts`` -> ``Contacts``, ``email-sender`` -> ``EmailSender``: a construct id for a function."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^0-9A-Za-z]+", name) if part)


class CrmFunctions(Construct):
    """Holds the ``CrmCoreLayer`` and the settings every function shares; ``create`` builds one function.

    Each function gets its own role with only what it is granted (logs of its own log group), an explicit
    log group with a retention, arm64, no X-Ray tracing (docs/decisions/0007) and the Powertools
    environment.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        environment: Mapping[str, str],
        layout: SourceLayout | None = None,
        share: CrmFunctions | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self._layout = layout or SourceLayout()
        self._environment = dict(environment)
        if share is not None:
            # Another stack's factory (``within``): the same layer and the same ``functions``.
            self.layer: lambda_.ILayerVersion = share.layer
            self.functions: dict[str, lambda_.Function] = share.functions
            return

        self.layer = lambda_.LayerVersion(
            self,
            "CrmCoreLayer",
            code=asset_code(stage_layer(self._layout)),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="crm_core and its third-party runtime dependencies (layers/requirements.lock)",
        )
        # Every function by its definition's name, whichever stack it is built in (``within``).
        self.functions = {}

    def within(self, scope: Construct, construct_id: str) -> CrmFunctions:
        """A factory building its functions under ``scope`` (a nested stack: docs/decisions/0024) with this
        one's layer, settings and ``functions`` (one dictionary for both): the layer is deployed once."""
        return CrmFunctions(
            scope, construct_id, environment=self._environment, layout=self._layout, share=self
        )

    @property
    def layout(self) -> SourceLayout:
        return self._layout

    @property
    def environment(self) -> dict[str, str]:
        """What every function receives (crm_core.config's names)."""
        return dict(self._environment)

    def create(
        self,
        definition: FunctionDefinition,
        *,
        extra_environment: Mapping[str, str] | None = None,
        description: str | None = None,
    ) -> lambda_.Function:
        name = construct_name(definition.name)
        scope = Construct(self, name)
        log_group = logs.LogGroup(scope, "Logs", retention=LOG_RETENTION)
        role = iam.Role(
            scope,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"CRM function {definition.name}",
        )
        # Instead of the AWSLambdaBasicExecutionRole managed policy (logs anywhere): its own log group only.
        log_group.grant_write(role)

        environment = {
            **self._environment,
            "POWERTOOLS_SERVICE_NAME": definition.name,
            "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
            "LOG_LEVEL": LOG_LEVEL,
            **(extra_environment or {}),
            **definition.environment,
        }
        function = lambda_.Function(
            scope,
            "Function",
            description=description or f"CRM {definition.name}",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=definition.handler,
            code=asset_code(
                stage_function(self._layout, definition.name, definition.handler, definition.packages)
            ),
            layers=[self.layer] if definition.needs_layer else [],
            memory_size=definition.memory_mb,
            timeout=Duration.seconds(definition.timeout_s),
            tracing=lambda_.Tracing.DISABLED,  # docs/decisions/0007
            role=role,
            log_group=log_group,
            # JSON lines, and none of the platform's START/END/REPORT lines (about 350 bytes an
            # invocation, paid per GB ingested: bench/cost_model.toml); errors and timeouts still log.
            logging_format=lambda_.LoggingFormat.JSON,
            system_log_level_v2=lambda_.SystemLogLevel.WARN,
            application_log_level_v2=lambda_.ApplicationLogLevel(LOG_LEVEL),
            environment=environment,
        )
        acknowledge(
            function,
            "AwsSolutions-L1",
            f"{RUNTIME.name} is pinned on purpose: the layer's binary wheels (pydantic-core) are built for "
            "it (infra/bundling.py LAMBDA_PYTHON_VERSION); the runtime moves with the lock, deliberately.",
        )
        self.functions[definition.name] = function
        return function
