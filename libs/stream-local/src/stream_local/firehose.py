"""Firehose delivery streams to S3, run by stream-local (moto's CloudFormation skips them,
and moto's own Firehose writes each put at once, concatenated, ignoring GZIP).

Records reach a delivery stream three ways, all buffered here:

* EventBridge rule targets (``eventbridge.py`` calls ``put``);
* a ``KinesisStreamSourceConfiguration``: the stream is read from its start;
* ``PutRecord``/``PutRecordBatch`` from handlers: the runtime creates the delivery stream in
  moto with an HTTP endpoint destination that points back at this runtime (moto posts every
  put there), so a handler's writes are buffered too. ``DescribeDeliveryStream`` on moto
  therefore shows an HTTP endpoint, not S3.

The S3 side follows the template's ``ExtendedS3DestinationConfiguration`` (or
``S3DestinationConfiguration``): ``BufferingHints`` (interval and size, whichever comes
first), ``Prefix`` with the ``!{timestamp:...}``, ``!{firehose:random-string}`` and
``!{partitionKeyFromQuery:...}`` namespaces (dynamic partitioning with a JQ metadata
extraction query of the ``{key: .path}`` form), ``CompressionFormat: GZIP`` (key ends
``.gz``), and the ``AppendDelimiterToRecord`` processor. Without a custom prefix the key is
``<prefix>YYYY/MM/DD/HH/<name>-1-YYYY-MM-DD-HH-MM-SS-<uuid>`` as on AWS. Firehose adds no
newline between records unless ``AppendDelimiterToRecord`` is configured (neither here).
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .cloud import Cloud
from .pollers.base import PollerThread
from .pollers.kinesis import KinesisSource

__all__ = ["DeliveryStream", "FirehoseRuntime"]

_NAMESPACE = re.compile(r"!\{([A-Za-z]+):([^}]*)\}")
_JAVA_DATE = [("yyyy", "%Y"), ("MM", "%m"), ("dd", "%d"), ("HH", "%H"), ("mm", "%M"), ("ss", "%S")]


class DeliveryStream:
    """One delivery stream's buffers (one per dynamic partition) and S3 writer."""

    def __init__(self, name: str, properties: Mapping[str, Any], cap: float | None = None) -> None:
        self.name = name
        destination = (
            properties.get("ExtendedS3DestinationConfiguration")
            or properties.get("S3DestinationConfiguration")
            or {}
        )
        self.bucket = str(destination.get("BucketARN", "")).rsplit(":", 1)[-1]
        self.prefix = str(destination.get("Prefix") or "")
        hints = destination.get("BufferingHints") or {}
        self.interval = float(hints.get("IntervalInSeconds", 300))
        if cap is not None:
            self.interval = min(self.interval, cap)
        self.size = int(float(hints.get("SizeInMBs", 5)) * 1024 * 1024)
        self.gzip = str(destination.get("CompressionFormat", "UNCOMPRESSED")).upper() == "GZIP"
        self.delimiter, self.query = _processors(destination.get("ProcessingConfiguration") or {})
        dynamic = destination.get("DynamicPartitioningConfiguration") or {}
        self.dynamic = _flag(dynamic.get("Enabled"))
        source = properties.get("KinesisStreamSourceConfiguration") or {}
        self.source_stream = source.get("KinesisStreamARN")
        self._buffers: dict[tuple[tuple[str, str], ...], tuple[float, list[bytes], int]] = {}
        self._lock = threading.Lock()
        self.objects: list[str] = []

    def put(self, data: bytes) -> None:
        keys: tuple[tuple[str, str], ...] = ()
        if self.dynamic and self.query:
            keys = tuple(sorted(_extract(data, self.query).items()))
        record = data + self.delimiter
        with self._lock:
            started, records, size = self._buffers.get(keys, (time.time(), [], 0))
            records.append(record)
            self._buffers[keys] = (started, records, size + len(record))

    def due(self, now: float) -> list[tuple[tuple[str, str], ...]]:
        with self._lock:
            return [
                keys
                for keys, (started, _records, size) in self._buffers.items()
                if size >= self.size or now - started >= self.interval
            ]

    def flush(self, s3: Any, only: list[tuple[tuple[str, str], ...]] | None = None) -> list[str]:
        """Write the (due, or all) buffers to S3; returns the object keys."""
        with self._lock:
            chosen = (
                list(self._buffers) if only is None else [k for k in only if k in self._buffers]
            )
            batches = [(keys, self._buffers.pop(keys)) for keys in chosen]
        written = []
        for keys, (started, records, _size) in batches:
            body = b"".join(records)
            key = self.key(started, dict(keys))
            if self.gzip:
                body, key = gzip.compress(body), key + ".gz"
            s3.put_object(Bucket=self.bucket, Key=key, Body=body)
            written.append(key)
        self.objects.extend(written)
        return written

    def key(self, started: float, partition: Mapping[str, str]) -> str:
        when = datetime.fromtimestamp(started, UTC)

        def namespace(match: re.Match[str]) -> str:
            kind, argument = match.groups()
            if kind == "timestamp":
                fmt = argument
                for java, strf in _JAVA_DATE:
                    fmt = fmt.replace(java, strf)
                return when.strftime(fmt)
            if kind == "partitionKeyFromQuery":
                return partition.get(argument, "")
            if kind == "firehose" and argument == "random-string":
                return uuid.uuid4().hex[:11]
            return match.group(0)

        prefix = _NAMESPACE.sub(namespace, self.prefix)
        if prefix == self.prefix:  # no namespaces: AWS adds the UTC hour folders
            prefix += when.strftime("%Y/%m/%d/%H/")
        stamp = when.strftime("%Y-%m-%d-%H-%M-%S")
        return f"{prefix}{self.name}-1-{stamp}-{uuid.uuid4()}"


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def _processors(config: Mapping[str, Any]) -> tuple[bytes, dict[str, str]]:
    delimiter = b""
    query: dict[str, str] = {}
    if not _flag(config.get("Enabled")):
        return delimiter, query
    for processor in config.get("Processors") or []:
        params = {
            p["ParameterName"]: p["ParameterValue"] for p in processor.get("Parameters") or []
        }
        if processor.get("Type") == "AppendDelimiterToRecord":
            raw = params.get("Delimiter", "\\n")
            delimiter = raw.encode().decode("unicode_escape").encode()
        elif processor.get("Type") == "MetadataExtraction":
            query = _parse_query(params.get("MetadataExtractionQuery", ""))
    return delimiter, query


