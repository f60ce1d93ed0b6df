"""Sink flavors s3, sns, sqs, eventbridge and lambda against moto: what they write arrives
(read back through the service), and one bad UOW faults alone."""

import json

import boto3
import pytest

from stream_core.connectors import LambdaConnector, RetryPolicy, S3Connector
from stream_core.events.kinesis import from_kinesis, to_kinesis_records
from stream_core.flavors.eventbridge import eventbridge
from stream_core.flavors.lambda_ import lambda_
from stream_core.flavors.s3 import s3
from stream_core.flavors.sns import sns
from stream_core.flavors.sqs import sqs
from stream_core.pipelines import StreamPipeline, initialize_from
from stream_core.utils.opt import DEFAULT_OPTIONS

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


def answer(client, operation, respond):
    """``respond(params)`` answers ``operation`` instead of moto (None: moto answers)."""
    from botocore.awsrequest import AWSResponse

    service = client.meta.service_model.service_id.hyphenize()

    def keep(params, context, **_):
        context["test_params"] = params

    def hook(context, **_):
        parsed = respond(context["test_params"])
        if parsed is None:
            return None
        status = parsed.setdefault("ResponseMetadata", {}).setdefault("HTTPStatusCode", 200)
        return AWSResponse("http://test", status, {}, None), parsed

    client.meta.events.register(f"provide-client-params.{service}.{operation}", keep)
    client.meta.events.register(f"before-call.{service}.{operation}", hook)


def error(code, status=400):
    return {"Error": {"Code": code, "Message": "injected"},
            "ResponseMetadata": {"HTTPStatusCode": status}}


# --- s3 ---------------------------------------------------------------------------------


@pytest.fixture
def bucket(aws, monkeypatch):
    boto3.client("s3").create_bucket(Bucket="snapshots")
    monkeypatch.setenv("BUCKET_NAME", "snapshots")
    return "snapshots"


def body_of(key, bucket="snapshots"):
    return boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()


S3 = {
    "id": "write-order-snapshot", "flavor": s3, "event_type": "order-ready",
    "to_s3": lambda uow: {
        "Key": f"orders/{uow['event']['order']['id']}.json",
        "Body": json.dumps(uow["event"]["order"]).encode("utf-8"),
        "ContentType": "application/json",
    },
}


def test_s3_puts_each_object_and_keeps_the_response(bucket, run):
    out, result = run([S3], orders("o1", "o2", "o3"))
    assert result.faults == []
    assert json.loads(body_of("orders/o2.json")) == {"id": "o2"}
    assert ids_of(out) == ["o1", "o2", "o3"]
    assert all(u["s3_response"]["ETag"] for u in out)
    head = boto3.client("s3").head_object(Bucket="snapshots", Key="orders/o1.json")
    assert head["ContentType"] == "application/json"


def test_s3_deletes_with_to_delete_request_and_bucket_name(aws, run):
    boto3.client("s3").create_bucket(Bucket="other")
    boto3.client("s3").put_object(Bucket="other", Key="orders/o1.json", Body=b"{}")
    rule = {"id": "drop-snapshot", "flavor": "s3", "event_type": "order-ready",
            "bucket_name": "other",
            "to_delete_request": lambda uow, rule: {
                "Key": f"orders/{uow['event']['order']['id']}.json"}}
    out, result = run([rule], orders("o1"))
    assert result.faults == [] and ids_of(out) == ["o1"]
    assert boto3.client("s3").list_objects_v2(Bucket="other").get("KeyCount") == 0


def test_s3_split_on_writes_one_object_per_element(bucket, run):
    rule = {**S3, "split_on": "event.order.lines", "split_target_field": "line",
            "to_s3": lambda uow: {"Key": f"lines/{uow['line']}", "Body": uow["line"]}}
    out, _ = run([rule], orders("o1", lines=["a", "b"]))
    assert body_of("lines/a") == b"a" and body_of("lines/b") == b"b"
    assert len(out) == 2


def test_s3_a_failing_put_or_to_s3_faults_only_its_uow(bucket, run):
    client = boto3.client("s3")
    answer(client, "PutObject",
           lambda params: error("AccessDenied", 403) if "o2" in params["Key"] else None)

    def to_s3(uow):
        if uow["event"]["order"]["id"] == "o3":
            raise ValueError("no snapshot for o3")
        return S3["to_s3"](uow)

    connector = S3Connector("snapshots", client=client, retry=NO_WAIT)
    out, result = run([{**S3, "to_s3": to_s3, "connector": connector}], orders("o1", "o2", "o3"))
    assert ids_of(out) == ["o1"]
    assert sorted(faulted(result)) == ["o2", "o3"]
    assert result.retry_records == []
    assert body_of("orders/o1.json")


