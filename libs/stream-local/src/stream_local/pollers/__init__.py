"""Event source mappings as Lambda runs them: stream shards (Kinesis, DynamoDB Streams)
and SQS queues, polled by the runtime (moto must never hold a mapping, MOTO.md)."""
