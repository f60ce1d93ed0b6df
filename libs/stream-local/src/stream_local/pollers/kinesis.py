"""Kinesis Data Streams shards, read through moto, as Lambda's Kinesis records."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .shard import ShardSource

__all__ = ["KinesisSource"]


class KinesisSource(ShardSource):
    """A Kinesis stream by ARN. Sequence numbers are moto's per-shard counters (compare
    them as integers); records carry base64 ``data`` and epoch-second arrival times."""

    kind = "kinesis"
    batch_info_key = "KinesisBatchInfo"

    def __init__(self, cloud: Any, arn: str) -> None:
        super().__init__(cloud, arn)
        self.stream_name = arn.rsplit("/", 1)[-1]
        self.client = cloud.client("kinesis")

    def shard_ids(self) -> list[str]:
        shards: list[str] = []
        kwargs: dict[str, Any] = {"StreamName": self.stream_name}
        while True:
            page = self.client.list_shards(**kwargs)
            shards.extend(shard["ShardId"] for shard in page["Shards"])
            token = page.get("NextToken")
            if not token:
                return shards
            kwargs = {"NextToken": token}

    def iterator(self, shard_id: str, position: str, timestamp: float | None) -> str | None:
        kwargs: dict[str, Any] = {
            "StreamName": self.stream_name,
            "ShardId": shard_id,
            "ShardIteratorType": position,
        }
        if position == "AT_TIMESTAMP":
            kwargs["Timestamp"] = timestamp or 0
        return self.client.get_shard_iterator(**kwargs)["ShardIterator"]

    def read(
        self, shard_id: str, iterator: str, limit: int
    ) -> tuple[list[dict[str, Any]], str | None]:
        page = self.client.get_records(ShardIterator=iterator, Limit=min(limit, 10000))
        records = [self._record(r, shard_id) for r in page.get("Records", [])]
        return records, page.get("NextShardIterator")

    def _record(self, record: Mapping[str, Any], shard_id: str) -> dict[str, Any]:
        arrival = record.get("ApproximateArrivalTimestamp")
        sequence = record["SequenceNumber"]
        return {
            "kinesis": {
                "kinesisSchemaVersion": "1.0",
                "partitionKey": record["PartitionKey"],
                "sequenceNumber": sequence,
                "data": base64.b64encode(record["Data"]).decode("ascii"),
                "approximateArrivalTimestamp": arrival.timestamp()
                if isinstance(arrival, datetime)
                else arrival,
            },
            "eventSource": "aws:kinesis",
            "eventVersion": "1.0",
            "eventID": f"{shard_id}:{sequence}",
            "eventName": "aws:kinesis:record",
            "invokeIdentityArn": f"arn:aws:iam::{self.cloud.account_id}:role/stream-local",
            "awsRegion": self.cloud.region,
            "eventSourceARN": self.arn,
        }

    def sequence(self, record: Mapping[str, Any]) -> str:
        return record["kinesis"]["sequenceNumber"]

    def arrival(self, record: Mapping[str, Any]) -> float:
        return float(record["kinesis"].get("approximateArrivalTimestamp") or 0)