def test_s3_slow_down_that_outlives_retries_hands_the_record_back(bucket, run):
    client = boto3.client("s3")
    answer(client, "PutObject", lambda params: error("SlowDown", 503))
    connector = S3Connector("snapshots", client=client, retry=NO_WAIT)
    out, result = run([{**S3, "connector": connector}], orders("o1"))
    assert out == [] and result.faults == []
    assert len(result.retry_records) == 1


def test_s3_a_malformed_request_faults_and_none_skips(bucket, run):
    rule = {**S3, "to_s3": lambda uow: {
        "o1": {"Key": "k"},                       # no Body
        "o2": None,                               # nothing to write
        "o3": {"Key": "k3", "Body": b"3", "Bucket": "elsewhere"},
    }[uow["event"]["order"]["id"]]}
    out, result = run([rule], orders("o1", "o2", "o3"))
    assert out == []
    messages = {f["uow"]["event"]["order"]["id"]: f["err"]["message"] for f in result.faults}
    assert "'Body'" in messages["o1"] and "'Bucket'" in messages["o3"]
    assert set(messages) == {"o1", "o3"}


# --- sns / sqs ----------------------------------------------------------------------------


@pytest.fixture
def queue(aws):
    sqs_client = boto3.client("sqs")
    url = sqs_client.create_queue(QueueName="inbox")["QueueUrl"]
    arn = sqs_client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    return url, arn


def received(url):
    sqs_client = boto3.client("sqs")
    bodies = []
    while True:
        messages = sqs_client.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get(
            "Messages", [])
        if not messages:
            return bodies
        bodies += [m["Body"] for m in messages]


@pytest.fixture
def topic(queue, monkeypatch):
    url, queue_arn = queue
    sns_client = boto3.client("sns")
    arn = sns_client.create_topic(Name="orders")["TopicArn"]
    sns_client.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn,
                         Attributes={"RawMessageDelivery": "true"})
    monkeypatch.setenv("TOPIC_ARN", arn)
    return arn, url


SNS = {
    "id": "notify-order-ready", "flavor": sns, "event_type": "order-ready",
    "to_sns": lambda uow: [{"Message": json.dumps(uow["event"]["order"])}],
}


def test_sns_publishes_every_entry_of_the_batch_in_batched_calls(topic, run):
    from stream_core.connectors import SnsConnector

    arn, url = topic
    connector = SnsConnector(arn, client=boto3.client("sns"))
    ids = [f"o{i}" for i in range(12)]
    rule = {**SNS, "connector": connector, "to_sns": lambda uow: [  # 2 per UOW: 24 entries
        {"Message": json.dumps(uow["event"]["order"])},
        {"Message": json.dumps({"copy": uow["event"]["order"]["id"]})},
    ]}
    out, result = run([rule], orders(*ids))
    assert result.faults == [] and ids_of(out) == ids
    assert connector.calls == 3  # 24 entries, 10 per request, one write for the batch
    bodies = [json.loads(b) for b in received(url)]
    assert sorted(b["id"] for b in bodies if "id" in b) == sorted(ids)
    assert len(bodies) == 24
    assert out[0]["sns_entries"][0]["Message"] == '{"id": "o0"}'


def test_sns_an_entry_too_large_or_a_failing_to_sns_faults_only_its_uow(topic, run):
    _, url = topic

    def to_sns(uow, rule):
        order_id = uow["event"]["order"]["id"]
        if order_id == "o2":
            return {"Message": "x" * 300_000}  # over 256 KB: rejected without a call
        if order_id == "o3":
            raise KeyError("customer")
        return {"Message": order_id}

    out, result = run([{**SNS, "to_sns": to_sns}], orders("o1", "o2", "o3", "o4"))
    assert ids_of(out) == ["o1", "o4"]
    assert sorted(faulted(result)) == ["o2", "o3"]
    assert "EntryTooLarge" in next(
        f["err"]["message"] for f in result.faults if f["uow"]["event"]["order"]["id"] == "o2")
    assert sorted(received(url)) == ["o1", "o4"]


