"""What every connector shares: lazy boto3, the common constructor, exports, examples."""

import importlib
import inspect
import subprocess
import sys

import pytest

import stream_core.connectors as connectors

CONNECTORS = {
    "dynamodb": ("DynamoDBConnector", ("things",)),
    "eventbridge": ("EventBridgeConnector", ()),
    "firehose": ("FirehoseConnector", ("lake",)),
    "kinesis": ("KinesisConnector", ("hub",)),
    "lambda_": ("LambdaConnector", ()),
    "s3": ("S3Connector", ("bucket",)),
    "secrets": ("SecretsConnector", ()),
    "sns": ("SnsConnector", ("arn:aws:sns:us-east-1:123456789012:t",)),
    "sqs": ("SqsConnector", ("https://sqs.us-east-1.amazonaws.com/123456789012/q",)),
}


def test_importing_and_building_connectors_does_not_import_boto3():
    lines = ["import sys"]
    for module, (name, args) in CONNECTORS.items():
        lines.append(f"from stream_core.connectors.{module} import {name}")
        lines.append(f"{name}(*{args!r})")
    lines.append("assert 'boto3' not in sys.modules and 'botocore' not in sys.modules")
    lines.append("print('lazy')")
    result = subprocess.run(
        [sys.executable, "-c", "\n".join(lines)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "lazy"


@pytest.mark.parametrize("module", sorted(CONNECTORS))
def test_every_connector_has_the_common_shape(module):
    name, args = CONNECTORS[module]
    cls = getattr(importlib.import_module(f"stream_core.connectors.{module}"), name)
    assert getattr(connectors, name) is cls
    assert name in connectors.__all__
    parameters = inspect.signature(cls).parameters
    for keyword in ("client", "config", "retry", "max_in_flight"):
        assert parameters[keyword].kind is inspect.Parameter.KEYWORD_ONLY
    assert parameters["client"].default is None
    assert parameters["max_in_flight"].default == 16
    connector = cls(*args, client=object())
    assert connector.calls == 0
    assert isinstance(type(connector).client, property)
    assert ">>>" in (importlib.import_module(f"stream_core.connectors.{module}").__doc__ or "")
