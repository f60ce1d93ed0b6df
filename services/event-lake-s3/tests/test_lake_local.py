"""The lake as deployed: event-hub and event-lake-s3 packaged by serverless and run by
stream-local on a moto server. Events put on the bus land in the lake (gzipped, one per
line, under events/<date>/<type>/); faults stay out; a replay from the lake reaches the
hub's stream again but is not stored twice."""

import gzip
import json
import time
from pathlib import Path

import pytest

pytest.importorskip("stream_local")

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

SERVICES = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def local():
    from stream_local.local import LocalSystem
    from stream_local.runtime import RuntimeOptions

    system = LocalSystem(
        [SERVICES / "event-hub", SERVICES / "event-lake-s3"],
        options=RuntimeOptions(rest_port=0),
        say=lambda _: None,
    )
    with system:
        yield system


def lake_objects(local, bucket):
    s3 = local.cloud.client("s3")
    found = {}
    for listed in s3.list_objects_v2(Bucket=bucket).get("Contents", ()):
        body = s3.get_object(Bucket=bucket, Key=listed["Key"])["Body"].read()
        found[listed["Key"]] = gzip.decompress(body).decode()
    return found


def stream_ids(local):
    kinesis = local.cloud.client("kinesis")
    shard = kinesis.describe_stream(StreamName="event-hub-local-stream")["StreamDescription"][
        "Shards"
    ][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(
        StreamName="event-hub-local-stream", ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    import json

    return [
        json.loads(r["Data"])["id"] for r in kinesis.get_records(ShardIterator=iterator)["Records"]
    ]


def test_bus_to_lake_and_replay_back(local, monkeypatch):
    outputs = {
        o["OutputKey"]: o["OutputValue"]
        for o in local.cloud.client("cloudformation").describe_stacks(
            StackName="event-lake-s3-local"
        )["Stacks"][0]["Outputs"]
    }
    bucket = outputs["LakeBucketName"]
    now = int(time.time() * 1000)
    for n in range(3):
        local.send(
            {
                "type": "order-submitted",
                "id": f"e-{n}",
                "partition_key": f"o-{n}",
                "timestamp": now + n,
            }
        )
    local.send({"type": "order-ready", "id": "e-3", "partition_key": "o-1", "timestamp": now + 3})
    local.send({"type": "fault", "id": "f-1", "partition_key": "o-1", "timestamp": now + 4})
    local.wait_for(lambda: len(stream_ids(local)) == 4, timeout=30)
    local.runtime.firehose.flush()
    objects = local.wait_for(lambda: lake_objects(local, bucket) or None, timeout=30)

    day = time.strftime("%Y/%m/%d", time.gmtime(now / 1000))
    assert sorted(k.rsplit("/", 1)[0] for k in objects) == [
        f"events/{day}/order-ready",
        f"events/{day}/order-submitted",
    ]
    assert all(k.endswith(".gz") for k in objects)
    lines = [json.loads(line) for line in "".join(objects.values()).splitlines()]
    sent = [
        {"type": "order-submitted", "id": f"e-{n}", "partition_key": f"o-{n}", "timestamp": now + n}
        for n in range(3)
    ] + [{"type": "order-ready", "id": "e-3", "partition_key": "o-1", "timestamp": now + 3}]
    assert sorted(lines, key=lambda e: e["id"]) == sent  # one JSON event per line, as sent

    # replay the order-submitted events: they reach the stream again, not the lake
    from event_lake_s3.replay import main

    for name, value in (
        ("AWS_ENDPOINT_URL", local.cloud.endpoint),
        ("AWS_ACCESS_KEY_ID", "x"),
        ("AWS_SECRET_ACCESS_KEY", "x"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("BUS_NAME", raising=False)
    monkeypatch.delenv("LAKE_BUCKET_NAME", raising=False)
    import io

    out = io.StringIO()
    code = main(["--stage", "local", "--from", "1h", "--type", "order-submitted"], out=out)
    assert code == 0, out.getvalue()
    assert out.getvalue().splitlines()[-1] == "put 3 event(s) on event-hub-local-bus, 0 failed"
    local.wait_for(lambda: len(stream_ids(local)) == 7, timeout=30)
    assert stream_ids(local)[4:] == ["e-0", "e-1", "e-2"]
    time.sleep(1)
    local.runtime.firehose.flush()
    assert len(lake_objects(local, bucket)) == 2  # replays are not stored again
