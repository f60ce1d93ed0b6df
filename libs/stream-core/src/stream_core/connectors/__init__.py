"""Connectors: one module per AWS service, each a thin boto3 wrapper that batches to the
API's limits, retries partial failures with jittered backoff, bounds concurrent calls and
counts them. Clients are created lazily and reused across warm invocations.

The batched-write algorithm lives in ``_batch.BatchWriter``; a connector supplies the call
and how to read failed entries from its response. Single requests go through
``_retry.Caller``: transient errors are retried, then raised as ``RetryableError``.
"""

from ._batch import BatchWriter, FailedEntry, chunk
from ._retry import RETRYABLE_CODES, Caller, RetryPolicy, is_retryable
from .dynamodb import DynamoDBConnector, Page
from .eventbridge import EventBridgeConnector
from .firehose import FirehoseConnector
from .kinesis import KinesisConnector
from .lambda_ import LambdaConnector, LambdaFunctionError
from .s3 import S3Connector
from .secrets import SecretsConnector
from .sns import SnsConnector
from .sqs import SqsConnector

__all__ = [
    "RETRYABLE_CODES",
    "BatchWriter",
    "Caller",
    "DynamoDBConnector",
    "EventBridgeConnector",
    "FailedEntry",
    "FirehoseConnector",
    "KinesisConnector",
    "LambdaConnector",
    "LambdaFunctionError",
    "Page",
    "RetryPolicy",
    "S3Connector",
    "SecretsConnector",
    "SnsConnector",
    "SqsConnector",
    "chunk",
    "is_retryable",
]