def test_sns_default_message_is_the_event(topic, run):
    _, url = topic
    run([{"id": "fwd", "flavor": "sns", "event_type": "order-ready"}], orders("o1"))
    [body] = received(url)
    assert json.loads(body)["order"] == {"id": "o1"}


SQS = {"id": "queue-orders", "flavor": sqs, "event_type": "order-ready",
       "to_sqs": lambda uow: {"MessageBody": uow["event"]["order"]["id"]}}


def test_sqs_sends_entries_and_a_list_per_uow(queue, run):
    url, _ = queue
    rule = {**SQS, "queue_url": url,
            "to_sqs": lambda uow: [{"MessageBody": uow["event"]["order"]["id"]}] * 2}
    out, result = run([rule], orders("o1", "o2"))
    assert result.faults == [] and ids_of(out) == ["o1", "o2"]
    assert sorted(received(url)) == ["o1", "o1", "o2", "o2"]


def test_sqs_service_faults_outliving_retries_hand_the_record_back(queue, run):
    from stream_core.connectors import SqsConnector

    url, _ = queue
    client = boto3.client("sqs")

    def respond(params):
        entries = params["Entries"]
        failing = [e for e in entries if e["MessageBody"] in ("o2", "o3")]
        return {
            "Successful": [{"Id": e["Id"], "MessageId": "m", "MD5OfMessageBody": "x"}
                           for e in entries if e not in failing],
            "Failed": [{"Id": e["Id"], "Code": "InternalError", "Message": "busy",
                        "SenderFault": e["MessageBody"] == "o3"} for e in failing],
        }

    answer(client, "SendMessageBatch", respond)
    connector = SqsConnector(url, client=client, retry=NO_WAIT)
    out, result = run([{**SQS, "connector": connector}], orders("o1", "o2", "o3"))
    assert ids_of(out) == ["o1"]
    assert len(result.retry_records) == 1  # o2: the service's fault, retried, then handed back
    assert faulted(result) == ["o3"]       # o3: the sender's fault, at once


def test_sqs_a_bad_entry_from_to_sqs_faults_its_uow(queue, run, monkeypatch):
    url, _ = queue
    monkeypatch.setenv("QUEUE_URL", url)
    rule = {**SQS, "to_sqs": lambda uow: {"MessageBody": {"not": "a string"}}
            if uow["event"]["order"]["id"] == "o1" else {"MessageBody": "ok"}}
    out, result = run([rule], orders("o1", "o2"))
    assert ids_of(out) == ["o2"] and faulted(result) == ["o1"]
    assert "MessageBody" in result.faults[0]["err"]["message"]
    assert received(url) == ["ok"]


# --- eventbridge --------------------------------------------------------------------------


EVENTBRIDGE = {
    "id": "announce-order", "flavor": eventbridge, "event_type": "order-ready",
    "to_event": lambda uow: {"type": "customer-notified",
                             "order": uow["event"]["order"], "tags": {"team": "orders"}},
}


def test_eventbridge_publishes_derived_events_with_standard_fields(event_bus, monkeypatch):
    monkeypatch.setenv("SERVICE", "orders-service")
    out = []
    StreamPipeline(initialize_from([EVENTBRIDGE]), concurrency=False).assemble(
        orders("o1"), on_next=lambda pid, uow: out.append(uow))
    [event] = event_bus.events("customer-notified")
    assert event["order"] == {"id": "o1"}
    assert event["partition_key"] == "o1" and event["timestamp"] > 0
    assert event["tags"]["source"] == "orders-service"
    assert event["tags"]["pipeline"] == "announce-order" and event["tags"]["team"] == "orders"
    assert out[0]["emit"]["id"] == event["id"]


def test_eventbridge_ids_are_stable_under_redelivery_and_lists_fan_out(run):
    rule = {**EVENTBRIDGE, "to_event": lambda uow, rule: [
        {"type": "a"}, {"type": "b", "id": "mine"}]}
    out, _ = run([rule], orders("o1"))
    again, _ = run([rule], orders("o1"))
    assert [u["emit"]["type"] for u in out] == ["a", "b"]
    assert out[1]["emit"]["id"] == "mine"
    assert [u["emit"]["id"] for u in again] == [u["emit"]["id"] for u in out]
    assert [e["id"] for e in run.sink.events[:2]] == [e["id"] for e in run.sink.events[2:]]
    assert len({e["id"] for e in run.sink.events}) == 2


