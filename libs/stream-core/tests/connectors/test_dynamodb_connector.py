"""DynamoDB connector against moto: updates, reads, paging, batch get/write limits and retries."""

import json
import math
from decimal import Decimal

import boto3
import pytest
from botocore.exceptions import ClientError

from stream_core.connectors import DynamoDBConnector, RetryPolicy
from stream_core.connectors.dynamodb import MAX_ITEM_BYTES, item_size
from stream_core.errors import RetryableError
from stream_core.utils.dynamodb import pk_condition, timestamp_condition, update_expression

NO_WAIT = RetryPolicy(max_attempts=4, base_delay=0)
TABLE = "things"


@pytest.fixture
def client(aws):
    client = boto3.client("dynamodb")
    client.create_table(
        TableName=TABLE,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return client


def table(client, **kwargs):
    return DynamoDBConnector(TABLE, client=client, retry=NO_WAIT, **kwargs)


def stored(client, pk, sk="THING"):
    return client.get_item(TableName=TABLE, Key={"pk": {"S": pk}, "sk": {"S": sk}}).get("Item")


def count(client):
    return client.scan(TableName=TABLE, Select="COUNT")["Count"]


def thing(i, **fields):
    return {"pk": f"p{i}", "sk": "THING", "n": i, **fields}


# -- update / put / get ----------------------------------------------------------------


def test_update_returns_new_attributes_and_sends_floats_as_numbers(client):
    connector = table(client)
    request = {
        "Key": {"pk": "p1", "sk": "THING"},
        **update_expression({"name": "one", "price": 1.5, "dims": {"w": 0.1}, "timestamp": 10}),
    }
    result = connector.update(request)
    assert result == {
        "pk": "p1",
        "sk": "THING",
        "name": "one",
        "price": 1.5,
        "dims": {"w": 0.1},
        "timestamp": 10,
    }
    assert type(result["timestamp"]) is int
    raw = stored(client, "p1")
    assert raw["price"] == {"N": "1.5"}
    assert raw["dims"] == {"M": {"w": {"N": "0.1"}}}
    assert connector.calls == 1


def test_numbers_decimal_keeps_decimals(client):
    connector = table(client, numbers="decimal")
    connector.put(thing(1, price=Decimal("2.50")))
    assert connector.get({"pk": "p1", "sk": "THING"})["price"] == Decimal("2.5")
    assert type(connector.get({"pk": "p1", "sk": "THING"})["n"]) is Decimal


def test_an_older_event_is_a_no_op_returning_empty(client):
    connector = table(client)

    def request(name, timestamp):
        return {
            "Key": {"pk": "p1", "sk": "THING"},
            **update_expression({"name": name, "timestamp": timestamp}),
            **timestamp_condition(),
        }

    assert connector.update(request("new", 20))["name"] == "new"
    assert connector.update(request("old", 10)) == {}
    assert stored(client, "p1")["name"] == {"S": "new"}
    assert connector.update(request("newer", 30))["timestamp"] == 30


def test_put_get_and_a_failed_put_condition(client):
    connector = table(client)
    assert connector.put(thing(1, tags={"a", "b"})) == {}
    assert connector.get({"pk": "p1", "sk": "THING"}) == thing(1, tags={"a", "b"})
    assert connector.get({"pk": "nope", "sk": "THING"}) is None
    with pytest.raises(ClientError) as raised:
        connector.put(thing(1, n=2), **pk_condition())
    assert raised.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert stored(client, "p1")["n"] == {"N": "1"}
    assert connector.put(thing(1, n=3), ReturnValues="ALL_OLD")["n"] == 1


def test_transient_errors_are_retried_then_raised_as_retryable(client, hooks):
    connector = table(client)
    hooks.answer(
        client,
        "GetItem",
        lambda params, n: hooks.error("InternalServerError", 500) if n < 3 else None,
    )
    connector.put(thing(1))
    assert connector.get({"pk": "p1", "sk": "THING"})["n"] == 1
    assert connector.calls == 1 + 3

    always = table(client)
    hooks.answer(client, "UpdateItem", lambda params, n: hooks.error("ThrottlingException"))
    with pytest.raises(RetryableError) as raised:
        always.update({"Key": {"pk": "p1", "sk": "THING"}, **update_expression({"x": 1})})
    assert isinstance(raised.value.__cause__, ClientError)
    assert always.calls == NO_WAIT.max_attempts


def test_a_non_retryable_error_is_raised_at_once(client):
    connector = table(client)
    with pytest.raises(ClientError) as raised:
        connector.get({"pk": "p1"})  # the sort key is missing
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert connector.calls == 1


# -- query / scan ----------------------------------------------------------------------


def put_many(client, items):
    assert table(client).batch_write(puts=items) == []


def test_query_follows_every_page(client):
    put_many(client, [{"pk": "order", "sk": f"item-{i:02}", "n": i} for i in range(23)])
    put_many(client, [{"pk": "other", "sk": "item-00"}])
    connector = table(client)
    items = connector.query(
        {
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": "order"},
            "Limit": 5,
        }
    )
    assert [item["n"] for item in items] == list(range(23))
    assert connector.calls == 5


def test_query_page_and_scan_page_hand_back_a_json_cursor(client):
    put_many(client, [{"pk": "order", "sk": f"item-{i:02}", "n": i} for i in range(7)])
    connector = table(client)
    request = {
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": "order"},
        "Limit": 3,
    }
    seen, cursor, pages = [], None, 0
    while True:
        page = connector.query_page(request, cursor)
        seen += [item["n"] for item in page.items]
        pages += 1
        if page.cursor is None:
            break
        cursor = json.loads(json.dumps(page.cursor))  # e.g. kept in a job's event
    assert seen == list(range(7))
    assert pages == 3
    first = connector.scan_page({"Limit": 4})
    second = connector.scan_page({"Limit": 4}, first.cursor)
    assert len(first.items) == 4
    assert len(second.items) == 3
    assert second.cursor is None or connector.scan_page({}, second.cursor).items == []
    assert len(connector.scan({"Limit": 2})) == 7


# -- batch_write -----------------------------------------------------------------------


def test_1234_puts_take_ceil_1234_over_25_calls_and_all_arrive(client, hooks):
    sent = hooks.requests(client, "BatchWriteItem")
    connector = table(client)
    assert connector.batch_write(puts=[thing(i) for i in range(1234)]) == []
    assert connector.calls == len(sent) == math.ceil(1234 / 25)
    assert all(len(params["RequestItems"][TABLE]) <= 25 for params in sent)
    assert count(client) == 1234


def test_puts_and_deletes_in_one_batch(client):
    put_many(client, [thing(i) for i in range(30)])
    connector = table(client)
    failed = connector.batch_write(
        puts=[thing(i) for i in range(30, 35)],
        deletes=[{"pk": f"p{i}", "sk": "THING"} for i in range(10)],
    )
    assert failed == []
    assert count(client) == 25
    assert stored(client, "p3") is None
    assert stored(client, "p34")["n"] == {"N": "34"}


def test_an_item_over_400_kb_fails_alone_without_a_call(client, hooks):
    sent = hooks.requests(client, "BatchWriteItem")
    # moto rejects items over 405,000 bytes (its own guess); DynamoDB's limit is 409,600
    near = thing(1, pad="x" * 404_000)
    over = thing(2, pad="x" * MAX_ITEM_BYTES)
    assert item_size({"pad": {"S": over["pad"]}}) > MAX_ITEM_BYTES
    connector = table(client)
    failed = connector.batch_write(puts=[near, over, thing(3)])
    assert [(f.index, f.code, f.retryable) for f in failed] == [(1, "EntryTooLarge", False)]
    assert failed[0].entry is over
    assert len(sent) == 1
    assert len(sent[0]["RequestItems"][TABLE]) == 2
    assert len(stored(client, "p1")["pad"]["S"]) == len(near["pad"])
    assert stored(client, "p2") is None


def test_item_size_counts_like_dynamodb():
    assert item_size({"name": {"S": "abc"}}) == 4 + 3
    assert item_size({"n": {"N": "12345"}}) == 1 + 4  # 1 byte per 2 digits, plus 1
    assert item_size({"é": {"S": "é"}}) == 2 + 2
    assert item_size({"m": {"M": {"a": {"BOOL": True}}}}) == 1 + 3 + 1 + 1 + 1
    assert item_size({"l": {"L": [{"NULL": True}, {"B": b"xyz"}]}}) == 1 + 3 + 2 + 1 + 3


def test_an_item_that_cannot_be_marshalled_fails_alone(client):
    connector = table(client)
    failed = connector.batch_write(puts=[thing(1), thing(2, bad=float("nan")), thing(3)])
    assert [(f.index, f.code, f.retryable) for f in failed] == [(1, "SerializationError", False)]
    assert count(client) == 2


def unprocessed(hooks, client, dropped):
    """Answer BatchWriteItem call ``n`` leaving the pks ``dropped(n)`` unprocessed."""
    writer = boto3.client("dynamodb")  # no hooks on this one

    def answer(params, n):
        requests = params["RequestItems"][TABLE]
        left = [r for r in requests if r["PutRequest"]["Item"]["pk"]["S"] in dropped(n)]
        done = [r for r in requests if r not in left]
        if done:
            writer.batch_write_item(RequestItems={TABLE: done})
        return {"UnprocessedItems": {TABLE: left} if left else {}}

    return hooks.answer(client, "BatchWriteItem", answer)


def test_only_unprocessed_items_are_retried(client, hooks):
    sent = unprocessed(hooks, client, lambda n: {"p2", "p7"} if n == 1 else set())
    connector = table(client)
    assert connector.batch_write(puts=[thing(i) for i in range(10)]) == []
    assert [len(params["RequestItems"][TABLE]) for params in sent] == [10, 2]
    assert count(client) == 10


def test_items_left_unprocessed_after_the_policy_are_reported(client, hooks):
    sent = unprocessed(hooks, client, lambda n: {"p4"})
    sleeps = []
    policy = RetryPolicy(max_attempts=3, base_delay=0.01, sleep=sleeps.append)
    connector = DynamoDBConnector(TABLE, client=client, retry=policy)
    failed = connector.batch_write(puts=[thing(i) for i in range(6)])
    assert [(f.index, f.code, f.retryable) for f in failed] == [(4, "UnprocessedItems", True)]
    assert failed[0].entry == thing(4)
    assert [len(params["RequestItems"][TABLE]) for params in sent] == [6, 1, 1]
    assert len(sleeps) == 2
    assert count(client) == 5


def test_unprocessed_items_are_matched_to_their_requests():
    from stream_core.connectors._dynamodb_items import unprocessed_positions

    requests = [{"PutRequest": {"Item": {"pk": {"S": pk}}}} for pk in "abc"]
    assert unprocessed_positions(requests, [requests[2], requests[0]]) == [0, 2]
    # one that cannot be matched: the whole request again (writes are idempotent)
    stranger = {"PutRequest": {"Item": {"pk": {"S": "zz"}}}}
    assert unprocessed_positions(requests, [requests[1], stranger]) == [0, 1, 2]


def test_a_transient_request_error_retries_the_request(client, hooks):
    sent = hooks.answer(
        client,
        "BatchWriteItem",
        lambda params, n: hooks.error("ProvisionedThroughputExceededException") if n == 1 else None,
    )
    connector = table(client)
    assert connector.batch_write(puts=[thing(i) for i in range(3)]) == []
    assert len(sent) == 2
    assert count(client) == 3


def test_a_non_retryable_request_error_fails_its_entries_at_once(client):
    connector = table(client)
    duplicate = [thing(1), thing(2), thing(1)]  # DynamoDB rejects duplicate keys
    failed = connector.batch_write(puts=duplicate)
    assert [(f.index, f.code, f.retryable) for f in failed] == [
        (0, "ValidationException", False),
        (1, "ValidationException", False),
        (2, "ValidationException", False),
    ]
    assert connector.calls == 1
    assert count(client) == 0


# -- batch_get -------------------------------------------------------------------------


def test_batch_get_asks_100_keys_per_call_and_returns_found_items_in_order(client, hooks):
    put_many(client, [thing(i) for i in range(0, 250, 2)])  # the even ones exist
    sent = hooks.requests(client, "BatchGetItem")
    connector = table(client)
    keys = [{"pk": f"p{i}", "sk": "THING"} for i in reversed(range(250))]
    items = connector.batch_get(keys)
    assert [item["n"] for item in items] == list(reversed(range(0, 250, 2)))
    assert [len(params["RequestItems"][TABLE]["Keys"]) for params in sent] == [100, 100, 50]
    assert connector.calls == 3


def test_batch_get_cache_skips_keys_already_fetched(client, hooks):
    put_many(client, [thing(i) for i in range(5)])
    sent = hooks.requests(client, "BatchGetItem")
    connector = table(client)
    cache = {}
    first = connector.batch_get([{"pk": f"p{i}", "sk": "THING"} for i in (0, 1, 9)], cache=cache)
    assert [item["n"] for item in first] == [0, 1]
    # p1 and the missing p9 were fetched already: only p2 and p3 are asked for
    keys = [{"pk": f"p{i}", "sk": "THING"} for i in (1, 2, 9, 3, 2)]
    second = connector.batch_get(keys, cache=cache)
    assert [item["n"] for item in second] == [1, 2, 3]
    asked = [[k["pk"]["S"] for k in p["RequestItems"][TABLE]["Keys"]] for p in sent]
    assert asked == [["p0", "p1", "p9"], ["p2", "p3"]]
    assert connector.batch_get(keys, cache=cache) == second
    assert connector.calls == 2


def test_unprocessed_keys_are_retried(client, hooks):
    put_many(client, [thing(i) for i in range(5)])

    def after(params, parsed, n):
        if n == 1:  # keep back p3 and p4, as DynamoDB does past 16 MB
            found = parsed["Responses"][TABLE]
            late = [item for item in found if item["pk"]["S"] in ("p3", "p4")]
            parsed["Responses"][TABLE] = [item for item in found if item not in late]
            keys = [{"pk": item["pk"], "sk": item["sk"]} for item in late]
            parsed["UnprocessedKeys"] = {TABLE: {"Keys": keys}}

    sent = hooks.edit(client, "BatchGetItem", after=after)
    connector = table(client)
    items = connector.batch_get([{"pk": f"p{i}", "sk": "THING"} for i in range(5)])
    assert [item["n"] for item in items] == [0, 1, 2, 3, 4]
    assert [len(params["RequestItems"][TABLE]["Keys"]) for params in sent] == [5, 2]


def test_keys_unprocessed_after_the_policy_raise_retryable(client, hooks):
    put_many(client, [thing(1)])

    def after(params, parsed, n):
        parsed["Responses"][TABLE] = []
        parsed["UnprocessedKeys"] = {TABLE: {"Keys": params["RequestItems"][TABLE]["Keys"]}}

    hooks.edit(client, "BatchGetItem", after=after)
    connector = table(client)
    with pytest.raises(RetryableError, match="1 keys still unprocessed after 4 attempts"):
        connector.batch_get([{"pk": "p1", "sk": "THING"}])
    assert connector.calls == 4


# -- the client ------------------------------------------------------------------------


def test_the_client_is_created_on_first_use_and_shared(aws):
    from stream_core.connectors._client import shared_client

    connector = DynamoDBConnector(TABLE)
    assert connector._client is None
    assert connector.client is shared_client("dynamodb")
    assert DynamoDBConnector("other").client is connector.client
