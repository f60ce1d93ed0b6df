"""DynamoDB Streams shards, read through moto, as Lambda's DynamoDB records.

moto's records are close to Lambda's: the differences are fixed here (the creation time in
epoch seconds, binary attributes base64-encoded, ``eventSourceARN``, ``eventVersion`` 1.1).
moto never sets ``userIdentity``: a REMOVE caused by the TTL sweeper (``ttl.py``) is
recognised through the sweeper's ledger and marked as AWS marks TTL deletions:
``{"type": "Service", "principalId": "dynamodb.amazonaws.com"}``.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .shard import ShardSource

__all__ = ["TTL_IDENTITY", "DynamoDBStreamSource", "lambda_attribute_values"]

TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}


def lambda_attribute_values(value: Any) -> Any:
    """AttributeValues as Lambda's JSON carries them: bytes (``B``/``BS``) as base64."""
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, Mapping):
        return {k: lambda_attribute_values(v) for k, v in value.items()}
    if isinstance(value, list):
        return [lambda_attribute_values(v) for v in value]
    return value


class DynamoDBStreamSource(ShardSource):
    """A table's stream by stream ARN; ``ledger`` knows the keys the TTL sweeper deleted."""

    kind = "dynamodb"
    batch_info_key = "DDBStreamBatchInfo"

    def __init__(self, cloud: Any, arn: str, ledger: Any = None) -> None:
        super().__init__(cloud, arn)
        self.table = arn.split(":table/", 1)[-1].split("/stream/", 1)[0]
        self.ledger = ledger
        self.client = cloud.client("dynamodbstreams")

    @property
    def label(self) -> str:
        return f"dynamodb:{self.table}"

    def shard_ids(self) -> list[str]:
        shards: list[str] = []
        kwargs: dict[str, Any] = {"StreamArn": self.arn}
        while True:
            description = self.client.describe_stream(**kwargs)["StreamDescription"]
            shards.extend(shard["ShardId"] for shard in description.get("Shards", []))
            last = description.get("LastEvaluatedShardId")
            if not last:
                return shards
            kwargs["ExclusiveStartShardId"] = last

    def iterator(self, shard_id: str, position: str, timestamp: float | None) -> str | None:
        kind = position if position in ("TRIM_HORIZON", "LATEST") else "TRIM_HORIZON"
        return self.client.get_shard_iterator(
            StreamArn=self.arn, ShardId=shard_id, ShardIteratorType=kind
        )["ShardIterator"]

    def read(
        self, shard_id: str, iterator: str, limit: int
    ) -> tuple[list[dict[str, Any]], str | None]:
        page = self.client.get_records(ShardIterator=iterator, Limit=min(limit, 1000))
        return [self._record(r) for r in page.get("Records", [])], page.get("NextShardIterator")

    def _record(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        change = dict(raw["dynamodb"])
        created = change.get("ApproximateCreationDateTime")
        if isinstance(created, datetime):
            change["ApproximateCreationDateTime"] = created.timestamp()
        change = lambda_attribute_values(change)
        record: dict[str, Any] = {
            "eventID": raw["eventID"],
            "eventName": raw["eventName"],
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": raw.get("awsRegion", self.cloud.region),
            "dynamodb": change,
            "eventSourceARN": self.arn,
        }
        if raw.get("userIdentity"):
            record["userIdentity"] = raw["userIdentity"]
        elif (
            raw["eventName"] == "REMOVE"
            and self.ledger is not None
            and self.ledger.claim(self.table, change.get("Keys") or {})
        ):
            record["userIdentity"] = dict(TTL_IDENTITY)
        return record

    def sequence(self, record: Mapping[str, Any]) -> str:
        return record["dynamodb"]["SequenceNumber"]

    def arrival(self, record: Mapping[str, Any]) -> float:
        return float(record["dynamodb"].get("ApproximateCreationDateTime") or 0)
