"""Failures of the local endpoint's transport, which the background loops retry and do not count as faults."""

from __future__ import annotations

from botocore.exceptions import ConnectionError as EndpointUnreachable
from botocore.exceptions import HTTPClientError


def endpoint_unreachable(error: BaseException) -> bool:
    """A call to the local endpoint refused or dropped at the transport (a busy machine that ran out of
    sockets for a moment), not answered with an error: what it was doing is retried from its queue or
    stream like any failure, but it is no fault of the code that made the call."""
    return isinstance(error, EndpointUnreachable | HTTPClientError)