def test_eventbridge_a_bad_event_faults_only_its_uow(run):
    def to_event(uow):
        order_id = uow["event"]["order"]["id"]
        if order_id == "o2":
            return {"order": order_id}  # no type
        if order_id == "o3":
            raise RuntimeError("boom")
        return None if order_id == "o4" else {"type": "x", "order": order_id}

    out, result = run([{**EVENTBRIDGE, "to_event": to_event}], orders("o1", "o2", "o3", "o4"))
    assert [e["order"] for e in run.sink.events] == ["o1"]
    assert sorted(faulted(result)) == ["o2", "o3"]
    assert len(out) == 1


def test_eventbridge_large_events_go_through_the_claim_check(event_bus, run, aws):
    boto3.client("s3").create_bucket(Bucket="claims")
    rule = {**EVENTBRIDGE, "to_event": lambda uow: {
        "type": "big", "blob": [f"{i:08d}" for i in range(40_000)]},  # ~440 KB of JSON
        "compress_threshold": None}
    options = {**DEFAULT_OPTIONS, "claim_check_bucket": "claims"}
    StreamPipeline(initialize_from([rule]), options, concurrency=False).assemble(orders("o1"))
    [stub] = event_bus.events("big")
    assert stub["s3"]["bucket"] == "claims" and "blob" not in stub


# --- lambda -------------------------------------------------------------------------------


@pytest.fixture
def functions(aws, monkeypatch):
    from moto.core.config import default_user_config

    monkeypatch.setitem(default_user_config, "lambda", {"use_docker": False})
    return boto3.client("lambda")


LAMBDA = {"id": "resize", "flavor": lambda_, "event_type": "order-ready",
          "function_name": "resize-image",
          "to_invoke": lambda uow: {"order": uow["event"]["order"]["id"]}}


def test_lambda_invokes_per_uow_and_keeps_the_result(functions, run):
    out, result = run([LAMBDA], orders("o1", "o2"))
    assert result.faults == []
    # moto's Docker-free Lambda answers with the payload it was sent
    assert [u["invoke_response"] for u in out] == [{"order": "o1"}, {"order": "o2"}]


def test_lambda_by_name_with_event_invocation_and_default_payload(functions, run):
    sent = []
    client = functions
    client.meta.events.register("provide-client-params.lambda.Invoke",
                                lambda params, **kw: sent.append(params))
    connector = LambdaConnector(client=client)
    rule = {"id": "fire", "flavor": "lambda", "event_type": "order-ready",
            "function_name": "audit", "invocation_type": "Event", "connector": connector}
    out, result = run([rule], orders("o1"))
    assert result.faults == [] and out[0]["invoke_response"] == {}
    assert sent[0]["InvocationType"] == "Event"
    assert json.loads(sent[0]["Payload"])["order"] == {"id": "o1"}


def test_lambda_a_function_error_or_to_invoke_error_faults_only_its_uow(functions, run):
    import io

    from botocore.response import StreamingBody

    def respond(params):
        if b"o2" not in params["Payload"]:
            return None
        data = b'{"errorMessage":"bad image","errorType":"ValueError"}'
        return {"StatusCode": 200, "FunctionError": "Unhandled",
                "Payload": StreamingBody(io.BytesIO(data), len(data))}

    answer(functions, "Invoke", respond)

    def to_invoke(uow, rule):
        if uow["event"]["order"]["id"] == "o3":
            raise ValueError("no payload")
        return LAMBDA["to_invoke"](uow)

    rule = {**LAMBDA, "to_invoke": to_invoke,
            "connector": LambdaConnector(client=functions, retry=NO_WAIT)}
    out, result = run([rule], orders("o1", "o2", "o3"))
    assert ids_of(out) == ["o1"]
    assert sorted(faulted(result)) == ["o2", "o3"]
    message = next(f["err"]["message"] for f in result.faults
                   if f["uow"]["event"]["order"]["id"] == "o2")
    assert "bad image" in message


def test_lambda_throttling_that_outlives_retries_hands_the_record_back(functions, run):
    answer(functions, "Invoke", lambda params: error("TooManyRequestsException", 429))
    rule = {**LAMBDA, "connector": LambdaConnector(client=functions, retry=NO_WAIT)}
    out, result = run([rule], orders("o1"))
    assert out == [] and result.faults == [] and len(result.retry_records) == 1
