"""Sink flavors kinesis and firehose against moto, the batch-sink operator they share with
sns and sqs, and the rule checks of every sink flavor."""

import base64
import json

import boto3
import pytest

from stream_core.connectors import FirehoseConnector, KinesisConnector, RetryPolicy
from stream_core.connectors._batch import FailedEntry
from stream_core.errors import ConfigurationError, PublishError, RecordError, RuleValidationError
from stream_core.events.kinesis import from_kinesis, to_kinesis_records
from stream_core.flavors._sink import batch_sink
from stream_core.flavors.firehose import firehose
from stream_core.flavors.kinesis import kinesis
from stream_core.pipelines import initialize_from

NO_WAIT = RetryPolicy(max_attempts=2, base_delay=0)


def orders(*ids, **fields):
    return from_kinesis(to_kinesis_records([
        {"id": f"e-{i}", "type": "order-ready", "timestamp": 1_700_000_000_000,
         "partition_key": i, "order": {"id": i, **fields}}
        for i in ids
    ]))


def ids_of(uows):
    return [u["event"]["order"]["id"] for u in uows]


def faulted(result):
    return [f["uow"]["event"]["order"]["id"] for f in result.faults]


# --- kinesis ------------------------------------------------------------------------------


@pytest.fixture
def stream(aws, monkeypatch):
    client = boto3.client("kinesis")
    client.create_stream(StreamName="hub", ShardCount=1)
    monkeypatch.setenv("STREAM_NAME", "hub")
    return client


