"""Connectors: one module per AWS service, each a thin boto3 wrapper that batches to the
API's limits, retries partial failures with jittered backoff, bounds concurrent calls and
counts them. Clients are created lazily and reused across warm invocations."""

from ._retry import RetryPolicy, is_retryable
from .eventbridge import EventBridgeConnector, FailedEntry

__all__ = ["EventBridgeConnector", "FailedEntry", "RetryPolicy", "is_retryable"]
