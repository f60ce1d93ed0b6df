"""S3 connector against moto: object round trips, paging, concurrent puts and failures."""

import threading
import time

import boto3
import pytest
from botocore.exceptions import ClientError

from stream_core.connectors import RetryPolicy, S3Connector
from stream_core.errors import RetryableError

NO_WAIT = RetryPolicy(max_attempts=4, base_delay=0)
BUCKET = "lake"


@pytest.fixture
def client(aws):
    client = boto3.client("s3")
    client.create_bucket(Bucket=BUCKET)
    return client


def connector(client, **kwargs):
    return S3Connector(BUCKET, client=client, retry=kwargs.pop("retry", NO_WAIT), **kwargs)


def read(client, key, bucket=BUCKET):
    return client.get_object(Bucket=bucket, Key=key)["Body"].read()


def test_put_get_and_json_round_trips(client):
    bucket = connector(client)
    assert "ETag" in bucket.put_object("a.txt", b"bytes", ContentType="text/plain")
    bucket.put_object("b.txt", "Zoë")
    bucket.put_json("c.json", {"id": 1, "tags": {"x"}})
    assert read(client, "a.txt") == b"bytes"
    assert client.head_object(Bucket=BUCKET, Key="a.txt")["ContentType"] == "text/plain"
    assert bucket.get_object("b.txt") == "Zoë".encode()
    assert read(client, "c.json") == b'{"id":1,"tags":["x"]}'
    assert client.head_object(Bucket=BUCKET, Key="c.json")["ContentType"] == "application/json"
    assert bucket.get_json("c.json") == {"id": 1, "tags": ["x"]}
    assert bucket.calls == 5


def test_a_missing_key_raises_at_once(client):
    bucket = connector(client)
    with pytest.raises(ClientError) as raised:
        bucket.get_object("nope")
    assert raised.value.response["Error"]["Code"] == "NoSuchKey"
    assert bucket.calls == 1


def test_delete_and_copy(client):
    client.create_bucket(Bucket="other")
    client.put_object(Bucket="other", Key="src", Body=b"from other")
    bucket = connector(client)
    bucket.put_object("x", b"x")
    bucket.copy_object("x", "x-copy")
    bucket.copy_object("src", "from-other", source_bucket="other")
    bucket.delete_object("x")
    bucket.delete_object("never-there")
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert keys == ["from-other", "x-copy"]
    assert read(client, "x-copy") == b"x"
    assert read(client, "from-other") == b"from other"


def test_list_objects_follows_every_page_lazily(client):
    for i in range(7):
        client.put_object(Bucket=BUCKET, Key=f"events/{i}", Body=b"")
    client.put_object(Bucket=BUCKET, Key="other/0", Body=b"")
    bucket = connector(client)
    assert [o["Key"] for o in bucket.list_objects("events/", MaxKeys=3)] == [
        f"events/{i}" for i in range(7)
    ]
    assert bucket.calls == 3
    first = next(bucket.list_objects("events/", MaxKeys=3))
    assert first["Key"] == "events/0"
    assert first["Size"] == 0
    assert bucket.calls == 4
    assert list(bucket.list_objects("none/")) == []


def test_put_objects_runs_concurrently_within_the_bound(client):
    active, peak, lock = [0], [0], threading.Lock()

    def before(**kw):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.01)

    def after(**kw):
        with lock:
            active[0] -= 1

    client.meta.events.register("before-call.s3.PutObject", before)
    client.meta.events.register("after-call.s3.PutObject", after)
    bucket = connector(client, max_in_flight=4)
    items = [{"Key": f"k{i}", "Body": f"v{i}", "ContentType": "text/plain"} for i in range(24)]
    assert bucket.put_objects(items) == []
    assert peak[0] == 4
    assert bucket.calls == 24
    assert read(client, "k17") == b"v17"
    assert client.head_object(Bucket=BUCKET, Key="k3")["ContentType"] == "text/plain"


def test_put_objects_reports_what_still_fails(client, hooks):
    attempts, lock = {}, threading.Lock()

    def answer(params, n):
        key = params["Key"]
        with lock:
            attempts[key] = attempts.get(key, 0) + 1
            seen = attempts[key]
        if key == "denied":
            return hooks.error("AccessDenied", 403)
        if key == "slow" and seen < 3:
            return hooks.error("SlowDown", 503)
        if key == "broken":
            return hooks.error("InternalError", 500)
        return None

    hooks.answer(client, "PutObject", answer)
    bucket = connector(client)
    keys = ["ok", "denied", "slow", "broken"]
    failed = bucket.put_objects([{"Key": key, "Body": key} for key in keys])
    assert [(f.index, f.code, f.retryable) for f in failed] == [
        (1, "AccessDenied", False),
        (3, "InternalError", True),
    ]
    assert failed[0].entry == {"Key": "denied", "Body": "denied"}
    assert attempts == {"ok": 1, "denied": 1, "slow": 3, "broken": NO_WAIT.max_attempts}
    assert read(client, "slow") == b"slow"
    assert [o["Key"] for o in client.list_objects_v2(Bucket=BUCKET)["Contents"]] == ["ok", "slow"]


def test_a_transient_error_outliving_the_policy_raises_retryable(client, hooks):
    client.put_object(Bucket=BUCKET, Key="k", Body=b"v")
    hooks.answer(client, "GetObject", lambda params, n: hooks.error("SlowDown", 503))
    sleeps = []
    bucket = connector(client, retry=RetryPolicy(max_attempts=3, sleep=sleeps.append))
    with pytest.raises(RetryableError, match="get_object failed after 3 attempts"):
        bucket.get_object("k")
    assert bucket.calls == 3
    assert len(sleeps) == 2


def test_the_client_is_created_on_first_use(client):
    from stream_core.connectors._client import shared_client

    bucket = S3Connector(BUCKET)
    assert bucket._client is None
    bucket.put_object("k", b"v")
    assert bucket.client is shared_client("s3")
    assert read(client, "k") == b"v"
