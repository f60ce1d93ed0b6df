"""Firehose delivery streams run by stream-local on moto_server: buffering, prefixes with
namespaces, dynamic partitioning, GZIP, the newline delimiter processor; fed by rules,
by PutRecordBatch (through moto) and by a Kinesis source stream."""

from __future__ import annotations

import gzip
import json

import pytest

from stream_local.runtime import wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def bucket(cloud, aws):
    name = aws.name("lake")
    cloud.client("s3").create_bucket(Bucket=name)
    return name


def _firehose(name, bucket, **destination):
    return {
        "logical_id": name,
        "type": "AWS::KinesisFirehose::DeliveryStream",
        "name": name,
        "arn": f"arn:aws:firehose:us-east-1:123456789012:deliverystream/{name}",
        "properties": {
            "ExtendedS3DestinationConfiguration": {
                "BucketARN": f"arn:aws:s3:::{bucket}",
                "BufferingHints": {"IntervalInSeconds": 1, "SizeInMBs": 1},
                **destination,
            }
        },
    }


def _objects(cloud, bucket):
    s3 = cloud.client("s3")
    listed = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {o["Key"]: s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read() for o in listed}


def test_partitioned_gzip_newline_delimited_objects(cloud, aws, bucket, registry_of, run):
    name = aws.name("fh")
    firehose = _firehose(
        name,
        bucket,
        Prefix="events/type=!{partitionKeyFromQuery:type}/year=!{timestamp:yyyy}/",
        CompressionFormat="GZIP",
        DynamicPartitioningConfiguration={"Enabled": True},
        ProcessingConfiguration={
            "Enabled": True,
            "Processors": [
                {
                    "Type": "MetadataExtraction",
                    "Parameters": [
                        {
                            "ParameterName": "MetadataExtractionQuery",
                            "ParameterValue": "{type:.type}",
                        },
                        {"ParameterName": "JsonParsingEngine", "ParameterValue": "JQ-1.6"},
                    ],
                },
                {"Type": "AppendDelimiterToRecord", "Parameters": []},
            ],
        },
    )
    runtime = run(cloud, registry_of("fh-test", [], firehoses=[firehose]))
    assert runtime.wait_ready()
    for event in [{"type": "a", "n": 1}, {"type": "b", "n": 2}, {"type": "a", "n": 3}]:
        runtime.firehose_put(name, json.dumps(event).encode())
    objects = wait_for(
        lambda: len(_objects(cloud, bucket)) == 2 and _objects(cloud, bucket), timeout=10
    )
    by_type = {}
    for key, body in objects.items():
        assert key.endswith(".gz") and key.startswith("events/type=")
        lines = gzip.decompress(body).decode().splitlines()
        by_type[key.split("/")[1]] = [json.loads(line)["n"] for line in lines]
    assert by_type == {"type=a": [1, 3], "type=b": [2]}


def test_put_record_batch_through_moto_is_buffered_into_one_object(
    cloud, aws, bucket, registry_of, run
):
    name = aws.name("fh")
    runtime = run(
        cloud, registry_of("fh-put", [], firehoses=[_firehose(name, bucket, Prefix="raw/")])
    )
    assert runtime.wait_ready()
    firehose = cloud.client("firehose")
    firehose.put_record_batch(
        DeliveryStreamName=name, Records=[{"Data": b'{"n": 1}'}, {"Data": b'{"n": 2}'}]
    )
    firehose.put_record(DeliveryStreamName=name, Record={"Data": b'{"n": 3}'})
    objects = wait_for(lambda: _objects(cloud, bucket), timeout=10)
    ((key, body),) = objects.items()
    assert key.startswith("raw/") and key.count("/") == 5  # raw/YYYY/MM/DD/HH/name-1-...
    assert key.split("/")[-1].startswith(f"{name}-1-")
    assert body == b'{"n": 1}{"n": 2}{"n": 3}'  # Firehose adds no delimiter by itself


def test_a_kinesis_source_stream_feeds_the_delivery_stream(cloud, aws, bucket, registry_of, run):
    name = aws.name("fh")
    stream = aws.stream()
    aws.put(stream, [{"n": 1}, {"n": 2}])
    firehose = _firehose(name, bucket, Prefix="from-stream/")
    firehose["properties"]["KinesisStreamSourceConfiguration"] = {"KinesisStreamARN": stream}
    run(cloud, registry_of("fh-src", [], firehoses=[firehose]))
    objects = wait_for(lambda: _objects(cloud, bucket), timeout=10)
    assert list(objects.values()) == [b'{"n": 1}{"n": 2}']