def records_on(client, name="hub"):
    shard = client.describe_stream(StreamName=name)["StreamDescription"]["Shards"][0]
    iterator = client.get_shard_iterator(StreamName=name, ShardId=shard["ShardId"],
                                         ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    return client.get_records(ShardIterator=iterator)["Records"]


KINESIS = {"id": "forward-orders", "flavor": kinesis, "event_type": "order-ready"}


def test_kinesis_puts_the_events_keyed_by_partition_key(stream, run):
    out, result = run([KINESIS], orders("o1", "o2"))
    assert result.faults == [] and ids_of(out) == ["o1", "o2"]
    records = records_on(stream)
    assert [r["PartitionKey"] for r in records] == ["o1", "o2"]
    assert json.loads(records[0]["Data"])["order"] == {"id": "o1"}
    # what went on the stream reads back as the same events
    again = from_kinesis(to_kinesis_records([json.loads(r["Data"]) for r in records]))
    assert [u["event"]["id"] for u in again] == ["e-o1", "e-o2"]


def test_kinesis_to_kinesis_records_and_its_failures(stream, run):
    def to_kinesis(uow, rule):
        order_id = uow["event"]["order"]["id"]
        if order_id == "o2":
            return {"Data": b"x" * (1024 * 1024 + 1), "PartitionKey": "o2"}  # over 1 MB
        if order_id == "o3":
            raise ValueError("cannot map o3")
        if order_id == "o4":
            return {"Data": "no key"}
        return [{"Data": f"{order_id}-{n}", "PartitionKey": order_id} for n in (1, 2)]

    out, result = run([{**KINESIS, "to_kinesis": to_kinesis}], orders("o1", "o2", "o3", "o4"))
    assert ids_of(out) == ["o1"]
    assert sorted(faulted(result)) == ["o2", "o3", "o4"]
    assert [r["Data"] for r in records_on(stream)] == [b"o1-1", b"o1-2"]


def test_kinesis_throttling_that_outlives_retries_hands_only_that_record_back(stream, run):
    client = boto3.client("kinesis")

    calls = []

    def answer(params, context, **_):
        calls.append([r["PartitionKey"] for r in params["Records"]])
        context["keys"] = calls[-1]

    def edit(parsed, context, **_):
        for key, result in zip(context["keys"], parsed["Records"], strict=True):
            if key == "o2":
                result.clear()
                result.update(ErrorCode="ProvisionedThroughputExceededException",
                              ErrorMessage="slow down")
                parsed["FailedRecordCount"] = parsed.get("FailedRecordCount", 0) + 1

    client.meta.events.register("provide-client-params.kinesis.PutRecords", answer)
    client.meta.events.register("after-call.kinesis.PutRecords", edit)
    connector = KinesisConnector("hub", client=client, retry=NO_WAIT)
    out, result = run([{**KINESIS, "connector": connector}], orders("o1", "o2", "o3"))
    assert ids_of(out) == ["o1", "o3"]
    assert result.faults == [] and len(result.retry_records) == 1
    assert calls == [["o1", "o2", "o3"], ["o2"]]  # only the failed record was retried


def test_kinesis_large_events_are_claim_checked(stream, run, aws):
    boto3.client("s3").create_bucket(Bucket="claims")
    blob = base64.b64encode(bytes(range(256)) * 5000).decode()  # ~1.7 MB of JSON string
    rule = {**KINESIS, "claim_check_bucket": "claims", "compress_threshold": None}
    out, result = run([rule], orders("o1", blob=blob))
    assert result.faults == [] and len(out) == 1
    [record] = records_on(stream)
    stub = json.loads(record["Data"])
    assert stub["s3"]["bucket"] == "claims" and "order" not in stub
    # from_kinesis resolves the stub back into the full event
    [uow] = from_kinesis(to_kinesis_records([stub]))
    assert uow["event"]["order"]["blob"] == blob


def test_kinesis_large_fields_are_compressed(stream, run):
    text = "same words again " * 10_000
    run([{**KINESIS, "compress_threshold": 1024}], orders("o1", note=text))
    [record] = records_on(stream)
    assert len(record["Data"]) < 10_000
    [uow] = from_kinesis(to_kinesis_records([json.loads(record["Data"])]))
    assert uow["event"]["order"]["note"] == text


# --- firehose -----------------------------------------------------------------------------


@pytest.fixture
def lake(aws, monkeypatch):
    boto3.client("s3").create_bucket(Bucket="lake")
    boto3.client("firehose").create_delivery_stream(
        DeliveryStreamName="event-lake",
        ExtendedS3DestinationConfiguration={
            "RoleARN": "arn:aws:iam::123456789012:role/firehose",
            "BucketARN": "arn:aws:s3:::lake",
        },
    )
    monkeypatch.setenv("DELIVERY_STREAM_NAME", "event-lake")
    return "lake"


def lines_in(bucket):
    s3 = boto3.client("s3")
    lines = []
    for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        lines += s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read().splitlines()
    return lines


FIREHOSE = {"id": "event-lake", "flavor": firehose, "event_type": "order-ready"}


def test_firehose_delivers_events_as_json_lines(lake, run):
    out, result = run([FIREHOSE], orders("o1", "o2", "o3"))
    assert result.faults == [] and ids_of(out) == ["o1", "o2", "o3"]
    events = [json.loads(line) for line in lines_in(lake)]
    assert sorted(e["order"]["id"] for e in events) == ["o1", "o2", "o3"]
    assert out[0]["firehose_records"][0]["Data"].endswith("\n")


def test_firehose_a_failing_record_faults_only_its_uow(lake, run):
    client = boto3.client("firehose")

    def edit(parsed, context, **_):
        for position, result in enumerate(parsed["RequestResponses"]):
            if context["data"][position].startswith(b"o2"):
                result.clear()
                result.update(ErrorCode="KMS.AccessDeniedException", ErrorMessage="denied")
                parsed["FailedPutCount"] = parsed.get("FailedPutCount", 0) + 1

    def keep(params, context, **_):
        context["data"] = [r["Data"] for r in params["Records"]]

    client.meta.events.register("provide-client-params.firehose.PutRecordBatch", keep)
    client.meta.events.register("after-call.firehose.PutRecordBatch", edit)
    connector = FirehoseConnector("event-lake", client=client, retry=NO_WAIT)

    def to_firehose(uow):
        order_id = uow["event"]["order"]["id"]
        if order_id == "o3":
            raise TypeError("not serializable")
        return {"Data": f"{order_id}\n".encode()}

    rule = {**FIREHOSE, "connector": connector, "to_firehose": to_firehose}
    out, result = run([rule], orders("o1", "o2", "o3"))
    assert ids_of(out) == ["o1"]
    assert sorted(faulted(result)) == ["o2", "o3"]
    assert result.retry_records == []
    assert "KMS.AccessDeniedException" in " ".join(f["err"]["message"] for f in result.faults)


# --- the shared batch sink ----------------------------------------------------------------


def test_batch_sink_settles_each_uow_from_one_write(run):
    writes = []

    def write(entries):
        writes.append(list(entries))
        return [FailedEntry(1, entries[1], "Bad", "bad", False),       # a's 2nd entry
                FailedEntry(3, entries[3], "Busy", "busy", True)]      # c's entry

    def flavor(rule):
        return batch_sink(rule, "entries", write, "Write")

    uows = orders("a", "b", "c", "d")
    for uow, entries in zip(uows, (["a1", "a2"], ["b1"], ["c1"], []), strict=True):
        uow["entries"] = entries
    rule = {"id": "sink", "flavor": flavor, "event_type": "order-ready"}
    out, result = run([rule], uows)
    assert writes == [["a1", "a2", "b1", "c1"]]  # one write, every entry of the batch
    assert ids_of(out) == ["b", "d"]             # d had nothing to write
    assert faulted(result) == ["a"]
    assert "Write failed for 1 entry: Bad: bad" in result.faults[0]["err"]["message"]
    assert len(result.retry_records) == 1        # c


def test_batch_sink_a_write_that_raises_settles_every_uow(run):
    from botocore.exceptions import ClientError

    def flavor(rule):
        def write(entries):
            if rule["id"] == "config":
                raise ConfigurationError("no such stream")
            raise ClientError({"Error": {"Code": "ServiceUnavailable"},
                               "ResponseMetadata": {"HTTPStatusCode": 503}}, "Put")

        return batch_sink(rule, "entries", write, "Put")

    uows = orders("a", "b")
    for uow in uows:
        uow["entries"] = ["x"]
    out, result = run([{"id": "busy", "flavor": flavor, "event_type": "order-ready"}], uows)
    assert out == [] and len(result.retry_records) == 2
    with pytest.raises(ConfigurationError):
        run([{"id": "config", "flavor": flavor, "event_type": "order-ready"}], uows)


def test_batch_sink_outside_a_pipeline_raises_instead_of_dropping():
    import reactivex

    def write(entries):
        return [FailedEntry(0, entries[0], "Bad", "bad", False)]

    errors = []
    reactivex.of({"entries": ["x"]}).pipe(
        batch_sink({"id": "sink"}, "entries", write, "Write")
    ).subscribe(on_error=errors.append)
    assert isinstance(errors[0], RecordError) and not isinstance(errors[0], PublishError)


# --- rule checks --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"flavor": "s3", "to_s3": len}, "rule"),                     # no bucket
        ({"flavor": "s3", "bucket_name": "b"}, "rule"),               # neither to_s3 nor delete
        ({"flavor": "s3", "bucket_name": "b", "to_s3": len, "to_delete_request": len}, "rule"),
        ({"flavor": "s3", "bucket_name": "b", "to_s3": "key"}, "to_s3"),
        ({"flavor": "sns"}, "rule"),                                  # no topic
        ({"flavor": "sns", "topic_arn": "t", "to_sms": len}, "to_sms"),  # typo
        ({"flavor": "sqs"}, "rule"),
        ({"flavor": "kinesis"}, "rule"),
        ({"flavor": "kinesis", "stream_name": 5}, "stream_name"),
        ({"flavor": "firehose"}, "rule"),
        ({"flavor": "eventbridge"}, "to_event"),
        ({"flavor": "lambda"}, "function_name"),
        ({"flavor": "lambda", "function_name": "f", "invocation_type": "Async"}, "rule"),
    ],
)
def test_sink_rules_are_checked_by_initialize_from(rule, field, monkeypatch):
    for name in ("BUCKET_NAME", "TOPIC_ARN", "QUEUE_URL", "STREAM_NAME",
                 "DELIVERY_STREAM_NAME"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(RuleValidationError) as raised:
        initialize_from([{"id": "r", "event_type": "x", **rule}])
    assert raised.value.field == field


@pytest.mark.parametrize(
    ("flavor", "env"),
    [("s3", "BUCKET_NAME"), ("sns", "TOPIC_ARN"), ("sqs", "QUEUE_URL"),
     ("kinesis", "STREAM_NAME"), ("firehose", "DELIVERY_STREAM_NAME")],
)
def test_sink_destinations_may_come_from_the_environment(flavor, env, monkeypatch):
    monkeypatch.setenv(env, "from-env")
    fields = {"to_s3": len} if flavor == "s3" else {}
    [pipeline] = initialize_from([{"id": "r", "event_type": "x", "flavor": flavor, **fields}])
    assert pipeline == "r"


def test_a_destination_missing_when_the_operator_is_built_is_a_configuration_error(
    aws, run, monkeypatch
):
    monkeypatch.setenv("STREAM_NAME", "hub")
    pipelines = initialize_from([KINESIS])
    monkeypatch.delenv("STREAM_NAME")
    with pytest.raises(ConfigurationError, match="STREAM_NAME"):
        pipelines["forward-orders"]({})