def _parse_query(text: str) -> dict[str, str]:
    """``{type: .type, day: .detail.day}`` -> ``{"type": "type", "day": "detail.day"}``."""
    pairs = re.findall(r"([A-Za-z_][\w-]*)\s*:\s*\.([\w.\-]+)", text)
    return {name: path for name, path in pairs}


def _extract(data: bytes, query: Mapping[str, str]) -> dict[str, str]:
    try:
        document = json.loads(data)
    except ValueError:
        return {}
    values = {}
    for name, path in query.items():
        value: Any = document
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        values[name] = "" if value is None else str(value)
    return values


class FirehoseRuntime(PollerThread):
    """Buffers and delivers every delivery stream of the registry (a flusher thread, an
    HTTP receiver for moto, and a reader per Kinesis source)."""

    name = "firehose"

    def __init__(
        self,
        cloud: Cloud,
        entries: Sequence[Mapping[str, Any]],
        *,
        say: Callable[[str], None] = lambda _: None,
        interval_cap: float | None = None,
        check_every: float = 0.2,
    ) -> None:
        super().__init__()
        self.cloud = cloud
        self.say = say
        self.check_every = check_every
        self.streams = {
            str(e["name"]): DeliveryStream(str(e["name"]), e.get("properties") or {}, interval_cap)
            for e in entries
        }
        self._server: ThreadingHTTPServer | None = None
        self._readers: list[_SourceReader] = []

    def put(self, name: str, data: bytes) -> None:
        stream = self.streams.get(name)
        if stream is None:
            raise KeyError(f"no delivery stream {name!r}")
        stream.put(data)

    def flush(self) -> list[str]:
        """Write every buffer now (``stop`` does too); returns the object keys."""
        s3 = self.cloud.client("s3")
        return [key for stream in self.streams.values() for key in stream.flush(s3)]

    def run(self) -> None:
        self._serve()
        for stream in self.streams.values():
            self._register_in_moto(stream)
            if stream.source_stream:
                reader = _SourceReader(self.cloud, str(stream.source_stream), stream)
                self._readers.append(reader)
                reader.start()
        self.ready.set()
        s3 = self.cloud.client("s3")
        while not self.stopping.wait(self.check_every):
            now = time.time()
            for stream in self.streams.values():
                due = stream.due(now)
                if due:
                    for key in stream.flush(s3, due):
                        self.say(f"firehose {stream.name} → s3://{stream.bucket}/{key}")

    def stop(self, timeout: float = 5.0) -> None:
        for reader in self._readers:
            reader.stop(timeout)
        super().stop(timeout)
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        self.flush()

    def _serve(self) -> None:
        runtime = self

        class Receiver(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # moto's HTTP endpoint delivery
                name = self.path.rstrip("/").rsplit("/", 1)[-1]
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                for record in body.get("records", []):
                    runtime.put(name, base64.b64decode(record["data"]))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                reply = {"requestId": body.get("requestId"), "timestamp": body.get("timestamp")}
                self.wfile.write(json.dumps(reply).encode())

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def _register_in_moto(self, stream: DeliveryStream) -> None:
        assert self._server is not None
        firehose = self.cloud.client("firehose")
        url = f"http://127.0.0.1:{self._server.server_address[1]}/firehose/{stream.name}"
        try:
            firehose.delete_delivery_stream(DeliveryStreamName=stream.name)
        except firehose.exceptions.ResourceNotFoundException:
            pass
        firehose.create_delivery_stream(
            DeliveryStreamName=stream.name,
            DeliveryStreamType="DirectPut",
            HttpEndpointDestinationConfiguration={
                "EndpointConfiguration": {"Url": url, "Name": "stream-local"},
                "S3Configuration": {
                    "RoleARN": f"arn:aws:iam::{self.cloud.account_id}:role/stream-local",
                    "BucketARN": f"arn:aws:s3:::{stream.bucket}",
                },
            },
        )


class _SourceReader(PollerThread):
    """Feeds a delivery stream from its Kinesis source stream (all shards, from the start)."""

    def __init__(self, cloud: Cloud, arn: str, stream: DeliveryStream) -> None:
        super().__init__()
        self.source = KinesisSource(cloud, arn)
        self.stream = stream
        self.name = f"firehose-source:{stream.name}"

    def run(self) -> None:
        iterators = {
            shard: self.source.iterator(shard, "TRIM_HORIZON", None)
            for shard in self.source.shard_ids()
        }
        self.ready.set()
        while not self.stopping.is_set():
            got = 0
            for shard, iterator in list(iterators.items()):
                if iterator is None:
                    continue
                records, iterators[shard] = self.source.read(shard, iterator, 1000)
                for record in records:
                    self.stream.put(base64.b64decode(record["kinesis"]["data"]))
                got += len(records)
            if not got:
                self.stopping.wait(0.2)
