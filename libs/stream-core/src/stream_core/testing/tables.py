"""DynamoDB tables shaped the way stream-core's data flavors expect, and their streams.

For tests against moto (or a sandbox account):

* ``create_entity_table(name)``: ``pk``/``sk`` keys, a ``DataIndex`` GSI on ``data``/``sk``,
  a ``NEW_AND_OLD_IMAGES`` stream (views: materialize, update, cdc);
* ``create_events_table(name)``: the same shape, for collect/correlate/evaluate/expired;
* ``StreamReader(table_name)``: reads the table's stream from where it last stopped and
  returns a Lambda DynamoDB Streams trigger event (``{"Records": [...]}``), so a test can
  feed a trigger exactly what Lambda would.
"""

from __future__ import annotations

from typing import Any

__all__ = ["StreamReader", "create_entity_table", "create_events_table"]


def create_entity_table(name: str, *, client: Any = None) -> str:
    """Create the table (on-demand, with stream and ``DataIndex``); return its stream ARN."""
    import boto3

    client = client or boto3.client("dynamodb")
    response = client.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "data", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "DataIndex",
                "KeySchema": [
                    {"AttributeName": "data", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    return response["TableDescription"]["LatestStreamArn"]


create_events_table = create_entity_table


class StreamReader:
    """Reads a table's DynamoDB stream incrementally, shard by shard, in order."""

    def __init__(self, table_name: str, *, client: Any = None, streams_client: Any = None):
        import boto3

        client = client or boto3.client("dynamodb")
        self.streams = streams_client or boto3.client("dynamodbstreams")
        self.stream_arn = client.describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
        self._iterators: dict[str, str] = {}

    def event(self) -> dict[str, Any]:
        """The records written since the last call, as a Lambda trigger event."""
        records: list[dict[str, Any]] = []
        shards = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"][
            "Shards"
        ]
        for shard in shards:
            shard_id = shard["ShardId"]
            iterator = (
                self._iterators.get(shard_id)
                or self.streams.get_shard_iterator(
                    StreamArn=self.stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
            )
            while iterator:
                response = self.streams.get_records(ShardIterator=iterator)
                self._iterators[shard_id] = response.get("NextShardIterator") or iterator
                batch = response.get("Records", [])
                for record in batch:
                    record.setdefault("eventSourceARN", self.stream_arn)
                    ddb = record.get("dynamodb", {})
                    created = ddb.get("ApproximateCreationDateTime")
                    if created is not None and not isinstance(created, (int, float)):
                        ddb["ApproximateCreationDateTime"] = created.timestamp()
                    records.append(record)
                if not batch:
                    break
                iterator = response.get("NextShardIterator")
        return {"Records": records}
