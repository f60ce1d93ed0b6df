"""Fixtures for event-lake-s3's tests: ``src`` on ``sys.path``, stream-core's ``aws`` and
``event_bus`` fixtures (moto in-process), and a lake bucket with objects laid out the way
Firehose writes them."""

import gzip
import json
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "src"), str(HERE)]

from stream_core.testing.fixtures import aws, event_bus  # noqa: E402, F401

BUCKET = "event-lake-s3-test-lake"


class Lake:
    """A lake bucket on moto; ``write`` puts one Firehose-like object."""

    def __init__(self, bucket):
        import boto3

        self.bucket = bucket
        self.s3 = boto3.client("s3")
        self.s3.create_bucket(Bucket=bucket)
        self.count = 0

    def write(self, day, event_type, events, *, gz=True, extra_lines=()):
        """``events/<day>/<type>/<name>-...[.gz]`` holding ``events``, one per line."""
        self.count += 1
        lines = [json.dumps(e) for e in events] + list(extra_lines)
        body = ("\n".join(lines) + "\n").encode()
        key = f"events/{day}/{event_type}/event-lake-s3-test-lake-1-{self.count:04d}"
        if gz:
            body, key = gzip.compress(body), key + ".gz"
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body)
        return key


@pytest.fixture
def lake(aws, monkeypatch):  # noqa: F811 (the fixture imported above)
    monkeypatch.setenv("LAKE_BUCKET_NAME", BUCKET)
    return Lake(BUCKET)
