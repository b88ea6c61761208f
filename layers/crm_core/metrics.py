"""Operational counts as CloudWatch metrics (namespace ``crm``, dimension ``service``: the function),
written by Powertools in the embedded metric format into the function's log: no API call on the way and
no charge beyond the log line. Only low-cardinality names, never a tenant's or a record's id.

``crm dev`` turns them off (``POWERTOOLS_METRICS_DISABLED``): they would only fill its console.
"""

from __future__ import annotations

import threading

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

from crm_core.definitions import METRICS_NAMESPACE

metrics = Metrics(namespace=METRICS_NAMESPACE)
logger = Logger()
# One Lambda container runs one invocation at a time; crm dev runs several consumers in one process.
_lock = threading.Lock()


def count(name: str, value: int = 1) -> None:
    if value and not is_metrics_disabled():
        with _lock:
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def flush() -> None:
    """Write what was counted since the last flush; nothing when nothing was (Powertools would warn). A
    count that cannot be written is logged, never a reason to fail (and so repeat) the work it counted."""
    with _lock:
        if not metrics.metric_set:
            return
        try:
            metrics.flush_metrics()
        except Exception:
            logger.exception("metrics not written")
            metrics.clear_metrics()
