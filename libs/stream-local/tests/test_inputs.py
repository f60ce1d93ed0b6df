"""What EventBridge targets receive: Input, InputPath, InputTransformer and JSONPath."""

from __future__ import annotations

import json

import pytest

from stream_local.inputs import MISSING, jsonpath, target_input

EVENT = {
    "id": "e-1",
    "time": "2026-11-25T10:00:00Z",
    "detail-type": "order-created",
    "detail": {
        "id": "o-1",
        "amount": 12.5,
        "lines": [{"sku": "a"}, {"sku": "b"}],
        "note": 'say "hi"',
    },
}
RULE = {"arn": "arn:aws:events:us-east-1:123456789012:rule/bus/orders"}


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("$", EVENT),
        ("$.detail.id", "o-1"),
        ("$.detail.lines[1].sku", "b"),
        ("$['detail-type']", "order-created"),
        ("$.detail.missing", MISSING),
        ("$.detail.lines[5]", MISSING),
        ("$.detail.id.deeper", MISSING),
    ],
)
def test_jsonpath(path, value):
    assert (
        jsonpath(EVENT, path) == value if value is not MISSING else jsonpath(EVENT, path) is MISSING
    )


def test_without_input_settings_the_whole_event_is_sent():
    assert json.loads(target_input(EVENT, {"Arn": "x"})) == EVENT


def test_constant_input_and_input_path():
    assert target_input(EVENT, {"Input": '{"fixed": 1}'}) == '{"fixed": 1}'
    assert json.loads(target_input(EVENT, {"InputPath": "$.detail"})) == EVENT["detail"]


def test_input_transformer_inserts_json_outside_strings_and_text_inside():
    transformer = {
        "InputPathsMap": {
            "id": "$.detail.id",
            "amount": "$.detail.amount",
            "lines": "$.detail.lines",
        },
        "InputTemplate": (
            '{"order": <id>, "label": "order <id> of <amount>", "n": <amount>, "lines": <lines>}'
        ),
    }
    out = json.loads(target_input(EVENT, {"InputTransformer": transformer}, RULE))
    assert out == {
        "order": "o-1",
        "label": "order o-1 of 12.5",
        "n": 12.5,
        "lines": EVENT["detail"]["lines"],
    }


def test_input_transformer_escapes_quotes_and_handles_missing_paths():
    transformer = {
        "InputPathsMap": {"note": "$.detail.note", "gone": "$.detail.gone"},
        "InputTemplate": '{"note": "<note>", "gone": <gone>, "also": "[<gone>]"}',
    }
    out = json.loads(target_input(EVENT, {"InputTransformer": transformer}, RULE))
    assert out == {"note": 'say "hi"', "gone": None, "also": "[]"}


def test_input_transformer_predefined_variables_and_plain_text():
    transformer = {
        "InputTemplate": '"rule <aws.events.rule-name> saw <aws.events.event.ingestion-time>"',
    }
    assert target_input(EVENT, {"InputTransformer": transformer}, RULE) == (
        '"rule orders saw 2026-11-25T10:00:00Z"'
    )
    whole = {"InputTemplate": '{"original": <aws.events.event>}'}
    assert json.loads(target_input(EVENT, {"InputTransformer": whole}, RULE))["original"] == EVENT
